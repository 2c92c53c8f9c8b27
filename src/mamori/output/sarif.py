"""SARIF 2.1.0 (``--format sarif``): findings for code-scanning dashboards.

GitHub code scanning, GitLab, Azure DevOps and IDE viewers all read SARIF, and each is picky
about a few things this module takes care of:

* one rule per rule id, each with its CWE ids in ``properties.tags`` (``"CWE-89"``) next to
  ``"security"``, a ``defaultConfiguration.level`` and a ``security-severity`` score (GitHub
  uses it to rank security alerts);
* each result's ``artifactLocation.uri`` relative to the target (``uriBaseId`` ``%SRCROOT%``,
  which the consumer binds to the checkout) and a ``region.startLine`` of at least 1;
* ``partialFingerprints`` carrying :attr:`Finding.id`, so an alert survives line moves;
* taint traces as ``codeFlows``; findings closed by VEX or an ignore as ``suppressions``;
* errors met during the scan as ``toolExecutionNotifications`` of the invocation (level
  ``error``), and each inventory item the scan could not check as a ``warning`` notification
  whose descriptor is ``coverage/<reason>``; ``run.properties.coverage`` holds checked/total.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import mamori
from mamori.model import Finding, Report
from mamori.output._paths import path_uri
from mamori.output._versions import lowest_fix_above

SARIF_VERSION = "2.1.0"
SARIF_SCHEMA_URI = "https://json.schemastore.org/sarif-2.1.0.json"
FINGERPRINT_KEY = "mamori/v1"
"""The ``partialFingerprints`` key under which :attr:`Finding.id` is given."""

LEVELS: dict[str, str] = {
    "critical": "error",
    "high": "error",
    "medium": "warning",
    "low": "note",
    "info": "note",
    "unknown": "warning",
}
"""SARIF level of each severity."""

SECURITY_SEVERITY: dict[str, str] = {
    "critical": "9.5",
    "high": "8.0",
    "medium": "5.5",
    "low": "2.0",
    "info": "0.0",
}
"""GitHub's ``security-severity`` (a CVSS-like score) of each severity; none for ``unknown``."""

_SRCROOT = "%SRCROOT%"


def _cwe_number(cwe: str) -> str | None:
    head, _, num = cwe.partition("-")
    return num if head.upper() == "CWE" and num.isdigit() else None


def _help_uri(f: Finding) -> str | None:
    if f.kind == "dependency":
        advisory_id = f.advisory.id if f.advisory is not None else f.rule_id
        return f"https://osv.dev/vulnerability/{advisory_id}"
    for cwe in f.cwe:
        num = _cwe_number(cwe)
        if num:
            return f"https://cwe.mitre.org/data/definitions/{num}.html"
    return None


def _rule(f: Finding) -> dict[str, Any]:
    tags = ["security", *(c.upper() for c in f.cwe if _cwe_number(c))]
    if f.kind == "dependency":
        tags.append("dependency")
    properties: dict[str, Any] = {"tags": list(dict.fromkeys(tags))}
    if f.severity in SECURITY_SEVERITY:
        properties["security-severity"] = SECURITY_SEVERITY[f.severity]
    properties["precision"] = {"high": "high", "medium": "medium", "low": "low"}[f.confidence]
    rule: dict[str, Any] = {
        "id": f.rule_id,
        "name": f.rule_id,
        "shortDescription": {"text": f.title or f.rule_id},
    }
    full = f.description or (f.advisory.summary if f.advisory is not None else "")
    if full:
        rule["fullDescription"] = {"text": full}
    uri = _help_uri(f)
    if uri:
        rule["helpUri"] = uri
    rule["defaultConfiguration"] = {"level": LEVELS.get(f.severity, "warning")}
    rule["properties"] = properties
    return rule


def _physical(
    path: str, line: int, column: int, target_root: Path | None, *, whole_file: bool = False
) -> dict[str, Any]:
    """A physicalLocation; the region starts at line 1 at least (SARIF lines are 1-based)."""
    out: dict[str, Any] = {"artifactLocation": {"uri": path_uri(path, target_root), "uriBaseId": _SRCROOT}}
    if whole_file and line <= 0:
        return out
    region: dict[str, Any] = {"startLine": max(1, line)}
    if column > 0:
        region["startColumn"] = column
    out["region"] = region
    return out


def _message(f: Finding) -> str:
    if f.kind == "dependency" and f.package is not None:
        pkg = f.package
        head = f"{pkg.name} {pkg.version}: {f.title or f.rule_id}"
        fixed = f.advisory.fixed if f.advisory is not None else ()
        target = lowest_fix_above(pkg.ecosystem, pkg.version, fixed)
        aliases = f.advisory.aliases if f.advisory is not None else ()
        if aliases:
            head += f" ({', '.join(aliases)})"
        if target:
            return f"{head}. Upgrade {pkg.name} to {target}."
        return f"{head}. No fixed version is known."
    return f.title or f.rule_id


def _result(f: Finding, rule_index: int, target_root: Path | None) -> dict[str, Any]:
    result: dict[str, Any] = {
        "ruleId": f.rule_id,
        "ruleIndex": rule_index,
        "level": LEVELS.get(f.severity, "warning"),
        "message": {"text": _message(f)},
        "locations": [
            {"physicalLocation": _physical(f.location.path, f.location.line, f.location.column, target_root)}
        ],
        "partialFingerprints": {FINGERPRINT_KEY: f.id},
    }
    if f.kind == "code" and f.trace:
        steps = []
        for step in f.trace:
            steps.append(
                {
                    "location": {
                        "physicalLocation": _physical(step.path, step.line, step.column, target_root),
                        "message": {"text": step.note or f"{step.path}:{step.line}"},
                    }
                }
            )
        result["codeFlows"] = [{"threadFlows": [{"locations": steps}]}]
        proof_flow = _proof_flow(f, steps, target_root)
        if proof_flow is not None:
            result["codeFlows"].append(proof_flow)
    if f.status != "open":
        suppression: dict[str, Any] = {"kind": "external", "status": "accepted"}
        suppression["justification"] = f.justification or f.status.replace("_", " ")
        result["suppressions"] = [suppression]
    properties: dict[str, Any] = {"severity": f.severity, "status": f.status}
    if f.package is not None:
        properties["package"] = {
            "ecosystem": f.package.ecosystem,
            "name": f.package.name,
            "version": f.package.version,
            "purl": f.package.purl,
        }
    if f.priority is not None:
        properties["priority"] = {
            "decision": f.priority.decision,
            "score": f.priority.score,
            "reasons": list(f.priority.reasons),
        }
    if f.proof is not None:
        from mamori.output.jsonout import proof_to_dict

        properties["proven"] = f.proof.status == "proven"
        properties["proof"] = proof_to_dict(f.proof)
    if f.test:
        properties["test"] = True  # in a test or fixture folder: marked, not suppressed
        properties["confidence"] = f.confidence
    result["properties"] = properties
    return result


def _proof_flow(f: Finding, steps: list[dict[str, Any]], target_root: Path | None) -> dict[str, Any] | None:
    """For a proven finding: the trace, then the sink call the proof request was observed at."""
    proof = f.proof
    if proof is None or proof.status != "proven" or proof.observed is None:
        return None
    path = proof.observed.get("path")
    line = proof.observed.get("line")
    if not isinstance(path, str) or not isinstance(line, int):
        return None
    request = proof.request or {}
    text = f"observed: {proof.observed.get('sink', 'sink')} ({request.get('method', '')} {request.get('url', '')})"
    last = {
        "location": {"physicalLocation": _physical(path, line, 0, target_root), "message": {"text": text}}
    }
    return {"message": {"text": "proof of vulnerability"}, "threadFlows": [{"locations": [*steps, last]}]}


def sarif_dict(report: Report, *, target_root: Path | None = None) -> dict[str, Any]:
    """The report as a SARIF 2.1.0 log (one run), as a JSON-ready dict."""
    rules: list[dict[str, Any]] = []
    index: dict[str, int] = {}
    results: list[dict[str, Any]] = []
    for f in report.findings:
        if f.rule_id not in index:
            index[f.rule_id] = len(rules)
            rules.append(_rule(f))
        results.append(_result(f, index[f.rule_id], target_root))
    notifications = []
    for e in report.errors:
        note: dict[str, Any] = {"level": "error", "message": {"text": e.message}}
        if e.path:
            note["locations"] = [
                {"physicalLocation": _physical(e.path, e.line, 0, target_root, whole_file=True)}
            ]
        notifications.append(note)
    notifications.extend(_coverage_notes(report, target_root))
    run: dict[str, Any] = {
        "tool": {
            "driver": {
                "name": "mamori",
                "version": mamori.__version__,
                "semanticVersion": mamori.__version__,
                "rules": rules,
            }
        },
        "invocations": [{"executionSuccessful": True, "toolExecutionNotifications": notifications}],
        "results": results,
        "columnKind": "unicodeCodePoints",
    }
    properties: dict[str, Any] = {}
    if report.database.updated or report.database.sources:
        properties["database"] = {
            "updated": report.database.updated,
            "sources": list(report.database.sources),
        }
    cov = report.coverage
    if cov.deps:
        properties["coverage"] = {"checked": cov.checked, "total": cov.total}
    if properties:
        run["properties"] = properties
    return {"$schema": SARIF_SCHEMA_URI, "version": SARIF_VERSION, "runs": [run]}


def _coverage_notes(report: Report, target_root: Path | None) -> list[dict[str, Any]]:
    """Each inventory item that was not checked, as a warning notification naming why.

    Unreadable files are already notified as errors (from ``report.errors``); the others (a
    manifest with no lockfile, an unpinned requirement, an ecosystem with no advisories) are
    the gaps a code-scanning view would otherwise hide behind an empty result list.
    """
    notes: list[dict[str, Any]] = []
    for u in report.coverage.unchecked:
        if u.reason == "unreadable":
            continue
        what = f"{u.name}: " if u.name else ""
        note: dict[str, Any] = {
            "level": "warning",
            "descriptor": {"id": f"coverage/{u.reason}"},
            "message": {"text": f"not checked ({u.reason}): {what}{u.detail}"},
            "properties": {"reason": u.reason, "name": u.name},
        }
        if u.path:
            note["locations"] = [
                {"physicalLocation": _physical(u.path, u.line, 0, target_root, whole_file=not u.line)}
            ]
        notes.append(note)
    for e in report.coverage.not_walked:
        notes.append(
            {
                "level": "note",
                "descriptor": {"id": "coverage/not-walked"},
                "message": {"text": f"{e.path}: {e.message}"},
                "locations": [{"physicalLocation": _physical(e.path, 0, 0, target_root, whole_file=True)}],
            }
        )
    return notes


def render_sarif(report: Report, *, target_root: Path | None = None) -> str:
    """The SARIF 2.1.0 log as JSON text."""
    return json.dumps(sarif_dict(report, target_root=target_root), indent=2, ensure_ascii=False) + "\n"
