"""The site's database (a sibling module, imported as a top-level name: run from this folder)."""

import sqlite3

DB = "site.sqlite"


def connect():
    return sqlite3.connect(DB)


def title():
    # the app reads its settings at import: without db_init.py it does not start
    return connect().execute("SELECT value FROM settings WHERE key = 'title'").fetchone()[0]
