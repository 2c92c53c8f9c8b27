"""The hub under abuse (issue 11), over real HTTP on loopback against ``mamori serve`` in its own
process (so its memory can be measured): body caps with and without Content-Length, envelope
and page caps, deep JSON, hostile credentials, first publisher owns an id, TLP failing closed,
sessions, the operator's token commands and ``--anonymise``. Clients are the real ones:
raw sockets for what no polite client sends, httpx, taxii2-client and the mamori CLI.
"""

from __future__ import annotations

import contextlib
import json
import os
import select
import socket
import sqlite3
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest
from taxii2client.v21 import Collection
from typer.testing import CliRunner

from mamori.errors import InputError
from mamori.share._limits import FORM_BODY_BYTES, MAX_PAGE_BYTES, TAXII_BODY_BYTES
from mamori.share.sectors import collection_id
from mamori.share.tlp import TLP2_MARKINGS, Tlp

from .conftest import FIXTURES, free_port

TAXII = "application/taxii+json;version=2.1"
MIB = 1024 * 1024
ORGS = {
    "Alpha Bank": ("finance", "writer"),
    "Beta Bank": ("finance", "reader"),
    "Gamma Bank": ("finance", "writer"),
    "Grid Power": ("electric-power", "writer"),
    "Hub Operator": ("finance", "admin"),
}


@dataclass
class Served:
    url: str
    port: int
    pid: int
    home: Path
    database: str
    tokens: dict[str, str]

    def objects_url(self, alias: str) -> str:
        return f"{self.url}/taxii2/hub/collections/{collection_id(alias)}/objects/"

    def rss_peak_kib(self) -> int:
        """The server process's peak resident set (VmHWM) in KiB."""
        for line in Path(f"/proc/{self.pid}/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1])
        raise AssertionError("no VmHWM")

    def rss_now_kib(self) -> int:
        """The server's resident set now, with its peak reset to it (``clear_refs`` 5) when the
        kernel lets us, so that the next peak is this test's own."""
        with contextlib.suppress(OSError):
            Path(f"/proc/{self.pid}/clear_refs").write_text("5")
        for line in Path(f"/proc/{self.pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
        raise AssertionError("no VmRSS")

    def bearer(self, org: str) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.tokens[org]}", "Accept": TAXII}


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Served]:
    from mamori.share._hub import Hub

    home = tmp_path_factory.mktemp("abuse-home")
    database = f"sqlite:///{home / 'hub.sqlite'}"
    hub = Hub.open(database)
    try:
        tokens = {name: hub.add_org(name, sector, role) for name, (sector, role) in ORGS.items()}
        hub.grant(None, "Hub Operator", "cross-sector", "reader")  # admin of finance only
    finally:
        hub.close()
    port = free_port()
    proc = subprocess.Popen(
        [sys.executable, "-m", "mamori", "serve", "--port", str(port), "--database", database],
        env={**os.environ, "MAMORI_HOME": str(home)},
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    url = f"http://127.0.0.1:{port}"
    try:
        for _ in range(300):
            if proc.poll() is not None:
                raise AssertionError("mamori serve exited")
            try:
                httpx.get(url + "/login", timeout=1)
                break
            except httpx.TransportError:
                time.sleep(0.1)
        yield Served(url, port, proc.pid, home, database, tokens)
    finally:
        proc.terminate()
        proc.wait(timeout=20)


def _raw_post(
    served: Served, path: str, total: int, *, chunked: bool, headers: str = "", byte: bytes = b"x"
) -> tuple[int, int]:
    """POST ``total`` bytes the way an attacker would: keep sending until the server answers or
    hangs up. Returns (status, bytes sent before the answer)."""
    sock = socket.create_connection(("127.0.0.1", served.port))
    sock.settimeout(30)
    framing = "Transfer-Encoding: chunked\r\n" if chunked else f"Content-Length: {total}\r\n"
    head = f"POST {path} HTTP/1.1\r\nHost: 127.0.0.1:{served.port}\r\n{headers}{framing}\r\n"
    sock.sendall(head.encode())
    block = byte * 65536
    sent = 0
    try:
        while sent < total:
            readable, _, _ = select.select([sock], [], [], 0)
            if readable:
                break
            piece = block if not chunked else b"%x\r\n%s\r\n" % (len(block), block)
            sock.sendall(piece)
            sent += len(block)
        if chunked and sent >= total:
            sock.sendall(b"0\r\n\r\n")
    except (BrokenPipeError, ConnectionResetError):
        pass
    answer = b""
    try:
        while b"\r\n" not in answer:
            data = sock.recv(4096)
            if not data:
                break
            answer += data
    except (ConnectionResetError, TimeoutError):
        pass
    sock.close()
    status = int(answer.split(b" ", 2)[1]) if answer.startswith(b"HTTP/1.1 ") else 0
    return status, sent


BIG = 300 * MIB


@pytest.mark.parametrize("chunked", [False, True], ids=["content-length", "chunked"])
def test_every_body_is_capped_before_it_is_read(served: Served, chunked: bool) -> None:
    before = served.rss_now_kib()
    bearer = f"Authorization: Bearer {served.tokens['Alpha Bank']}\r\n"
    taxii = f"{bearer}Content-Type: {TAXII}\r\nAccept: {TAXII}\r\n"
    cases = [
        ("/login", "Content-Type: application/x-www-form-urlencoded\r\n", FORM_BODY_BYTES, 413),
        ("/api/grants", bearer + "Content-Type: application/json\r\n", FORM_BODY_BYTES, 413),
        ("/taxii2/hub/collections/" + collection_id("finance") + "/objects/", taxii, TAXII_BODY_BYTES, 413),
        # routes that never read a body answer at once when its length is not declared
        ("/logout", "", FORM_BODY_BYTES, 303 if chunked else 413),
        ("/taxii2/hub/status/x/", bearer, FORM_BODY_BYTES, 405 if chunked else 413),
    ]
    for path, headers, cap, expected in cases:
        status, sent = _raw_post(served, path, BIG, chunked=chunked, headers=headers)
        assert status == expected, path
        assert sent <= cap + 8 * MIB, (path, sent)  # stopped near the cap, not after 300 MiB
    grown_mib = (served.rss_peak_kib() - before) / 1024
    # storing 10,000 indicators whole costs about 100 MiB (SQLAlchemy rows, the audit batch); a
    # bomb parsed into Python objects would be ~250 MB on top of that
    assert grown_mib < 160, f"the server grew by {grown_mib:.0f} MiB"


def test_envelope_object_count_deep_json_and_hostile_credentials(served: Served) -> None:
    url = served.objects_url("finance")
    alpha = {**served.bearer("Alpha Bank"), "Content-Type": TAXII}
    many = json.dumps({"objects": [{"type": "x"}] * 10_001})
    assert len(many) < TAXII_BODY_BYTES
    assert httpx.post(url, content=many, headers=alpha).status_code == 413
    deep = '{"objects": [' + "[" * 200_000 + "]" * 200_000 + "]}"
    r = httpx.post(url, content=deep, headers=alpha)
    assert r.status_code == 400 and "JSON" in r.json()["title"]
    deep_grant = '{"org": ' + "[" * 200_000 + "]" * 200_000 + "}"
    r = httpx.post(
        served.url + "/api/grants", content=deep_grant, headers={**alpha, "Content-Type": "application/json"}
    )
    assert r.status_code == 400
    for header in ("Bearer t\u00f6k\u00e9n".encode(), b"Basic \xff\xfe", b"Basic w6k6w6k="):
        r = httpx.get(
            served.url + "/taxii2/", headers=[(b"authorization", header), (b"accept", TAXII.encode())]
        )
        assert r.status_code == 401, header
        assert (
            httpx.get(served.url + "/api/dashboard", headers=[(b"authorization", header)]).status_code == 401
        )
    r = httpx.post(
        served.url + "/login",
        content="org=Alpha+Bank&token=t%C3%B6k%C3%A9n%FF",
        headers={"Content-Type": "application/x-www-form-urlencoded"},
    )
    assert r.status_code == 401


def _indicator(n: int, **extra: Any) -> dict[str, Any]:
    return {
        "type": "indicator",
        "spec_version": "2.1",
        "id": f"indicator--{uuid.uuid5(uuid.NAMESPACE_URL, str(n))}",
        "created": "2024-01-01T00:00:00.000Z",
        "modified": "2024-01-01T00:00:00.000Z",
        "name": f"indicator {n}",
        "pattern": f"[ipv4-addr:value = '45.1.{n // 250}.{n % 250}']",
        "pattern_type": "stix",
        "valid_from": "2024-01-01T00:00:00Z",
        "object_marking_refs": [TLP2_MARKINGS[Tlp.GREEN]],
        **extra,
    }


def test_status_lists_100_failures_and_pages_are_capped_in_bytes(served: Served) -> None:
    bad = [{"type": "indicator", "id": f"indicator--bad-{i}"} for i in range(150)]
    posted = _post(served, "Alpha Bank", "finance", bad)
    assert posted["failure_count"] == 150 and len(posted["failures"]) == 100
    assert posted["x_mamori_failures_not_listed"] == 50
    raw = httpx.get(f"{served.url}/taxii2/hub/status/{posted['id']}/", headers=served.bearer("Alpha Bank"))
    assert raw.json() == posted

    alpha = Collection(
        served.objects_url("finance")[: -len("objects/")],
        user="Alpha Bank",
        password=served.tokens["Alpha Bank"],
    )
    filler = "A" * (MIB // 2)
    big = [_indicator(10_000 + i, description=filler) for i in range(16)]  # 8 MiB in one envelope
    status = alpha.add_objects({"objects": big})
    assert status.success_count == 16
    params: dict[str, str] = {"limit": "1000", "match[type]": "indicator"}
    got: set[str] = set()
    pages = 0
    while True:
        r = httpx.get(served.objects_url("finance"), params=params, headers=served.bearer("Beta Bank"))
        assert r.status_code == 200
        assert len(r.content) <= MAX_PAGE_BYTES + MIB  # one object past the cap at most
        body = r.json()
        got |= {o["id"] for o in body.get("objects", [])}
        pages += 1
        if not body["more"]:
            break
        params["next"] = body["next"]
    assert {o["id"] for o in big} <= got and pages > 1


def _post(served: Served, org: str, alias: str, objects: list[dict[str, Any]]) -> dict[str, Any]:
    r = httpx.post(
        served.objects_url(alias),
        content=json.dumps({"objects": objects}),
        headers={**served.bearer(org), "Content-Type": TAXII},
    )
    assert r.status_code == 202, r.text
    result: dict[str, Any] = r.json()
    return result


def test_an_id_belongs_to_its_first_publisher(served: Served) -> None:
    mine = _indicator(1, object_marking_refs=[TLP2_MARKINGS[Tlp.GREEN]])
    assert _post(served, "Alpha Bank", "finance", [mine])["success_count"] == 1
    newer = {**mine, "modified": "2025-01-01T00:00:00.000Z", "pattern": "[ipv4-addr:value = '1.1.1.1']"}
    revoked = {**newer, "revoked": True}
    same = dict(mine)  # the same (id, version) from someone else is no "duplicate success"
    for org, alias, obj in (
        ("Gamma Bank", "finance", newer),
        ("Gamma Bank", "finance", revoked),
        ("Gamma Bank", "finance", same),
        ("Grid Power", "electric-power", newer),  # shadowing it in another collection
        ("Grid Power", "cross-sector", newer),
    ):
        status = _post(served, org, alias, [obj])
        assert status["success_count"] == 0, (org, alias)
        assert "belongs to another organisation" in status["failures"][0]["message"]
        assert "Alpha" not in json.dumps(status)
    r = httpx.delete(served.objects_url("finance") + mine["id"] + "/", headers=served.bearer("Gamma Bank"))
    assert r.status_code == 404
    got = httpx.get(served.objects_url("finance") + mine["id"] + "/", headers=served.bearer("Beta Bank"))
    assert [o["pattern"] for o in got.json()["objects"]] == [mine["pattern"]]
    for alias, reader in (("electric-power", "Grid Power"), ("cross-sector", "Beta Bank")):
        shadow = httpx.get(served.objects_url(alias) + mine["id"] + "/", headers=served.bearer(reader))
        assert shadow.status_code == 404


def test_tlp_fails_closed_over_http(served: Served) -> None:
    red_upper = TLP2_MARKINGS[Tlp.RED].upper()
    objs = [
        _indicator(101, object_marking_refs=[TLP2_MARKINGS[Tlp.GREEN], red_upper]),
        _indicator(
            102,
            object_marking_refs=[TLP2_MARKINGS[Tlp.GREEN], "marking-definition--" + str(uuid.uuid4())],
            x_mamori_recipients=["Gamma Bank"],
        ),
        _indicator(
            103,
            description="the victim's internal detail",
            granular_markings=[{"marking_ref": TLP2_MARKINGS[Tlp.RED], "selectors": ["description"]}],
        ),
    ]
    assert _post(served, "Alpha Bank", "finance", objs)["success_count"] == 3

    def seen(org: str, obj: dict[str, Any]) -> dict[str, Any] | None:
        r = httpx.get(served.objects_url("finance") + obj["id"] + "/", headers=served.bearer(org))
        return r.json()["objects"][0] if r.status_code == 200 else None

    assert seen("Beta Bank", objs[0]) is None and seen("Alpha Bank", objs[0]) is not None
    assert seen("Beta Bank", objs[1]) is None and seen("Gamma Bank", objs[1]) is not None
    shown = seen("Beta Bank", objs[2])
    assert shown is not None and "description" not in shown
    assert seen("Alpha Bank", objs[2])["description"] == "the victim's internal detail"  # type: ignore[index]
    listed = httpx.get(served.objects_url("finance"), headers=served.bearer("Beta Bank")).text
    assert "internal detail" not in listed and objs[0]["id"] not in listed


def _cli(served: Served, home: Path, *args: str, token: str | None = None) -> Any:
    from mamori.cli import app

    env = {"MAMORI_HOME": str(home)}
    if token:
        env["MAMORI_TOKEN"] = token
    return CliRunner().invoke(app, list(args), env=env)


ALERTS = FIXTURES / "alerts_log4shell_web.jsonl"


def test_amber_to_a_sector_reaches_its_members_and_to_names_only_known_orgs(
    served: Served, tmp_path: Path
) -> None:
    if not ALERTS.exists():
        pytest.skip("alerts fixture missing")
    push = ["share", "push", str(ALERTS), "--server", served.url, "--user", "Alpha Bank"]
    r = _cli(
        served,
        tmp_path,
        *push,
        "--collection",
        "finance",
        "--tlp",
        "amber",
        token=served.tokens["Alpha Bank"],
    )
    assert r.exit_code == 0, r.output
    assert "for sector finance" in r.output
    pull = ["share", "pull", "--server", served.url, "--collection", "finance", "--format", "json"]
    got = _cli(served, tmp_path / "beta", *pull, token=served.tokens["Beta Bank"])
    assert got.exit_code == 0, got.output
    assert json.loads(got.output.strip().splitlines()[-1])["received"] > 0
    cross = _cli(served, tmp_path, *push, "--collection", "cross-sector", token=served.tokens["Alpha Bank"])
    assert isinstance(cross.exception, InputError) and "--to" in str(cross.exception)  # exit 2
    unknown = _cli(
        served,
        tmp_path,
        *push,
        "--collection",
        "finance",
        "--to",
        "Nobody Inc",
        token=served.tokens["Alpha Bank"],
    )
    assert isinstance(unknown.exception, InputError) and "Nobody Inc" in str(unknown.exception)


def _login(served: Served, org: str, token: str, **headers: str) -> httpx.Response:
    return httpx.post(
        served.url + "/login",
        data={"org": org, "token": token, "next": "/sharing"},
        headers=headers,
    )


def test_sessions_are_not_tokens_expire_and_are_revocable(served: Served, tmp_path: Path) -> None:
    token = served.tokens["Beta Bank"]
    assert _login(served, "Beta Bank", token, Origin="http://evil.example").status_code == 403
    assert _login(served, "Beta Bank", token, **{"Sec-Fetch-Site": "cross-site"}).status_code == 403
    ok = _login(served, "Beta Bank", token, Origin=served.url)
    assert ok.status_code == 303
    sid = ok.cookies["mamori_session"]
    assert sid != token and token not in ok.headers["set-cookie"]
    assert "HttpOnly" in ok.headers["set-cookie"] and "Max-Age" in ok.headers["set-cookie"]
    page = httpx.get(served.url + "/api/dashboard", cookies={"mamori_session": sid})
    assert page.status_code == 200 and page.json()["organisation"] == "Beta Bank"
    # Bearer and Basic keep working on every page and API
    assert httpx.get(served.url + "/api/dashboard", headers=served.bearer("Beta Bank")).status_code == 200
    assert httpx.get(served.url + "/sharing", auth=("Beta Bank", token)).status_code == 200
    # logging out from another site is refused; from the hub's own page it ends the session
    evil = httpx.post(
        served.url + "/logout", cookies={"mamori_session": sid}, headers={"Origin": "http://evil.example"}
    )
    assert evil.status_code == 403
    assert httpx.get(served.url + "/api/dashboard", cookies={"mamori_session": sid}).status_code == 200
    out = httpx.post(served.url + "/logout", cookies={"mamori_session": sid}, headers={"Origin": served.url})
    assert out.status_code == 303
    assert httpx.get(served.url + "/api/dashboard", cookies={"mamori_session": sid}).status_code == 401
    # a session past its expiry is dead (its expiry moved into the past, as time would)
    sid2 = _login(served, "Beta Bank", token).cookies["mamori_session"]
    assert httpx.get(served.url + "/api/dashboard", cookies={"mamori_session": sid2}).status_code == 200
    with sqlite3.connect(served.database.removeprefix("sqlite:///")) as con:
        con.execute("UPDATE sessions SET expires = 0")
    assert httpx.get(served.url + "/api/dashboard", cookies={"mamori_session": sid2}).status_code == 401


def test_operator_lists_rotates_and_revokes_tokens(served: Served, tmp_path: Path) -> None:
    db = ["--database", served.database]
    listed = _cli(served, tmp_path, "hub", "list", *db)
    assert listed.exit_code == 0 and "Gamma Bank (finance)" in listed.output
    assert all(t not in listed.output for t in served.tokens.values())
    as_json = json.loads(_cli(served, tmp_path, "hub", "list", *db, "--format", "json").output)
    gamma = next(o for o in as_json["organisations"] if o["name"] == "Gamma Bank")
    assert gamma["status"] == "active" and gamma["active_tokens"] == 1

    old = served.tokens["Gamma Bank"]
    sid = _login(served, "Gamma Bank", old).cookies["mamori_session"]
    rotated = _cli(served, tmp_path, "hub", "rotate-token", "Gamma Bank", *db)
    assert rotated.exit_code == 0
    new = rotated.output.strip().splitlines()[-1]
    assert new != old
    assert httpx.get(served.url + "/api/dashboard", cookies={"mamori_session": sid}).status_code == 401
    _wait_until_refused(served, old)
    assert (
        httpx.get(served.url + "/api/whoami", headers={"Authorization": f"Bearer {new}"}).status_code == 200
    )

    revoked = _cli(served, tmp_path, "hub", "revoke", "Gamma Bank", *db, "--format", "json")
    assert json.loads(revoked.output) == {"organisation": "Gamma Bank", "status": "revoked"}
    _wait_until_refused(served, new)
    again = json.loads(_cli(served, tmp_path, "hub", "list", *db, "--format", "json").output)
    gamma = next(o for o in again["organisations"] if o["name"] == "Gamma Bank")
    assert gamma["status"] == "revoked" and gamma["active_tokens"] == 0
    missing = _cli(served, tmp_path, "hub", "revoke", "Nobody Inc", *db)
    assert isinstance(missing.exception, InputError) and "Nobody Inc" in str(missing.exception)
    served.tokens["Gamma Bank"] = (
        _cli(served, tmp_path, "hub", "rotate-token", "Gamma Bank", *db).output.strip().splitlines()[-1]
    )
    _wait_until_accepted(served, served.tokens["Gamma Bank"])


def _wait_until_refused(served: Served, token: str) -> None:
    """The server caches a token's organisation for a few seconds (AUTH_CACHE_SECONDS)."""
    for _ in range(100):
        if (
            httpx.get(served.url + "/api/whoami", headers={"Authorization": f"Bearer {token}"}).status_code
            == 401
        ):
            return
        time.sleep(0.1)
    raise AssertionError("the old token still works")


def _wait_until_accepted(served: Served, token: str) -> None:
    for _ in range(100):
        if (
            httpx.get(served.url + "/api/whoami", headers={"Authorization": f"Bearer {token}"}).status_code
            == 200
        ):
            return
        time.sleep(0.1)
    raise AssertionError("the new token does not work")


def test_a_sector_admin_is_not_everyones_admin(served: Served) -> None:
    op = served.bearer("Hub Operator")
    assert httpx.get(served.url + "/api/dashboard", headers=op).json()["admin"] is False
    grant = {"org": "Beta Bank", "collection": "electric-power", "role": "writer"}
    assert httpx.post(served.url + "/api/grants", json=grant, headers=op).status_code == 403
    ok = {"org": "Beta Bank", "collection": "finance", "role": "reader"}
    assert httpx.post(served.url + "/api/grants", json=ok, headers=op).status_code == 201
    sharing = httpx.get(served.url + "/api/dashboard", headers=op).json()["sharing"]["received"]
    assert "electric-power" not in sharing


def test_anonymise_names_the_sender_to_no_one(served: Served, tmp_path: Path) -> None:
    if not ALERTS.exists():
        pytest.skip("alerts fixture missing")
    home = tmp_path / "grid"
    push = [
        "share", "push", str(ALERTS), "--server", served.url, "--user", "Grid Power",
        "--collection", "cross-sector", "--tlp", "green", "--anonymise", "--format", "json",
    ]  # fmt: skip
    first = _cli(served, home, *push, token=served.tokens["Grid Power"])
    assert first.exit_code == 0, first.output
    ns_file = home / "anonymise-namespace"
    assert ns_file.stat().st_mode & 0o077 == 0
    namespace = uuid.UUID(ns_file.read_text().strip())
    assert namespace.version == 4
    again = _cli(served, home, *push, token=served.tokens["Grid Power"])
    assert again.exit_code == 0, again.output  # the same ids: the hub stores nothing new
    ids = [s["id"] for s in json.loads(first.output)["successes"]]
    assert ids == [s["id"] for s in json.loads(again.output)["successes"]]
    public = uuid.UUID("a3c2f0de-6d1b-5e7a-8b9c-6d616d6f7269")
    assert f"identity--{uuid.uuid5(public, 'identity|anonymous')}" not in ids
    everywhere = [
        httpx.get(served.objects_url("cross-sector"), headers=served.bearer("Beta Bank")).text,
        httpx.get(served.url + "/api/dashboard", headers=served.bearer("Beta Bank")).text,
        httpx.get(served.url + "/sharing", headers=served.bearer("Beta Bank")).text,
        httpx.get(served.url + "/sharing/objects", headers=served.bearer("Beta Bank")).text,
        httpx.get(
            served.url + "/sharing/objects?sector=cross-sector", headers=served.bearer("Beta Bank")
        ).text,
    ]
    assert ids[0] in everywhere[0]
    for text in everywhere:
        assert "Grid Power" not in text and "Grid%20Power" not in text


def test_a_peers_huge_pattern_is_not_stored_or_compiled(tmp_path: Path) -> None:
    from mamori.share._local import MAX_PEER_PATTERN_CHARS, LocalStore, local_indicators

    huge = _indicator(7, pattern="[ipv4-addr:value = '45.1.1.1'] OR " * (8 * MIB // 34))
    assert len(huge["pattern"]) > MAX_PEER_PATTERN_CHARS
    fine = _indicator(8)
    store = LocalStore(tmp_path / "share.sqlite")
    try:
        refused: list[str] = []
        assert store.add([huge, fine], server="s", collection="c", refused=refused) == 1
        assert refused == [huge["id"]]
        assert [i.id for i in local_indicators(store)] == [fine["id"]]
    finally:
        store.close()


def test_audit_log_keeps_its_retention_and_sharing_never_scans_it(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from sqlalchemy import event, insert, select, text

    from mamori.dashboard._sharing import sharing_stats, viewer_of
    from mamori.share import _db
    from mamori.share._hub import Hub, now_us

    url = f"sqlite:///{tmp_path / 'hub.sqlite'}"
    monkeypatch.setenv("MAMORI_HUB_AUDIT_DAYS", "2")
    hub = Hub.open(url)
    token = hub.add_org("Alpha Bank", "finance", "writer")
    day = 86_400_000_000
    with hub.engine.begin() as conn:
        conn.execute(insert(_db.audit).values(at=now_us() - 5 * day, org="old", action="read", detail=""))
        conn.execute(insert(_db.audit).values(at=now_us() - day, org="young", action="read", detail=""))
    hub.close()
    hub = Hub.open(url)  # opening prunes what is past the retention
    try:
        with hub.engine.connect() as conn:
            kept = set(conn.execute(select(_db.audit.c.org)).scalars())
        assert "old" not in kept and "young" in kept
        with pytest.raises(Exception, match="append-only"), hub.engine.begin() as conn:
            conn.execute(text("DELETE FROM audit WHERE org = 'young'"))
        org = hub.authenticate(token)
        assert org is not None
        statements: list[str] = []
        event.listen(hub.engine, "before_cursor_execute", lambda *a: statements.append(str(a[2])))
        sharing_stats(hub, viewer_of(hub, org))
        assert statements and not any("FROM audit" in s for s in statements)
    finally:
        hub.close()
    monkeypatch.setenv("MAMORI_HUB_AUDIT_DAYS", "soon")
    with pytest.raises(InputError, match="MAMORI_HUB_AUDIT_DAYS"):
        Hub.open(url)


def test_the_dashboard_serves_its_favicon(served: Served) -> None:
    r = httpx.get(served.url + "/favicon.ico")
    assert r.status_code == 200 and r.headers["content-type"].startswith("image/svg+xml")
    assert "<svg" in r.text


def test_a_body_under_its_cap_cannot_blow_up_when_parsed(served: Served) -> None:
    """10 MiB of ``{},{},…`` would be ~250 MB of Python objects: JSON values are counted first.

    Each request is judged on its own: the server's peak RSS after it, less its RSS before it
    (an over-estimate when an earlier request set the peak) is under 100 MB."""
    url = served.objects_url("finance")
    alpha = {**served.bearer("Alpha Bank"), "Content-Type": TAXII}
    grown: dict[str, float] = {}

    def post(what: str, target: str, body: str, headers: dict[str, str]) -> httpx.Response:
        before = served.rss_now_kib()
        r = httpx.post(target, content=body, headers=headers, timeout=300)
        grown[what] = (served.rss_peak_kib() - before) / 1024
        return r

    room = TAXII_BODY_BYTES - 100
    for item in ("{}", '"ab"', "1.5", "[]"):
        n = room // (len(item) + 1)
        bomb = '{"objects":[{"type":"x","id":"x","a":[' + ",".join([item] * n) + "]}]}"
        assert len(bomb) <= TAXII_BODY_BYTES
        r = post(f"bomb of {item}", url, bomb, alpha)
        assert r.status_code == 413 and "JSON values" in r.json()["description"], item
    grants = '{"org": [' + ",".join(["{}"] * (FORM_BODY_BYTES // 3 - 10)) + "]}"
    r = post(
        "grants of {}", served.url + "/api/grants", grants, {**alpha, "Content-Type": "application/json"}
    )
    assert r.status_code in (400, 413, 422)
    # the largest envelope a peer may legitimately send is stored whole
    full = [_indicator(20_000 + i, description="d" * 600) for i in range(10_000)]
    body = json.dumps({"objects": full})
    assert len(body) <= TAXII_BODY_BYTES
    r = post("10,000 indicators", url, body, alpha)
    assert r.status_code == 202 and r.json()["success_count"] == 10_000
    print("peak growth per request (MiB):", {k: round(v) for k, v in grown.items()})
    assert all(v < 100 for v in grown.values()), grown
