"""The human report (``--format table``): what to upgrade, what to fix in which file.

People act per package and per file, not per advisory: a package with five advisories is one
upgrade, so dependency findings are grouped by package with the one version to upgrade to
(the lowest fix above the installed version for each advisory, and the highest of those for
the package, so one upgrade clears them all). Code findings are grouped by file, with their
taint trace. A summary line counts open findings by severity, and the errors met are listed
so a broken lockfile is never silently skipped.

The output is rendered with rich into a string, so it works without a terminal: colour only
when asked for (the CLI asks when stdout is a tty), a fixed width, and every cell built as
:class:`rich.text.Text` so that brackets in advisory titles are never read as markup. Every table goes through
:func:`mamori._layout.fit`: cells wrap instead of being cropped, and on a terminal too narrow
for the columns the findings are stacked (one block per finding), so no character is lost.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Sequence
from io import StringIO
from pathlib import Path

from rich import box
from rich.console import Console, Group, RenderableType
from rich.style import Style
from rich.table import Table
from rich.text import Text as _RichText

from mamori._layout import fit
from mamori._terminal import terminal_safe
from mamori._text import count
from mamori.model import SEVERITY_ORDER, Finding, Report, Unchecked, sort_findings
from mamori.output._versions import highest, lowest_fix_above
from mamori.treewalk import OUTSIDE_LINK

SEVERITY_STYLES: dict[str, str] = {
    "critical": "bold red",
    "high": "red",
    "medium": "yellow",
    "low": "cyan",
    "info": "blue",
    "unknown": "dim",
}
"""The rich style of each severity (used only when colour is on)."""

_SEVERITIES_DESC = sorted(SEVERITY_ORDER, key=lambda s: -SEVERITY_ORDER[s])


class Text(_RichText):
    """A Rich ``Text`` whose content is made terminal-safe (:func:`mamori._terminal.terminal_safe`):
    every string this renderer shows from a report goes through it, so an escape sequence in an
    advisory title or a path is shown, never obeyed."""

    def __init__(self, text: str = "", style: str | Style = "", **kwargs: object) -> None:
        super().__init__(terminal_safe(text), style, **kwargs)  # type: ignore[arg-type]

    def append(self, text: str | _RichText, style: str | Style | None = None) -> Text:
        super().append(terminal_safe(text) if isinstance(text, str) else text, style)
        return self


def upgrade_for(findings: Iterable[Finding]) -> tuple[str | None, bool]:
    """The version that fixes every given advisory of one package, and whether all have a fix.

    For each advisory the lowest fixed version above the installed one is taken; the package
    must reach the highest of those. The flag is False when some advisory has no fix above
    the installed version (the upgrade then clears only part of them).
    """
    needed: list[str] = []
    complete = True
    ecosystem = ""
    for f in findings:
        if f.package is None:
            continue
        ecosystem = f.package.ecosystem
        fixed = f.advisory.fixed if f.advisory is not None else ()
        # a range matched as its newest allowed release must move above that release
        step = lowest_fix_above(f.package.ecosystem, f.package.version or f.package.newest, fixed)
        if step is None:
            complete = False
        else:
            needed.append(step)
    return highest(ecosystem, needed), complete


def _severity_text(f: Finding) -> Text:
    text = Text(f.severity, style=SEVERITY_STYLES.get(f.severity, ""))
    if f.status != "open":
        text.append(f"\n{f.status}", style="dim")
    return text


def _priority_text(f: Finding) -> Text:
    if f.priority is None:
        return Text("")
    return Text(f"{f.priority.decision} {f.priority.score:.2f}")


def _where(path: str, line: int) -> str:
    return f"{path}:{line}" if line else path


def _widest(values: Iterable[str], cap: int) -> int:
    """The width of the longest value (a path, an id), at most ``cap``: such words stay whole."""
    return min(max((len(v) for v in values), default=1), cap)


def _dependency_table(findings: Sequence[Finding], with_priority: bool, width: int) -> Table:
    table = Table(title="Vulnerable dependencies", title_justify="left", box=box.SIMPLE_HEAD)
    places_all = [_where(f.location.path, f.location.line) for f in findings]
    names = [f.package.name for f in findings if f.package is not None]
    # paths, names and ids are words that must stay whole: their columns are at least as wide
    # as the longest (within a third of the width); titles wrap between words
    table.add_column("Package", min_width=_widest(places_all + names, width // 3), overflow="fold")
    table.add_column("Version", overflow="fold")
    table.add_column("Upgrade to", overflow="fold")
    table.add_column("Vulnerability", min_width=_widest((f.rule_id for f in findings), 24), overflow="fold")
    table.add_column("Severity", no_wrap=True)
    if with_priority:
        table.add_column("Priority", no_wrap=True)
    table.add_column("Title", ratio=1, overflow="fold")

    groups: dict[tuple[str, str, str], list[Finding]] = {}
    for f in findings:
        if f.package is None:
            continue
        version = f.package.version or f"range {f.package.range_spec}"
        groups.setdefault((f.package.ecosystem, f.package.name, version), []).append(f)

    def group_key(item: tuple[tuple[str, str, str], list[Finding]]) -> tuple[object, ...]:
        (eco, name, version), members = item
        worst = max(SEVERITY_ORDER.get(m.severity, 0) for m in members)
        return (-worst, name.lower(), eco, version)

    ordered = sorted(groups.items(), key=group_key)
    for gi, ((eco, name, version), members) in enumerate(ordered):
        members = list(sort_findings(members))
        open_members = [m for m in members if m.status == "open"] or members
        target, complete = upgrade_for(open_members)
        upgrade = Text(target or "no fix", style="green" if target and complete else "yellow")
        if target and not complete:
            upgrade.append(" (partial)", style="dim")
        places = sorted({_where(m.location.path, m.location.line) for m in members})
        pkg = Text(name, style="bold")
        pkg.append(f"\n{eco}", style="dim")
        for place in places:
            pkg.append(f"\n{place}", style="dim")
        # the same hole declared in several files (pyproject.toml and requirements.txt) is one
        # row: the files are listed under the package
        members = list({(m.rule_id, m.status): m for m in reversed(members)}.values())[::-1]
        for i, f in enumerate(members):
            vuln = Text(f.rule_id)
            title = Text(f.title or f.rule_id)
            if f.match == "every-version":
                title.append("\n(every version the range allows is affected)", style="yellow")
            elif f.match == "newest-allowed":
                newest = f" ({f.package.newest})" if f.package is not None and f.package.newest else ""
                title.append(f"\n(the newest version the range allows{newest} is affected)", style="yellow")
            if f.advisory is not None and f.advisory.aliases:
                title.append("\n" + ", ".join(f.advisory.aliases), style="dim")
            row: list[RenderableType] = [
                pkg if i == 0 else Text(""),
                Text(version or "?") if i == 0 else Text(""),
                upgrade if i == 0 else Text(""),
                vuln,
                _severity_text(f),
            ]
            if with_priority:
                row.append(_priority_text(f))
            row.append(title)
            table.add_row(*row, end_section=(i == len(members) - 1 and gi < len(ordered) - 1))
    return table


def _code_table(findings: Sequence[Finding], with_priority: bool, width: int) -> Table:
    table = Table(title="Code findings", title_justify="left", box=box.SIMPLE_HEAD)
    table.add_column(
        "File", min_width=_widest((f.location.path for f in findings), width // 3), overflow="fold"
    )
    table.add_column("Line", justify="right", no_wrap=True)
    table.add_column("Rule", overflow="fold")
    table.add_column("Severity", no_wrap=True)
    if with_priority:
        table.add_column("Priority", no_wrap=True)
    table.add_column("CWE", overflow="fold")
    with_proof = any(f.proof is not None for f in findings)
    if with_proof:
        table.add_column("Proof", overflow="fold")
    table.add_column("Finding", overflow="fold")

    by_file: dict[str, list[Finding]] = {}
    for f in findings:
        by_file.setdefault(f.location.path, []).append(f)
    paths = sorted(by_file)
    for gi, path in enumerate(paths):
        members = sorted(by_file[path], key=lambda f: (f.location.line, f.location.column, f.rule_id))
        for i, f in enumerate(members):
            detail = Text(f.title)
            for step in f.trace:
                detail.append(f"\n  {_where(step.path, step.line)} {step.note}", style="dim")
            row: list[RenderableType] = [
                Text(path, style="bold") if i == 0 else Text(""),
                Text(str(f.location.line) if f.location.line else "-"),
                Text(f.rule_id),
                _severity_text(f),
            ]
            if with_priority:
                row.append(_priority_text(f))
            row.append(Text(", ".join(f.cwe)))
            if with_proof:
                row.append(_proof_text(f))
                if f.proof is not None and f.proof.status == "proven" and f.proof.request:
                    detail.append(f"\n  proof: {f.proof.request.get('curl', '')}", style="dim")
                    detail.append(f"\n  observed: {f.proof.reason}", style="dim")
                elif f.proof is not None and f.proof.reason:
                    detail.append(f"\n  proof: {f.proof.reason}", style="dim")
            row.append(detail)
            table.add_row(*row, end_section=(i == len(members) - 1 and gi < len(paths) - 1))
    return table


def _proof_text(f: Finding) -> Text:
    if f.proof is None:
        return Text("-")
    style = {"proven": "bold red", "not_proven": "yellow", "not_attempted": "dim"}[f.proof.status]
    return Text(f.proof.status.replace("_", " "), style=style)


def summary_line(report: Report) -> Text:
    """``3 open findings: 1 critical, 2 high; 1 not affected; 12 components; 1 error``."""
    open_findings = [f for f in report.findings if f.status == "open"]
    counts: Counter[str] = Counter(f.severity for f in open_findings)
    text = Text(f"{len(open_findings)} open finding{'s' if len(open_findings) != 1 else ''}")
    parts = [(sev, counts[sev]) for sev in _SEVERITIES_DESC if counts[sev]]
    if parts:
        text.append(": ")
        for i, (sev, n) in enumerate(parts):
            if i:
                text.append(", ")
            text.append(f"{n} {sev}", style=SEVERITY_STYLES[sev])
    proven = sum(1 for f in open_findings if f.proof is not None and f.proof.status == "proven")
    tried = sum(1 for f in open_findings if f.proof is not None and f.proof.status != "not_attempted")
    if tried:
        text.append(f"; {proven} of {tried} proven by a request")
    closed = Counter(f.status for f in report.findings if f.status != "open")
    for status in ("accepted", "not_affected", "fixed"):
        if closed[status]:
            text.append(f"; {closed[status]} {status.replace('_', ' ')}")
    cov = report.coverage
    if cov.total:
        if cov.deps:
            text.append(f"; {cov.checked} of {count(cov.total, 'inventory item')} checked")
        else:
            text.append(f"; {count(cov.total, 'inventory item')}, not checked (--no-deps)")
    elif report.components:
        text.append(f"; {report.components} component{'s' if report.components != 1 else ''} scanned")
    if report.errors:
        n = len(report.errors)
        text.append(f"; {n} error{'s' if n != 1 else ''}", style="bold red")
    return text


def _unchecked_block(report: Report, width: int) -> Table:
    """What was not checked, by reason, each with what it allows and what to do about it.

    Items that share their advice (every range of three ``package.json`` files without a
    lockfile, every npm package of a database without npm advisories) are one row: the places
    and the packages listed, the advice said once.
    """
    table = Table(title="Not checked", title_justify="left", title_style="bold yellow", box=box.SIMPLE_HEAD)
    items = report.coverage.unchecked
    groups: dict[tuple[str, str], list[Unchecked]] = {}
    for u in items:
        groups.setdefault((u.reason, u.advice or u.detail), []).append(u)
    rows = [(key, group) for key, group in groups.items()]
    places = [_places(g) if len(g) > 1 else _where(g[0].path, g[0].line) for _, g in rows]
    table.add_column("Where", min_width=_widest((p for text in places for p in text.split("\n")), width // 3))
    table.add_column("Package", overflow="fold")
    table.add_column("Reason", no_wrap=True)
    table.add_column("What to do", ratio=1)
    order = ("no-lockfile", "unpinned", "no-advisories", "unreadable")
    by_reason: dict[str, list[int]] = {}
    for index, ((reason, _), _) in enumerate(rows):
        by_reason.setdefault(reason, []).append(index)
    reasons = [r for r in order if r in by_reason]
    for ri, reason in enumerate(reasons):
        indexes = by_reason[reason]
        for i, index in enumerate(indexes):
            (_, advice), group = rows[index]
            last = i == len(indexes) - 1 and ri < len(reasons) - 1
            if len(group) == 1:
                u = group[0]
                table.add_row(
                    Text(places[index]),
                    Text(u.name, style="bold"),
                    Text(reason, style="yellow"),
                    Text(u.detail),
                )
            else:
                table.add_row(
                    Text(places[index]),
                    Text(_packages(group), style="bold"),
                    Text(reason, style="yellow"),
                    Text(f"{count(len(group), 'item')}: {advice}"),
                )
            if last:
                table.rows[-1].end_section = True
    return table


def _places(group: list[Unchecked]) -> str:
    """The files of a group, one a line, each with its lines (or how many items it holds)."""
    lines: dict[str, list[int]] = {}
    for u in group:
        lines.setdefault(u.path, []).append(u.line)
    out = []
    for path, numbers in lines.items():
        known = sorted({n for n in numbers if n})
        if len(numbers) == 1 or not known:
            out.append(_where(path, known[0] if len(known) == 1 else 0))
        elif len(known) <= 6:
            out.append(f"{path}:{', '.join(map(str, known))}")
        else:
            out.append(f"{path} ({count(len(numbers), 'item')})")
    if len(out) > _MAX_LISTED:
        out = [*out[:_MAX_LISTED], f"… {count(len(out) - _MAX_LISTED, 'more file')} (all in --format json)"]
    return "\n".join(out)


def _packages(group: list[Unchecked]) -> str:
    """The distinct packages of a group with what each allows, the first :data:`_MAX_LISTED`."""
    names = list(dict.fromkeys(f"{u.name} {u.allows}".strip() for u in group if u.name))
    if len(names) > _MAX_LISTED:
        return ", ".join(names[:_MAX_LISTED]) + f", … {len(names) - _MAX_LISTED} more (all in --format json)"
    return ", ".join(names)


_MAX_LISTED = 20
"""Unchecked items listed per reason in the table (JSON lists them all)."""


def _verdict(report: Report) -> Text:
    """The one-line verdict: "No vulnerabilities found." only when everything was checked."""
    cov = report.coverage
    open_deps = sum(1 for f in report.findings if f.status == "open" and f.kind == "dependency")
    if cov.total == 0 and not report.findings:
        if report.errors:
            return Text("Nothing could be checked: see the errors below.", style="yellow")
        declared = (
            f"{', '.join(cov.files)} declare{'s' if len(cov.files) == 1 else ''} no dependencies"
            if cov.files
            else "no dependencies found"
        )
        if cov.code_files:
            return Text(f"No vulnerabilities found in {cov.code_files} Python files; {declared}.")
        if cov.files:
            return Text(f"Nothing to check: {declared}.", style="yellow")
        return Text("Nothing to scan: no lockfile, manifest, SBOM or Python file.", style="yellow")
    if not report.findings and cov.complete:
        return Text("No vulnerabilities found.", style="green")
    if cov.total and not cov.complete:
        if not cov.deps:
            return Text("Dependencies were not checked (--no-deps).", style="yellow")
        return Text(
            f"{open_deps} found in {cov.checked} of {count(cov.total, 'inventory item')} checked "
            f"({cov.total - cov.checked} not checked: see above).",
            style="yellow",
        )
    return Text("")


def _errors_block(report: Report) -> Text:
    text = Text("Errors", style="bold red")
    for e in sorted(report.errors, key=lambda e: (e.path, e.line, e.message)):
        text.append(f"\n  {_where(e.path, e.line)}: ", style="bold")
        text.append(e.message)
    return text


def _not_walked_block(report: Report) -> Text:
    """Folders not entered, said apart from the gaps: nothing of the project went unread."""
    text = Text("Not walked", style="bold")
    outside = False
    for e in report.coverage.not_walked:
        text.append(f"\n  {_where(e.path, 0)}: ", style="bold")
        text.append(e.message)
        outside = outside or e.message == OUTSIDE_LINK
    if outside:
        text.append(
            "\n  (a folder linked from outside is not part of this project and is not read: "
            "scan the folder it links to on its own if it holds a project)",
            style="dim",
        )
    return text


def render_table(
    report: Report,
    *,
    target_root: Path | None = None,
    width: int = 120,
    color: bool = False,
) -> str:
    """The report as text tables: dependencies by package, code findings by file, summary, errors.

    ``color`` turns on ANSI styles (for a terminal); without it the text is plain.
    ``target_root`` is accepted for the renderer interface; paths are already relative.
    """
    del target_root
    buf = StringIO()
    console = Console(
        file=buf,
        width=width,
        force_terminal=color,
        color_system="standard" if color else None,
        no_color=not color,
        highlight=False,
        emoji=False,
        soft_wrap=False,
        legacy_windows=False,
    )
    deps = [f for f in report.findings if f.kind == "dependency" and f.package is not None]
    code = [f for f in report.findings if f.kind != "dependency" or f.package is None]
    with_priority = any(f.priority is not None for f in report.findings)
    parts: list[RenderableType] = []
    header = Text(f"mamori scan of {report.target}", style="bold")
    db = report.database
    if db.updated or db.sources:
        dates = []
        if db.advisories_modified:
            dates.append(f"data as of {db.advisories_modified[:10]}")
        if db.kev_released:
            dates.append(f"KEV {db.kev_released[:10]}")
        header.append(
            f" (advisories: {', '.join(db.sources) or 'database'}"
            + (f"; {', '.join(dates)}" if dates else (f", updated {db.updated}" if db.updated else ""))
            + ")",
            style="dim",
        )
    parts.append(header)
    for warning in db.warnings:
        parts.append(Text(f"warning: {warning}", style="yellow"))
    if deps:
        parts.extend([Text(""), fit(_dependency_table(deps, with_priority, width), console, width)])
    if code:
        parts.extend([Text(""), fit(_code_table(code, with_priority, width), console, width)])
    if report.coverage.unchecked:
        parts.extend([Text(""), fit(_unchecked_block(report, width), console, width)])
    verdict = _verdict(report)
    if verdict.plain:
        parts.extend([Text(""), verdict])
    if report.coverage.not_walked:
        parts.extend([Text(""), _not_walked_block(report)])
    if report.errors:
        parts.extend([Text(""), _errors_block(report)])
    parts.extend([Text(""), summary_line(report)])
    console.print(Group(*parts))
    out = buf.getvalue()
    if not color:
        # Plain text: rich pads cells to the width; trailing blanks only get in the way.
        out = "\n".join(line.rstrip() for line in out.split("\n"))
    return out
