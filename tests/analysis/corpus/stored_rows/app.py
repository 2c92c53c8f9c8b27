"""What a query returns is the stored data, a JSON response is no page, and a value Werkzeug
converted to a number holds none of the client's text (Flask-SQLAlchemy shapes, as in flasky)."""

from flask import Flask, jsonify, render_template_string, request
from flask_sqlalchemy import SQLAlchemy

app = Flask(__name__)
db = SQLAlchemy(app)


class User(db.Model):
    id = db.Column(db.Integer, primary_key=True)
    username = db.Column(db.String(64))
    about = db.Column(db.Text)


@app.route("/user/<username>")
def user(username):
    found = User.query.filter_by(username=username).first_or_404()
    page = request.args.get("page", 1, type=int)
    rows = User.query.order_by(User.id).paginate(page=page, per_page=20, error_out=False)
    return render_template_string("<a href='{{ u.about }}'>{{ n }}</a>" + str(page), u=found, n=rows.total)


@app.route("/api/users")
def users():
    page = request.args.get("page", 1, type=int)
    name = request.args.get("name", "")
    return jsonify({"page": page, "name": name, "next": "/api/users?page=" + str(page + 1)})


@app.route("/echo")
def echo():
    page = request.args.get("page", 1)
    return "<p>" + page + "</p>"  # expect: PY-XSS


@app.route("/name/<username>")
def name(username):
    # the stored account's name (a second-order flow the engine does not model), not the path's
    found = User.query.filter_by(username=username).first_or_404()
    return "<h1>" + found.username + "</h1>"
