"""A small aiohttp app with vulnerable routes and their safe twins (mamori's PoV tests)."""

import sqlite3
import subprocess

from aiohttp import web


def db():
    con = sqlite3.connect("app.sqlite")
    con.execute("CREATE TABLE IF NOT EXISTS notes (title TEXT)")
    return con


async def notes(request):
    title = request.query.get("title", "")
    rows = db().execute("SELECT title FROM notes WHERE title = '" + title + "'").fetchall()
    return web.json_response({"rows": rows})


async def notes_safe(request):
    title = request.query.get("title", "")
    rows = db().execute("SELECT title FROM notes WHERE title = ?", (title,)).fetchall()
    return web.json_response({"rows": rows})


async def greet(request):
    name = request.match_info["name"]
    return web.Response(text="<h1>Hello " + name + "</h1>", content_type="text/html")


async def lookup(request):
    data = await request.post()
    host = data.get("host", "localhost")
    out = subprocess.run("nslookup " + host, shell=True, capture_output=True, text=True)
    return web.Response(text=out.stdout)


async def lookup_safe(request):
    data = await request.post()
    host = data.get("host", "localhost")
    out = subprocess.run(["nslookup", host], capture_output=True, text=True)
    return web.Response(text=out.stdout)


def make_app():
    app = web.Application()
    app.router.add_get("/notes", notes)
    app.router.add_get("/notes-safe", notes_safe)
    app.router.add_get("/greet/{name}", greet)
    app.router.add_post("/lookup", lookup)
    app.router.add_post("/lookup-safe", lookup_safe)
    return app


if __name__ == "__main__":
    web.run_app(make_app(), host="127.0.0.1", port=8080)
