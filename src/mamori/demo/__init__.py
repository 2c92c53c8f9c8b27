"""``mamori demo``: the whole loop on the bundled sample project, offline.

The sample (a small, deliberately vulnerable web application with pinned vulnerable
dependencies, its own tests and an access log) and a small advisory set written by the project
in OSV format ship inside the package, so the demo needs no network and no set-up. It copies
the sample to the output folder, builds a demo advisory database, and runs each stage that
exists on it, printing what it found and how long each step took.
"""

from __future__ import annotations

import shlex
import shutil
import sys
import time
from collections.abc import Callable
from importlib import resources
from pathlib import Path
from typing import Any, TypeVar

from rich.console import Console
from rich.table import Table

from mamori._layout import fit
from mamori._text import count
from mamori.model import Report

T = TypeVar("T")


def sample_source() -> Path:
    """The bundled sample project (read-only package data)."""
    return Path(str(resources.files("mamori.demo") / "sample"))


def advisories_source() -> Path:
    """The bundled OSV advisories for the sample."""
    return Path(str(resources.files("mamori.demo") / "advisories"))


def run_demo(out: Path, *, console: Console | None = None) -> int:
    """Run the demo into ``out``; returns the exit code (0: every stage ran).

    Its results (scans, fixes, alerts, the hub it shares with) are recorded under ``MAMORI_HOME``
    when that is set; otherwise under ``out/home``, never in the user's own data folder, and the
    ``mamori serve`` command it prints names that folder.
    """
    import os

    if os.environ.get("MAMORI_HOME"):
        return _run_demo(out, console=console)
    os.environ["MAMORI_HOME"] = str((out / "home").resolve())
    try:
        return _run_demo(out, console=console)
    finally:
        del os.environ["MAMORI_HOME"]


def _run_demo(out: Path, *, console: Console | None = None) -> int:
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
            f"\n[bold]Detect[/]: {count(len(alerts), 'alert')} in sample/logs, "
            f"{len(escalated)} escalated: they target a hole this project has"
        )
        names = {f.id: _short(f) for f in report.findings}
        lines: dict[str, int] = {}
        for a in escalated:
            targets = ", ".join(names.get(i, i) for i in a.exploits[:3])
            more = f" (+{len(a.exploits) - 3} more)" if len(a.exploits) > 3 else ""
            key = f"{a.title} → targets {targets}{more}"
            lines[key] = lines.get(key, 0) + 1
        for line, times in lines.items():
            console.print(f"  [red]![/] {line}" + (f" ({count(times, 'request')})" if times > 1 else ""))

    fixes = step("fix and verify (offline)", lambda: _fix(project, db_path))
    if fixes is not None:
        _record(console, lambda results: results.record_fixes(project, fixes))
        _print_fixes(console, fixes)
        (out / "fixes.diff").write_text(fixes.diff(), encoding="utf-8")
        after: Report = step(
            "re-scan after fixes",
            lambda: scan_targets([project], ScanOptions(offline=True, database=db_path)),
        )
        console.print(
            f"After fixing: {count(len(after.findings), 'finding')} left (of {len(report.findings)}); "
            "the diffs are in fixes.diff"
        )

    table = Table(title="Timings", show_header=True)
    table.add_column("step")
    table.add_column("seconds", justify="right")
    for name, secs in timings:
        table.add_row(name, f"{secs:.2f}")
    table.add_row("[bold]total[/]", f"[bold]{sum(s for _, s in timings):.2f}[/]")
    console.print(fit(table, console))
    console.print(f"Reports written to {out}: report.json, report.sarif, report.cdx.json, sbom.spdx.json")
    _print_dashboard(console, report, alerts)
    return 0


def _record(console: Console, write: Callable[[Any], object]) -> None:
    """Record a stage's outcome in the results database (the dashboard reads it); never fatal."""
    from mamori.results import record_quietly

    record_quietly(write, lambda msg: console.print(f"[yellow]{msg}[/]"))


def _print_dashboard(console: Console, report: Report, alerts: list[Any] | None) -> None:
    """Give the demo organisation a login on the local hub, share with it, and say how to look."""
    import os

    from mamori.config import mamori_home
    from mamori.errors import MamoriError

    try:
        token, shared = _demo_hub(report, alerts or [])
    except (MamoriError, OSError, ValueError) as exc:
        console.print(f"[yellow]the dashboard login could not be prepared: {exc}[/]")
        return
    home = os.environ.get("MAMORI_HOME") or str(mamori_home())
    console.print(
        f"\n[bold]Dashboard[/]: shared {shared} STIX objects with the local hub. To see what the demo "
        "scanned, fixed, detected and shared, run:"
    )
    if shutil.which("mamori") is None:
        bin_dir = Path(sys.executable).parent
        console.print(
            f"  (mamori is not on PATH: first run  export PATH={shlex.quote(str(bin_dir))}:$PATH)",
            soft_wrap=True,
        )
    console.print(f"  MAMORI_HOME={shlex.quote(home)} mamori serve", soft_wrap=True)
    console.print("and open http://127.0.0.1:8000/ — log in as organisation [bold]demo[/] with the token:")
    console.print(f"  {token}", soft_wrap=True)


DEMO_ORG = "demo"
"""The hub organisation the demo logs in as (admin: it sees the whole dashboard)."""


def _demo_hub(report: Report, alerts: list[Any]) -> tuple[str, int]:
    """A fresh token for the ``demo`` organisation (created on first run, sector of the sample's
    asset) and the demo's findings (TLP:AMBER) and alerts (TLP:GREEN) shared with the hub."""
    from mamori.errors import InputError
    from mamori.share._hub import Hub
    from mamori.share._local import anonymise_namespace
    from mamori.share.sectors import CROSS_SECTOR
    from mamori.share.stix import ShareOptions, address_to_sector, alerts_to_stix, report_to_stix
    from mamori.share.tlp import Tlp

    hub = Hub.open()
    try:
        sector = "railways" if "railways" in hub.sectors() else hub.sectors()[0]
        try:
            token = hub.add_org(DEMO_ORG, sector, "admin")
        except InputError:
            token = hub.new_token(DEMO_ORG)
        org = hub.authenticate(token, DEMO_ORG)
        if org is None:
            raise ValueError("the demo organisation's new token does not authenticate")
        shared = 0
        # AMBER to its own sector's collection: for that sector's members (as `share push` does)
        findings = address_to_sector(
            report_to_stix(report, ShareOptions(tlp=Tlp.AMBER, producer=DEMO_ORG)), sector
        )
        status = hub.add_objects(org, hub.resolve_collection(org.sector), findings["objects"])
        shared += int(status.get("success_count", 0))
        if alerts:
            bundle = alerts_to_stix(
                [a.to_dict() for a in alerts],
                ShareOptions(
                    tlp=Tlp.GREEN, anonymise=True, producer=DEMO_ORG, namespace=anonymise_namespace()
                ),
            )
            status = hub.add_objects(
                org, hub.resolve_collection(CROSS_SECTOR), bundle["objects"], anonymous=True
            )
            shared += int(status.get("success_count", 0))
        return token, shared
    finally:
        hub.close()


def _short(finding: Any) -> str:
    if finding.package is not None:
        return f"{finding.package.name} {finding.package.version} {finding.rule_id}"
    return f"{finding.rule_id} at {finding.location.path}:{finding.location.line}"


def _fix(project: Path, database: Path) -> Any:
    try:
        from mamori.fix import fix_project
    except ImportError:
        return None
    import sys

    # The sample is mamori's own bundled code, not a user's project: its tests run with mamori's
    # interpreter and without a sandbox (said in the output), so the demo works where
    # bubblewrap is missing and offline.
    return fix_project(
        project, offline=True, database=database, apply=True, python=sys.executable, unsafe_run_tests=True
    )


def _print_fixes(console: Console, fixes: Any) -> None:
    import statistics

    verified = [r for r in fixes.results if r.status == "verified"]
    code = [r for r in verified if r.kind == "code"]
    deps = [r for r in verified if r.kind != "code"]
    impossible = [r for r in fixes.results if r.status == "not_possible"]
    times = [r.seconds_to_verified for r in verified if r.seconds_to_verified is not None]
    console.print(
        f"\n[bold]Fix[/]: {count(len(verified), 'fix')} verified and applied — {count(len(code), 'code fix')} proven by "
        f"the sample's own tests ({fixes.verification.tests or 'no tests found'}), {len(deps)} dependency "
        f"upgrades verified by re-scan (offline: not installed); {len(impossible)} without a safe fix"
    )
    console.print(
        "  the sample's tests ran with mamori's own interpreter and without a sandbox: it is mamori's "
        "bundled code; for your projects `mamori fix` runs tests in a bubblewrap sandbox"
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
        f"\n[bold]Scan[/]: {count(report.components, 'component')}, {count(len(deps), 'vulnerable-dependency finding')}, "
        f"{count(len(code), 'code finding')} in {report.elapsed:.2f}s"
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
