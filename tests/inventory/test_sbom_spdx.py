"""SPDX 2.3 JSON documents."""

from __future__ import annotations

from pathlib import Path

from mamori.inventory._sbom import PARSERS, SPDX
from mamori.inventory.interface import ParseResult

FIXTURES = Path(__file__).resolve().parent / "fixtures" / "sbom"


def parse(rel: str) -> ParseResult:
    path = FIXTURES / rel
    matching = [p for p in PARSERS if p.matches(path)]
    assert [p.name for p in matching] == ["spdx"]
    return matching[0].parse(path, rel)


def test_purl_packages_with_relationships() -> None:
    rel = "spdx-2.3/app.spdx.json"
    result = parse(rel)
    assert result.errors == ()
    found = {c.name: c for c in result.components}
    assert {(c.ecosystem, c.name, c.version) for c in result.components} == {
        ("PyPI", "requests", "2.25.0"),
        ("PyPI", "urllib3", "1.26.4"),
        ("PyPI", "pytest", "6.2.2"),
    }  # the described root and busybox have no purl
    assert found["requests"].direct is True
    assert found["urllib3"].direct is False
    assert found["pytest"].direct is True and found["pytest"].dev is True
    lines = (FIXTURES / rel).read_text().splitlines()
    for comp in result.components:
        assert lines[comp.location.line - 1].strip() == f'"referenceLocator": "{comp.purl}"'


def test_without_relationships_direct_is_unknown(tmp_path: Path) -> None:
    doc = tmp_path / "x.spdx.json"
    doc.write_text(
        '{"spdxVersion": "SPDX-2.3", "packages": [{"SPDXID": "SPDXRef-a", "name": "a", '
        '"externalRefs": [{"referenceType": "purl", "referenceLocator": "pkg:cargo/a@1.0.0"}]}]}'
    )
    result = SPDX.parse(doc, "x.spdx.json")
    assert [(c.ecosystem, c.name, c.version, c.direct, c.location.line) for c in result.components] == [
        ("crates.io", "a", "1.0.0", None, 1)
    ]


def test_cyclonedx_named_spdx_is_an_error(tmp_path: Path) -> None:
    doc = tmp_path / "x.spdx.json"
    doc.write_text('{"bomFormat": "CycloneDX", "components": []}')
    result = SPDX.parse(doc, "x.spdx.json")
    assert result.components == () and result.errors[0].path == "x.spdx.json"
