"""``mamori demo``: the whole loop on the bundled sample project, offline.

The sample (a small, deliberately vulnerable web application with pinned vulnerable
dependencies, its own tests and an access log) and a small advisory set written by the project
in OSV format ship inside the package, so the demo needs no network and no set-up. It copies
the sample to the output folder, builds a demo advisory database, and runs each stage that
exists on it, printing what it found and how long each step took.
"""

from __future__ import annotations

import shutil
import time
from collections.abc import Callable
from importlib import resources
from pathlib import Path
from typing import Any, TypeVar

from rich.console import Console
from rich.table import Table

from mamori.model import Report

T = TypeVar("T")


def sample_source() -> Path:
    """The bundled sample project (read-only package data)."""
    return Path(str(resources.files("mamori.demo") / "sample"))


def advisories_source() -> Path:
    """The bundled OSV advisories for the sample."""
    return Path(str(resources.files("mamori.demo") / "advisories"))


def run_demo(out: Path, *, console: Console | None = None) -> int:
    """Run the demo into ``out``; returns the exit code (0: every stage ran)."""
    from mamori.advisories.store import AdvisoryStore
    from mamori.config import mamori_home
    from mamori.output.interface import render
    from mamori.output.sbom import render_sbom
    from mamori.scan import ScanOptions, inventory_of, scan_targets

    console = console or Console(highlight=False)
    timings: list[tuple[str, float]] = []

    def step(name: str, fn: Callable[[], T]) -> T:
        t0 = time.perf_counter()
        value = fn()
        timings.append((name, time.perf_counter() - t0))
        return value

    out = out.resolve()
    out.mkdir(parents=True, exist_ok=True)
    project = out / "sample"
    console.print(f"[bold]mamori demo[/] — sample project copied to {project}")
    step("copy sample", lambda: _copy_sample(project))

    db_path = mamori_home() / "demo" / "advisories.sqlite"
    db_path.parent.mkdir(parents=True, exist_ok=True)
    db_path.unlink(missing_ok=True)
    store = AdvisoryStore(db_path)
    step("load bundled advisories", lambda: store.import_paths([advisories_source()]))

    report: Report = step(
        "scan (dependencies + code)",
        lambda: scan_targets([project], ScanOptions(offline=True, database=db_path)),
    )
    _print_findings(console, report)

    inventory = inventory_of(project)
    step("write reports", lambda: _write_reports(out, report, inventory, render, render_sbom))

    alerts = step("detect attacks in the bundled logs", lambda: _detect(project))
    if alerts is not None:
        escalated = [a for a in alerts if getattr(a, "escalated", False)]
        console.print(
            f"\n[bold]Detect[/]: {len(alerts)} alerts in sample/logs, "
            f"{len(escalated)} escalated (they target a hole this project has)"
        )
        for a in escalated[:5]:
            console.print(f"  [red]![/] {a.title} → exploits {', '.join(a.exploits)}")

    table = Table(title="Timings", show_header=True)
    table.add_column("step")
    table.add_column("seconds", justify="right")
    for name, secs in timings:
        table.add_row(name, f"{secs:.2f}")
    table.add_row("[bold]total[/]", f"[bold]{sum(s for _, s in timings):.2f}[/]")
    console.print(table)
    console.print(f"Reports written to {out}: report.json, report.sarif, report.cdx.json, sbom.spdx.json")
    return 0


def _copy_sample(dest: Path) -> None:
    if dest.exists():
        shutil.rmtree(dest)
    shutil.copytree(sample_source(), dest, ignore=shutil.ignore_patterns("__pycache__", "*.pyc"))


def _write_reports(out: Path, report: Report, inventory: Any, render: Any, render_sbom: Any) -> None:
    (out / "report.json").write_text(render(report, "json"), encoding="utf-8")
    (out / "report.sarif").write_text(render(report, "sarif"), encoding="utf-8")
    (out / "report.cdx.json").write_text(render(report, "cyclonedx"), encoding="utf-8")
    (out / "sbom.spdx.json").write_text(render_sbom(inventory, "spdx"), encoding="utf-8")


def _detect(project: Path) -> list[Any] | None:
    try:
        from mamori.detect import detect_files
    except ImportError:
        return None
    logs = sorted((project / "logs").glob("*.log"))
    return list(detect_files(logs, project=project)) if logs else []


def _print_findings(console: Console, report: Report) -> None:
    deps = [f for f in report.findings if f.kind == "dependency"]
    code = [f for f in report.findings if f.kind == "code"]
    console.print(
        f"\n[bold]Scan[/]: {report.components} components, {len(deps)} vulnerable-dependency findings, "
        f"{len(code)} code findings in {report.elapsed:.2f}s"
    )
    console.print("[bold]Most urgent first[/] (SSVC decision and score, why):")
    shown = report.findings[:SHOW]
    for f in shown:
        decision = f"{f.priority.decision.upper():7} {f.priority.score:3.0f}" if f.priority else "-" * 11
        if f.package is not None and f.advisory is not None:
            what = f"{f.package.name} {f.package.version} {f.advisory.id}"
            target = _upgrade(f)
            fix = f" → {target}" if target else ""
        else:
            what = f"{f.rule_id} ({', '.join(f.cwe)}) {f.title}"
            fix = ""
        console.print(
            f"  [bold]{decision}[/] {f.severity:8} {what}  {f.location.path}:{f.location.line}{fix}"
        )
        why = _why(f)
        if why:
            console.print(f"              [dim]{why}[/]")
    if len(report.findings) > SHOW:
        console.print(f"  … and {len(report.findings) - SHOW} more in report.json")


SHOW = 12
"""How many findings the demo prints (all of them are in the report files)."""


def _upgrade(finding: Any) -> str:
    from mamori.output.table import upgrade_for

    version, _complete = upgrade_for([finding])
    return version or ""


def _why(finding: Any) -> str:
    """The decisive reasons of a finding's priority, in a few words."""
    if finding.priority is None:
        return ""
    vector = finding.priority.reasons[0] if finding.priority.reasons else ""
    keep = [
        r.split(":", 1)[1].strip() if ":" in r else r
        for r in finding.priority.reasons[1:]
        if r.startswith(("exploitation", "reachability"))
    ]
    return "; ".join([vector, *(k[:70] for k in keep[:2])])
