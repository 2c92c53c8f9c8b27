"""CycloneDX 1.4–1.6 JSON SBOMs."""

from __future__ import annotations

import json
import time
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from mamori.ecosystems import from_purl, purl_for
from mamori.inventory._sbom import CYCLONEDX, PARSERS, SPDX, _component, sniff
from mamori.inventory.interface import Component, ParseResult

FIXTURES = Path(__file__).resolve().parent / "fixtures" / "sbom"


def parse(rel: str) -> ParseResult:
    path = FIXTURES / rel
    matching = [p for p in PARSERS if p.matches(path)]
    assert [p.name for p in matching] == ["cyclonedx"]
    return matching[0].parse(path, rel)


def by_name(result: ParseResult) -> dict[str, Component]:
    return {c.name: c for c in result.components}


def test_1_4_components_with_known_purls_only() -> None:
    rel = "cyclonedx-1.4/bom.json"
    result = parse(rel)
    assert result.errors == ()
    assert [(c.ecosystem, c.name, c.version) for c in result.components] == [
        ("npm", "lodash", "4.17.20"),
        ("npm", "@babel/traverse", "7.22.5"),
        ("PyPI", "jinja2", "2.10"),
    ]  # the file component and pkg:generic are skipped quietly
    found = by_name(result)
    assert found["lodash"].direct is True and found["jinja2"].direct is False
    assert found["@babel/traverse"].dev is True  # scope: excluded
    assert found["jinja2"].purl == "pkg:pypi/jinja2@2.10"
    assert all(c.source == "cyclonedx" for c in result.components)
    lines = (FIXTURES / rel).read_text().splitlines()
    for comp in result.components:
        assert lines[comp.location.line - 1].strip().startswith('"purl": ')


def test_1_5_nested_components_and_distribution_purls() -> None:
    result = parse("cyclonedx-1.5-nested/app.cdx.json")
    found = by_name(result)
    assert found["org.apache.logging.log4j:log4j-core"].version == "2.14.1"
    assert found["org.apache.logging.log4j:log4j-core"].direct is False
    assert found["org.springframework.boot:spring-boot"].direct is True
    assert found["github.com/gin-gonic/gin"].ecosystem == "Go"
    assert found["openssl"].ecosystem == "Debian"
    assert "distro=debian-11" in found["openssl"].purl
    assert found["rack"].version == "2.2.3"  # purl without version: the version field fills in
    assert found["rack"].purl == "pkg:gem/rack@2.2.3"


def test_1_6_duplicates_are_listed_once() -> None:
    result = parse("cyclonedx-1.6/service.cyclonedx.json")
    assert sorted((c.ecosystem, c.name, c.version, c.direct) for c in result.components) == [
        ("NuGet", "newtonsoft.json", "12.0.3", None),
        ("Packagist", "laravel/framework", "v9.19.0", None),
        ("crates.io", "serde_json", "1.0.100", None),
    ]


def test_sbom_json_holding_spdx_is_read_as_spdx() -> None:
    result = parse("spdx-named-sbom/sbom.json")
    assert {c.source for c in result.components} == {"spdx"}
    assert {c.name for c in result.components} == {"requests", "urllib3", "pytest"}


def test_names_match_cheaply_and_content_is_sniffed_only_on_request() -> None:
    generic = FIXTURES / "supplier" / "vendor-inventory.json"
    assert not any(p.matches(generic) for p in PARSERS)
    assert sniff(generic) is CYCLONEDX
    assert sniff(FIXTURES / "spdx-2.3" / "app.spdx.json") is SPDX
    assert sniff(FIXTURES / ".." / "npm" / "lock-v2" / "package-lock.json") is None
    result = CYCLONEDX.parse(generic, "vendor-inventory.json")
    assert len(result.components) == 3


@pytest.mark.parametrize("content", ['{"bomFormat": "SPDX"}', "[1, 2]"])
def test_not_cyclonedx_is_an_error(tmp_path: Path, content: str) -> None:
    bom = tmp_path / "bom.json"
    bom.write_text(content)
    result = CYCLONEDX.parse(bom, "bom.json")
    assert result.components == ()
    assert result.errors[0].path == "bom.json"


def test_ten_thousand_components_parse_linearly(tmp_path: Path) -> None:
    count = 10_000
    components = [
        {
            "type": "library",
            "bom-ref": f"c{i}",
            "name": f"pkg-{i}",
            "version": f"1.{i % 97}.{i}",
            "purl": f"pkg:npm/pkg-{i}@1.{i % 97}.{i}",
        }
        for i in range(count)
    ]
    bom = tmp_path / "big.cdx.json"
    bom.write_text(
        json.dumps({"bomFormat": "CycloneDX", "specVersion": "1.5", "components": components}, indent=2)
    )
    started = time.perf_counter()
    result = CYCLONEDX.parse(bom, "big.cdx.json")
    elapsed = time.perf_counter() - started
    print(f"\n10,000-component CycloneDX SBOM parsed in {elapsed:.3f} s")  # reported, not asserted
    assert len(result.components) == count
    lines = bom.read_text().splitlines()
    last = result.components[-1]
    assert f'"pkg:npm/pkg-{count - 1}@' in lines[last.location.line - 1]


_PURLS = st.one_of(
    st.builds(
        lambda eco, name, version: (eco, name, version),
        st.sampled_from(["npm", "crates.io", "RubyGems", "Go", "Maven", "PyPI", "NuGet", "Packagist"]),
        st.from_regex(r"[a-zA-Z][a-zA-Z0-9._-]{0,10}(/[a-z][a-z0-9.-]{0,8})?", fullmatch=True),
        st.from_regex(r"v?[0-9]{1,3}(\.[0-9]{1,3}){0,2}([-+~_][a-zA-Z0-9.]{1,6})?", fullmatch=True),
    )
)


@given(_PURLS)
def test_sbom_purls_come_out_canonical(case: tuple[str, str, str]) -> None:
    """Whatever the spelling of a purl in the SBOM, the component's purl is mamori's canonical one."""
    eco, name, version = case
    if eco == "Maven":
        name = name.replace("/", ":") if "/" in name else f"org.example:{name}"
    written = purl_for(eco, name, version)
    if eco == "Go":
        written = written.replace("%2B", "+")  # written unencoded, as some SBOM tools do
    made = _component(written, "", "bom.json", 1, source="cyclonedx", direct=None, dev=None)
    assert made is not None
    assert made.purl == purl_for(made.ecosystem, made.name, made.version)
    assert from_purl(made.purl) == (made.ecosystem, made.name, made.version)
