"""Bad input gets the TAXII error the standard names, and nothing half-written is stored.

Also: the forged, foreign and replayed pagination tokens, credentials, roles, and the audit log.
"""

from __future__ import annotations

import json
import uuid

import httpx
import pytest
from sqlalchemy import text
from tests.share.conftest import LiveHub

TAXII = "application/taxii+json;version=2.1"
GREEN = "marking-definition--bab4a63c-aed9-4cf5-a766-dfca5abac2bb"


def _client(live: LiveHub, org: str) -> httpx.Client:
    return httpx.Client(
        base_url=live.url, headers={"Accept": TAXII, "Authorization": f"Bearer {live.tokens[org]}"}
    )


def _objects_path(live: LiveHub, alias: str = "finance") -> str:
    return live.collection_url(alias)[len(live.url) :] + "objects/"


def _indicator(n: int) -> dict[str, object]:
    return {
        "type": "indicator",
        "spec_version": "2.1",
        "id": f"indicator--{uuid.uuid4()}",
        "created": "2024-05-01T00:00:00.000Z",
        "modified": "2024-05-01T00:00:00.000Z",
        "pattern": f"[ipv4-addr:value = '45.33.32.{n}']",
        "pattern_type": "stix",
        "valid_from": "2024-05-01T00:00:00Z",
        "object_marking_refs": [GREEN],
    }


def _post(c: httpx.Client, path: str, body: object, content_type: str = TAXII) -> httpx.Response:
    return c.post(path, content=json.dumps(body).encode(), headers={"Content-Type": content_type})


def _count(live: LiveHub) -> int:
    with live.hub.engine.connect() as conn:  # type: ignore[attr-defined]
        return int(conn.execute(text("SELECT count(*) FROM objects")).scalar_one())


def test_media_types_and_envelopes(sqlite_hub: LiveHub) -> None:
    path = _objects_path(sqlite_hub)
    with _client(sqlite_hub, "Producer Bank") as c:
        r = c.get(path, headers={"Accept": "application/xml"})
        assert r.status_code == 406 and r.headers["content-type"] == TAXII
        assert c.get(path, headers={"Accept": "application/taxii+json;version=2.0"}).status_code == 406
        assert _post(c, path, {"objects": [_indicator(1)]}, "application/json").status_code == 415
        bad_json = c.post(path, content=b"{not json", headers={"Content-Type": TAXII})
        assert bad_json.status_code == 400 and bad_json.json()["http_status"] == "400"
        assert _post(c, path, [_indicator(1)]).status_code == 422
        huge = {"objects": [_indicator(1)], "padding": "x" * (11 * 1024 * 1024)}
        assert _post(c, path, huge).status_code == 413
        assert _count(sqlite_hub) == 0


def test_malformed_objects_fail_alone_and_are_not_stored(sqlite_hub: LiveHub) -> None:
    good = _indicator(2)
    bad = [
        {**_indicator(3), "id": "indicator--not-a-uuid"},
        {**_indicator(4), "type": "malware"},  # id of another type
        {**_indicator(5), "modified": "yesterday"},
        {**_indicator(6), "spec_version": "2.0"},
        {**_indicator(7), "x_mamori_recipients": "Recipient Bank"},
        "not an object",
    ]
    with _client(sqlite_hub, "Producer Bank") as c:
        r = _post(c, _objects_path(sqlite_hub), {"objects": [good, *bad]})
        assert r.status_code == 202
        status = r.json()
        assert status["success_count"] == 1 and status["failure_count"] == len(bad)
        assert [s["id"] for s in status["successes"]] == [good["id"]]
        again = c.get(
            sqlite_hub.collection_url("finance")[len(sqlite_hub.url) :] + "../../status/" + status["id"] + "/"
        )
        assert again.status_code == 200 and again.json()["id"] == status["id"]
    with _client(sqlite_hub, "Other Bank") as other:
        assert other.get(f"/taxii2/hub/status/{status['id']}/").status_code == 404
    assert _count(sqlite_hub) == 1


def test_pagination_tokens_forged_foreign_replayed(sqlite_hub: LiveHub) -> None:
    path = _objects_path(sqlite_hub)
    with _client(sqlite_hub, "Producer Bank") as c:
        assert _post(c, path, {"objects": [_indicator(n) for n in range(10, 16)]}).status_code == 202
        first = c.get(path, params={"limit": 2}).json()
        assert first["more"] is True
        token = first["next"]
        assert c.get(path, params={"limit": 2, "next": "forged-" + token}).status_code == 400
        assert c.get(path, params={"limit": 2, "next": token, "match[type]": "malware"}).status_code == 400
        with _client(sqlite_hub, "Other Bank") as other:
            assert other.get(path, params={"limit": 2, "next": token}).status_code == 400
        second = c.get(path, params={"limit": 2, "next": token})
        assert second.status_code == 200 and len(second.json()["objects"]) == 2
        replay = c.get(path, params={"limit": 2, "next": token})
        assert replay.status_code == 400 and "already used" in replay.json()["description"]
        assert c.get(path, params={"limit": 0}).status_code == 400
        assert c.get(path, params={"added_after": "last tuesday"}).status_code == 400


def test_credentials_and_roles(sqlite_hub: LiveHub) -> None:
    path = _objects_path(sqlite_hub)
    assert httpx.get(sqlite_hub.url + path, headers={"Accept": TAXII}).status_code == 401
    wrong = httpx.get(sqlite_hub.url + path, headers={"Accept": TAXII, "Authorization": "Bearer nope"})
    assert wrong.status_code == 401 and "Bearer" in wrong.headers["www-authenticate"]
    # HTTP Basic: the token is the password of the organisation's own name only
    token = sqlite_hub.tokens["Producer Bank"]
    assert (
        httpx.get(sqlite_hub.url + path, headers={"Accept": TAXII}, auth=("Producer Bank", token)).status_code
        == 200
    )
    assert (
        httpx.get(sqlite_hub.url + path, headers={"Accept": TAXII}, auth=("Other Bank", token)).status_code
        == 401
    )
    with _client(sqlite_hub, "Other Bank") as reader:
        assert _post(reader, path, {"objects": [_indicator(20)]}).status_code == 403
    with _client(sqlite_hub, "Grid Power") as outsider:
        assert outsider.get(path).status_code == 403
        assert outsider.get("/taxii2/hub/collections/no-such-collection/objects/").status_code == 404
    assert _count(sqlite_hub) == 0


def test_admin_grants_and_tokens_are_stored_hashed(tmp_path: object) -> None:
    from mamori.share._hub import Hub, TaxiiError

    hub = Hub.open(f"sqlite:///{tmp_path}/hub.sqlite")
    admin_token = hub.add_org("Water Works", "water", "admin")
    hub.add_org("Grid Power", "electric-power", "writer")
    admin = hub.authenticate(admin_token)
    grid = hub.authenticate(hub.new_token("Grid Power"))
    assert admin is not None and grid is not None
    with pytest.raises(TaxiiError) as denied:
        hub.grant(grid, "Grid Power", "water", "reader")
    assert denied.value.status == 403
    hub.grant(admin, "Grid Power", "water", "reader")
    assert hub.role(grid, hub.resolve_collection("water")) == "reader"
    with hub.engine.connect() as conn:
        stored = conn.execute(text("SELECT token_hash FROM tokens")).scalars().all()
    assert admin_token not in stored and all(len(h) == 64 for h in stored)
    hub.close()


def test_audit_log_records_reads_and_writes_and_is_append_only(sqlite_hub: LiveHub) -> None:
    path = _objects_path(sqlite_hub)
    ind = _indicator(30)
    with _client(sqlite_hub, "Producer Bank") as c:
        _post(c, path, {"objects": [ind]})
    with _client(sqlite_hub, "Other Bank") as c:
        c.get(path)
    log = sqlite_hub.hub.audit_log()  # type: ignore[attr-defined]
    writes = [e for e in log if e["action"] == "write"]
    reads = [e for e in log if e["action"] == "read" and e["org"] == "Other Bank"]
    assert writes and ind["id"] in writes[-1]["detail"]
    assert reads and ind["id"] in reads[-1]["detail"]
    with pytest.raises(Exception, match="append-only"), sqlite_hub.hub.engine.begin() as conn:  # type: ignore[attr-defined]
        conn.execute(text("DELETE FROM audit"))
    assert len(sqlite_hub.hub.audit_log()) == len(log)  # type: ignore[attr-defined]
