"""The JSON report (``mamori.report/1``): the public, versioned rendering of a :class:`Report`.

CI pipelines, ``--baseline`` and other tools read this format, so it follows the contract key
for key (see ``report.schema.json`` beside this module, shipped with the package) and it reads
back: :func:`report_from_dict` is the inverse of :func:`report_to_dict`. A few fields that the
contract does not name are added (the contract allows additions): ``confidence``,
``description`` and ``fingerprint_basis`` of a finding, the advisory's ``summary``, ``cvss``,
``references``, ``published`` and ``modified``, columns when known, and the report's
``target`` and ``components``. They are written only when set, and they make the round trip
exact, so that a finding read back from a baseline keeps its :attr:`Finding.id`. The
report's ``elapsed`` time is not written: it would make every run's output differ.

Reading never trusts the input: every malformed value becomes a :class:`ParseError` naming
the JSON path (``findings[3].severity``) and the file.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import replace
from pathlib import Path
from typing import Any, cast, get_args

import mamori
from mamori import _safejson
from mamori.errors import ParseError
from mamori.model import (
    AdvisoryRef,
    Coverage,
    CoverageReason,
    DatabaseInfo,
    Decision,
    Finding,
    FindingKind,
    Location,
    MatchKind,
    Package,
    Priority,
    Proof,
    ProofStatus,
    Report,
    ScanError,
    Severity,
    Status,
    TraceStep,
    Unchecked,
)

SCHEMA_ID = "mamori.report/1"
"""The value of the report's ``schema`` key; a reader refuses any other."""

SCHEMA_PATH = Path(__file__).with_name("report.schema.json")
"""The JSON Schema of the report, shipped with the package."""

_SEVERITIES: tuple[str, ...] = get_args(Severity)
_KINDS: tuple[str, ...] = get_args(FindingKind)
_STATUSES: tuple[str, ...] = get_args(Status)
_DECISIONS: tuple[str, ...] = get_args(Decision)
_CONFIDENCES = ("high", "medium", "low")
_MATCHES: tuple[str, ...] = get_args(MatchKind)
_REASONS: tuple[str, ...] = get_args(CoverageReason)


def _location(loc: Location) -> dict[str, Any]:
    out: dict[str, Any] = {"path": loc.path, "line": loc.line}
    if loc.column:
        out["column"] = loc.column
    return out


def finding_to_dict(finding: Finding) -> dict[str, Any]:
    """One finding as the contract's JSON object (keys in the contract's order)."""
    out: dict[str, Any] = {
        "id": finding.id,
        "kind": finding.kind,
        "rule_id": finding.rule_id,
        "title": finding.title,
        "severity": finding.severity,
        "cwe": list(finding.cwe),
        "location": _location(finding.location),
    }
    if finding.kind == "dependency":
        if finding.package is not None:
            p = finding.package
            out["package"] = {
                "ecosystem": p.ecosystem,
                "name": p.name,
                "version": p.version or None,
                "purl": p.purl,
            }
            if not p.version:
                out["package"]["range"] = p.range_spec
                if p.newest:
                    out["package"]["newest"] = p.newest
        out["match"] = finding.match
        adv = finding.advisory if finding.advisory is not None else AdvisoryRef(id=finding.rule_id)
        a: dict[str, Any] = {"id": adv.id, "aliases": list(adv.aliases), "fixed": list(adv.fixed)}
        for key in ("summary", "published", "modified"):
            if getattr(adv, key):
                a[key] = getattr(adv, key)
        for key in ("references", "cvss", "functions"):
            if getattr(adv, key):
                a[key] = list(getattr(adv, key))
        out["advisory"] = a
    else:
        steps = []
        for step in finding.trace:
            s: dict[str, Any] = {"path": step.path, "line": step.line, "note": step.note}
            if step.column:
                s["column"] = step.column
            steps.append(s)
        out["trace"] = steps
    if finding.priority is not None:
        out["priority"] = {
            "decision": finding.priority.decision,
            "score": finding.priority.score,
            "reasons": list(finding.priority.reasons),
        }
    out["status"] = finding.status
    out["justification"] = finding.justification
    out["confidence"] = finding.confidence
    if finding.test:
        out["test"] = True
    if finding.description:
        out["description"] = finding.description
    if finding.fingerprint_basis:
        out["fingerprint_basis"] = finding.fingerprint_basis
    if finding.reachability != "unknown":
        out["reachability"] = {"state": finding.reachability, "evidence": finding.reachability_evidence}
    if finding.proof is not None:
        out["proof"] = proof_to_dict(finding.proof)
    return out


def proof_to_dict(proof: Proof) -> dict[str, Any]:
    """A proof of vulnerability as JSON (``"proof"`` of a code finding)."""
    return {
        "status": proof.status,
        "reason": proof.reason,
        "request": dict(proof.request) if proof.request is not None else None,
        "observed": dict(proof.observed) if proof.observed is not None else None,
    }


def _database(db: DatabaseInfo) -> dict[str, Any]:
    out: dict[str, Any] = {"updated": db.updated, "sources": list(db.sources)}
    if db.advisories_modified:
        out["advisories_modified"] = db.advisories_modified
    if db.kev_released:
        out["kev_released"] = db.kev_released
    if db.warnings:
        out["warnings"] = list(db.warnings)
    return out


def coverage_to_dict(coverage: Coverage) -> dict[str, Any]:
    """The contract's ``coverage`` object: ``checked`` of ``total`` items, and each unchecked one."""
    out: dict[str, Any] = {
        "checked": coverage.checked,
        "total": coverage.total,
        "unchecked": [
            {"path": u.path, "line": u.line, "name": u.name, "reason": u.reason, "detail": u.detail}
            for u in coverage.unchecked
        ],
    }
    if not coverage.deps:
        out["deps"] = False
    if coverage.code_files:
        out["code_files"] = coverage.code_files
    if coverage.files:
        out["files"] = list(coverage.files)
    if coverage.not_walked:
        out["not_walked"] = [{"path": e.path, "reason": e.message} for e in coverage.not_walked]
    return out


def report_to_dict(report: Report) -> dict[str, Any]:
    """The report as the contract's JSON document (``mamori.report/1``), findings in report order."""
    return {
        "schema": SCHEMA_ID,
        "tool": {"name": "mamori", "version": mamori.__version__},
        "database": _database(report.database),
        "findings": [finding_to_dict(f) for f in report.findings],
        "errors": [{"path": e.path, "line": e.line, "message": e.message} for e in report.errors],
        "coverage": coverage_to_dict(report.coverage),
        "target": report.target,
        "components": report.components,
        "stats": {"code_files": report.code_files, "code_files_analysed": report.code_files_analysed},
    }


def render_json(report: Report, *, target_root: Path | None = None, indent: int | None = 2) -> str:
    """The JSON report as text (UTF-8 characters kept, a final newline).

    ``target_root`` is accepted for the renderer interface: findings already carry paths
    relative to the target, and the JSON keeps them as they are so that it reads back exactly.
    """
    del target_root
    return dumps_json(report_to_dict(report), indent=indent) + "\n"


def dumps_json(data: Any, *, indent: int | None = 2) -> str:
    """``data`` as JSON text, UTF-8 characters kept: orjson (an order of magnitude faster on a
    report of thousands of findings), the standard library for what orjson refuses (integers
    beyond 64 bits). Compact text has no spaces; indented text is two spaces a level."""
    import orjson

    try:
        option = orjson.OPT_INDENT_2 if indent == 2 else 0
        if indent in (2, None):
            return orjson.dumps(data, option=option).decode("utf-8")
    except (TypeError, orjson.JSONEncodeError):
        pass
    separators = (",", ":") if indent is None else None
    return json.dumps(data, indent=indent, ensure_ascii=False, separators=separators)


# --------------------------------------------------------------------------------------------
# Reading


class _Reader:
    """Typed access to JSON values that names the offending path in its errors."""

    def __init__(self, source: str | None) -> None:
        self.source = source

    def fail(self, where: str, message: str) -> ParseError:
        return ParseError(f"{where}: {message}" if where else message, path=self.source)

    def obj(self, value: object, where: str) -> Mapping[str, Any]:
        if not isinstance(value, dict):
            raise self.fail(where, f"expected an object, got {_kind(value)}")
        return cast(Mapping[str, Any], value)

    def get(self, d: Mapping[str, Any], key: str, where: str, *, required: bool = True) -> Any:
        if key not in d:
            if required:
                raise self.fail(where, f"missing key {key!r}")
            return None
        return d[key]

    def text(self, d: Mapping[str, Any], key: str, where: str, *, required: bool = True) -> str:
        value = self.get(d, key, where, required=required)
        if value is None and not required:
            return ""
        if not isinstance(value, str):
            raise self.fail(_at(where, key), f"expected a string, got {_kind(value)}")
        return value

    def integer(self, d: Mapping[str, Any], key: str, where: str, *, required: bool = True) -> int:
        value = self.get(d, key, where, required=required)
        if value is None and not required:
            return 0
        if not isinstance(value, int) or isinstance(value, bool) or value < 0:
            raise self.fail(_at(where, key), f"expected a non-negative integer, got {value!r}")
        return value

    def number(self, d: Mapping[str, Any], key: str, where: str) -> float:
        value = self.get(d, key, where)
        if not isinstance(value, int | float) or isinstance(value, bool):
            raise self.fail(_at(where, key), f"expected a number, got {_kind(value)}")
        return float(value)

    def texts(self, d: Mapping[str, Any], key: str, where: str, *, required: bool = True) -> tuple[str, ...]:
        value = self.get(d, key, where, required=required)
        if value is None and not required:
            return ()
        if not isinstance(value, list):
            raise self.fail(_at(where, key), f"expected a list, got {_kind(value)}")
        for i, item in enumerate(value):
            if not isinstance(item, str):
                raise self.fail(f"{where}.{key}[{i}]", f"expected a string, got {_kind(item)}")
        return tuple(value)

    def items(self, d: Mapping[str, Any], key: str, where: str, *, required: bool = True) -> list[Any]:
        value = self.get(d, key, where, required=required)
        if value is None and not required:
            return []
        if not isinstance(value, list):
            raise self.fail(_at(where, key), f"expected a list, got {_kind(value)}")
        return value

    def choice(self, d: Mapping[str, Any], key: str, where: str, allowed: tuple[str, ...]) -> str:
        value = self.text(d, key, where)
        if value not in allowed:
            raise self.fail(_at(where, key), f"{value!r} is not one of {', '.join(allowed)}")
        return value


def _at(where: str, key: str) -> str:
    """The JSON path of ``key`` inside ``where`` (``findings[0].severity``; ``schema`` at the top)."""
    return f"{where}.{key}" if where else key


def _kind(value: object) -> str:
    if value is None:
        return "null"
    return {dict: "an object", list: "a list", str: "a string", bool: "a boolean"}.get(
        type(value), type(value).__name__
    )


def _read_finding(r: _Reader, value: object, where: str) -> Finding:
    d = r.obj(value, where)
    kind = r.choice(d, "kind", where, _KINDS)
    loc = r.obj(r.get(d, "location", where), f"{where}.location")
    location = Location(
        path=r.text(loc, "path", f"{where}.location"),
        line=r.integer(loc, "line", f"{where}.location"),
        column=r.integer(loc, "column", f"{where}.location", required=False),
    )
    package: Package | None = None
    advisory: AdvisoryRef | None = None
    trace: list[TraceStep] = []
    if kind == "dependency":
        w = f"{where}.package"
        p = r.obj(r.get(d, "package", where), w)
        unpinned = p.get("version") is None and "version" in p
        package = Package(
            ecosystem=r.text(p, "ecosystem", w),
            name=r.text(p, "name", w),
            version="" if unpinned else r.text(p, "version", w),
            purl=r.text(p, "purl", w),
            range_spec=r.text(p, "range", w, required=False),
            newest=r.text(p, "newest", w, required=False),
        )
        w = f"{where}.advisory"
        a = r.obj(r.get(d, "advisory", where), w)
        advisory = AdvisoryRef(
            id=r.text(a, "id", w),
            aliases=r.texts(a, "aliases", w),
            fixed=r.texts(a, "fixed", w),
            summary=r.text(a, "summary", w, required=False),
            published=r.text(a, "published", w, required=False),
            modified=r.text(a, "modified", w, required=False),
            references=r.texts(a, "references", w, required=False),
            cvss=r.texts(a, "cvss", w, required=False),
            functions=r.texts(a, "functions", w, required=False),
        )
    else:
        for i, raw in enumerate(r.items(d, "trace", where, required=False)):
            w = f"{where}.trace[{i}]"
            s = r.obj(raw, w)
            trace.append(
                TraceStep(
                    path=r.text(s, "path", w),
                    line=r.integer(s, "line", w),
                    note=r.text(s, "note", w),
                    column=r.integer(s, "column", w, required=False),
                )
            )
    priority: Priority | None = None
    raw_priority = r.get(d, "priority", where, required=False)
    if raw_priority is not None:
        w = f"{where}.priority"
        pr = r.obj(raw_priority, w)
        priority = Priority(
            decision=cast(Decision, r.choice(pr, "decision", w, _DECISIONS)),
            score=r.number(pr, "score", w),
            reasons=r.texts(pr, "reasons", w, required=False),
        )
    confidence = "high"
    if "confidence" in d:
        confidence = r.choice(d, "confidence", where, _CONFIDENCES)
    status = r.choice(d, "status", where, _STATUSES) if "status" in d else "open"
    finding = Finding(
        kind=cast(FindingKind, kind),
        rule_id=r.text(d, "rule_id", where),
        title=r.text(d, "title", where),
        severity=cast(Severity, r.choice(d, "severity", where, _SEVERITIES)),
        location=location,
        cwe=r.texts(d, "cwe", where, required=False),
        package=package,
        advisory=advisory,
        trace=tuple(trace),
        priority=priority,
        status=cast(Status, status),
        justification=r.text(d, "justification", where, required=False),
        confidence=cast(Any, confidence),
        description=r.text(d, "description", where, required=False),
        fingerprint_basis=r.text(d, "fingerprint_basis", where, required=False),
        match=cast(Any, r.choice(d, "match", where, _MATCHES) if "match" in d else "exact"),
        test=d.get("test") is True,
    )
    raw_proof = r.get(d, "proof", where, required=False)
    if raw_proof is not None:
        pw = f"{where}.proof"
        pd = r.obj(raw_proof, pw)
        request = pd.get("request")
        observed = pd.get("observed")
        finding = replace(
            finding,
            proof=Proof(
                status=cast(
                    ProofStatus, r.choice(pd, "status", pw, ("proven", "not_proven", "not_attempted"))
                ),
                reason=r.text(pd, "reason", pw, required=False),
                request=dict(r.obj(request, f"{pw}.request")) if request is not None else None,
                observed=dict(r.obj(observed, f"{pw}.observed")) if observed is not None else None,
            ),
        )
    raw_reach = r.get(d, "reachability", where, required=False)
    if raw_reach is not None:
        rw = f"{where}.reachability"
        reach = r.obj(raw_reach, rw)
        finding = replace(
            finding,
            reachability=cast(Any, r.choice(reach, "state", rw, ("reachable", "unreachable", "unknown"))),
            reachability_evidence=r.text(reach, "evidence", rw, required=False),
        )
    return finding


def report_from_dict(data: object, *, source: str | None = None) -> Report:
    """The :class:`Report` a ``mamori.report/1`` document describes (inverse of :func:`report_to_dict`).

    Raises :class:`ParseError` (with ``source`` as its path) for anything malformed, naming
    the JSON path of the bad value.
    """
    r = _Reader(source)
    d = r.obj(data, "")
    schema = r.text(d, "schema", "")
    if schema != SCHEMA_ID:
        raise r.fail("schema", f"unsupported report schema {schema!r} (expected {SCHEMA_ID!r})")
    db_raw = r.get(d, "database", "", required=False)
    database = DatabaseInfo()
    if db_raw is not None:
        db = r.obj(db_raw, "database")
        database = DatabaseInfo(
            updated=r.text(db, "updated", "database", required=False),
            sources=r.texts(db, "sources", "database", required=False),
            advisories_modified=r.text(db, "advisories_modified", "database", required=False),
            kev_released=r.text(db, "kev_released", "database", required=False),
            warnings=r.texts(db, "warnings", "database", required=False),
        )
    coverage = Coverage()
    cov_raw = r.get(d, "coverage", "", required=False)
    if cov_raw is not None:
        cov = r.obj(cov_raw, "coverage")
        unchecked = []
        for i, raw in enumerate(r.items(cov, "unchecked", "coverage", required=False)):
            w = f"coverage.unchecked[{i}]"
            u = r.obj(raw, w)
            unchecked.append(
                Unchecked(
                    path=r.text(u, "path", w),
                    line=r.integer(u, "line", w, required=False),
                    name=r.text(u, "name", w, required=False),
                    reason=cast(CoverageReason, r.choice(u, "reason", w, _REASONS)),
                    detail=r.text(u, "detail", w, required=False),
                )
            )
        not_walked = []
        for i, raw in enumerate(r.items(cov, "not_walked", "coverage", required=False)):
            w = f"coverage.not_walked[{i}]"
            n = r.obj(raw, w)
            not_walked.append(ScanError(r.text(n, "path", w), r.text(n, "reason", w)))
        deps = cov.get("deps", True)
        coverage = Coverage(
            checked=r.integer(cov, "checked", "coverage"),
            total=r.integer(cov, "total", "coverage"),
            unchecked=tuple(unchecked),
            deps=deps if isinstance(deps, bool) else True,
            code_files=r.integer(cov, "code_files", "coverage", required=False),
            files=r.texts(cov, "files", "coverage", required=False),
            not_walked=tuple(not_walked),
        )
    findings = tuple(
        _read_finding(r, raw, f"findings[{i}]") for i, raw in enumerate(r.items(d, "findings", ""))
    )
    errors: list[ScanError] = []
    for i, raw in enumerate(r.items(d, "errors", "", required=False)):
        w = f"errors[{i}]"
        e = r.obj(raw, w)
        errors.append(
            ScanError(
                path=r.text(e, "path", w),
                message=r.text(e, "message", w),
                line=r.integer(e, "line", w, required=False),
            )
        )
    target = r.text(d, "target", "", required=False) or "."
    return Report(
        findings=findings,
        errors=tuple(errors),
        database=database,
        target=target,
        components=r.integer(d, "components", "", required=False),
        coverage=coverage,
    )


def report_from_json(text: str, *, source: str | None = None) -> Report:
    """Parse the text of a JSON report; a syntax error becomes a :class:`ParseError` with its line."""
    data = _safejson.loads(text, source or "-")  # a report from anywhere: size and depth capped
    return report_from_dict(data, source=source)


def load_report(path: Path) -> Report:
    """Read a JSON report file (a ``--baseline``); unreadable or malformed files raise :class:`ParseError`."""
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise ParseError(f"cannot read report: {exc}", path=str(path)) from exc
    return report_from_json(text, source=str(path))
