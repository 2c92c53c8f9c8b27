"""Hostile lockfiles: alias bombs, absurd nesting, entity expansion, garbage bytes.

Each hostile file is generated here in ``tmp_path``. A parser must turn it into an error that
names the file, quickly and in little memory; the memory bound is asserted with tracemalloc
(an alias bomb expanded would need gigabytes), and a hang would stop the suite.
"""

from __future__ import annotations

import json
import tracemalloc
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from mamori.inventory import _javascript, _others, _sbom
from mamori.inventory._common import dedupe
from mamori.inventory._safe import MAX_DEPTH, loads_json, loads_yaml, max_bracket_depth
from mamori.inventory.interface import Component, Parser, ParseResult
from mamori.model import Location

ALL_PARSERS: list[Parser] = [*_javascript.PARSERS, *_others.PARSERS, *_sbom.PARSERS]
MEMORY_LIMIT = 64 * 1024 * 1024


def parse(path: Path) -> ParseResult:
    (parser,) = [p for p in ALL_PARSERS if p.matches(path)]
    return parser.parse(path, path.name)


def bounded(run: Callable[[], ParseResult]) -> ParseResult:
    """Run a parse and assert its peak Python memory stays far below an expansion's."""
    tracemalloc.start()
    try:
        result = run()
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert peak < MEMORY_LIMIT, f"peak memory {peak} bytes"
    return result


def billion_laughs_yaml(levels: int = 9) -> str:
    lines = ['a0: &a0 ["lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol"]']
    for i in range(1, levels):
        refs = ", ".join([f"*a{i - 1}"] * 9)
        lines.append(f"a{i}: &a{i} [{refs}]")
    return "lockfileVersion: '6.0'\n" + "\n".join(lines) + f"\npackages:\n  /x@1.0.0: *a{levels - 1}\n"


@pytest.mark.parametrize("name", ["pnpm-lock.yaml", "yarn.lock"])
def test_yaml_alias_bomb_is_refused_not_expanded(tmp_path: Path, name: str) -> None:
    text = billion_laughs_yaml()
    if name == "yarn.lock":
        text = "__metadata:\n  version: 6\n" + text
    path = tmp_path / name
    path.write_text(text)
    result = bounded(lambda: parse(path))
    assert result.components == ()
    (error,) = result.errors
    assert error.path == name
    assert "alias" in error.message.lower()
    assert error.line > 0


def test_merge_keys_are_aliases_too() -> None:
    with pytest.raises(Exception, match="alias"):
        loads_yaml("base: &b {dev: true}\npackages:\n  /a@1.0.0:\n    <<: *b\n", "pnpm-lock.yaml")


@pytest.mark.parametrize(
    "name",
    [
        "package-lock.json",
        "npm-shrinkwrap.json",
        "composer.lock",
        "packages.lock.json",
        "bom.json",
        "a.spdx.json",
    ],
)
def test_json_nested_100000_deep_is_rejected(tmp_path: Path, name: str) -> None:
    depth = 100_000
    path = tmp_path / name
    path.write_text('{"packages": ' + "[" * depth + "]" * depth + "}")
    result = bounded(lambda: parse(path))
    assert result.components == ()
    (error,) = result.errors
    assert error.path == name and "deep" in error.message


def test_yaml_nested_100000_deep_is_rejected(tmp_path: Path) -> None:
    path = tmp_path / "pnpm-lock.yaml"
    path.write_text("packages: " + "[" * 100_000 + "]" * 100_000 + "\n")
    result = bounded(lambda: parse(path))
    assert result.components == ()
    assert "deep" in result.errors[0].message


def test_deep_nesting_inside_strings_is_harmless() -> None:
    text = json.dumps({"packages": {"": {"description": "[" * 5000 + "{" * 5000}}})
    assert max_bracket_depth(text) == 3
    assert loads_json(text, "package-lock.json")["packages"][""]["description"].startswith("[[[")


XML_BOMB = """<?xml version="1.0"?>
<!DOCTYPE lolz [
 <!ENTITY lol "lol">
 <!ENTITY lol1 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">
 <!ENTITY lol2 "&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;">
 <!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;">
 <!ENTITY lol4 "&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;">
 <!ENTITY lol5 "&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;">
 <!ENTITY lol6 "&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;">
 <!ENTITY lol7 "&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;">
 <!ENTITY lol8 "&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;">
 <!ENTITY lol9 "&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;">
]>
<project><dependencies><dependency><groupId>&lol9;</groupId><artifactId>a</artifactId>
<version>1</version></dependency></dependencies></project>
"""

XXE = """<?xml version="1.0"?>
<!DOCTYPE project [<!ENTITY secret SYSTEM "file:///etc/passwd">]>
<project><dependencies><dependency><groupId>&secret;</groupId><artifactId>a</artifactId>
<version>1</version></dependency></dependencies></project>
"""


@pytest.mark.parametrize("text", [XML_BOMB, XXE], ids=["billion-laughs", "external-entity"])
def test_pom_with_doctype_is_refused(tmp_path: Path, text: str) -> None:
    path = tmp_path / "pom.xml"
    path.write_text(text)
    result = bounded(lambda: parse(path))
    assert result.components == ()
    (error,) = result.errors
    assert "DOCTYPE" in error.message and error.line == 2


@pytest.mark.parametrize(
    "name",
    [
        "package-lock.json",
        "yarn.lock",
        "pnpm-lock.yaml",
        "go.mod",
        "Cargo.lock",
        "Gemfile.lock",
        "composer.lock",
        "pom.xml",
        "gradle.lockfile",
        "packages.lock.json",
        "bom.json",
        "a.spdx.json",
    ],
)
def test_binary_garbage_is_an_error_not_a_crash(tmp_path: Path, name: str) -> None:
    path = tmp_path / name
    path.write_bytes(b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\xff\xfe\xfa")
    result = parse(path)
    assert result.components == ()
    assert result.errors and result.errors[0].path == name


@given(
    st.recursive(
        st.integers() | st.text(alphabet='[]{}"\\ab', max_size=5),
        lambda kids: st.lists(kids, max_size=3) | st.dictionaries(st.text(max_size=3), kids, max_size=3),
        max_leaves=20,
    )
)
def test_bracket_depth_equals_json_nesting(value: object) -> None:
    def depth(v: object) -> int:
        if isinstance(v, list):
            return 1 + max((depth(x) for x in v), default=0)
        if isinstance(v, dict):
            return 1 + max((depth(x) for x in v.values()), default=0)
        return 0

    assert max_bracket_depth(json.dumps(value)) == depth(value)
    assert depth(value) <= MAX_DEPTH


_COMPONENTS = st.lists(
    st.builds(
        lambda name, version, direct, dev, line: Component(
            "npm", name, version, Location("x", line), "", direct, dev
        ),
        st.sampled_from(["a", "b", "c"]),
        st.sampled_from(["1.0.0", "2.0.0"]),
        st.sampled_from([True, False, None]),
        st.sampled_from([True, False, None]),
        st.integers(1, 50),
    ),
    max_size=12,
)


@given(_COMPONENTS)
def test_dedupe_keeps_one_per_identity_and_is_idempotent(components: list[Component]) -> None:
    once = dedupe(components)
    assert len({(c.name, c.version) for c in once}) == len(once)
    assert {(c.name, c.version) for c in once} == {(c.name, c.version) for c in components}
    assert dedupe(once) == once
    for comp in once:
        copies = [c for c in components if (c.name, c.version) == (comp.name, comp.version)]
        assert comp.location == copies[0].location
        if any(c.direct for c in copies):
            assert comp.direct is True
        if any(c.dev is False for c in copies):
            assert comp.dev is False


def test_one_bad_file_never_hides_the_rest(tmp_path: Path) -> None:
    from mamori.inventory.registry import collect

    (tmp_path / "web").mkdir()
    (tmp_path / "web" / "package-lock.json").write_text('{"lockfileVersion": 3, "packages": {')
    (tmp_path / "svc").mkdir()
    (tmp_path / "svc" / "go.mod").write_text("module svc\n\nrequire github.com/gin-gonic/gin v1.9.0\n")
    (tmp_path / "deploy").mkdir()
    (tmp_path / "deploy" / "pnpm-lock.yaml").write_text(billion_laughs_yaml())
    inventory = bounded_collect(lambda: collect(tmp_path))
    assert [(c.name, c.location.path, c.location.line) for c in inventory.components] == [
        ("github.com/gin-gonic/gin", "svc/go.mod", 3)
    ]
    assert sorted(e.path for e in inventory.errors) == ["deploy/pnpm-lock.yaml", "web/package-lock.json"]


def bounded_collect(run: Callable[[], object]) -> Any:
    tracemalloc.start()
    try:
        result = run()
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert peak < MEMORY_LIMIT
    return result
