#!/usr/bin/env python3
"""Create the site's database (README: run ./db_init.py before ./site.py)."""

import sqlite3

if __name__ == "__main__":
    con = sqlite3.connect("site.sqlite")
    con.execute("CREATE TABLE IF NOT EXISTS settings (key TEXT, value TEXT)")
    con.execute("CREATE TABLE IF NOT EXISTS items (name TEXT)")
    con.execute("INSERT INTO settings VALUES ('title', 'Shop')")
    con.commit()
