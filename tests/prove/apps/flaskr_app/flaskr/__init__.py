"""A Flask-tutorial-style app: a create_app() factory, its database made by ``flask init-db``."""

import os
import sqlite3

import click
from flask import Flask, abort, current_app, g, request


def get_db():
    if "db" not in g:
        g.db = sqlite3.connect(current_app.config["DATABASE"])
    return g.db


def close_db(_e=None):
    db = g.pop("db", None)
    if db is not None:
        db.close()


@click.command("init-db")
def init_db_command():
    """Clear the existing data and create new tables."""
    with current_app.open_resource("schema.sql") as f:
        get_db().executescript(f.read().decode("utf8"))
    click.echo("Initialized the database.")


def create_app():
    app = Flask(__name__, instance_relative_config=True)
    app.config.from_mapping(DATABASE=os.path.join(app.instance_path, "flaskr.sqlite"))
    os.makedirs(app.instance_path, exist_ok=True)
    app.teardown_appcontext(close_db)
    app.cli.add_command(init_db_command)

    @app.route("/post/rename", methods=["POST"])
    def rename():
        title = request.form["title"]
        db = get_db()
        # the post must exist (init-db creates it) before the update the input reaches
        if db.execute("SELECT id FROM post WHERE id = 1").fetchone() is None:
            abort(404)
        db.execute(f"UPDATE post SET title = '{title}' WHERE id = 1")
        db.commit()
        return "renamed"

    return app
