"""pom.xml (literal and property versions) and gradle.lockfile."""

from __future__ import annotations

from pathlib import Path

from mamori.inventory._others import PARSERS
from mamori.inventory.interface import Component, ParseResult

FIXTURES = Path(__file__).resolve().parent / "fixtures"


def parse_file(path: Path, rel: str, parser: str) -> ParseResult:
    matching = [p for p in PARSERS if p.matches(path)]
    assert [p.name for p in matching] == [parser]
    return matching[0].parse(path, rel)


def by_name(result: ParseResult) -> dict[str, Component]:
    return {c.name: c for c in result.components}


def test_pom_resolves_properties_and_managed_versions() -> None:
    rel = "maven/properties/pom.xml"
    result = parse_file(FIXTURES / rel, rel, "pom")
    assert result.errors == ()
    found = by_name(result)
    assert len(found) == len(result.components)
    assert {(c.name, c.version) for c in result.components} == {
        ("org.apache.logging.log4j:log4j-core", "2.14.1"),  # ${log4j2.version}
        ("com.fasterxml.jackson.core:jackson-databind", "2.13.0"),  # managed, property of property
        ("org.springframework.boot:spring-boot-starter-web", ""),  # from the parent: unknown here
        ("com.acme:billing-api", "3.2.0"),  # ${project.version}
        ("org.yaml:snakeyaml", ""),  # undefined property: no version, no error
        ("commons-collections:commons-collections", ""),  # a range
        ("junit:junit", "4.12"),
    }
    assert found["junit:junit"].dev is True
    assert found["org.apache.logging.log4j:log4j-core"].dev is False
    assert found["org.apache.logging.log4j:log4j-core"].direct is True
    assert found["org.apache.logging.log4j:log4j-core"].purl == (
        "pkg:maven/org.apache.logging.log4j/log4j-core@2.14.1"
    )
    lines = (FIXTURES / rel).read_text().splitlines()
    for comp in result.components:
        assert lines[comp.location.line - 1].strip() == "<dependency>"
        artifact = comp.name.split(":")[1]
        assert f"<artifactId>{artifact}</artifactId>" in lines[comp.location.line + 1]


def test_pom_dependency_management_only_entry_is_not_marked_direct(tmp_path: Path) -> None:
    pom = tmp_path / "pom.xml"
    pom.write_text(
        "<project><dependencyManagement><dependencies>\n<dependency><groupId>io.netty</groupId>"
        "<artifactId>netty-codec</artifactId><version>4.1.68.Final</version></dependency>\n"
        "</dependencies></dependencyManagement></project>"
    )
    result = parse_file(pom, "pom.xml", "pom")
    assert [(c.name, c.version, c.direct, c.location.line) for c in result.components] == [
        ("io.netty:netty-codec", "4.1.68.Final", None, 2)
    ]


def test_pom_malformed_xml_reports_line(tmp_path: Path) -> None:
    pom = tmp_path / "pom.xml"
    pom.write_text("<project>\n  <dependencies>\n    <dependency>\n  </dependencies>\n</project>\n")
    result = parse_file(pom, "svc/pom.xml", "pom")
    assert result.components == ()
    assert (result.errors[0].path, result.errors[0].line) == ("svc/pom.xml", 4)


def test_gradle_lockfile_configurations_decide_dev() -> None:
    rel = "gradle/app/gradle.lockfile"
    result = parse_file(FIXTURES / rel, rel, "gradle-lockfile")
    assert result.errors == ()
    found = by_name(result)
    assert {(c.name, c.version) for c in result.components} == {
        ("com.fasterxml.jackson.core:jackson-databind", "2.9.10.1"),
        ("com.google.guava:guava", "31.1-jre"),
        ("junit:junit", "4.13.2"),
        ("org.hamcrest:hamcrest-core", "1.3"),
        ("org.mockito:mockito-core", "4.8.0"),
    }
    assert found["com.fasterxml.jackson.core:jackson-databind"].dev is False  # also runtime
    assert found["junit:junit"].dev is True
    assert found["org.mockito:mockito-core"].dev is True  # androidTest…
    lines = (FIXTURES / rel).read_text().splitlines()
    for comp in result.components:
        assert lines[comp.location.line - 1].startswith(f"{comp.name}:{comp.version}=")


def test_gradle_6_per_configuration_lockfile() -> None:
    rel = "gradle/per-configuration/gradle/dependency-locks/testRuntimeClasspath.lockfile"
    result = parse_file(FIXTURES / rel, rel, "gradle-lockfile")
    assert [(c.name, c.version, c.dev) for c in result.components] == [
        ("junit:junit", "4.12", True),
        ("org.hamcrest:hamcrest-core", "1.3", True),
    ]


def test_gradle_bad_line_is_an_error(tmp_path: Path) -> None:
    lock = tmp_path / "gradle.lockfile"
    lock.write_text("# header\njunit:junit=testCompileClasspath\nog:a:1.0=runtimeClasspath\n")
    result = parse_file(lock, "gradle.lockfile", "gradle-lockfile")
    assert [c.name for c in result.components] == ["og:a"]
    assert [(e.path, e.line) for e in result.errors] == [("gradle.lockfile", 2)]
