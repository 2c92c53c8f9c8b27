"""The WSGI application: routes, request parsing and JSON responses.

Run it with ``python -m kotsu.app`` (wsgiref, port 8080) or any WSGI server
(``gunicorn kotsu.app:application``).
"""

import datetime
import json
import os
from urllib.parse import parse_qs

import yaml

from kotsu import auth, diagnostics, repository
from kotsu.settings import load_settings

MAX_BODY = 1024 * 1024


class HTTPError(Exception):
    """An error response with a status line and a message."""

    def __init__(self, status, message):
        super().__init__(message)
        self.status = status
        self.message = message


def _query(environ):
    """The query string as a dict of first values."""
    params = parse_qs(environ.get("QUERY_STRING", ""))
    return {key: values[0] for key, values in params.items()}


def _body(environ):
    """The raw request body (bounded)."""
    try:
        length = int(environ.get("CONTENT_LENGTH") or 0)
    except ValueError:
        raise HTTPError("400 Bad Request", "invalid Content-Length") from None
    if length > MAX_BODY:
        raise HTTPError("413 Payload Too Large", "request body too large")
    return environ["wsgi.input"].read(length) if length else b""


def _form(environ):
    """An ``application/x-www-form-urlencoded`` body as a dict of first values."""
    params = parse_qs(_body(environ).decode("utf-8"))
    return {key: values[0] for key, values in params.items()}


def _required(params, name):
    value = params.get(name, "").strip()
    if not value:
        raise HTTPError("400 Bad Request", f"missing parameter: {name}")
    return value


def _json_default(value):
    if isinstance(value, (datetime.date, datetime.datetime)):
        return value.isoformat()
    raise TypeError(f"not JSON serialisable: {type(value).__name__}")


class KotsuApp:
    """The maintenance-ticket service; one instance per database."""

    def __init__(self, database=None, data_volume=None):
        settings = load_settings()
        self.conn = repository.connect(database or settings["database"])
        repository.seed(self.conn)
        self.data_volume = data_volume or settings["data_volume"]
        self.sessions = {}
        self.routes = {
            ("GET", "/health"): self.health,
            ("GET", "/tickets"): self.list_tickets,
            ("POST", "/tickets"): self.create_ticket,
            ("GET", "/tickets/search"): self.search_tickets,
            ("POST", "/users"): self.register,
            ("POST", "/login"): self.login,
            ("POST", "/schedules/import"): self.import_schedule,
            ("GET", "/diagnostics/disk"): self.disk,
            ("GET", "/diagnostics/inodes"): self.inodes,
        }

    # -- endpoints ------------------------------------------------------------------------

    def health(self, environ):
        return "200 OK", {"status": "ok"}

    def list_tickets(self, environ):
        line = _required(_query(environ), "line")
        return "200 OK", {"line": line, "tickets": repository.tickets_for_line(self.conn, line)}

    def ticket(self, environ, ticket_id):
        found = repository.ticket_by_id(self.conn, int(ticket_id))
        if found is None:
            raise HTTPError("404 Not Found", f"no ticket {ticket_id}")
        return "200 OK", found

    def create_ticket(self, environ):
        form = _form(environ)
        ticket_id = repository.open_ticket(
            self.conn,
            _required(form, "line"),
            _required(form, "asset"),
            _required(form, "title"),
            form.get("opened") or datetime.date.today().isoformat(),
        )
        return "201 Created", repository.ticket_by_id(self.conn, ticket_id)

    def search_tickets(self, environ):
        params = parse_qs(environ.get("QUERY_STRING", ""))
        q = params.get("q", [""])[0]
        cur = self.conn.cursor()
        sql = (
            "SELECT id, line, asset, title, status, opened FROM tickets "
            f"WHERE title LIKE '%{q}%' OR asset LIKE '%{q}%' ORDER BY id"
        )
        cur.execute(sql)
        return "200 OK", {"q": q, "tickets": [repository.as_dict(r) for r in cur.fetchall()]}

    def register(self, environ):
        form = _form(environ)
        name = _required(form, "name")
        password = _required(form, "password")
        if len(password) < 10:
            raise HTTPError("400 Bad Request", "password must have at least 10 characters")
        if repository.password_hash_of(self.conn, name) is not None:
            raise HTTPError("409 Conflict", f"user exists: {name}")
        repository.add_user(self.conn, name, auth.hash_password(password))
        return "201 Created", {"name": name}

    def login(self, environ):
        form = _form(environ)
        name = _required(form, "name")
        stored = repository.password_hash_of(self.conn, name)
        if stored is None or not auth.check_password(form.get("password", ""), stored):
            raise HTTPError("401 Unauthorized", "wrong name or password")
        token = auth.new_session_token()
        self.sessions[token] = name
        return "200 OK", {"name": name, "token": token}

    def import_schedule(self, environ):
        document = yaml.load(_body(environ), Loader=yaml.Loader)
        if not isinstance(document, dict) or not isinstance(document.get("inspections"), list):
            raise HTTPError("400 Bad Request", "expected a mapping with an 'inspections' list")
        week = document.get("week")
        imported = []
        for item in document["inspections"]:
            if not isinstance(item, dict) or not {"line", "asset", "task"} <= item.keys():
                raise HTTPError("400 Bad Request", "each inspection needs line, asset and task")
            imported.append(
                {"line": str(item["line"]), "asset": str(item["asset"]), "task": str(item["task"]),
                 "due": item.get("due")}
            )
        return "200 OK", {"week": week, "count": len(imported), "inspections": imported}

    def disk(self, environ):
        path = _query(environ).get("path") or self.data_volume
        rows, code = diagnostics.disk_usage(path)
        return "200 OK", {"path": path, "ok": code == 0, "volumes": rows}

    def inodes(self, environ):
        path = _query(environ).get("path") or self.data_volume
        rows, code = diagnostics.inode_usage(path)
        return "200 OK", {"path": path, "ok": code == 0, "volumes": rows}

    # -- WSGI -----------------------------------------------------------------------------

    def __call__(self, environ, start_response):
        method = environ.get("REQUEST_METHOD", "GET")
        path = environ.get("PATH_INFO", "/") or "/"
        try:
            handler = self.routes.get((method, path))
            if handler is not None:
                status, payload = handler(environ)
            elif method == "GET" and path.startswith("/tickets/") and path[9:].isdigit():
                status, payload = self.ticket(environ, path[9:])
            elif any(p == path for _, p in self.routes):
                raise HTTPError("405 Method Not Allowed", f"{method} not allowed on {path}")
            else:
                raise HTTPError("404 Not Found", f"no route {path}")
        except HTTPError as exc:
            status, payload = exc.status, {"error": exc.message}
        body = json.dumps(payload, ensure_ascii=False, default=_json_default).encode("utf-8")
        headers = [
            ("Content-Type", "application/json; charset=utf-8"),
            ("Content-Length", str(len(body))),
            ("ETag", auth.etag_for(body)),
        ]
        start_response(status, headers)
        return [body]


def create_app(database=None, data_volume=None):
    """A new application instance (tests pass ``":memory:"``)."""
    return KotsuApp(database=database, data_volume=data_volume)


_default_app = None


def application(environ, start_response):
    """The WSGI entry point for servers (``gunicorn kotsu.app:application``)."""
    global _default_app
    if _default_app is None:
        _default_app = create_app()
    return _default_app(environ, start_response)


def main():
    from wsgiref.simple_server import make_server

    port = int(os.environ.get("KOTSU_PORT", "8080"))
    with make_server("127.0.0.1", port, application) as server:
        print(f"Kōtsū kanri on http://127.0.0.1:{port}/")
        server.serve_forever()


if __name__ == "__main__":
    main()
