"""A small FastAPI app with a vulnerable and a safe route (mamori's PoV tests)."""

import sqlite3

from fastapi import FastAPI
from fastapi.responses import HTMLResponse

app = FastAPI()


def db():
    con = sqlite3.connect("app.sqlite")
    con.execute("CREATE TABLE IF NOT EXISTS items (name TEXT)")
    return con


@app.get("/items")
def items(q: str = ""):
    rows = db().execute("SELECT name FROM items WHERE name LIKE '%" + q + "%'").fetchall()
    return {"rows": rows}


@app.get("/items-safe")
def items_safe(q: str = ""):
    rows = db().execute("SELECT name FROM items WHERE name LIKE ?", (f"%{q}%",)).fetchall()
    return {"rows": rows}


@app.get("/greet/{name}", response_class=HTMLResponse)
def greet(name: str):
    return "<h1>Hi " + name + "</h1>"
