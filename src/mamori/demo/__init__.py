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

    fixes = step("fix and verify (offline)", lambda: _fix(project, db_path))
    if fixes is not None:
        _print_fixes(console, fixes)
        (out / "fixes.diff").write_text(fixes.diff(), encoding="utf-8")
        after: Report = step(
            "re-scan after fixes",
            lambda: scan_targets([project], ScanOptions(offline=True, database=db_path)),
        )
        console.print(
            f"After fixing: {len(after.findings)} findings left (of {len(report.findings)}); "
            "the diffs are in fixes.diff"
        )

    alerts = step("detect attacks in the bundled logs", lambda: _detect(project))
    if alerts is not None:
        escalated = [a for a in alerts if getattr(a, "escalated", False)]
        console.print(
            f"\n[bold]Detect[/]: {len(alerts)} alerts in sample/logs, "
            f"{len(escalated)} escalated (they target a hole this project has)"
        )
        names = {f.id: _short(f) for f in report.findings}
        for a in escalated[:5]:
            targets = ", ".join(names.get(i, i) for i in a.exploits[:3])
            more = f" (+{len(a.exploits) - 3} more)" if len(a.exploits) > 3 else ""
            console.print(f"  [red]![/] {a.title} → targets {targets}{more}")

    table = Table(title="Timings", show_header=True)
    table.add_column("step")
    table.add_column("seconds", justify="right")
    for name, secs in timings:
        table.add_row(name, f"{secs:.2f}")
    table.add_row("[bold]total[/]", f"[bold]{sum(s for _, s in timings):.2f}[/]")
    console.print(table)
    console.print(f"Reports written to {out}: report.json, report.sarif, report.cdx.json, sbom.spdx.json")
    return 0


def _short(finding: Any) -> str:
    if finding.package is not None:
        return f"{finding.package.name} {finding.package.version} {finding.rule_id}"
    return f"{finding.rule_id} at {finding.location.path}:{finding.location.line}"


def _fix(project: Path, database: Path) -> Any:
    try:
        from mamori.fix import fix_project
    except ImportError:
        return None
    return fix_project(project, offline=True, database=database, apply=True)


def _print_fixes(console: Console, fixes: Any) -> None:
    import statistics

    verified = [r for r in fixes.results if r.status == "verified"]
    code = [r for r in verified if r.kind == "code"]
    deps = [r for r in verified if r.kind != "code"]
    impossible = [r for r in fixes.results if r.status == "not_possible"]
    times = [r.seconds_to_verified for r in verified if r.seconds_to_verified is not None]
    console.print(
        f"\n[bold]Fix[/]: {len(verified)} fixes verified and applied — {len(code)} code fixes proven by "
        f"the sample's own tests ({fixes.verification.tests or 'no tests found'}), {len(deps)} dependency "
        f"upgrades verified by re-scan (offline: not installed); {len(impossible)} without a safe fix"
    )
    if times:
        console.print(f"  median time from scan to verified fix: {statistics.median(times):.1f}s")
    for r in code:
        console.print(f"  [green]✓[/] {r.rule} {r.path}:{r.line} — {r.summary}")
    seen: set[str] = set()
    for r in impossible:
        if r.why in seen:
            continue
        seen.add(r.why)
        console.print(f"  [yellow]–[/] {r.path}:{r.line} — {r.why}")


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
