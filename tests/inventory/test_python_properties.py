"""Property tests: the rules of requirement lines, names and the direct/dev graph hold for any input."""

from __future__ import annotations

import tempfile
from pathlib import Path

from hypothesis import given, settings
from hypothesis import strategies as st

from mamori.ecosystems import normalize_name
from mamori.inventory._py_common import TomlLines, classify, package_lines
from mamori.inventory._py_requirements import logical_lines
from mamori.inventory._python import PARSERS

REQUIREMENTS = next(p for p in PARSERS if p.name == "requirements")

names = st.from_regex(r"[A-Za-z][A-Za-z0-9]{0,6}([-_.][A-Za-z0-9]{1,4}){0,2}", fullmatch=True)
versions = st.lists(st.integers(0, 40), min_size=1, max_size=4).map(lambda p: ".".join(map(str, p)))


@settings(max_examples=60, deadline=None)
@given(st.lists(st.tuples(names, versions, st.booleans()), min_size=1, max_size=8))
def test_pinned_lines_round_trip(entries: list[tuple[str, str, bool]]) -> None:
    """Every ``name==version`` line comes back normalised, with its version and its own line."""
    lines = [f"{name}=={version}" + ("  # pinned" if comment else "") for name, version, comment in entries]
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "requirements.txt"
        path.write_text("\n".join(lines) + "\n")
        result = REQUIREMENTS.parse(path, "requirements.txt")
    assert result.errors == ()
    got = [(c.name, c.version, c.location.line) for c in result.components]
    assert got == [(normalize_name("PyPI", n), v, i) for i, (n, v, _c) in enumerate(entries, start=1)]


@given(st.lists(st.text(alphabet="ab= \\#\n", max_size=12), max_size=8))
def test_logical_lines_start_where_their_text_starts(chunks: list[str]) -> None:
    """Joining continuations never invents text nor reorders lines."""
    text = "".join(chunks)
    physical = text.splitlines()
    previous = 0
    for first, content in logical_lines(text):
        assert first > previous
        previous = first
        assert content and "\n" not in content
        assert physical[first - 1].strip() != ""


@given(names, st.integers(0, 5), st.integers(0, 5))
def test_continuations_do_not_change_the_requirement(name: str, before: int, after: int) -> None:
    """Splitting a requirement over lines with ``\\`` changes its line, never its content."""
    text = "\n" * before + f"{name}\\\n==1.0\\\n ; python_version > '3'\n" + "\n" * after
    assert list(logical_lines(text)) == [(before + 1, f"{name}==1.0 ; python_version > '3'")]


graphs = st.dictionaries(
    st.sampled_from("abcdefgh"), st.lists(st.sampled_from("abcdefgh"), max_size=4), max_size=8
)
roots = st.sets(st.sampled_from("abcdefgh"), max_size=3)


@given(graphs, roots, roots)
def test_classify_rules(graph: dict[str, list[str]], main: set[str], dev: set[str]) -> None:
    result = classify(graph, main, dev)
    assert set(result) >= main | dev
    for name, flags in result.items():
        assert flags.direct is (name in main or name in dev)
        if name in main:
            assert flags.dev is False
        # a dependency of a non-dev package is not dev
        if flags.dev is False:
            for dep in graph.get(name, []):
                assert result[dep].dev is False
    # adding dev roots never makes a package dev that main roots reach
    only_main = classify(graph, main, set())
    for name, flags in only_main.items():
        assert result[name].dev is False and flags.dev is False


@given(st.lists(names, min_size=1, max_size=6), st.lists(st.integers(0, 3), min_size=6, max_size=6))
def test_package_lines_are_exact(pkgs: list[str], gaps: list[int]) -> None:
    """Whatever blank lines and sub-tables sit between entries, each name line is found."""
    parts: list[str] = ["version = 1\n"]
    expected: list[int] = []
    for pkg, gap in zip(pkgs, gaps, strict=False):
        parts.append("\n" * gap + "[[package]]\n")
        expected.append(sum(p.count("\n") for p in parts) + 1)
        parts.append(f'name = "{pkg}"\nversion = "1.0"\n\n[package.dependencies]\nx = "*"\n')
    lines = TomlLines("".join(parts))
    assert package_lines(lines, "package", list(pkgs)) == expected
