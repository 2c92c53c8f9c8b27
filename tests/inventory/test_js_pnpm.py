"""pnpm-lock.yaml in its v5, v6 and v9 layouts."""

from __future__ import annotations

from pathlib import Path

import pytest

from mamori.inventory._javascript import PARSERS, _pnpm_key
from mamori.inventory.interface import Component, ParseResult

FIXTURES = Path(__file__).resolve().parent / "fixtures" / "pnpm"


def parse(rel: str) -> ParseResult:
    path = FIXTURES / rel
    matching = [p for p in PARSERS if p.matches(path)]
    assert [p.name for p in matching] == ["pnpm-lock"]
    return matching[0].parse(path, rel)


def comps(rel: str) -> dict[str, Component]:
    result = parse(rel)
    assert result.errors == ()
    out = {c.name: c for c in result.components}
    assert len(out) == len(result.components), "one component per name@version (peer variants merged)"
    return out


def key_line(rel: str, comp: Component) -> str:
    return (FIXTURES / rel).read_text().splitlines()[comp.location.line - 1].strip()


def test_v5_slash_keys_peer_suffixes_and_dev_flags() -> None:
    rel = "v5/pnpm-lock.yaml"
    found = comps(rel)
    assert {(c.name, c.version) for c in found.values()} == {
        ("@types/prop-types", "15.7.5"),
        ("@types/react", "18.0.28"),
        ("js-tokens", "4.0.0"),
        ("loose-envify", "1.4.0"),
        ("react-dom", "18.2.0"),
        ("react", "18.2.0"),
        ("scheduler", "0.23.0"),
        ("string-width", "4.2.3"),
    }
    assert found["@types/react"].dev is True and found["@types/react"].direct is True
    assert found["react-dom"].direct is True and found["react-dom"].dev is False
    assert found["string-width"].direct is True  # the alias string-width-cjs
    assert found["scheduler"].direct is False
    assert key_line(rel, found["react-dom"]) == "/react-dom/18.2.0_react@18.2.0:"


def test_v5_skips_non_registry_tarballs() -> None:
    assert "private-lib" not in comps("v5/pnpm-lock.yaml")


def test_v6_at_keys_and_peer_variants_deduplicated() -> None:
    rel = "v6/pnpm-lock.yaml"
    found = comps(rel)
    assert set(found) == {"express", "qs", "vitest", "@vitest/utils"}
    assert found["vitest"].version == "0.34.6" and found["vitest"].dev is True
    assert found["vitest"].direct is True
    assert found["express"].direct is True and found["qs"].direct is False
    assert key_line(rel, found["@vitest/utils"]) == "/@vitest/utils@0.34.6:"


def test_v9_importers_and_dev_from_the_snapshot_graph() -> None:
    rel = "v9-monorepo/pnpm-lock.yaml"
    found = comps(rel)
    assert found["typescript"].direct is True and found["typescript"].dev is True
    assert found["next"].direct is True and found["next"].dev is False
    assert found["@next/env"].direct is False and found["@next/env"].dev is False
    # js-tokens is reached from eslint (dev) and from react (prod): it ships, so not dev
    assert found["js-tokens"].dev is False
    assert found["eslint"].dev is True
    assert key_line(rel, found["@next/env"]) == "'@next/env@14.1.0':"
    assert "shared" not in found  # workspace link


@pytest.mark.parametrize(
    ("key", "major", "expected"),
    [
        ("/@babel/core/7.20.0", 5, ("@babel/core", "7.20.0")),
        ("/react-dom/18.2.0_react@18.2.0", 5, ("react-dom", "18.2.0")),
        ("/@emotion/react/11.10.0_@types+react@18.0.0", 5, ("@emotion/react", "11.10.0")),
        ("/@babel/core@7.20.0", 6, ("@babel/core", "7.20.0")),
        ("/react-dom@18.2.0(react@18.2.0)", 6, ("react-dom", "18.2.0")),
        ("react-dom@18.2.0(react@18.2.0)", 9, ("react-dom", "18.2.0")),
        ("github.com/acme/lib/4f1c2d3e", 5, None),
        ("/foo@file:../foo", 6, None),
    ],
)
def test_pnpm_keys(key: str, major: int, expected: tuple[str, str] | None) -> None:
    assert _pnpm_key(key, major) == expected


def test_pnpm_lock_that_is_not_a_mapping_is_an_error(tmp_path: Path) -> None:
    lock = tmp_path / "pnpm-lock.yaml"
    lock.write_text("- just\n- a list\n")
    result = PARSERS[2].parse(lock, "pnpm-lock.yaml")
    assert result.components == ()
    assert result.errors[0].path == "pnpm-lock.yaml"
