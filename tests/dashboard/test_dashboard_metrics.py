"""``GET /metrics`` of the real app (an admin organisation's token, or 401/403, no redirect) and the
Speed page's watch section, from the same real watch state."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from tests.watch.test_metrics import make_state

from mamori.share._hub import Hub
from mamori.share._server import create_app
from mamori.watch.service import state_path


@pytest.fixture
def hub(demo: Any) -> Any:
    h = Hub.open(demo.hub_url)
    yield h
    h.close()


def test_the_endpoint_wants_an_admin_token(demo: Any, hub: Hub, tmp_path: Path) -> None:
    client = TestClient(create_app(hub, results=demo.results), follow_redirects=False)
    assert client.get("/metrics").status_code == 401
    reader = hub.add_org("metrics-reader", "railways", "reader")
    assert client.get("/metrics", headers={"Authorization": f"Bearer {reader}"}).status_code == 403
    r = client.get("/metrics", headers={"Authorization": f"Bearer {demo.token}"})
    assert r.status_code == 200 and r.headers["content-type"].startswith("text/plain; version=")
    assert "mamori_watch_state_present" in r.text


def test_the_speed_page_shows_the_watch_per_sector(demo: Any, hub: Hub, tmp_path: Path) -> None:
    client = TestClient(create_app(hub, results=demo.results), follow_redirects=False)
    auth = {"Authorization": f"Bearer {demo.token}"}
    before = client.get("/speed", headers=auth)
    assert before.status_code == 200 and 'data-watch="absent"' in before.text
    make_state(tmp_path, state_path())
    page = client.get("/speed", headers=auth).text
    assert 'data-watch="sectors"' in page
    row = page.split('data-sector="electric-power"', 1)[1].split("</tr>", 1)[0]
    # two fixes, 20 s and 90 s after publication: median (nearest rank) 20 s, 95th 90 s; one proposal
    assert '<td class="n">1</td>' in row and "20.0 s" in row and "1.5 min" in row
    assert 'data-sector="finance"' in page and 'data-sector="unknown"' in page
    metrics = client.get("/metrics", headers=auth).text
    assert 'mamori_watch_published_to_proposed_seconds_count{sector="electric-power"} 2.0' in metrics


def test_the_speed_page_shows_detection_latency_per_sector(demo: Any, hub: Hub, tmp_path: Path) -> None:
    from mamori.detect import Alert
    from mamori.results import ResultsStore

    results = tmp_path / "results.sqlite"
    client = TestClient(create_app(hub, results=results), follow_redirects=False)
    auth = {"Authorization": f"Bearer {demo.token}"}
    assert 'data-detection="empty"' in client.get("/speed", headers=auth).text
    alert = Alert("r1", "SQL injection", "high", "2026-12-04T01:00:00Z", "access.log", 1)
    ResultsStore(results).record_alerts(
        None,
        [
            alert,  # read from what the file held: no latency, not counted
            Alert(
                "r1",
                "SQL injection",
                "high",
                "2026-12-04T01:00:01Z",
                "access.log",
                2,
                written=100.0,
                raised=100.4,
            ),
            Alert(
                "r1",
                "SQL injection",
                "high",
                "2026-12-04T01:00:02Z",
                "access.log",
                3,
                written=200.0,
                raised=201.0,
            ),
        ],
    )
    page = client.get("/speed", headers=auth).text
    row = (
        page.split('data-detection="sectors"', 1)[1]
        .split('data-sector="unspecified"', 1)[1]
        .split("</tr>", 1)[0]
    )
    assert '<td class="n">2</td>' in row and "0.4 s" in row and "1.0 s" in row
    metrics = client.get("/metrics", headers=auth).text
    assert 'mamori_detect_written_to_alert_seconds_count{sector="unspecified"} 2.0' in metrics
