"""Reports and inventories for the output tests, built by hand around real OSV advisories.

Dependency findings carry advisories read from the shared PyPA advisory database (real ids,
aliases, fixed versions on several release branches); code findings carry taint traces; the
reports also hold errors and findings closed by VEX, so every branch of every renderer runs.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path

import pytest
import yaml

from mamori.ecosystems import purl_for
from mamori.inventory.interface import Component, Inventory
from mamori.model import (
    AdvisoryRef,
    DatabaseInfo,
    Finding,
    Location,
    Package,
    Priority,
    Report,
    ScanError,
    TraceStep,
    sort_findings,
)

HERE = Path(__file__).resolve().parent
SHARED_DATA = HERE.parents[1] / ".." / "shared" / "data"
ADVISORIES = SHARED_DATA / "pypa-advisory-db" / "vulns"
GOLDEN = HERE / "golden"


def load_osv(package: str, advisory_id: str) -> AdvisoryRef:
    """An advisory of the shared PyPA database as findings carry it (ECOSYSTEM fixes only)."""
    path = ADVISORIES / package / f"{advisory_id}.yaml"
    if not path.is_file():
        pytest.skip(f"shared advisory data not available: {path}")
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    fixed = [
        event["fixed"]
        for affected in data.get("affected", [])
        for rng in affected.get("ranges", [])
        if rng.get("type") == "ECOSYSTEM"
        for event in rng.get("events", [])
        if "fixed" in event
    ]
    return AdvisoryRef(
        id=data["id"],
        aliases=tuple(data.get("aliases", [])),
        fixed=tuple(fixed),
        summary=data.get("summary", "") or data.get("details", "").split(". ")[0],
        published=str(data.get("published", "")),
        modified=str(data.get("modified", "")),
        references=tuple(r["url"] for r in data.get("references", [])),
    )


def dep_finding(
    eco: str,
    name: str,
    version: str,
    advisory: AdvisoryRef,
    severity: str,
    path: str,
    line: int,
    **kwargs: object,
) -> Finding:
    """A dependency finding for ``name==version`` declared at ``path:line``."""
    return Finding(
        kind="dependency",
        rule_id=advisory.id,
        title=advisory.summary,
        severity=severity,  # type: ignore[arg-type]
        location=Location(path, line),
        package=Package(eco, name, version, purl_for(eco, name, version)),
        advisory=advisory,
        **kwargs,  # type: ignore[arg-type]
    )


@pytest.fixture
def full_report() -> Report:
    """Dependency findings (two advisories on one package), code findings with traces, errors."""
    jinja_sandbox = load_osv("jinja2", "PYSEC-2019-217")
    jinja_redos = load_osv("jinja2", "PYSEC-2021-66")
    django_traversal = load_osv("django", "PYSEC-2021-98")
    findings = [
        dep_finding(
            "PyPI",
            "jinja2",
            "2.10",
            jinja_sandbox,
            "high",
            "requirements.txt",
            3,
            cwe=("CWE-693",),
            priority=Priority("act", 0.91, ("reachable: app.py imports jinja2", "EPSS 0.42")),
        ),
        dep_finding(
            "PyPI",
            "jinja2",
            "2.10",
            AdvisoryRef(
                id=jinja_redos.id,
                aliases=jinja_redos.aliases,
                fixed=jinja_redos.fixed,
                summary="ReDoS in [urlize] filter",
                cvss=("CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:N/I:N/A:L",),
            ),
            "medium",
            "requirements.txt",
            3,
            cwe=("CWE-400",),
            priority=Priority("track", 0.12, ()),
        ),
        dep_finding(
            "PyPI",
            "django",
            "3.1.5",
            django_traversal,
            "unknown",
            "requirements.txt",
            1,
            cwe=("CWE-22",),
            status="not_affected",
            justification="vulnerable_code_not_in_execute_path: admindocs is not installed",
        ),
        Finding(
            kind="code",
            rule_id="MAM-PY-SQLI",
            title="SQL injection: request data reaches cursor.execute",
            severity="critical",
            location=Location("app/views.py", 42, 9),
            cwe=("CWE-89",),
            trace=(
                TraceStep("app/views.py", 30, "request.args['q'] (source)", 12),
                TraceStep("app/views.py", 35, "query = 'SELECT ... ' + q"),
                TraceStep("app/views.py", 42, "cursor.execute(query) (sink)", 9),
            ),
            priority=Priority("act", 0.88, ("source is an HTTP parameter",)),
            fingerprint_basis="cursor.execute(query)",
            description="Use parameterised queries.",
        ),
        Finding(
            kind="code",
            rule_id="MAM-PY-WEAKHASH",
            title="Weak hash: md5",
            severity="low",
            location=Location("app/auth.py", 0),
            cwe=("CWE-328",),
            confidence="medium",
            fingerprint_basis="hashlib.md5(password)",
        ),
    ]
    return Report(
        findings=sort_findings(findings),
        errors=(
            ScanError("poetry.lock", "invalid TOML: expected '=' after a key", 17),
            ScanError("vendor/broken.py", "cannot decode as UTF-8"),
        ),
        database=DatabaseInfo("2024-10-10T00:00:00Z", ("osv:PyPI", "kev", "epss")),
        target=".",
        components=4,
    )


@pytest.fixture
def inventory() -> Inventory:
    """An inventory with a package found in two files, a dev dependency, npm and Maven names."""
    return Inventory(
        components=(
            Component(
                "PyPI", "jinja2", "2.10", Location("requirements.txt", 3), direct=True, source="requirements"
            ),
            Component(
                "PyPI", "django", "3.1.5", Location("requirements.txt", 1), direct=True, source="requirements"
            ),
            Component(
                "PyPI", "jinja2", "2.10", Location("poetry.lock", 40), direct=True, source="poetry-lock"
            ),
            Component(
                "PyPI", "markupsafe", "1.1.1", Location("poetry.lock", 80), direct=False, source="poetry-lock"
            ),
            Component(
                "PyPI",
                "pytest",
                "8.0.0",
                Location("poetry.lock", 99),
                direct=True,
                dev=True,
                source="poetry-lock",
            ),
            Component(
                "npm",
                "@babel/core",
                "7.24.0",
                Location("web/package-lock.json", 12),
                direct=False,
                source="package-lock",
            ),
            Component(
                "Maven",
                "org.apache.logging.log4j:log4j-core",
                "2.14.1",
                Location("pom.xml", 20),
                direct=True,
                source="pom",
            ),
            Component("PyPI", "requests", "", Location("setup.cfg", 8), direct=True, source="setup-cfg"),
        ),
        files=("requirements.txt", "poetry.lock", "web/package-lock.json", "pom.xml", "setup.cfg"),
        root=Path("."),
    )


def check_golden(name: str, actual: str) -> None:
    """Compare with ``golden/<name>``; ``MAMORI_UPDATE_GOLDEN=1`` rewrites it instead."""
    path = GOLDEN / name
    if os.environ.get("MAMORI_UPDATE_GOLDEN") == "1" or not path.exists():
        if os.environ.get("MAMORI_UPDATE_GOLDEN") != "1":
            pytest.fail(f"golden file {path.name} is missing; run with MAMORI_UPDATE_GOLDEN=1 to create it")
        path.write_text(actual, encoding="utf-8")
        return
    assert actual == path.read_text(encoding="utf-8"), f"output differs from golden/{name}"


@pytest.fixture
def golden() -> Callable[[str, str], None]:
    """:func:`check_golden`, as a fixture (test modules do not import conftest)."""
    return check_golden


@pytest.fixture
def osv() -> Callable[[str, str], AdvisoryRef]:
    """:func:`load_osv`, as a fixture."""
    return load_osv


@pytest.fixture
def make_dep() -> Callable[..., Finding]:
    """:func:`dep_finding`, as a fixture."""
    return dep_finding
