#!/usr/bin/env python3
"""The safe half of a bad/good pair of script-style apps (started as ``cd good && ./site.py``)."""

from flask import Flask, request

import store

app = Flask("site")
TITLE = store.title()


@app.route("/item")
def item():
    name = request.args.get("name", "")
    rows = store.connect().execute("SELECT name FROM items WHERE name = ?", (name,)).fetchall()
    return {"title": TITLE, "rows": rows}


if __name__ == "__main__":
    app.run()
