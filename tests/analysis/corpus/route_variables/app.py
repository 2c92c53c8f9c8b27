"""Values a view receives from its URL rule are client input; numeric converters are not."""

import sqlite3

import yaml
from fastapi import FastAPI
from flask import Flask

app = Flask(__name__)
api = FastAPI()
db = sqlite3.connect("x.db")


@app.route("/page/<page_id>")
def page(page_id):
    db.execute("SELECT * FROM pages WHERE id=" + page_id)  # expect: PY-SQLI
    return {"page": page_id}


@app.route("/info/<path:blob>")
def info(blob):
    yaml.load(blob)  # expect: PY-DESER
    return "ok"


@app.route("/num/<int:n>")
def num(n):
    db.execute("SELECT * FROM pages WHERE id=" + str(n))
    return "ok"


@api.get("/items/{name}")
def item(name, limit=10):
    db.execute(f"SELECT * FROM items WHERE name='{name}'")  # expect: PY-SQLI
    return [name]
