"""The scan pipeline: inventory → advisory matching → code analysis → one :class:`Report`.

This is the core the CLI, the demo and the benchmarks call. It depends on the stages'
interfaces only: :func:`mamori.inventory.collect`, :class:`mamori.advisories.store.AdvisoryStore`
and :func:`mamori.analysis.scan_code`.
"""

from __future__ import annotations

import os
import sys
import time
from collections import defaultdict
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from mamori import _safejson
from mamori._terminal import terminal_safe
from mamori._text import count
from mamori.advisories.interface import Advisory, Match
from mamori.config import load_project_config
from mamori.coverage import compute_coverage
from mamori.ecosystems import base_ecosystem, normalize_name
from mamori.errors import InputError, NoDatabaseError, ParseError, ResourceUnavailable
from mamori.inventory import Inventory, collect
from mamori.inventory.interface import Component
from mamori.model import (
    SEVERITY_ORDER,
    AdvisoryRef,
    DatabaseInfo,
    Finding,
    Location,
    MatchKind,
    Report,
    ScanError,
    Severity,
    sort_findings,
)
from mamori.treewalk import NOT_WALKED

DB_MAX_AGE = timedelta(days=1)
"""A database older than this is refreshed before an online scan."""

Warn = Callable[[str], None]

_WARNED: set[str] = set()
"""The messages :func:`warn_once` has printed in this process."""


def warn_once(message: str) -> None:
    """The default ``warn`` of :func:`scan_targets`: ``warning: MESSAGE`` on stderr, each message
    once per process. Never a Python ``warnings`` line (file:line and ``UserWarning``), which a
    user should not meet, and never repeated when a command re-scans (``fix`` verifies each fix
    with a re-scan that meets the same notes)."""
    if message in _WARNED:
        return
    _WARNED.add(message)
    print(f"warning: {terminal_safe(message)}", file=sys.stderr)


@dataclass(frozen=True, slots=True)
class ScanOptions:
    """What a scan looks at and how."""

    deps: bool = True
    code: bool = True
    offline: bool = False
    python: Path | None = None
    """An interpreter whose installed distributions join the inventory (``--python``)."""
    baseline: Path | None = None
    """A previous JSON report: findings already in it are not reported again."""
    database: Path | None = None
    """The advisory database file (default: under ``MAMORI_HOME``)."""
    record: bool = True
    """Store the report in the results database."""
    model_dirs: tuple[Path, ...] = field(default_factory=tuple)
    vex: tuple[Path, ...] = field(default_factory=tuple)
    """VEX documents (CycloneDX, OpenVEX, CSAF) whose not_affected/fixed statements are honoured."""
    prioritize: bool = True
    """Give every finding an SSVC decision with its reasons."""
    prove: bool = False
    """Prove each web code finding with a request to the app in a sandbox (``--prove``)."""
    prove_python: Path | None = None
    """The app's interpreter for proofs (``prove --python``; ``scan --prove`` uses ``python``);
    without one, a cached scratch virtualenv of the project's pins (none when ``offline``)."""
    prove_unsafe: bool = False
    """Run the app without a sandbox when none can be had (explicit opt-in only)."""
    exclude: tuple[str, ...] = field(default_factory=tuple)
    """Gitignore-style patterns of files and folders left out (``--exclude``), relative to each
    target folder; each target's ``.mamoriignore`` adds its own (see :mod:`mamori.excludes`)."""
    min_confidence: str = "medium"
    """Code findings below this confidence are left out (``low`` shows them all): low-confidence
    findings are flows from the operator's own input (command line, environment) into commands."""


def scan_targets(
    targets: Sequence[Path | str],
    options: ScanOptions | None = None,
    *,
    progress: Any = None,
    warn: Warn | None = None,
) -> Report:
    """Scan each target (a project folder or one lockfile/SBOM) and return one report.

    Paths in the report are relative to the target folder (the file's folder for a file target;
    the current directory when several targets are given).
    """
    options = options or ScanOptions()
    warn = warn or warn_once
    started = time.perf_counter()
    paths = [Path(t) for t in targets] or [Path(".")]
    for p in paths:
        if not p.exists():
            raise InputError("no such file or folder", path=str(p))
    base = _report_root(paths)

    if options.deps or options.python is not None:
        inventories = [_excluded_inventory(collect(p), options) for p in paths]
    else:  # --no-deps: the inventory is not checked, so it is not walked either
        inventories = [Inventory(root=p if p.is_dir() else p.parent) for p in paths]
    components: list[Component] = []
    errors: list[ScanError] = []
    for inv in inventories:
        if _same_folder(inv.root, base):
            components.extend(inv.components)
            errors.extend(inv.errors)
        else:
            components.extend(_rebase(c, inv.root, base) for c in inv.components)
            errors.extend(_rebase_error(e, inv.root, base) for e in inv.errors)
    if options.python is not None:
        components.extend(_installed(options.python, errors))
    inventory_errors = list(errors)

    config_root = base if base.is_dir() else base.parent
    try:
        config = load_project_config(config_root)
    except InputError as exc:  # a project's broken or hostile mamori.toml is a listed error
        config = {}
        where = Path(exc.path) if exc.path else config_root / "mamori.toml"
        rel = where.name if where.parent == config_root else where.as_posix()
        errors.append(ScanError(rel, f"{exc.message}; its settings are not used", exc.line or 0))
    findings: list[Finding] = []
    database = DatabaseInfo()
    matchable = _matchable(components)
    newest: list[Match] = []
    resolved: dict[Component, str] = {}
    store: Any = None
    advised: list[str] = []
    if options.deps and matchable:
        from mamori.advisories.store import AdvisoryStore

        store = AdvisoryStore(options.database or _default_db())
        ensure_database(
            store, {c.ecosystem for c in matchable}, offline=options.offline, warn=warn, progress=progress
        )
        database = _database_info(
            store, {c.ecosystem for c in matchable}
        )  # its stale-data warnings travel in the report
        advised = store.ecosystems()
        matches = store.lookup(matchable)
        if not options.offline:
            # a range is resolved only where the database can check what it resolves to: "newest
            # allowed 2.0.92 checked" against no npm advisories at all would be a claim of nothing
            have = {base_ecosystem(e) for e in advised}
            ranges = [c for c in matchable if base_ecosystem(c.ecosystem) in have]
            resolved, newest = _newest_matches(store, ranges, progress, warn)
        findings.extend(findings_from_matches([*matches, *newest]))

    facts = None
    code_stats = [0, 0]
    if options.code:
        from mamori.config import mamori_home
        from mamori.pyfacts import FactsCache

        # what the analysis learns of each file is kept for prioritisation's reachability, so
        # that no file is parsed twice (and, through the cache, not at all on a second scan)
        facts = FactsCache(mamori_home() / "cache" / "code")
        for p, inv in zip(paths, inventories, strict=True):
            if p.is_dir():
                code_findings, code_errors, _scanned = _scan_code(
                    inv.root, base, options, progress, warn, facts, code_stats
                )
                findings.extend(code_findings)
                errors.extend(code_errors)
    # links out of the project and second links to a folder are not gaps: said apart, not errors
    not_walked = sorted({e for e in errors if e.message in NOT_WALKED}, key=lambda e: (e.path, e.message))
    errors = [e for e in errors if e.message not in NOT_WALKED]
    coverage = compute_coverage(
        components,
        [e for e in inventory_errors if e.message not in NOT_WALKED],
        advised=advised,
        newest=resolved,
        deps=options.deps,
        root=config_root,
        code_files=code_stats[0],
        files=[
            f if _same_folder(inv.root, base) else _relocate(f, inv.root, base)
            for inv in inventories
            for f in inv.files
        ],
    )
    coverage = replace(coverage, not_walked=tuple(not_walked))

    if options.prove and options.code:
        findings = _prove(findings, paths, base, options, progress, warn)

    if options.baseline is not None:
        known = _baseline_ids(options.baseline)
        findings = [f for f in findings if f.id not in known]

    findings = _understand(findings, options, config, config_root, store, warn, facts, progress)

    report = Report(
        findings=sort_findings(_dedupe(findings)),
        errors=tuple(sorted(set(errors), key=lambda e: (e.path, e.line, e.message))),
        database=database,
        target=str(base),
        components=len(components),
        elapsed=time.perf_counter() - started,
        inventory=tuple(components),
        code_files=code_stats[0],
        code_files_analysed=code_stats[1],
        coverage=coverage,
    )
    if options.record:
        from mamori.config import results_db_path
        from mamori.results import ResultsStore

        ResultsStore(results_db_path()).record_scan(paths[0] if len(paths) == 1 else base, report)
    return report


def _prove(
    findings: list[Finding], paths: list[Path], base: Path, options: ScanOptions, progress: Any, warn: Warn
) -> list[Finding]:
    """Attach a proof of vulnerability to each code finding (one project folder at a time)."""
    from mamori.prove import apply_proofs, prove_findings

    root = base if base.is_dir() else base.parent
    code = [f for f in findings if f.kind == "code"]
    rest = [f for f in findings if f.kind != "code"]
    if not code:
        return findings
    proofs = prove_findings(
        root,
        code,
        python=options.prove_python or options.python,
        offline=options.offline,
        unsafe=options.prove_unsafe,
        progress=progress,
        stats=lambda figures: (
            warn(f"the app ran with {figures.environment}") if "left out" in figures.environment else None
        ),
    )
    attempted = [p for p in proofs if p is not None and p.status == "not_attempted" and "sandbox" in p.reason]
    if attempted:
        warn(attempted[0].reason)
    return rest + apply_proofs(code, proofs)


def _newest_matches(
    store: Any, matchable: Sequence[Component], progress: Any, warn: Warn
) -> tuple[dict[Component, str], list[Match]]:
    """Online: each range resolved to the newest release it allows, and that release's matches.

    Each match keeps the range component (version empty) with ``kind="newest-allowed"``; the
    version it was matched as travels in the finding's ``package.newest``.
    """
    from mamori.advisories.newest import resolve_newest

    resolved = resolve_newest(matchable, progress=progress, warn=warn)
    if not resolved:
        return {}, []
    pinned = [replace(c, version=v) for c, v in resolved.items()]
    back = dict(zip(map(id, pinned), resolved, strict=True))
    return resolved, [
        replace(m, component=back[id(m.component)], kind="newest-allowed", resolved=m.component.version)
        for m in store.lookup(pinned)
    ]


def _matchable(components: Sequence[Component]) -> list[Component]:
    """Pinned components, and ranges no pinned copy of the same package covers."""
    pinned = {(c.ecosystem, normalize_name(c.ecosystem, c.name)) for c in components if c.version}
    return [
        c
        for c in components
        if c.version or (c.range_spec and (c.ecosystem, normalize_name(c.ecosystem, c.name)) not in pinned)
    ]


def _understand(
    findings: list[Finding],
    options: ScanOptions,
    config: dict[str, Any],
    root: Path,
    store: Any,
    warn: Warn,
    facts: Any = None,
    progress: Any = None,
) -> list[Finding]:
    """VEX statements, configured ignores, then SSVC prioritisation."""
    from mamori.prioritize import (
        StoreEnrichment,
        apply_ignores,
        apply_vex,
        asset_context,
        parse_ignores,
        prioritize,
        read_vex,
    )

    if options.vex:
        statements = [s for path in options.vex for s in read_vex(path)]
        findings = apply_vex(findings, statements)
    findings = apply_ignores(findings, parse_ignores(config), warn=warn)
    if not options.prioritize:
        return findings
    if store is None and any(f.kind == "code" for f in findings):
        store = _optional_store(options)
    enrichment = StoreEnrichment(store) if store is not None and store.exists else None
    if progress is not None and findings:
        progress.start("prioritising", total=len(findings), unit="findings")
    out = prioritize(
        findings,
        enrichment=enrichment,
        context=asset_context(config),
        root=root,
        peers=_peer_ids(),
        facts=facts,
    )
    if progress is not None and findings:
        progress.finish()
    return out


def _peer_ids() -> dict[str, list[str]]:
    """Advisory ids peers shared through the hub (``mamori share pull``), if any were pulled."""
    from mamori.config import mamori_home

    if not (mamori_home() / "share.sqlite").exists():
        return {}
    try:
        from mamori.share import peer_vulnerabilities
    except ImportError:
        return {}
    return peer_vulnerabilities()


def _optional_store(options: ScanOptions) -> Any:
    """The advisory database if there is one (code findings need it only for enrichment)."""
    try:
        from mamori.advisories.store import AdvisoryStore
    except ImportError:
        return None
    return AdvisoryStore(options.database or _default_db())


def ensure_database(
    store: Any,
    ecosystems: Iterable[str],
    *,
    offline: bool,
    warn: Warn,
    progress: Any = None,
) -> None:
    """Make sure ``store`` can answer: refresh a missing or day-old database unless offline.

    Online, an ecosystem of the inventory that the database holds no advisories for is
    downloaded too; offline it stays missing and the report's coverage lists its components.

    Offline, or when the download fails, a local database is used with a warning; with none at
    all this raises :class:`NoDatabaseError` (exit 3) saying how to get one.
    """
    how = (
        "get one with `mamori db update` (online) or `mamori db import PATH` "
        "(offline: OSV .json/.yaml files, folders or osv.dev all.zip files)"
    )
    exists = store.exists
    last = store.last_updated() if exists else None
    fresh = last is not None and datetime.now(UTC) - last < DB_MAX_AGE
    if offline:
        if not exists:
            raise NoDatabaseError(f"no advisory database at {store.path}; {how}")
        return
    wanted = sorted({e.split(":", 1)[0] for e in ecosystems})
    missing = [e for e in wanted if e not in set(store.ecosystems())] if exists else wanted
    if exists and fresh and not missing:
        return
    try:
        # a fresh database lacking an ecosystem of the inventory fetches just that one
        store.update(missing if exists and fresh else wanted, progress=progress)
    except ResourceUnavailable as exc:
        if not exists:
            raise NoDatabaseError(f"no advisory database and the download failed ({exc}); {how}") from exc
        when = last.isoformat(timespec="minutes") if last else "an unknown time"
        warn(f"could not update the advisory database ({exc}); using the local copy from {when}")


def findings_from_matches(matches: Iterable[Match]) -> list[Finding]:
    """One finding per component and hole: advisories that alias each other merge into one."""
    by_component: dict[Component, list[Match]] = defaultdict(list)
    for m in matches:
        by_component[m.component].append(m)
    findings: list[Finding] = []
    for component, group in by_component.items():
        for cluster in _alias_clusters(group):
            findings.append(_finding(component, cluster))
    return findings


_ID_PREFERENCE = ("GHSA-", "PYSEC-", "RUSTSEC-", "GO-", "OSV-", "MAL-")


def _primary_id(ids: Iterable[str]) -> str:
    def rank(i: str) -> tuple[int, str]:
        for n, prefix in enumerate(_ID_PREFERENCE):
            if i.startswith(prefix):
                return (n, i)
        return (len(_ID_PREFERENCE) + (1 if i.startswith("CVE-") else 0), i)

    return min(ids, key=rank)


def _alias_clusters(group: list[Match]) -> list[list[Match]]:
    """Union-find over advisory ids and aliases within one component's matches."""
    parent: dict[str, str] = {}

    def find(x: str) -> str:
        parent.setdefault(x, x)
        while parent[x] != x:
            parent[x] = parent[parent[x]]
            x = parent[x]
        return x

    for m in group:
        for alias in m.advisory.aliases:
            parent[find(alias)] = find(m.advisory.id)
        find(m.advisory.id)
    clusters: dict[str, list[Match]] = defaultdict(list)
    for m in group:
        clusters[find(m.advisory.id)].append(m)
    return list(clusters.values())


def _finding(component: Component, cluster: list[Match]) -> Finding:
    from mamori.advisories.versions import sort_key

    advisories = [m.advisory for m in cluster]
    ids = {a.id for a in advisories} | {al for a in advisories for al in a.aliases}
    primary = _primary_id(ids)
    fixed = sorted({v for m in cluster for v in m.fixed}, key=lambda v: sort_key(component.ecosystem, v))
    main = next((a for a in advisories if a.id == primary), advisories[0])
    title = next((a.summary for a in [main, *advisories] if a.summary), "") or _first_line(main.details)
    severity = max((_severity(a) for a in advisories), key=lambda s: SEVERITY_ORDER[s])
    cwes = sorted({c for a in advisories for c in a.cwes})
    cvss = tuple(sorted({score for a in advisories for _t, score in a.severity}))
    refs = tuple(dict.fromkeys(r for a in advisories for r in a.references))
    functions = tuple(
        sorted(
            {
                fn
                for a in advisories
                for aff in a.affected
                if normalize_name(aff.ecosystem, aff.name)
                == normalize_name(component.ecosystem, component.name)
                for fn in aff.functions
            }
        )
    )
    kinds = {m.kind for m in cluster}
    # the most certain claim wins: every version a range allows is affected says more than
    # only its newest release is
    match: MatchKind = (
        "exact" if "exact" in kinds else ("every-version" if "every-version" in kinds else "newest-allowed")
    )
    package = component.as_package()
    resolved = next((m.resolved for m in cluster if m.resolved), "")
    if resolved and not component.version:
        package = replace(package, newest=resolved)
    published = min((a.published for a in advisories if a.published), default="")
    modified = max((a.modified for a in advisories if a.modified), default="")
    return Finding(
        kind="dependency",
        rule_id=primary,
        title=title
        or f"{component.name} {component.version or component.range_spec} is affected by {primary}",
        severity=severity,
        location=component.location,
        cwe=tuple(cwes),
        package=package,
        advisory=AdvisoryRef(
            id=primary,
            aliases=tuple(sorted(ids - {primary})),
            fixed=tuple(fixed),
            summary=main.summary,
            published=published,
            modified=modified,
            references=refs,
            cvss=cvss,
            functions=functions,
        ),
        description=main.details,
        match=match,
    )


def _first_line(text: str) -> str:
    line = text.strip().splitlines()[0] if text.strip() else ""
    return line[:200]


_DB_SEVERITY = {
    "critical": "critical",
    "high": "high",
    "moderate": "medium",
    "medium": "medium",
    "low": "low",
}


def _severity(advisory: Advisory) -> Severity:
    """The advisory's severity: its CVSS base score if any, else its database's word, else unknown."""
    best: Severity = "unknown"
    for kind, vector in advisory.severity:
        sev = cvss_severity(kind, vector)
        if sev and SEVERITY_ORDER[sev] > SEVERITY_ORDER[best]:
            best = sev
    if best == "unknown" and advisory.database_severity:
        word = _DB_SEVERITY.get(advisory.database_severity.lower())
        if word:
            best = word  # type: ignore[assignment]
    return best


def cvss_severity(kind: str, vector: str) -> Severity | None:
    """Severity of a CVSS v3.x or v4.0 vector by its base score (None if it does not parse)."""
    from mamori._cvss import parse_vector

    score, _metrics = parse_vector(vector)
    if score is None:
        return None
    if score >= 9.0:
        return "critical"
    if score >= 7.0:
        return "high"
    if score >= 4.0:
        return "medium"
    if score > 0.0:
        return "low"
    return "info"


CONFIDENCE_ORDER = {"low": 0, "medium": 1, "high": 2}
"""Confidence levels of code findings by rank."""


def _scan_code(
    root: Path,
    base: Path,
    options: ScanOptions,
    progress: Any,
    warn: Warn,
    facts: Any = None,
    stats: list[int] | None = None,
) -> tuple[list[Finding], list[ScanError], int]:
    """The code findings of ``root`` with paths relative to ``base``, its errors and the number of
    files covered; ``stats`` adds files covered and files analysed (not from the cache)."""
    stats = stats if stats is not None else [0, 0]
    try:
        from mamori.analysis import scan_code
    except ImportError:  # the code analysis stage is optional for dependency-only installs
        return [], [], 0
    from mamori.config import mamori_home

    started = False

    def step(done: int, total: int) -> None:
        nonlocal started
        if progress is None:
            return
        if not started:
            progress.start("analysing code", total=total, unit="files")
            started = True
        if done:
            progress.advance(1)

    result = scan_code(
        root,
        exclude=_patterns(root, options),
        cache_dir=mamori_home() / "cache" / "code",
        model_dirs=options.model_dirs,
        facts=facts,
        progress=step,
    )
    if started:
        progress.finish()
    stats[0] += result.files_scanned
    stats[1] += result.files_analysed
    floor = CONFIDENCE_ORDER.get(options.min_confidence, 1)
    kept = [f for f in result.findings if CONFIDENCE_ORDER.get(f.confidence, 2) >= floor]
    if len(kept) < len(result.findings):
        hidden = len(result.findings) - len(kept)
        warn(
            f"{count(hidden, 'code finding')} below {options.min_confidence} confidence not shown "
            "(flows from the operator's own input, such as the command line or environment); "
            "--confidence low shows them"
        )
    result = replace(result, findings=tuple(kept))
    if _same_folder(root, base):
        return list(result.findings), list(result.errors), result.files_scanned
    found = [
        replace(
            f,
            location=_rebase_location(f.location, root, base),
            trace=tuple(replace(s, path=_relocate(s.path, root, base)) for s in f.trace),
        )
        for f in result.findings
    ]
    return found, [_rebase_error(e, root, base) for e in result.errors], result.files_scanned


def _patterns(root: Path, options: ScanOptions) -> tuple[str, ...]:
    """The exclusion patterns for a target folder: its ``.mamoriignore``, then ``--exclude``."""
    from mamori.excludes import read_ignore_file

    return (*read_ignore_file(root), *options.exclude)


def _excluded_inventory(inv: Inventory, options: ScanOptions) -> Inventory:
    """The inventory without the manifests and lockfiles the exclusion patterns leave out."""
    from mamori.excludes import Excludes

    rules = Excludes.of(_patterns(inv.root, options))
    if not rules:
        return inv
    return replace(
        inv,
        components=tuple(c for c in inv.components if not rules.excluded(c.location.path)),
        errors=tuple(e for e in inv.errors if not rules.excluded(e.path)),
        files=tuple(f for f in inv.files if not rules.excluded(f)),
    )


def _installed(python: Path, errors: list[ScanError]) -> list[Component]:
    from mamori.inventory import _python

    result = _python.installed_environment(python)
    if not result.components and result.errors:
        first = result.errors[0]
        raise InputError(f"--python: {first.message}; give the path of a Python interpreter", path=first.path)
    errors.extend(result.errors)
    return list(result.components)


def _database_info(store: Any, ecosystems: Iterable[str]) -> DatabaseInfo:
    """Which data the scan used; its warnings name each stale source the inventory relies on.

    ``advisories_modified`` is that of the inventory's ecosystems (the oldest of their newest
    records when there are several): fresh npm data does not make stale PyPI data look current.
    """
    from mamori.advisories.freshness import source_warnings

    last = store.last_updated()
    sources = tuple(store.sources())
    wanted = {e.split(":", 1)[0] for e in ecosystems}
    ages = store.source_ages(wanted)
    dated = [a.data_date for a in ages if a.source.startswith("osv/") and a.data_date is not None]
    modified = min(dated) if dated else store.data_dates()[0]
    kev = next((a.data_date for a in ages if a.source == "kev"), None)
    return DatabaseInfo(
        updated=last.isoformat(timespec="seconds") if last else "",
        sources=sources,
        advisories_modified=modified.isoformat(timespec="seconds") if modified else "",
        kev_released=kev.isoformat(timespec="seconds") if kev else "",
        warnings=tuple(source_warnings(ages, ecosystems=wanted)),
    )


def _default_db() -> Path:
    from mamori.config import advisory_db_path

    return advisory_db_path()


def _report_root(paths: list[Path]) -> Path:
    if len(paths) == 1:
        p = paths[0]
        return p if p.is_dir() else (p.parent if str(p.parent) else Path("."))
    return Path(".")


def _same_folder(a: Path, b: Path) -> bool:
    return a == b or a.resolve() == b.resolve()


def _relocate(path: str, root: Path, base: Path) -> str:
    if _same_folder(root, base):
        return path
    try:
        return os.path.relpath(root / path, base).replace(os.sep, "/")
    except ValueError:
        return (root / path).as_posix()


def _rebase_location(loc: Location, root: Path, base: Path) -> Location:
    return replace(loc, path=_relocate(loc.path, root, base))


def _rebase(c: Component, root: Path, base: Path) -> Component:
    return replace(c, location=_rebase_location(c.location, root, base))


def _rebase_error(e: ScanError, root: Path, base: Path) -> ScanError:
    return replace(e, path=_relocate(e.path, root, base))


def _dedupe(findings: list[Finding]) -> list[Finding]:
    seen: dict[str, Finding] = {}
    for f in findings:
        seen.setdefault(f.id, f)
    return list(seen.values())


def _baseline_ids(path: Path) -> set[str]:
    try:  # a report handed over by the user may come from anywhere: the shared safe loader
        data = _safejson.load(Path(path), str(path))
    except ParseError as exc:
        raise InputError(
            f"cannot read the baseline report: {exc.message}", path=str(path), line=exc.line
        ) from None
    if not isinstance(data, dict) or not isinstance(data.get("findings"), list):
        raise InputError("not a mamori JSON report (no findings list)", path=str(path))
    return {f["id"] for f in data["findings"] if isinstance(f, dict) and "id" in f}


def inventory_of(target: Path) -> Inventory:
    """The inventory of one target (for ``mamori sbom``)."""
    if not target.exists():
        raise InputError("no such file or folder", path=str(target))
    return collect(target)
