"""SBOMs of a project's inventory (``mamori sbom``): CycloneDX 1.6 or SPDX 2.3, both JSON.

Procurement rules (the US executive order 14028, the EU Cyber Resilience Act, Japan's METI
SBOM guidance) ask for one of these two formats, with the NTIA minimum elements: supplier
where known, component name, version, a unique identifier (the package URL), dependency
relationships, author and timestamp. CycloneDX is written by ``cyclonedx-python-lib``
(see :mod:`mamori.output._cdx`); SPDX 2.3 is written here to the specification's JSON
serialisation, since mamori needs only its package subset:

* the document (``SPDXRef-DOCUMENT``, ``dataLicense`` CC0-1.0, a unique ``documentNamespace``)
  ``DESCRIBES`` a package for the project, which ``DEPENDS_ON`` each component (a
  development-only component is instead its ``DEV_DEPENDENCY_OF``);
* each package has a deterministic ``SPDXID``, ``versionInfo``, the purl as a
  ``PACKAGE-MANAGER`` external reference, and ``NOASSERTION`` for what mamori does not know
  (download location, licences, copyright): the spec's way to say "not determined".

Output is deterministic apart from the timestamp and the serial (namespace) UUID, both of
which can be fixed by the caller.
"""

from __future__ import annotations

import json
import re
from datetime import datetime
from typing import Any, Literal
from uuid import UUID, uuid4

import mamori
from mamori.errors import InputError
from mamori.inventory.interface import Inventory
from mamori.output._cdx import MergedComponent, bom_json, merge_components, new_bom, utc_now

SbomFormat = Literal["cyclonedx", "spdx"]
SBOM_FORMATS: tuple[str, ...] = ("cyclonedx", "spdx")
"""The formats :func:`render_sbom` writes."""

SPDX_NAMESPACE_BASE = "https://spdx.org/spdxdocs/"
"""Prefix of generated SPDX document namespaces (the convention of the SPDX tools)."""

_ROOT_ID = "SPDXRef-Project"
_ID_UNSAFE = re.compile(r"[^A-Za-z0-9.\-]+")


def _project_name(inventory: Inventory, project: str | None) -> str:
    if project:
        return project
    name = inventory.root.resolve().name
    return name or "project"


def _spdx_ids(merged: list[MergedComponent]) -> list[str]:
    """``SPDXRef-Package-<ecosystem>-<name>-<version>``, made unique (SPDX ids allow [A-Za-z0-9.-])."""
    seen: set[str] = {_ROOT_ID}
    ids = []
    for m in merged:
        raw = f"{m.ecosystem}-{m.name}" + (f"-{m.version}" if m.version else "")
        base = "SPDXRef-Package-" + _ID_UNSAFE.sub("-", raw).strip("-")
        spdx_id = base
        n = 2
        while spdx_id in seen:
            spdx_id = f"{base}-{n}"
            n += 1
        seen.add(spdx_id)
        ids.append(spdx_id)
    return ids


def _spdx_package(m: MergedComponent, spdx_id: str) -> dict[str, Any]:
    pkg: dict[str, Any] = {"SPDXID": spdx_id, "name": m.name}
    if m.version:
        pkg["versionInfo"] = m.version
    pkg["downloadLocation"] = "NOASSERTION"
    pkg["filesAnalyzed"] = False
    pkg["licenseConcluded"] = "NOASSERTION"
    pkg["licenseDeclared"] = "NOASSERTION"
    pkg["copyrightText"] = "NOASSERTION"
    places = [
        c.location.path + (f":{c.location.line}" if c.location.line else "")
        for c in m.occurrences
        if c.location.path
    ]
    if places:
        pkg["sourceInfo"] = "declared in " + ", ".join(places)
    if m.purl:
        pkg["externalRefs"] = [
            {"referenceCategory": "PACKAGE-MANAGER", "referenceType": "purl", "referenceLocator": m.purl}
        ]
    pkg["primaryPackagePurpose"] = "LIBRARY"
    return pkg


def spdx_document(
    inventory: Inventory,
    *,
    project: str | None = None,
    timestamp: datetime | None = None,
    serial: UUID | None = None,
) -> dict[str, Any]:
    """The inventory as an SPDX 2.3 document (a JSON-ready dict)."""
    name = _project_name(inventory, project)
    created = (timestamp or utc_now()).strftime("%Y-%m-%dT%H:%M:%SZ")
    namespace_name = _ID_UNSAFE.sub("-", name).strip("-") or "project"
    merged = merge_components(inventory.components)
    ids = _spdx_ids(merged)
    root: dict[str, Any] = {
        "SPDXID": _ROOT_ID,
        "name": name,
        "downloadLocation": "NOASSERTION",
        "filesAnalyzed": False,
        "licenseConcluded": "NOASSERTION",
        "licenseDeclared": "NOASSERTION",
        "copyrightText": "NOASSERTION",
        "primaryPackagePurpose": "APPLICATION",
    }
    relationships: list[dict[str, str]] = [
        {"spdxElementId": "SPDXRef-DOCUMENT", "relationshipType": "DESCRIBES", "relatedSpdxElement": _ROOT_ID}
    ]
    for m, spdx_id in zip(merged, ids, strict=True):
        if m.dev is True:
            relationships.append(
                {
                    "spdxElementId": spdx_id,
                    "relationshipType": "DEV_DEPENDENCY_OF",
                    "relatedSpdxElement": _ROOT_ID,
                }
            )
        else:
            relationships.append(
                {"spdxElementId": _ROOT_ID, "relationshipType": "DEPENDS_ON", "relatedSpdxElement": spdx_id}
            )
    return {
        "spdxVersion": "SPDX-2.3",
        "dataLicense": "CC0-1.0",
        "SPDXID": "SPDXRef-DOCUMENT",
        "name": f"{name} SBOM",
        "documentNamespace": f"{SPDX_NAMESPACE_BASE}mamori/{namespace_name}-{serial or uuid4()}",
        "creationInfo": {
            "created": created,
            "creators": [f"Tool: mamori-{mamori.__version__}"],
        },
        "packages": [root, *(_spdx_package(m, i) for m, i in zip(merged, ids, strict=True))],
        "relationships": relationships,
    }


def render_sbom(
    inventory: Inventory,
    fmt: SbomFormat | str = "cyclonedx",
    *,
    project: str | None = None,
    timestamp: datetime | None = None,
    serial: UUID | None = None,
) -> str:
    """The inventory as a CycloneDX 1.6 or SPDX 2.3 JSON SBOM.

    ``project`` names the described project (default: the inventory root's folder name);
    ``timestamp`` and ``serial`` fix the only variable parts (for tests and reproducible builds).
    Raises :class:`InputError` for an unknown format.
    """
    if fmt == "cyclonedx":
        bom, _ = new_bom(
            _project_name(inventory, project), inventory.components, timestamp=timestamp, serial=serial
        )
        return bom_json(bom)
    if fmt == "spdx":
        doc = spdx_document(inventory, project=project, timestamp=timestamp, serial=serial)
        return json.dumps(doc, indent=2, ensure_ascii=False) + "\n"
    raise InputError(f"unknown SBOM format {fmt!r}; choose one of: {', '.join(SBOM_FORMATS)}")
