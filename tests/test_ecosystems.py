"""Package URLs and names: the fast purl reader agrees with the reference parser."""

from __future__ import annotations

import re

import pytest
from hypothesis import given
from hypothesis import strategies as st

from mamori import ecosystems
from mamori.ecosystems import from_purl, normalize_name, purl_for

NAME = st.from_regex(r"[A-Za-z][A-Za-z0-9._-]{0,20}", fullmatch=True)
VERSION = st.from_regex(r"[0-9]{1,3}(\.[0-9]{1,3}){0,3}([-+][a-z0-9.]{1,8})?", fullmatch=True)
TYPES = st.sampled_from(["pypi", "npm", "cargo", "gem", "nuget", "hex", "pub", "golang", "composer", "maven"])


def _reference(purl: str) -> tuple[str, str, str] | None:
    """from_purl through the full packageurl parser only."""
    saved = ecosystems._SIMPLE_PURL
    ecosystems._SIMPLE_PURL = re.compile(r"(?!x)x")  # never matches
    try:
        return from_purl(purl)
    finally:
        ecosystems._SIMPLE_PURL = saved


@given(TYPES, st.lists(NAME, min_size=1, max_size=3), st.one_of(st.just(""), VERSION))
def test_fast_path_agrees_with_the_reference_parser(ptype: str, parts: list[str], version: str) -> None:
    purl = f"pkg:{ptype}/{'/'.join(parts)}" + (f"@{version}" if version else "")
    try:
        expected = _reference(purl)
    except ValueError:
        return
    assert from_purl(purl) == expected


@pytest.mark.parametrize(
    ("eco", "name", "version"),
    [
        ("PyPI", "Jinja2", "2.10"),
        ("npm", "@babel/core", "7.0.0"),
        ("Maven", "org.apache.logging.log4j:log4j-core", "2.14.1"),
        ("Go", "github.com/gin-gonic/gin", "v1.7.0"),
        ("crates.io", "serde", "1.0.0"),
        ("Packagist", "laravel/framework", "8.0.0"),
        ("NuGet", "Newtonsoft.Json", "12.0.1"),
    ],
)
def test_purl_round_trip(eco: str, name: str, version: str) -> None:
    assert from_purl(purl_for(eco, name, version)) == (eco, normalize_name(eco, name), version)


def test_pep503_names() -> None:
    assert normalize_name("PyPI", "Zope.Interface") == "zope-interface"
    assert normalize_name("PyPI", "typing__extensions") == "typing-extensions"
    assert normalize_name("npm", "React") == "React"


@pytest.mark.parametrize("name", ["a.", "A.b", "a-b", "a_b", "x.y-z"])
def test_pub_names_read_as_the_reference_parser_reads_them(name: str) -> None:
    # packageurl turns every non-alphanumeric character of a pub name into "_"; the fast path
    # once kept "." and "-", so pkg:pub/a. and pkg:pub/a_ were different packages only there.
    for version in ("", "1.0.0"):
        purl = f"pkg:pub/{name}" + (f"@{version}" if version else "")
        assert from_purl(purl) == _reference(purl)
