"""``GET /metrics`` of the real app: an admin organisation's token, or 401/403 (no redirect)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from mamori.share._hub import Hub
from mamori.share._server import create_app


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
