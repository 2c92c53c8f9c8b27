"""Building CycloneDX documents with ``cyclonedx-python-lib``, shared by SBOMs and scan reports.

The library owns the serialisation (field names, ordering, the spec version's rules), so the
output stays valid as the spec evolves; this module only maps mamori's inventory onto it:

* one component per package URL: a package declared in two files (``requirements.txt`` and
  ``poetry.lock``) is one component with two ``evidence.occurrences`` (file and line);
* the ``bom-ref`` of a component is its package URL, so references are stable across runs;
* a development-only dependency has scope ``excluded`` (CycloneDX: not part of the runtime);
* the scanned project is the metadata component, and it depends on every component (mamori's
  inventory knows whether a package is direct, recorded as the ``mamori:direct`` property, but
  not the parent of a transitive one, so no deeper graph is claimed).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from uuid import UUID

from cyclonedx.model import Property
from cyclonedx.model.bom import Bom, BomMetaData
from cyclonedx.model.component import Component as CdxComponent
from cyclonedx.model.component import ComponentScope, ComponentType
from cyclonedx.model.component_evidence import ComponentEvidence, Occurrence
from cyclonedx.output import make_outputter
from cyclonedx.schema import OutputFormat, SchemaVersion
from packageurl import PackageURL

import mamori
from mamori.ecosystems import base_ecosystem, purl_for
from mamori.inventory.interface import Component

SCHEMA_VERSION = SchemaVersion.V1_6
"""The CycloneDX version mamori writes."""

ROOT_REF = "mamori:target"
"""The bom-ref of the scanned project (the metadata component)."""


@dataclass(frozen=True, slots=True)
class MergedComponent:
    """Every occurrence of one package (one package URL) in the inventory."""

    ref: str
    ecosystem: str
    name: str
    version: str
    purl: str
    occurrences: tuple[Component, ...]

    @property
    def direct(self) -> bool | None:
        """True if any occurrence is direct, False if all known ones are transitive."""
        known = [c.direct for c in self.occurrences if c.direct is not None]
        if not known:
            return None
        return any(known)

    @property
    def dev(self) -> bool | None:
        """True only when every occurrence that says so is development-only."""
        known = [c.dev for c in self.occurrences if c.dev is not None]
        if not known:
            return None
        return all(known)


def component_purl(ecosystem: str, name: str, version: str, purl: str = "") -> str:
    """The package URL of a component (the given one, or built from ecosystem, name and version)."""
    if purl:
        return purl
    try:
        return purl_for(ecosystem, name, version)
    except ValueError:
        return ""


def merge_components(components: Iterable[Component]) -> list[MergedComponent]:
    """Components merged by package URL, in a stable order (ecosystem, name, version)."""
    groups: dict[str, list[Component]] = {}
    for c in components:
        purl = component_purl(c.ecosystem, c.name, c.version, c.purl)
        ref = purl or f"mamori:{c.ecosystem}/{c.name}@{c.version}"
        groups.setdefault(ref, []).append(c)
    merged = []
    for ref, group in groups.items():
        first = group[0]
        occurrences = tuple(sorted(group, key=lambda c: (c.location.path, c.location.line, c.source)))
        merged.append(
            MergedComponent(
                ref=ref,
                ecosystem=first.ecosystem,
                name=first.name,
                version=first.version,
                purl=ref if not ref.startswith("mamori:") else "",
                occurrences=occurrences,
            )
        )
    merged.sort(key=lambda m: (m.ecosystem, m.name.lower(), m.version, m.ref))
    return merged


def _split_name(ecosystem: str, name: str) -> tuple[str | None, str]:
    eco = base_ecosystem(ecosystem)
    if eco == "Maven" and ":" in name:
        group, artifact = name.split(":", 1)
        return group, artifact
    if eco == "npm" and name.startswith("@") and "/" in name:
        group, pname = name.split("/", 1)
        return group, pname
    return None, name


def cdx_component(m: MergedComponent) -> CdxComponent:
    """The CycloneDX component of a merged inventory component."""
    group, name = _split_name(m.ecosystem, m.name)
    purl: PackageURL | None = None
    if m.purl:
        try:
            purl = PackageURL.from_string(m.purl)
        except ValueError:
            purl = None
    properties = [Property(name="mamori:ecosystem", value=m.ecosystem)]
    if m.direct is not None:
        properties.append(Property(name="mamori:direct", value="true" if m.direct else "false"))
    sources = sorted({c.source for c in m.occurrences if c.source})
    for source in sources:
        properties.append(Property(name="mamori:source", value=source))
    # Explicit bom-refs: the library orders occurrences by bom-ref first, and generated ones
    # would make the order (and so the document) differ from run to run.
    occurrences = [
        Occurrence(
            bom_ref=f"{m.ref}#occurrence-{i:03d}", location=c.location.path, line=c.location.line or None
        )
        for i, c in enumerate((c for c in m.occurrences if c.location.path), start=1)
    ]
    scope = None
    if m.dev is True:
        scope = ComponentScope.EXCLUDED
    elif m.dev is False:
        scope = ComponentScope.REQUIRED
    return CdxComponent(
        name=name,
        group=group,
        version=m.version or None,
        type=ComponentType.LIBRARY,
        purl=purl,
        bom_ref=m.ref,
        scope=scope,
        properties=properties,
        evidence=ComponentEvidence(occurrences=occurrences) if occurrences else None,
    )


def utc_now() -> datetime:
    """Now in UTC, to the second (SBOM timestamps need no more)."""
    return datetime.now(UTC).replace(microsecond=0)


def new_bom(
    project: str,
    components: Sequence[Component],
    *,
    timestamp: datetime | None = None,
    serial: UUID | None = None,
) -> tuple[Bom, dict[str, CdxComponent]]:
    """A BOM with the project as metadata component depending on every inventory component.

    Returns the BOM and its components by bom-ref (to point vulnerabilities at them).
    """
    root = CdxComponent(name=project or "project", type=ComponentType.APPLICATION, bom_ref=ROOT_REF)
    metadata = BomMetaData(timestamp=timestamp or utc_now(), component=root)
    metadata.tools.components.add(
        CdxComponent(name="mamori", version=mamori.__version__, type=ComponentType.APPLICATION)
    )
    by_ref: dict[str, CdxComponent] = {}
    for m in merge_components(components):
        by_ref[m.ref] = cdx_component(m)
    bom = Bom(components=by_ref.values(), serial_number=serial, metadata=metadata)
    bom.register_dependency(root, by_ref.values())
    return bom, by_ref


def bom_json(bom: Bom) -> str:
    """The BOM as CycloneDX 1.6 JSON text (indented, a final newline)."""
    return make_outputter(bom, OutputFormat.JSON, SCHEMA_VERSION).output_as_string(indent=2) + "\n"
