"""A fix run as JSON (``mamori fix --format json``, schema ``mamori.fix/1``) and as a patch.

The schema is ``output/fix.schema.json`` (shipped with the package, beside the scan report's);
additions are allowed, renames and removals are not. The patch is every written (or, in a dry
run, would-be-written) fix's unified diff, each file once, as ``git apply`` takes it.
"""

from __future__ import annotations

from dataclasses import asdict
from pathlib import Path
from typing import Any

from mamori.fix.interface import FixReport

SCHEMA_ID = "mamori.fix/1"
SCHEMA_PATH = Path(__file__).parent.parent / "output" / "fix.schema.json"


def to_json(report: FixReport) -> dict[str, Any]:
    """The run as the ``mamori.fix/1`` JSON object."""
    from mamori import __version__

    v = report.verification
    return {
        "schema": SCHEMA_ID,
        "tool": {"name": "mamori", "version": __version__},
        "target": report.root,
        "dry_run": report.dry_run,
        "applied": report.applied,
        "branch": report.branch,
        "summary": report.summary(),
        "counts": report.counts(),
        "verification": {
            "method": v.method,
            "tests": v.tests,
            "baseline_passed": v.baseline_passed,
            "combined": v.combined,
            "warnings": list(v.warnings),
        },
        "scan_seconds": round(report.scan_seconds, 3),
        "total_seconds": round(report.total_seconds, 3),
        "fixes": [
            {
                "finding_id": r.finding_id,
                "rule": r.rule,
                "kind": r.kind,
                "status": r.status,
                "label": r.label,
                "reason": r.why,
                "path": r.path,
                "line": r.line,
                "summary": r.summary,
                "diff": r.diff,
                "applied": r.applied,
                "seconds_to_verified": r.seconds_to_verified,
                "notes": list(r.notes),
                "options": list(r.options),
                "evidence": {
                    k: list(x) if isinstance(x, tuple) else x for k, x in asdict(r.evidence).items()
                },
            }
            for r in report.results
        ],
        "errors": list(report.errors),
    }


def patch(report: FixReport) -> str:
    """The unified diff of the fixes that are (or in a dry run would be) written, rendered together."""
    return report.patch
