"""The bundled demo data is what it claims to be.

``mamori demo`` stands on two bundles: the deliberately vulnerable sample project and the OSV
advisories written for it. These tests check them without mamori's own matcher, so a bug there
cannot hide a bug here: every advisory is well-formed OSV (JSON Schema and semantic checks), the
PyPI records agree with the real PyPA Advisory Database, every vulnerable pin of the sample is
covered (an independent OSV range evaluator below), the sample's own test suite passes in a
subprocess (and still passes after proper fixes, and fails after a broken one), and the access
log is a well-formed combined log with the attacks the detect stage must find.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
import tomllib
from collections.abc import Callable, Iterable
from functools import cache
from pathlib import Path
from typing import Any
from urllib.parse import unquote_plus

import pytest
import yaml
from packaging.version import InvalidVersion, Version

DEMO = Path(__file__).resolve().parents[2] / "src" / "mamori" / "demo"
SAMPLE = DEMO / "sample"
ADVISORIES = DEMO / "advisories"
ADVISORY_FILES = sorted(ADVISORIES.glob("*.json"))

NEGATIVE_CONTROLS = {"PYSEC-2018-49", "PYSEC-2019-220"}
"""Bundled advisories on the sample's packages that affect only older releases."""
SAFE_PINS = {("PyPI", "itsdangerous"), ("PyPI", "click"), ("PyPI", "markupsafe"), ("npm", "dayjs")}
"""Pins of the sample chosen without known advisories."""

# A minimal JSON Schema of the OSV format (https://ossf.github.io/osv-schema/), covering the
# fields the bundled records use; the semantic checks below go further.
OSV_SCHEMA: dict[str, Any] = {
    "$schema": "https://json-schema.org/draft/2020-12/schema",
    "type": "object",
    "required": ["id", "modified"],
    "properties": {
        "schema_version": {"type": "string", "pattern": r"^1\.\d+\.\d+$"},
        "id": {"type": "string", "pattern": r"^[A-Z][A-Za-z0-9]*-[A-Za-z0-9:_.-]+$"},
        "modified": {"type": "string", "pattern": r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?Z$"},
        "published": {"type": "string", "pattern": r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?Z$"},
        "withdrawn": {"type": "string"},
        "aliases": {"type": "array", "items": {"type": "string"}, "uniqueItems": True},
        "related": {"type": "array", "items": {"type": "string"}},
        "summary": {"type": "string", "minLength": 10, "maxLength": 120},
        "details": {"type": "string", "minLength": 40},
        "severity": {
            "type": "array",
            "items": {
                "type": "object",
                "required": ["type", "score"],
                "properties": {
                    "type": {"enum": ["CVSS_V2", "CVSS_V3", "CVSS_V4", "Ubuntu"]},
                    "score": {"type": "string"},
                },
                "additionalProperties": False,
            },
        },
        "affected": {
            "type": "array",
            "minItems": 1,
            "items": {
                "type": "object",
                "required": ["package"],
                "properties": {
                    "package": {
                        "type": "object",
                        "required": ["ecosystem", "name"],
                        "properties": {
                            "ecosystem": {"type": "string", "minLength": 1},
                            "name": {"type": "string", "minLength": 1},
                            "purl": {"type": "string", "pattern": "^pkg:"},
                        },
                    },
                    "ranges": {
                        "type": "array",
                        "items": {
                            "type": "object",
                            "required": ["type", "events"],
                            "properties": {
                                "type": {"enum": ["GIT", "SEMVER", "ECOSYSTEM"]},
                                "repo": {"type": "string"},
                                "events": {
                                    "type": "array",
                                    "minItems": 1,
                                    "items": {
                                        "type": "object",
                                        "minProperties": 1,
                                        "maxProperties": 1,
                                        "properties": {
                                            "introduced": {"type": "string"},
                                            "fixed": {"type": "string"},
                                            "last_affected": {"type": "string"},
                                            "limit": {"type": "string"},
                                        },
                                        "additionalProperties": False,
                                    },
                                },
                            },
                        },
                    },
                    "versions": {"type": "array", "items": {"type": "string"}},
                    "ecosystem_specific": {"type": "object"},
                    "database_specific": {"type": "object"},
                },
            },
        },
        "references": {
            "type": "array",
            "items": {
                "type": "object",
                "required": ["type", "url"],
                "properties": {
                    "type": {
                        "enum": [
                            "ADVISORY",
                            "ARTICLE",
                            "DETECTION",
                            "DISCUSSION",
                            "REPORT",
                            "FIX",
                            "INTRODUCED",
                            "GIT",
                            "PACKAGE",
                            "EVIDENCE",
                            "WEB",
                        ]
                    },
                    "url": {"type": "string", "pattern": "^https?://"},
                },
            },
        },
        "database_specific": {"type": "object"},
    },
}

_CVSS3_METRICS = {
    "AV": "NALP",
    "AC": "LH",
    "PR": "NLH",
    "UI": "NR",
    "S": "UC",
    "C": "NLH",
    "I": "NLH",
    "A": "NLH",
}


# -- an independent OSV range evaluator (not mamori's) ---------------------------------------


def _npm_key(version: str) -> tuple[int, int, int]:
    m = re.fullmatch(r"(\d+)\.(\d+)\.(\d+)", version)
    if m is None:
        raise ValueError(f"not a plain semver release: {version!r}")
    return int(m[1]), int(m[2]), int(m[3])


def _version_key(ecosystem: str) -> Callable[[str], Any]:
    if ecosystem == "PyPI":
        return Version
    if ecosystem == "npm":
        return _npm_key
    raise AssertionError(f"no version order for {ecosystem} in this test")


def _in_range(ecosystem: str, version: str, events: list[dict[str, str]]) -> bool:
    """OSV range semantics: walk the events in version order; introduced opens, fixed closes."""
    key = _version_key(ecosystem)
    target = key(version)

    def order(event: dict[str, str]) -> tuple[int, Any]:
        (value,) = event.values()
        return (0, None) if value == "0" else (1, key(value))

    affected = False
    for event in sorted(events, key=order):
        (kind, value), *_ = event.items()
        if kind == "introduced" and (value == "0" or target >= key(value)):
            affected = True
        elif (kind == "fixed" and target >= key(value)) or (kind == "last_affected" and target > key(value)):
            affected = False
    return affected


def _affects(record: dict[str, Any], ecosystem: str, name: str, version: str) -> bool:
    for aff in record["affected"]:
        pkg = aff["package"]
        if pkg["ecosystem"] != ecosystem or _norm(ecosystem, pkg["name"]) != _norm(ecosystem, name):
            continue
        if version in aff.get("versions", []):
            return True
        for rng in aff.get("ranges", []):
            if rng["type"] == "ECOSYSTEM" and _in_range(ecosystem, version, rng["events"]):
                return True
    return False


def _norm(ecosystem: str, name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower() if ecosystem == "PyPI" else name


# -- the sample's pins, read with small real parsers ------------------------------------------


def _requirements_pins(path: Path) -> dict[str, str]:
    """``name==version`` pins of a requirements file (continuations, comments, options)."""
    pins: dict[str, str] = {}
    logical = ""
    for raw in path.read_text(encoding="utf-8").splitlines():
        line = raw.split(" #", 1)[0].rstrip() if not raw.lstrip().startswith("#") else ""
        if line.endswith("\\"):
            logical += line[:-1] + " "
            continue
        logical += line
        text, logical = logical.strip(), ""
        if not text or text.startswith("-"):
            continue
        m = re.match(r"^([A-Za-z0-9][A-Za-z0-9._-]*)\s*==\s*([^\s;]+)", text)
        assert m, f"{path.name}: not a pin: {text!r}"
        pins[_norm("PyPI", m[1])] = m[2]
    return pins


def _lock_pins(path: Path) -> dict[str, tuple[str, bool]]:
    lock = json.loads(path.read_text(encoding="utf-8"))
    return {
        key.rsplit("node_modules/", 1)[1]: (entry["version"], bool(entry.get("dev")))
        for key, entry in lock["packages"].items()
        if key
    }


@cache
def _records() -> dict[str, dict[str, Any]]:
    return {p.stem: json.loads(p.read_text(encoding="utf-8")) for p in ADVISORY_FILES}


def _sample_pins() -> list[tuple[str, str, str]]:
    pins = [("PyPI", n, v) for n, v in _requirements_pins(SAMPLE / "requirements.txt").items()]
    pins += [("npm", n, v) for n, (v, _) in _lock_pins(SAMPLE / "frontend" / "package-lock.json").items()]
    return pins


# -- advisories --------------------------------------------------------------------------------


def test_there_is_a_bundle_for_each_ecosystem_of_the_sample() -> None:
    ecosystems = {a["package"]["ecosystem"] for r in _records().values() for a in r["affected"]}
    assert ecosystems == {"PyPI", "npm"}
    assert len(ADVISORY_FILES) >= 15


@pytest.mark.parametrize("path", ADVISORY_FILES, ids=lambda p: p.stem)
def test_advisory_is_valid_osv(path: Path) -> None:
    record = json.loads(path.read_text(encoding="utf-8"))
    jsonschema = pytest.importorskip("jsonschema")
    jsonschema.validate(record, OSV_SCHEMA)

    assert record["id"] == path.stem
    assert record["schema_version"] == "1.6.0"
    assert record["id"] not in record["aliases"]
    assert any(re.fullmatch(r"CVE-\d{4}-\d{4,}", a) for a in record["aliases"]), "every one has a CVE"
    for alias in record["aliases"]:
        assert re.fullmatch(r"(CVE-\d{4}-\d{4,}|GHSA(-[23456789cfghjmpqrvwx]{4}){3}|SNYK-[A-Z0-9-]+)", alias)
    if record["id"].startswith("GHSA-"):
        assert re.fullmatch(r"GHSA(-[23456789cfghjmpqrvwx]{4}){3}", record["id"])
    if "published" in record:
        assert record["published"] <= record["modified"]

    for severity in record.get("severity", []):
        assert severity["type"] == "CVSS_V3"
        version, *metrics = severity["score"].split("/")
        assert version in ("CVSS:3.0", "CVSS:3.1")
        parsed = dict(m.split(":", 1) for m in metrics)
        assert list(parsed) == list(_CVSS3_METRICS), severity["score"]
        for metric, allowed in _CVSS3_METRICS.items():
            assert parsed[metric] in allowed, severity["score"]

    extra = record["database_specific"]
    assert extra["cwe_ids"] and all(re.fullmatch(r"CWE-\d+", c) for c in extra["cwe_ids"])
    assert extra.get("severity", "LOW") in ("LOW", "MODERATE", "HIGH", "CRITICAL")
    assert any(ref["type"] == "ADVISORY" for ref in record["references"])

    for aff in record["affected"]:
        eco = aff["package"]["ecosystem"]
        key = _version_key(eco)
        assert aff["package"]["purl"] == f"pkg:{eco.lower()}/{_norm(eco, aff['package']['name'])}"
        assert any(r["type"] == "ECOSYSTEM" for r in aff["ranges"])
        for rng in aff["ranges"]:
            kinds = [next(iter(e)) for e in rng["events"]]
            assert kinds[0] == "introduced", "a range starts with introduced"
            if rng["type"] == "GIT":
                assert rng["repo"].startswith("https://github.com/")
                continue
            # every opened interval is closed before the next opens, in increasing order
            values = [next(iter(e.values())) for e in rng["events"]]
            pairs = list(zip(kinds, values, strict=True))
            for (k1, v1), (k2, v2) in zip(pairs[::2], pairs[1::2], strict=False):
                assert (k1, k2) == ("introduced", "fixed")
                assert v1 == "0" or key(v1) < key(v2)
        for version in aff.get("versions", []):
            try:
                key(version)
            except (InvalidVersion, ValueError):
                pytest.fail(f"{path.name}: unparsable version {version!r}")


@pytest.mark.parametrize(
    "path", [p for p in ADVISORY_FILES if p.stem.startswith("PYSEC-")], ids=lambda p: p.stem
)
def test_pypi_advisory_agrees_with_pypa_database(path: Path, shared_data: Path) -> None:
    ours = json.loads(path.read_text(encoding="utf-8"))
    (aff,) = ours["affected"]
    real_path = shared_data / "pypa-advisory-db" / "vulns" / aff["package"]["name"] / f"{ours['id']}.yaml"
    real = yaml.safe_load(real_path.read_text(encoding="utf-8"))
    assert ours["aliases"] == real["aliases"]
    (real_aff,) = real["affected"]
    assert aff["package"]["name"] == real_aff["package"]["name"]
    assert aff["versions"] == real_aff["versions"]

    def eco_ranges(a: dict[str, Any]) -> list[list[dict[str, str]]]:
        return [
            [{k: str(v) for k, v in e.items()} for e in r["events"]]
            for r in a["ranges"]
            if r["type"] == "ECOSYSTEM"
        ]

    assert eco_ranges(aff) == eco_ranges(real_aff)
    assert {r["url"] for r in real["references"]} <= {r["url"] for r in ours["references"]}


# -- the sample's pins against the advisories -----------------------------------------------


@pytest.mark.parametrize("pin", _sample_pins(), ids=lambda p: f"{p[1]}=={p[2]}")
def test_each_vulnerable_pin_has_a_bundled_advisory(pin: tuple[str, str, str]) -> None:
    ecosystem, name, version = pin
    matching = [vid for vid, r in _records().items() if _affects(r, ecosystem, name, version)]
    if (ecosystem, name) in SAFE_PINS:
        assert matching == []
    else:
        assert matching, f"no bundled advisory affects {name} {version}"
    assert not NEGATIVE_CONTROLS & set(matching)


def test_every_pypa_advisory_of_a_pin_is_bundled(shared_data: Path) -> None:
    """The PyPA records enumerate affected versions: each one listing a pin must be bundled."""
    vulns = shared_data / "pypa-advisory-db" / "vulns"
    expected: set[str] = set()
    for ecosystem, name, version in _sample_pins():
        if ecosystem != "PyPI":
            continue
        for path in sorted((vulns / name).glob("*.yaml")):
            record = yaml.safe_load(path.read_text(encoding="utf-8"))
            if any(version in a.get("versions", []) for a in record["affected"]):
                expected.add(record["id"])
    bundled_pypi = {vid for vid in _records() if vid.startswith("PYSEC-")}
    assert expected == bundled_pypi - NEGATIVE_CONTROLS
    for vid in expected:  # and our ranges agree with the enumerated lists on the pin
        record = _records()[vid]
        pkg = record["affected"][0]["package"]["name"]
        pin = dict((n, v) for e, n, v in _sample_pins() if e == "PyPI")[pkg]
        assert _affects({"affected": [{**record["affected"][0], "versions": []}]}, "PyPI", pkg, pin)


def test_negative_controls_affect_older_releases_only() -> None:
    pins = {n: v for e, n, v in _sample_pins() if e == "PyPI"}
    for vid in NEGATIVE_CONTROLS:
        record = _records()[vid]
        name = record["affected"][0]["package"]["name"]
        assert not _affects(record, "PyPI", name, pins[name])
        assert _affects(record, "PyPI", name, record["affected"][0]["versions"][0])


@pytest.mark.parametrize(
    ("ecosystem", "version", "events", "expected"),
    [
        ("npm", "1.2.0", [{"introduced": "0"}, {"fixed": "0.2.1"}], False),
        ("npm", "0.2.0", [{"introduced": "0"}, {"fixed": "0.2.1"}], True),
        ("npm", "1.2.3", [{"introduced": "1.0.0"}, {"fixed": "1.2.3"}], False),
        (
            "PyPI",
            "2.3.1",
            [{"introduced": "0"}, {"fixed": "2.2.5"}, {"introduced": "2.3.0"}, {"fixed": "2.3.2"}],
            True,
        ),
        (
            "PyPI",
            "2.2.9",
            [{"introduced": "0"}, {"fixed": "2.2.5"}, {"introduced": "2.3.0"}, {"fixed": "2.3.2"}],
            False,
        ),
        ("PyPI", "5.1", [{"introduced": "5.1"}, {"last_affected": "5.1"}], True),
        ("PyPI", "5.1.1", [{"introduced": "5.1"}, {"last_affected": "5.1"}], False),
    ],
)
def test_the_range_evaluator_of_this_test(
    ecosystem: str, version: str, events: list[dict[str, str]], expected: bool
) -> None:
    assert _in_range(ecosystem, version, events) is expected


# -- manifests ------------------------------------------------------------------------------------


def test_pyproject_declares_the_app_with_the_same_pins() -> None:
    project = tomllib.loads((SAMPLE / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    assert project["name"] == "kotsu-kanri"
    Version(project["version"])
    declared = {}
    for dep in project["dependencies"]:
        name, version = dep.split("==")
        declared[_norm("PyPI", name)] = version
    pins = _requirements_pins(SAMPLE / "requirements.txt")
    assert declared.items() <= pins.items()


def test_requirements_has_one_hashed_pin() -> None:
    text = (SAMPLE / "requirements.txt").read_text(encoding="utf-8")
    hashes = re.findall(r"--hash=sha256:([0-9a-f]+)", text)
    assert len(hashes) == 1 and len(hashes[0]) == 64


def test_package_lock_is_a_real_v3_lockfile() -> None:
    folder = SAMPLE / "frontend"
    lock = json.loads((folder / "package-lock.json").read_text(encoding="utf-8"))
    manifest = json.loads((folder / "package.json").read_text(encoding="utf-8"))
    assert lock["lockfileVersion"] == 3
    root = lock["packages"][""]
    assert root["dependencies"] == manifest["dependencies"]
    assert root["devDependencies"] == manifest["devDependencies"]
    pins = _lock_pins(folder / "package-lock.json")
    assert set(pins) == set(manifest["dependencies"]) | set(manifest["devDependencies"])
    for name, (version, dev) in pins.items():
        entry = lock["packages"][f"node_modules/{name}"]
        assert entry["resolved"] == f"https://registry.npmjs.org/{name}/-/{name}-{version}.tgz"
        assert re.fullmatch(r"sha512-[A-Za-z0-9+/]{86}==", entry["integrity"])
        assert dev == (name in manifest["devDependencies"])


# -- the sample's own test suite -------------------------------------------------------------


def _copy_sample(dest: Path) -> Path:
    shutil.copytree(SAMPLE, dest, ignore=shutil.ignore_patterns("__pycache__", "*.pyc", "*.db"))
    return dest


def _run_suite(folder: Path, runner: str) -> subprocess.CompletedProcess[str]:
    args = (
        ["-m", "pytest", "-q", "-p", "no:cacheprovider"] if runner == "pytest" else ["-m", "unittest", "-q"]
    )
    return subprocess.run(
        [sys.executable, "-B", *args],
        cwd=folder,
        capture_output=True,
        text=True,
        timeout=120,
        env={k: v for k, v in os.environ.items() if k != "PYTHONPATH"} | {"PYTHONDONTWRITEBYTECODE": "1"},
    )


@pytest.mark.parametrize("runner", ["pytest", "unittest"])
def test_sample_suite_passes(tmp_path: Path, runner: str) -> None:
    folder = _copy_sample(tmp_path / "sample")
    result = _run_suite(folder, runner)
    assert result.returncode == 0, result.stdout + result.stderr
    summary = result.stdout + result.stderr
    assert re.search(r"(\d+) passed|Ran (\d+) tests", summary)


def _edit(path: Path, old: str, new: str) -> None:
    text = path.read_text(encoding="utf-8")
    assert old in text, f"{path.name} no longer contains {old!r}"
    path.write_text(text.replace(old, new), encoding="utf-8")


def _apply_proper_fixes(folder: Path) -> None:
    app, diag, auth = (
        folder / "kotsu" / "app.py",
        folder / "kotsu" / "diagnostics.py",
        folder / "kotsu" / "auth.py",
    )
    _edit(
        app,
        'sql = (\n            "SELECT id, line, asset, title, status, opened FROM tickets "\n'
        "            f\"WHERE title LIKE '%{q}%' OR asset LIKE '%{q}%' ORDER BY id\"\n        )\n"
        "        cur.execute(sql)",
        'cur.execute(\n            "SELECT id, line, asset, title, status, opened FROM tickets "\n'
        '            "WHERE title LIKE ? OR asset LIKE ? ORDER BY id",\n'
        '            (f"%{q}%", f"%{q}%"),\n        )',
    )
    _edit(app, "yaml.load(_body(environ), Loader=yaml.Loader)", "yaml.safe_load(_body(environ))")
    _edit(diag, 'subprocess.run(f"df -P -k {path}", shell=True,', 'subprocess.run(["df", "-P", "-k", path],')
    # a proper fix of the password hash migrates: new hashes are salted scrypt, old MD5 ones still verify
    _edit(
        auth,
        'return hashlib.md5(password.encode("utf-8")).hexdigest()',
        "return _scrypt(password, secrets.token_bytes(16))",
    )
    _edit(
        auth,
        "return hmac.compare_digest(hash_password(password), stored_hash)",
        'if stored_hash.startswith("scrypt$"):\n'
        '        return hmac.compare_digest(_scrypt(password, bytes.fromhex(stored_hash.split("$")[1])), stored_hash)\n'
        '    legacy = hashlib.md5(password.encode("utf-8"), usedforsecurity=False).hexdigest()\n'
        "    return hmac.compare_digest(legacy, stored_hash)",
    )
    auth.write_text(
        auth.read_text()
        + "\n\ndef _scrypt(password, salt):\n"
        + '    return "scrypt$" + salt.hex() + "$" + hashlib.scrypt(password.encode(), salt=salt, n=2**14, r=8, p=1).hex()\n'
    )


@pytest.mark.slow
def test_sample_suite_survives_proper_fixes_and_catches_a_broken_one(tmp_path: Path) -> None:
    folder = _copy_sample(tmp_path / "sample")
    _apply_proper_fixes(folder)
    fixed = _run_suite(folder, "pytest")
    assert fixed.returncode == 0, fixed.stdout + fixed.stderr
    # a "fix" that quietly changes what search does must be caught
    _edit(folder / "kotsu" / "app.py", "WHERE title LIKE ? OR asset LIKE ?", "WHERE title = ? OR asset = ?")
    broken = _run_suite(folder, "pytest")
    assert broken.returncode != 0
    assert "test_search_matches_title_and_asset" in broken.stdout


# -- the access log ------------------------------------------------------------------------------

_COMBINED = re.compile(
    r"^(?P<ip>\d{1,3}(?:\.\d{1,3}){3}) \S+ \S+ \[(?P<time>[^\]]+)\] "
    r'"(?P<method>[A-Z]+) (?P<target>\S+) HTTP/1\.[01]" (?P<status>\d{3}) (?P<size>\d+|-) '
    r'"(?P<referer>[^"]*)" "(?P<agent>[^"]*)"$'
)
_ATTACKS: dict[str, re.Pattern[str]] = {
    "sqli": re.compile(r"'\s*(or|and|union|;)|union\s+select|sleep\(", re.I),
    "traversal": re.compile(r"\.\./"),
    "log4shell": re.compile(r"\$\{(jndi|\$\{lower:j\}ndi)", re.I),
    "cmdi": re.compile(r"path=[^&]*([;|`]|\$\()"),
    "xss": re.compile(r"<script|onload=", re.I),
    "ssti": re.compile(r"\{\{.*\}\}"),
}
_DOC_RANGES = ("192.0.2.", "198.51.100.", "203.0.113.")


def _classify(target: str, agent: str) -> set[str]:
    text = unquote_plus(target) + " " + agent
    return {name for name, pattern in _ATTACKS.items() if pattern.search(text)}


def _log_entries() -> Iterable[re.Match[str]]:
    for number, line in enumerate(
        (SAMPLE / "logs" / "access.log").read_text(encoding="utf-8").splitlines(), 1
    ):
        m = _COMBINED.match(line)
        assert m, f"access.log:{number}: not in combined log format"
        yield m


def test_access_log_is_a_day_of_combined_log_format() -> None:
    from datetime import datetime

    entries = list(_log_entries())
    times = [datetime.strptime(m["time"], "%d/%b/%Y:%H:%M:%S %z") for m in entries]
    assert times == sorted(times)
    assert len({t.date() for t in times}) == 1
    assert all(m["ip"].startswith(_DOC_RANGES) for m in entries)
    normal = [m for m in entries if not _classify(m["target"], m["agent"])]
    assert 190 <= len(normal) <= 230


def test_access_log_holds_each_kind_of_attack() -> None:
    found: dict[str, int] = {name: 0 for name in _ATTACKS}
    attack_lines = 0
    for m in _log_entries():
        kinds = _classify(m["target"], m["agent"])
        attack_lines += bool(kinds)
        for kind in kinds:
            found[kind] += 1
    assert all(count >= 1 for count in found.values()), found
    assert 12 <= attack_lines <= 20
    # the SQL injection and command injection probes target the sample's real holes
    targets = [unquote_plus(m["target"]) for m in _log_entries()]
    assert any(t.startswith("/tickets/search?q=") and "'" in t for t in targets)
    assert any(t.startswith("/diagnostics/disk?path=") and ";" in t for t in targets)
