"""go.mod: require blocks and lines, indirect markers, replace directives."""

from __future__ import annotations

from pathlib import Path

from mamori.inventory._others import PARSERS
from mamori.inventory.interface import Component, ParseResult

FIXTURES = Path(__file__).resolve().parent / "fixtures" / "go"


def parse_file(path: Path, rel: str) -> ParseResult:
    matching = [p for p in PARSERS if p.matches(path)]
    assert [p.name for p in matching] == ["go-mod"]
    return matching[0].parse(path, rel)


def comps(result: ParseResult) -> dict[str, Component]:
    return {c.name: c for c in result.components}


def test_requires_with_indirect_and_replacements() -> None:
    rel = "replace-indirect/go.mod"
    result = parse_file(FIXTURES / rel, rel)
    assert result.errors == ()
    found = comps(result)
    assert {(c.name, c.version) for c in result.components} == {
        ("github.com/gin-gonic/gin", "v1.9.0"),
        ("github.com/acme/logrus", "v1.8.3-patched"),  # replace without version: any version
        ("golang.org/x/net", "v0.17.0"),  # replace of exactly v0.7.0
        ("golang.org/x/text", "v0.3.7"),
        ("github.com/stretchr/testify", "v1.8.2"),
        ("gopkg.in/yaml.v2", "v2.2.8"),
    }
    assert found["github.com/gin-gonic/gin"].direct is True
    assert found["golang.org/x/net"].direct is False
    assert found["golang.org/x/text"].direct is False  # "// indirect; for collation"
    assert found["gopkg.in/yaml.v2"].direct is False
    assert found["github.com/stretchr/testify"].direct is True
    assert found["gopkg.in/yaml.v2"].purl == "pkg:golang/gopkg.in/yaml.v2@v2.2.8"
    lines = (FIXTURES / rel).read_text().splitlines()
    assert "github.com/sirupsen/logrus" in lines[found["github.com/acme/logrus"].location.line - 1]
    assert lines[found["gopkg.in/yaml.v2"].location.line - 1].startswith("require gopkg.in/yaml.v2")


def test_local_replacement_is_the_projects_own_code() -> None:
    result = parse_file(FIXTURES / "replace-indirect" / "go.mod", "go.mod")
    assert "github.com/acme/shared" not in comps(result)


def test_version_specific_replace_leaves_other_versions(tmp_path: Path) -> None:
    mod = tmp_path / "go.mod"
    mod.write_text(
        "module x\n\ngo 1.20\n\nrequire golang.org/x/net v0.8.0\n\n"
        "replace golang.org/x/net v0.7.0 => golang.org/x/net v0.17.0\n"
    )
    result = parse_file(mod, "go.mod")
    assert [(c.name, c.version, c.location.line) for c in result.components] == [
        ("golang.org/x/net", "v0.8.0", 5)
    ]


def test_malformed_lines_are_errors_and_good_lines_still_count(tmp_path: Path) -> None:
    mod = tmp_path / "go.mod"
    mod.write_text("module x\n\nrequire (\n\tgithub.com/a/b\n\tgithub.com/c/d v1.0.0\n")
    result = parse_file(mod, "svc/go.mod")
    assert [c.name for c in result.components] == ["github.com/c/d"]
    assert [(e.path, e.line) for e in result.errors] == [("svc/go.mod", 4), ("svc/go.mod", 0)]
