"""What the throughput work must not break: the cached, parameterised queries return exactly the
versions the TLP rule and the TAXII filters allow (a Python model of both is the oracle, with
the fail-closed rules: unrecognised and upper-case marking ids, recipient sectors, and the first
publisher owning an id); audit
records written in batches are all there, in order; roles and collections are cached but a grant
takes effect at once; ``mamori serve`` with two workers on PostgreSQL serves and audits."""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path
from typing import Any

import httpx
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from tests.share.conftest import free_port

from mamori.share._hub import Filters, Hub, Org, TaxiiError, format_timestamp
from mamori.share.sectors import collection_id
from mamori.share.tlp import TLP2_MARKINGS, Tlp

ORGS = ("Alpha Bank", "Beta Bank", "Gamma Power")
SECTOR = {"Alpha Bank": "finance", "Beta Bank": "finance", "Gamma Power": "electric-power"}
UNKNOWN_MARKING = "marking-definition--00000000-0000-4000-8000-000000000000"
TAXII = "application/taxii+json;version=2.1"
_IDS = [f"indicator--{uuid.UUID(int=i)}" for i in range(1, 6)]
_TYPES = {i: "indicator" for i in _IDS} | {f"malware--{uuid.UUID(int=9)}": "malware"}

version_st = st.fixed_dictionaries(
    {
        "id": st.sampled_from(sorted(_TYPES)),
        "second": st.integers(min_value=0, max_value=3),
        "producer": st.sampled_from(ORGS),
        "tlp": st.sampled_from(list(Tlp)),
        "to": st.lists(st.sampled_from(ORGS), max_size=2, unique=True),
        # a second marking: none, one the hub does not know, RED's id in upper case
        "extra": st.sampled_from([None, "unknown", "RED"]),
        "sectors": st.booleans(),  # x_mamori_recipient_sectors: ["finance"] (AMBER only)
    }
)
filters_st = st.fixed_dictionaries(
    {
        "versions": st.sampled_from([("last",), ("first",), ("all",), ("first", "last"), ("stamp",)]),
        "types": st.sampled_from([(), ("indicator",), ("malware",)]),
        "ids": st.sampled_from([(), (_IDS[0],), (_IDS[0], f"malware--{uuid.UUID(int=9)}")]),
        "after": st.integers(min_value=-1, max_value=8),
        "spec": st.sampled_from([(), ("2.1",), ("2.0",)]),
        "reader": st.sampled_from(ORGS),
        "limit": st.integers(min_value=1, max_value=4),
    }
)


def _obj(v: dict[str, Any]) -> dict[str, Any]:
    stamp = f"2024-01-01T00:00:0{v['second']}.000Z"
    obj: dict[str, Any] = {
        "type": _TYPES[v["id"]],
        "spec_version": "2.1",
        "id": v["id"],
        "created": "2024-01-01T00:00:00.000Z",
        "modified": stamp,
        "name": "x",
        "object_marking_refs": [TLP2_MARKINGS[v["tlp"]]],
        "x_mamori_recipients": v["to"],
    }
    extra = v.get("extra")
    if extra == "unknown":
        obj["object_marking_refs"].append(UNKNOWN_MARKING)
    elif extra == "RED":
        obj["object_marking_refs"].append(TLP2_MARKINGS[Tlp.RED].upper())
    if v.get("sectors") and v["tlp"] is Tlp.AMBER:
        obj["x_mamori_recipient_sectors"] = ["finance"]
    if obj["type"] == "indicator":
        obj |= {"pattern": "[ipv4-addr:value = '45.1.2.3']", "pattern_type": "stix", "valid_from": stamp}
    else:
        obj["is_family"] = False
    return obj


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    versions=st.lists(version_st, min_size=1, max_size=10),
    queries=st.lists(filters_st, min_size=1, max_size=4),
)
def test_queries_return_exactly_what_tlp_and_filters_allow(
    versions: list[dict[str, Any]], queries: list[dict[str, Any]]
) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        hub = Hub.open(f"sqlite:///{Path(tmp) / 'hub.sqlite'}")
        try:
            _check(hub, versions, queries)
        finally:
            hub.close()


def _model_may_read(v: dict[str, Any], reader: str) -> bool:
    """The contract's TLP rule written out independently of the hub's code."""
    if v["extra"] in ("unknown", "RED"):  # unrecognised: producer and named recipients; RED wins
        return reader == v["producer"] or reader in v["to"]
    if v["tlp"] in (Tlp.CLEAR, Tlp.GREEN) or reader == v["producer"]:
        return True
    if v["tlp"] is Tlp.AMBER_STRICT:
        return False
    if reader in v["to"]:
        return True
    return v["tlp"] is Tlp.AMBER and v["sectors"] and SECTOR[reader] == "finance"


def _check(hub: Hub, versions: list[dict[str, Any]], queries: list[dict[str, Any]]) -> None:
    orgs = {name: hub.add_org(name, SECTOR[name], "writer") for name in ORGS}
    who = {name: hub.authenticate(token) for name, token in orgs.items()}
    cid = collection_id("cross-sector")
    stored: dict[tuple[str, str], dict[str, Any]] = {}  # (id, version) -> what the hub kept
    owner: dict[str, str] = {}
    added: list[int] = []
    for v in versions:
        org = who[v["producer"]]
        assert org is not None
        status = hub.add_objects(org, cid, [_obj(v)])
        first = owner.setdefault(v["id"], v["producer"])
        if first != v["producer"]:  # the id belongs to its first publisher
            assert status["success_count"] == 0 and status["failure_count"] == 1
            continue
        assert status["success_count"] == 1
        key = (v["id"], f"2024-01-01T00:00:0{v['second']}.000Z")
        if key not in stored:  # a version already there is not stored again
            stored[key] = v | {"seq": len(stored)}
    rows = hub.engine.connect().exec_driver_sql("SELECT date_added FROM objects ORDER BY pk").all()
    added = [r[0] for r in rows]
    for q in queries:
        reader = who[q["reader"]]
        assert reader is not None
        readable = [(k, v) for k, v in stored.items() if _model_may_read(v, q["reader"])]
        if q["spec"] == ("2.0",):
            readable = []
        stamps: tuple[str, ...] = ()
        words = q["versions"]
        if words == ("stamp",):
            stamps = ("2024-01-01T00:00:01.000Z",)
            words = ()
        after = added[q["after"]] if 0 <= q["after"] < len(added) else None
        want = []
        for (ident, ver), v in readable:
            mine = sorted(x for (i, x), _ in readable if i == ident)
            ok = "all" in words or ver in stamps
            ok |= "last" in words and ver == mine[-1]
            ok |= "first" in words and ver == mine[0]
            ok &= not q["types"] or _TYPES[ident] in q["types"]
            ok &= not q["ids"] or ident in q["ids"]
            ok &= after is None or added[v["seq"]] > after
            if ok:
                want.append((v["seq"], ident, ver))
        filters = Filters(
            added_after=after,
            ids=q["ids"],
            types=q["types"],
            versions=words + stamps,
            spec_versions=q["spec"],
        )
        got: list[tuple[str, str]] = []
        token = None
        for _ in range(20):
            page = hub.query(reader, cid, filters, endpoint="objects", limit=q["limit"], next_token=token)
            assert len(page.rows) <= q["limit"]
            got += [(r.stix_id, r.version) for r in page.rows]
            if not page.more:
                break
            token = page.next
        assert got == [(i, ver) for _, i, ver in sorted(want)]


def test_audit_records_are_batched_but_none_is_lost_and_they_stay_in_order(tmp_path: Path) -> None:
    hub = Hub.open(f"sqlite:///{tmp_path / 'hub.sqlite'}")
    token = hub.add_org("Alpha Bank", "finance", "reader")
    org = hub.authenticate(token)
    assert org is not None
    cid = collection_id("finance")
    for _ in range(7):
        hub.query(org, cid, Filters(), endpoint="objects")
    with pytest.raises(TaxiiError):
        hub.access(org, cid, write=True)  # denied: audited too
    log = hub.audit_log()
    reads = [r for r in log if r["action"] == "read"]
    assert len(reads) == 7 and [r["action"] for r in log][-1] == "denied"
    assert [r["id"] for r in log] == sorted(r["id"] for r in log)
    assert [r["at"] for r in reads] == sorted(r["at"] for r in reads)
    hub.query(org, cid, Filters(), endpoint="manifest")
    hub.close()  # closing writes what is still buffered
    again = Hub.open(f"sqlite:///{tmp_path / 'hub.sqlite'}")
    try:
        assert [r["action"] for r in again.audit_log()][-1] == "read"
        assert len(again.audit_log()) == len(log) + 1
    finally:
        again.close()


def test_a_grant_takes_effect_at_once_despite_the_role_cache(tmp_path: Path) -> None:
    hub = Hub.open(f"sqlite:///{tmp_path / 'hub.sqlite'}")
    try:
        admin = hub.authenticate(hub.add_org("Admin Bank", "finance", "admin"))
        reader = hub.authenticate(hub.add_org("Reader Bank", "finance", "reader"))
        assert isinstance(admin, Org) and isinstance(reader, Org)
        cid = collection_id("finance")
        assert hub.access(reader, cid) == "reader"  # now cached
        with pytest.raises(TaxiiError):
            hub.access(reader, cid, write=True)
        hub.grant(admin, "Reader Bank", "finance", "writer")
        assert hub.access(reader, cid, write=True) == "writer"
        with pytest.raises(TaxiiError) as unknown:
            hub.access(reader, "no-such-collection")
        assert unknown.value.status == 404
    finally:
        hub.close()


def test_serve_with_two_workers_on_postgresql(postgres_url: str, tmp_path: Path) -> None:
    hub = Hub.open(postgres_url)
    try:
        tokens = {n: hub.add_org(n, "finance", "writer") for n in ("Alpha Bank", "Beta Bank")}
    finally:
        hub.close()
    port = free_port()
    code = "import sys; from mamori.share.command import serve_command; serve_command(host='127.0.0.1', port=int(sys.argv[1]), database=sys.argv[2])"
    proc = subprocess.Popen(
        [sys.executable, "-c", code, str(port), postgres_url],
        env={**os.environ, "MAMORI_HOME": str(tmp_path)},
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    base = f"http://127.0.0.1:{port}/taxii2/hub/collections/{collection_id('finance')}/objects/"
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                httpx.get(base, timeout=2)
                break
            except httpx.HTTPError:
                if time.monotonic() > deadline or proc.poll() is not None:
                    raise
                time.sleep(0.2)
        strict = _obj({"id": _IDS[0], "second": 1, "producer": "", "tlp": Tlp.AMBER_STRICT, "to": []})
        green = _obj({"id": _IDS[1], "second": 1, "producer": "", "tlp": Tlp.GREEN, "to": []})
        with httpx.Client(headers={"Accept": TAXII}, timeout=30) as c:
            alpha = {"Authorization": f"Bearer {tokens['Alpha Bank']}"}
            beta = {"Authorization": f"Bearer {tokens['Beta Bank']}"}
            import json

            posted = c.post(
                base,
                content=json.dumps({"objects": [strict, green]}),
                headers={**alpha, "Content-Type": TAXII},
            )
            assert posted.status_code == 202 and posted.json()["success_count"] == 2
            for _ in range(6):  # spread over both workers
                got = {o["id"] for o in c.get(base, headers=beta).json().get("objects", [])}
                assert got == {green["id"]}
                assert c.get(base + strict["id"] + "/", headers=beta).status_code == 404
            assert {o["id"] for o in c.get(base, headers=alpha).json()["objects"]} == {
                strict["id"],
                green["id"],
            }
    finally:
        proc.terminate()
        proc.wait(timeout=60)
    hub = Hub.open(postgres_url)
    try:  # the workers wrote their buffered audit records when they stopped
        reads = [r for r in hub.audit_log() if r["action"] == "read" and r["org"] == "Beta Bank"]
        assert len(reads) >= 12
    finally:
        hub.close()
    assert proc.returncode is not None and format_timestamp(0).startswith("1970")
