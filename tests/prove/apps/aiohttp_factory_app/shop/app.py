"""An aiohttp app built by ``init(argv)`` (as dvpwa's is), with one vulnerable view."""

import sqlite3
from argparse import ArgumentParser

from aiohttp import web


async def student(request):
    name = request.query.get("name", "")
    con = sqlite3.connect(request.app["db"])
    con.execute("CREATE TABLE IF NOT EXISTS students (name TEXT)")
    rows = con.execute("SELECT name FROM students WHERE name = '%s'" % name).fetchall()
    return web.json_response({"rows": rows})


def init(argv):
    ap = ArgumentParser()
    ap.add_argument("--db", default="students.sqlite")
    options = ap.parse_args(argv)
    app = web.Application()
    app["db"] = options.db
    app.router.add_get("/students", student)
    return app
