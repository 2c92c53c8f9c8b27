"""SBOMs of an inventory: CycloneDX 1.6 (library validator) and SPDX 2.3 (spdx-tools validator)."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from uuid import UUID

import pytest
from cyclonedx.schema import SchemaVersion
from cyclonedx.validation.json import JsonStrictValidator

from mamori.errors import InputError
from mamori.inventory.interface import Component, Inventory
from mamori.model import Location
from mamori.output.sbom import render_sbom

FIXED_TIME = datetime(2024, 10, 10, 12, 0, tzinfo=UTC)
FIXED_SERIAL = UUID("12345678-1234-5678-1234-567812345678")


def _sbom(inventory: Inventory, fmt: str) -> dict[str, Any]:
    text = render_sbom(inventory, fmt, project="shop", timestamp=FIXED_TIME, serial=FIXED_SERIAL)
    return json.loads(text)


# ---- CycloneDX ---------------------------------------------------------------------------


def test_cyclonedx_sbom_is_valid(inventory: Inventory) -> None:
    text = render_sbom(inventory, "cyclonedx", project="shop", timestamp=FIXED_TIME, serial=FIXED_SERIAL)
    assert JsonStrictValidator(SchemaVersion.V1_6).validate_str(text) is None


def test_cyclonedx_merges_a_package_found_in_two_files(inventory: Inventory) -> None:
    doc = _sbom(inventory, "cyclonedx")
    jinja = [c for c in doc["components"] if c["name"] == "jinja2"]
    assert len(jinja) == 1
    occ = jinja[0]["evidence"]["occurrences"]
    assert {(o["location"], o["line"]) for o in occ} == {("requirements.txt", 3), ("poetry.lock", 40)}
    assert len(doc["components"]) == len(inventory.components) - 1


def test_cyclonedx_names_scopes_and_graph(inventory: Inventory) -> None:
    doc = _sbom(inventory, "cyclonedx")
    by_purl = {c.get("purl", c["bom-ref"]): c for c in doc["components"]}
    assert by_purl["pkg:pypi/pytest@8.0.0"]["scope"] == "excluded"
    log4j = by_purl["pkg:maven/org.apache.logging.log4j/log4j-core@2.14.1"]
    assert (log4j["group"], log4j["name"]) == ("org.apache.logging.log4j", "log4j-core")
    babel = by_purl["pkg:npm/%40babel/core@7.24.0"]
    assert (babel["group"], babel["name"]) == ("@babel", "core")
    assert "version" not in by_purl["pkg:pypi/requests"]
    root = doc["metadata"]["component"]
    (root_deps,) = [d for d in doc["dependencies"] if d["ref"] == root["bom-ref"]]
    assert set(root_deps["dependsOn"]) == {c["bom-ref"] for c in doc["components"]}
    assert root["name"] == "shop"


# ---- SPDX --------------------------------------------------------------------------------


def test_spdx_has_the_required_document_fields(inventory: Inventory) -> None:
    doc = _sbom(inventory, "spdx")
    assert doc["spdxVersion"] == "SPDX-2.3"
    assert doc["dataLicense"] == "CC0-1.0"
    assert doc["SPDXID"] == "SPDXRef-DOCUMENT"
    assert doc["documentNamespace"].startswith("https://") and str(FIXED_SERIAL) in doc["documentNamespace"]
    assert doc["creationInfo"] == {"created": "2024-10-10T12:00:00Z", "creators": ["Tool: mamori-0.1.0"]}
    ids = [p["SPDXID"] for p in doc["packages"]]
    assert len(ids) == len(set(ids))
    for pkg in doc["packages"]:
        assert pkg["SPDXID"].startswith("SPDXRef-")
        assert pkg["downloadLocation"] == "NOASSERTION"
        assert all(ch.isalnum() or ch in ".-" for ch in pkg["SPDXID"].removeprefix("SPDXRef-"))


def test_spdx_packages_carry_purl_and_version(inventory: Inventory) -> None:
    doc = _sbom(inventory, "spdx")
    jinja = [p for p in doc["packages"] if p["name"] == "jinja2"]
    assert len(jinja) == 1
    assert jinja[0]["versionInfo"] == "2.10"
    assert jinja[0]["externalRefs"] == [
        {
            "referenceCategory": "PACKAGE-MANAGER",
            "referenceType": "purl",
            "referenceLocator": "pkg:pypi/jinja2@2.10",
        }
    ]
    requests = next(p for p in doc["packages"] if p["name"] == "requests")
    assert "versionInfo" not in requests


def test_spdx_relationships(inventory: Inventory) -> None:
    doc = _sbom(inventory, "spdx")
    rels = {
        (r["spdxElementId"], r["relationshipType"], r["relatedSpdxElement"]) for r in doc["relationships"]
    }
    root = next(p["SPDXID"] for p in doc["packages"] if p["name"] == "shop")
    assert ("SPDXRef-DOCUMENT", "DESCRIBES", root) in rels
    ids = {p["name"]: p["SPDXID"] for p in doc["packages"]}
    assert (root, "DEPENDS_ON", ids["jinja2"]) in rels
    assert (ids["pytest"], "DEV_DEPENDENCY_OF", root) in rels
    assert (root, "DEPENDS_ON", ids["pytest"]) not in rels
    assert len(rels) == len(doc["packages"])  # DESCRIBES + one per component


def test_spdx_is_valid_per_spdx_tools(tmp_path: Path, inventory: Inventory) -> None:
    parser = pytest.importorskip("spdx_tools.spdx.parser.json.json_parser")
    validator = pytest.importorskip("spdx_tools.spdx.validation.document_validator")
    path = tmp_path / "sbom.spdx.json"
    path.write_text(render_sbom(inventory, "spdx", project="shop"), encoding="utf-8")
    document = parser.parse_from_file(str(path))
    messages = validator.validate_full_spdx_document(document)
    assert messages == [], [m.validation_message for m in messages]
    assert len(document.packages) == len(inventory.components)  # root + merged (one duplicate)


def test_spdx_tools_catches_a_broken_document(tmp_path: Path, inventory: Inventory) -> None:
    parser = pytest.importorskip("spdx_tools.spdx.parser.json.json_parser")
    validator = pytest.importorskip("spdx_tools.spdx.validation.document_validator")
    doc = _sbom(inventory, "spdx")
    doc["relationships"].append(
        {
            "spdxElementId": "SPDXRef-Project",
            "relationshipType": "DEPENDS_ON",
            "relatedSpdxElement": "SPDXRef-Nope",
        }
    )
    path = tmp_path / "broken.spdx.json"
    path.write_text(json.dumps(doc), encoding="utf-8")
    assert validator.validate_full_spdx_document(parser.parse_from_file(str(path)))


def test_spdx_ids_stay_unique_when_names_collide() -> None:
    inv = Inventory(
        components=(
            Component("npm", "a/b", "1", Location("x", 1)),
            Component("npm", "a_b", "1", Location("x", 2)),
        )
    )
    doc = _sbom(inv, "spdx")
    ids = [p["SPDXID"] for p in doc["packages"]]
    assert len(ids) == len(set(ids)) == 3


# ---- both ----------------------------------------------------------------------------------


@pytest.mark.parametrize("fmt", ["cyclonedx", "spdx"])
def test_deterministic_apart_from_time_and_serial(inventory: Inventory, fmt: str) -> None:
    a = render_sbom(inventory, fmt, project="shop", timestamp=FIXED_TIME, serial=FIXED_SERIAL)
    shuffled = Inventory(components=tuple(reversed(inventory.components)))
    b = render_sbom(shuffled, fmt, project="shop", timestamp=FIXED_TIME, serial=FIXED_SERIAL)
    assert a == b


@pytest.mark.parametrize("fmt", ["cyclonedx", "spdx"])
def test_empty_inventory(fmt: str) -> None:
    doc = _sbom(Inventory(), fmt)
    assert doc


def test_unknown_format() -> None:
    with pytest.raises(InputError):
        render_sbom(Inventory(), "swid")
