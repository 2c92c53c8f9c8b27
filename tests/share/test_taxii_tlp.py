"""TAXII 2.1 with the OASIS client libraries, and TLP enforced on every read endpoint.

Every TLP level is posted by one organisation and then read by every other identity through
every endpoint (objects, object by id, versions, manifest, paginated objects, the ``stix2``
TAXII data source), on SQLite and on a real PostgreSQL server.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable

import httpx
import pytest
import stix2
from requests.exceptions import HTTPError
from taxii2client.v21 import ApiRoot, Collection, Server, as_pages
from tests.share.conftest import LiveHub

TLP2 = {
    "clear": "marking-definition--94868c89-83c2-464b-929b-a1a8aa3c8487",
    "green": "marking-definition--bab4a63c-aed9-4cf5-a766-dfca5abac2bb",
    "amber": "marking-definition--55d920b0-5e8b-4f79-9ee9-91f868d9b421",
    "amber+strict": "marking-definition--939a9414-2ddd-4d32-a0cd-375ea402b003",
    "red": "marking-definition--e828b379-4e03-4974-9ac4-e53a884c97c1",
}
# Who may read an object the Producer Bank posts naming Recipient Bank (the contract's table).
ENTITLED = {
    "clear": {"Producer Bank", "Recipient Bank", "Other Bank"},
    "green": {"Producer Bank", "Recipient Bank", "Other Bank"},
    "amber": {"Producer Bank", "Recipient Bank"},
    "amber+strict": {"Producer Bank"},
    "red": {"Producer Bank", "Recipient Bank"},
    "unmarked": {"Producer Bank", "Recipient Bank"},
    "unknown-marking": {"Producer Bank", "Recipient Bank"},
    "tlp1-white": {"Producer Bank", "Recipient Bank", "Other Bank"},
    "tlp1-red": {"Producer Bank", "Recipient Bank"},
}
READERS = ("Producer Bank", "Recipient Bank", "Other Bank")


def _indicator(level: str, n: int) -> stix2.Indicator:
    markings = {
        "unmarked": [],
        "unknown-marking": ["marking-definition--" + str(uuid.uuid4())],
        "tlp1-white": [stix2.TLP_WHITE.id],
        "tlp1-red": [stix2.TLP_RED.id],
    }.get(level, [TLP2.get(level, "")])
    return stix2.Indicator(
        name=f"{level} indicator",
        pattern=f"[ipv4-addr:value = '45.33.32.{n}']",
        pattern_type="stix",
        object_marking_refs=markings,
        x_mamori_recipients=["Recipient Bank"],
        allow_custom=True,
    )


def _refused(call: Callable[..., object], *args: object) -> int:
    """The HTTP status with which the server refused ``call(*args)`` (the client raises HTTPError)."""
    with pytest.raises(HTTPError) as info:
        call(*args)
    return int(info.value.response.status_code)


def _collection(live: LiveHub, org: str, alias: str = "finance") -> Collection:
    return Collection(live.collection_url(alias), user=org, password=live.tokens[org])


@pytest.fixture
def posted(live_hub: LiveHub) -> dict[str, stix2.Indicator]:
    """One indicator per TLP case, posted by Producer Bank to the finance collection, two versions each."""
    out: dict[str, stix2.Indicator] = {}
    objs = []
    for n, level in enumerate(ENTITLED, start=1):
        first = _indicator(level, n)
        second = first.new_version(description="second version")
        objs += [first, second]
        out[level] = second
    status = _collection(live_hub, "Producer Bank").add_objects(
        stix2.Bundle(*objs, allow_custom=True).serialize()
    )
    assert status.status == "complete"
    assert status.success_count == len(objs) and status.failure_count == 0
    return out


def test_discovery_api_root_and_collections_with_taxii2_client(live_hub: LiveHub) -> None:
    server = Server(live_hub.discovery, user="Producer Bank", password=live_hub.tokens["Producer Bank"])
    assert len(server.api_roots) == 1
    root = server.default
    assert isinstance(root, ApiRoot)
    assert "application/taxii+json;version=2.1" in root.versions
    titles = {c.title: c for c in root.collections}
    assert set(titles) == {"finance sector", "cross-sector"}
    assert titles["finance sector"].can_write and titles["finance sector"].can_read
    reader = Server(live_hub.discovery, user="Other Bank", password=live_hub.tokens["Other Bank"]).default
    assert all(not c.can_write for c in reader.collections)


def test_every_endpoint_hides_what_tlp_forbids(live_hub: LiveHub, posted: dict[str, stix2.Indicator]) -> None:
    for reader in READERS:
        col = _collection(live_hub, reader)
        expected = {posted[level].id for level, orgs in ENTITLED.items() if reader in orgs}
        # objects
        assert {o["id"] for o in col.get_objects().get("objects", [])} == expected, reader
        # objects, one per page (pagination must neither leak nor lose)
        paged = [
            o["id"] for page in as_pages(col.get_objects, per_request=1) for o in page.get("objects", [])
        ]
        assert sorted(paged) == sorted(expected), reader
        # manifest, also paginated
        manifest = [
            m["id"] for page in as_pages(col.get_manifest, per_request=2) for m in page.get("objects", [])
        ]
        assert sorted(manifest) == sorted(expected), reader
        # all versions through match[version]
        all_versions = col.get_objects(version="all").get("objects", [])
        assert {o["id"] for o in all_versions} == expected and len(all_versions) == 2 * len(expected)
        for level, obj in posted.items():
            entitled = reader in ENTITLED[level]
            # object by id
            if entitled:
                got = col.get_object(obj.id)["objects"]
                assert [o.get("description") for o in got] == ["second version"]  # the last version
                assert len(col.object_versions(obj.id)["versions"]) == 2
            else:
                assert _refused(col.get_object, obj.id) == 404
                assert _refused(col.object_versions, obj.id) == 404
        # the stix2 library's TAXII data source
        source = stix2.TAXIICollectionSource(col, allow_custom=True)
        for level, obj in posted.items():
            got = source.get(obj.id)
            assert (got is not None) == (reader in ENTITLED[level]), (reader, level)


def test_other_sector_cannot_read_the_collection_at_all(
    live_hub: LiveHub, posted: dict[str, stix2.Indicator]
) -> None:
    grid = _collection(live_hub, "Grid Power")
    assert _refused(grid.get_objects) == 403
    assert _refused(grid.get_manifest) == 403


def test_cross_sector_collection_applies_tlp_across_sectors(live_hub: LiveHub) -> None:
    green = _indicator("green", 200)
    strict = _indicator("amber+strict", 201)
    red_to_grid = stix2.Indicator(
        pattern="[domain-name:value = 'evil.example.net']",
        pattern_type="stix",
        object_marking_refs=[TLP2["red"]],
        x_mamori_recipients=["Grid Power"],
        allow_custom=True,
    )
    _collection(live_hub, "Producer Bank", "cross-sector").add_objects(
        stix2.Bundle(green, strict, red_to_grid, allow_custom=True).serialize()
    )
    seen = {o["id"] for o in _collection(live_hub, "Grid Power", "cross-sector").get_objects()["objects"]}
    assert seen == {green.id, red_to_grid.id}
    seen_other = {
        o["id"] for o in _collection(live_hub, "Other Bank", "cross-sector").get_objects()["objects"]
    }
    assert seen_other == {green.id}


def test_filters_added_after_type_id_and_version(
    live_hub: LiveHub, posted: dict[str, stix2.Indicator]
) -> None:
    col = _collection(live_hub, "Producer Bank")
    env = col.get_objects()
    first_page = col.get_objects(limit=3)
    assert first_page["more"] is True and len(first_page["objects"]) == 3
    manifest = col.get_manifest()["objects"]
    cut = manifest[2]["date_added"]
    after = col.get_objects(added_after=cut)["objects"]
    assert {o["id"] for o in after} == {m["id"] for m in manifest[3:]}
    assert col.get_objects(type="malware").get("objects", []) == []
    one = posted["green"]
    assert [o["id"] for o in col.get_objects(id=one.id)["objects"]] == [one.id]
    first_versions = col.get_objects(id=one.id, version="first")["objects"]
    assert "description" not in first_versions[0]
    assert len(env["objects"]) == len(ENTITLED)
    assert col.get_objects(spec_version="2.0").get("objects", []) == []


def test_delete_only_by_producer_and_only_what_it_may_read(
    live_hub: LiveHub, posted: dict[str, stix2.Indicator]
) -> None:
    target = posted["green"]
    # taxii2-client refuses to send a DELETE to a collection it cannot write: send it raw
    reader = httpx.delete(
        live_hub.collection_url("finance") + f"objects/{target.id}/",
        headers={"Accept": "application/taxii+json;version=2.1"},
        auth=("Other Bank", live_hub.tokens["Other Bank"]),
    )
    assert reader.status_code == 403
    _collection(live_hub, "Producer Bank").delete_object(target.id)
    assert _refused(_collection(live_hub, "Producer Bank").get_object, target.id) == 404
