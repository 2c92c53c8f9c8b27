"""Behaviour tests of the Kōtsū kanri service through its WSGI callable.

They use benign input only, so they keep passing when the deliberate holes are fixed properly
(bound SQL parameters, an argument list without a shell, ``yaml.safe_load``, a stronger hash)
and fail when a "fix" breaks what the endpoints do. Runnable offline with
``python -m unittest`` or ``python -m pytest`` from the project folder.
"""

import io
import json
import shutil
import unittest
from urllib.parse import urlencode
from wsgiref.util import setup_testing_defaults

from kotsu.app import create_app
from kotsu.diagnostics import parse_df


def call(app, method, path, query=None, body=b"", content_type="application/x-www-form-urlencoded"):
    """Send one request through the WSGI callable; returns (status code, headers, JSON body)."""
    if isinstance(body, dict):
        body = urlencode(body).encode("utf-8")
    elif isinstance(body, str):
        body = body.encode("utf-8")
    environ = {
        "REQUEST_METHOD": method,
        "PATH_INFO": path,
        "QUERY_STRING": urlencode(query or {}),
        "CONTENT_LENGTH": str(len(body)),
        "CONTENT_TYPE": content_type,
        "wsgi.input": io.BytesIO(body),
    }
    setup_testing_defaults(environ)
    captured = {}

    def start_response(status, headers):
        captured["status"] = int(status.split()[0])
        captured["headers"] = dict(headers)

    chunks = app(environ, start_response)
    payload = json.loads(b"".join(chunks).decode("utf-8"))
    return captured["status"], captured["headers"], payload


class TicketTests(unittest.TestCase):
    def setUp(self):
        self.app = create_app(":memory:", data_volume="/")

    def test_health(self):
        status, headers, payload = call(self.app, "GET", "/health")
        self.assertEqual(status, 200)
        self.assertEqual(payload, {"status": "ok"})
        self.assertTrue(headers["ETag"].startswith('"'))

    def test_tickets_of_a_line(self):
        status, _, payload = call(self.app, "GET", "/tickets", {"line": "Chuo"})
        self.assertEqual(status, 200)
        self.assertEqual({t["line"] for t in payload["tickets"]}, {"Chuo"})
        self.assertEqual(len(payload["tickets"]), 2)

    def test_tickets_need_a_line(self):
        status, _, payload = call(self.app, "GET", "/tickets")
        self.assertEqual(status, 400)
        self.assertIn("line", payload["error"])

    def test_search_matches_title_and_asset(self):
        status, _, payload = call(self.app, "GET", "/tickets/search", {"q": "Brake"})
        self.assertEqual(status, 200)
        titles = sorted(t["title"] for t in payload["tickets"])
        self.assertEqual(titles, ["Brake cylinder leak", "Brake pad wear above limit"])
        _, _, by_asset = call(self.app, "GET", "/tickets/search", {"q": "E235"})
        self.assertEqual([t["asset"] for t in by_asset["tickets"]], ["E235-U05 car 7"])

    def test_search_without_match_is_empty(self):
        _, _, payload = call(self.app, "GET", "/tickets/search", {"q": "pantograph"})
        self.assertEqual(payload["tickets"], [])

    def test_open_and_read_a_ticket(self):
        form = {"line": "Chuo", "asset": "E233-T30 car 2", "title": "Pantograph arcing", "opened": "2024-05-06"}
        status, _, created = call(self.app, "POST", "/tickets", body=form)
        self.assertEqual(status, 201)
        self.assertEqual(created["status"], "open")
        status, _, fetched = call(self.app, "GET", f"/tickets/{created['id']}")
        self.assertEqual(status, 200)
        self.assertEqual(fetched, created)
        _, _, found = call(self.app, "GET", "/tickets/search", {"q": "Pantograph"})
        self.assertEqual([t["id"] for t in found["tickets"]], [created["id"]])

    def test_unknown_ticket_and_route(self):
        self.assertEqual(call(self.app, "GET", "/tickets/999")[0], 404)
        self.assertEqual(call(self.app, "GET", "/nowhere")[0], 404)
        self.assertEqual(call(self.app, "DELETE", "/tickets")[0], 405)


class AccountTests(unittest.TestCase):
    def setUp(self):
        self.app = create_app(":memory:")

    def test_register_then_login(self):
        status, _, _ = call(self.app, "POST", "/users", body={"name": "sato", "password": "correct-horse-42"})
        self.assertEqual(status, 201)
        status, _, payload = call(self.app, "POST", "/login", body={"name": "sato", "password": "correct-horse-42"})
        self.assertEqual(status, 200)
        self.assertEqual(payload["name"], "sato")
        self.assertGreaterEqual(len(payload["token"]), 32)

    def test_wrong_password_is_refused(self):
        call(self.app, "POST", "/users", body={"name": "tanaka", "password": "shinkansen-0"})
        status, _, payload = call(self.app, "POST", "/login", body={"name": "tanaka", "password": "shinkansen-1"})
        self.assertEqual(status, 401)
        self.assertNotIn("token", payload)
        self.assertEqual(call(self.app, "POST", "/login", body={"name": "nobody", "password": "x"})[0], 401)

    def test_accounts_from_the_2016_system_still_log_in(self):
        # hashes stored by the old system (hex MD5) must keep working after any change of hash
        from kotsu import repository

        legacy = "5f4dcc3b5aa765d61d8327deb882cf99"  # the 2016 system's hash of "password"
        repository.add_user(self.app.conn, "kato", legacy)
        status, _, payload = call(self.app, "POST", "/login", body={"name": "kato", "password": "password"})
        self.assertEqual(status, 200)
        self.assertEqual(payload["name"], "kato")
        self.assertEqual(call(self.app, "POST", "/login", body={"name": "kato", "password": "Password"})[0], 401)

    def test_duplicate_and_short_passwords(self):
        self.assertEqual(call(self.app, "POST", "/users", body={"name": "ito", "password": "short"})[0], 400)
        call(self.app, "POST", "/users", body={"name": "ito", "password": "long-enough-pw"})
        self.assertEqual(call(self.app, "POST", "/users", body={"name": "ito", "password": "long-enough-pw"})[0], 409)


SCHEDULE = """\
week: 2024-W19
inspections:
  - line: Chuo
    asset: Signal CH-118
    task: Replace lamp driver board
    due: 2024-05-08
  - line: Yamanote
    asset: Point YM-22
    task: Heater function test
"""


class ScheduleTests(unittest.TestCase):
    def setUp(self):
        self.app = create_app(":memory:")

    def test_import_schedule(self):
        status, _, payload = call(self.app, "POST", "/schedules/import", body=SCHEDULE,
                                  content_type="application/yaml")
        self.assertEqual(status, 200)
        self.assertEqual(payload["week"], "2024-W19")
        self.assertEqual(payload["count"], 2)
        self.assertEqual(payload["inspections"][0]["due"], "2024-05-08")
        self.assertEqual(payload["inspections"][1]["task"], "Heater function test")
        self.assertIsNone(payload["inspections"][1]["due"])

    def test_schedule_must_list_inspections(self):
        status, _, payload = call(self.app, "POST", "/schedules/import", body="week: 2024-W19\n",
                                  content_type="application/yaml")
        self.assertEqual(status, 400)
        self.assertIn("inspections", payload["error"])


@unittest.skipIf(shutil.which("df") is None, "df is not available on this system")
class DiagnosticsTests(unittest.TestCase):
    def setUp(self):
        self.app = create_app(":memory:", data_volume="/")

    def test_disk_usage_of_the_data_volume(self):
        status, _, payload = call(self.app, "GET", "/diagnostics/disk")
        self.assertEqual(status, 200)
        self.assertTrue(payload["ok"])
        self.assertEqual(len(payload["volumes"]), 1)
        volume = payload["volumes"][0]
        self.assertGreater(volume["total"], 0)
        self.assertTrue(volume["capacity"].endswith("%"))

    def test_disk_usage_of_a_named_path(self):
        status, _, payload = call(self.app, "GET", "/diagnostics/disk", {"path": "/"})
        self.assertEqual(status, 200)
        self.assertEqual(payload["path"], "/")
        self.assertEqual(payload["volumes"][0]["mounted_on"], "/")

    def test_missing_path_is_reported_not_raised(self):
        status, _, payload = call(self.app, "GET", "/diagnostics/disk", {"path": "/no/such/volume"})
        self.assertEqual(status, 200)
        self.assertFalse(payload["ok"])
        self.assertEqual(payload["volumes"], [])

    def test_inodes(self):
        status, _, payload = call(self.app, "GET", "/diagnostics/inodes", {"path": "/"})
        self.assertEqual(status, 200)
        self.assertEqual(len(payload["volumes"]), 1)


class ParseDfTests(unittest.TestCase):
    def test_parse_posix_df(self):
        output = (
            "Filesystem     1024-blocks     Used Available Capacity Mounted on\n"
            "/dev/sda1        41152812 20264516  18774876      52% /\n"
            "tmpfs             8140440        0   8140440       0% /run/user 1000\n"
        )
        rows = parse_df(output)
        self.assertEqual([r["mounted_on"] for r in rows], ["/", "/run/user 1000"])
        self.assertEqual(rows[0]["used"], 20264516)
        self.assertEqual(parse_df(""), [])


if __name__ == "__main__":
    unittest.main()
