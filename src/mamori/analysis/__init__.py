"""The analysis stage: find vulnerabilities in a project's own Python code.

:func:`scan_code` parses every Python file (any Python version, see :mod:`._parse`), follows
untrusted data through the whole project with the taint engine (:mod:`.engine`), runs the
checks that need no flow (:mod:`._checks`) and returns :class:`mamori.model.Finding` values
with their traces. Models (sources, sinks, sanitisers, rules) are YAML data in ``models/``;
users add their own folders with ``model_dirs``.

Inline suppression: ``# mamori: ignore[PY-SQLI] reason`` on the sink's line (or a bare
``# mamori: ignore``) keeps the finding in the result with ``status="not_affected"`` and the
reason as its justification, so outputs can still show it.

With ``cache_dir``, results are cached per file (keyed by content hash and engine version);
a module's taint results are reused until it or a module it read changes. A file whose size,
mtime, ctime, inode and device all match the stat record of an earlier scan, and whose ctime is
at least :data:`RACY_SECONDS` older than that scan's start, keeps its recorded hash without being
read again (git's rule for racy files: one written in the second the record was made is hashed
again); its bytes are read only if something needs them.
"""

from __future__ import annotations

import ast
import gc
import hashlib
import os
import pickle
import re
import tempfile
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from mamori.analysis._checks import CheckHit, run_checks
from mamori.analysis._models import BUNDLED, Models, load_models
from mamori.analysis._parse import parse_source
from mamori.analysis._parts import SKELETON, Fingerprint, same_parts, split
from mamori.analysis._templates import dom_sinks
from mamori.analysis._web_checks import run_web_checks
from mamori.analysis.engine import ModuleInfo, Project, RawFinding, walk
from mamori.analysis.engine.project import LOOKUP, PART_SEP
from mamori.excludes import DEFAULT_JS_EXCLUDES, Excludes, is_test_path
from mamori.model import Finding, Location, ScanError, TraceStep
from mamori.pyfacts import FactsCache
from mamori.treewalk import MAX_SOURCE_BYTES, regular_file_error, walk_stat

__all__ = ["ENGINE_VERSION", "RACY_SECONDS", "CodeScanResult", "parse_source", "scan_code"]

ENGINE_VERSION = "8"

RACY_SECONDS = 2
"""A stat record is trusted only for a file whose ctime is this much older than the start of
the scan that made the record (a file written as it was recorded may change within the
timestamps' granularity without its stat changing)."""
"""Bumped whenever the engine or its bundled models change what they report."""

MAX_LOADED_MODULES = 1000
"""Modules the engine keeps parsed (and evaluated) at once. A project's trees take about a hundred
times their source in memory; past this many (a large repository), the engine starts afresh
between two files, so memory stays bounded (about 250 MB for Django's 883 modules) at the cost of
re-reading what the next files import. Findings do not depend on it beyond the work budgets."""

_SKIP_DIRS = frozenset(
    {
        ".git",
        ".hg",
        ".svn",
        ".venv",
        "venv",
        "env",
        ".tox",
        ".nox",
        "node_modules",
        "__pycache__",
        "site-packages",
        ".mypy_cache",
        ".pytest_cache",
        ".ruff_cache",
        "build",
        "dist",
        ".eggs",
    }
)
_IGNORE = re.compile(r"#\s*mamori:\s*ignore(?:\[([A-Za-z0-9_,\s-]+)\])?\s*(.*)$")


@dataclass(frozen=True)
class CodeScanResult:
    """Findings of a code scan, the errors (skipped files with reasons) and the file count."""

    findings: tuple[Finding, ...]
    errors: tuple[ScanError, ...]
    files_scanned: int
    files_analysed: int = 0
    """Files analysed in this run; the others' results came from the cache."""
    files_read: int = 0
    """Python files whose bytes were read in this run; the others matched their stat record."""


_PAGE_SUFFIXES = (".html", ".htm", ".jinja", ".jinja2", ".j2")
"""Templates and pages: read for the values a render call passes and for inline scripts."""


def _discover(
    root: Path, exclude: Excludes, errors: list[ScanError] | None = None
) -> tuple[list[tuple[Path, os.stat_result]], list[tuple[Path, os.stat_result]]]:
    """The Python files and the pages (templates, HTML) under ``root`` that ``exclude`` keeps
    (pages also pass :data:`~mamori.excludes.DEFAULT_JS_EXCLUDES` unless a pattern takes them
    back), each with its ``stat`` as the walk saw it, through the one safe walk
    (:func:`mamori.treewalk.walk_stat`): loops and links outside the project are reported."""
    out: list[tuple[Path, os.stat_result]] = []
    pages: list[tuple[Path, os.stat_result]] = []
    page_rules = Excludes.of((*DEFAULT_JS_EXCLUDES, *exclude.patterns))
    prefix = len(str(root)) + 1

    def rel(path: Path) -> str:
        text = str(path)
        return text[prefix:].replace(os.sep, "/") if text.startswith(str(root)) else path.as_posix()

    def want(path: Path) -> bool:
        if path.name.endswith((".py", ".pyw")):
            return not exclude or not exclude.excluded(rel(path))
        return not page_rules.excluded(rel(path))

    for path, info in walk_stat(
        root,
        skip_dir=lambda d: d in _SKIP_DIRS or d.endswith(".egg-info"),
        skip_folder=(lambda d: exclude.excluded(rel(d), is_dir=True)) if exclude else None,
        want=want,
        suffixes=(".py", ".pyw", *_PAGE_SUFFIXES),
        errors=errors,
    ):
        (out if path.name.endswith((".py", ".pyw")) else pages).append((path, info))
    return out, pages


def _read_source(path: Path, rel: str, errors: list[ScanError]) -> bytes | None:
    """The bytes of a file to analyse, or None with the reason added to ``errors``: a FIFO or
    device is never opened, a file over :data:`MAX_SOURCE_BYTES` never read."""
    special = regular_file_error(path)
    if special:
        errors.append(ScanError(rel, f"skipped: {special}"))
        return None
    try:
        size = path.stat().st_size
        if size > MAX_SOURCE_BYTES:
            errors.append(
                ScanError(
                    rel, f"skipped: file is {size} bytes, over the {MAX_SOURCE_BYTES}-byte limit for code"
                )
            )
            return None
        return path.read_bytes()
    except OSError as exc:
        errors.append(ScanError(rel, f"skipped: could not read ({exc.strerror or exc})"))
        return None


def _template_names(page_rels: Sequence[str]) -> dict[str, list[str]]:
    """Pages below a ``templates`` folder by the name a renderer asks for."""
    out: dict[str, list[str]] = {}
    for rel in page_rels:
        parts = rel.split("/")
        if "templates" not in parts[:-1]:
            continue
        i = len(parts) - 1 - parts[::-1].index("templates")
        out.setdefault("/".join(parts[i + 1 :]), []).append(rel)
    return out


def _module_name(rel: str, package: str = "") -> tuple[str, bool]:
    parts = rel[: -len(".pyw") if rel.endswith(".pyw") else -3].split("/")
    is_pkg = parts[-1] == "__init__"
    if is_pkg:
        parts = parts[:-1]
    if package:
        parts = [*package.split("."), *parts]
    return ".".join(parts) or "__root__", is_pkg


def _package_of(root: Path) -> str:
    """The dotted package name of a scan root that is itself a package (``""`` if not).

    Scanning ``django/`` alone, its modules are imported as ``django.contrib…`` by their own
    code: named relative to the root they would not resolve, and every call between them would
    be taken for a library call.
    """
    names: list[str] = []
    d = root
    while (d / "__init__.py").is_file() and d.name.isidentifier() and d.parent != d:
        names.append(d.name)
        d = d.parent
    return ".".join(reversed(names))


_WORD = re.compile(rb"[A-Za-z_][A-Za-z0-9_]*")


def _words(data: bytes) -> set[str]:
    """Every identifier-like word of a file's text (a cheap superset of the names it uses)."""
    return {w.decode("ascii") for w in set(_WORD.findall(data))}


def scan_code(
    root: Path,
    *,
    files: Sequence[Path] | None = None,
    cache_dir: Path | None = None,
    facts: FactsCache | None = None,
    model_dirs: Sequence[Path] = (),
    progress: Callable[[int, int], None] | None = None,
    exclude: Sequence[str] = (),
) -> CodeScanResult:
    """Scan the Python code under ``root`` (or just ``files``) and return its findings.

    ``exclude`` holds gitignore-style patterns (:mod:`mamori.excludes`) of files and folders left
    out, relative to ``root``; findings in test and fixture folders are kept, marked ``test``
    with low confidence."""
    # The trees of a whole project stay alive during the scan; with the default thresholds the
    # cyclic collector would re-traverse them again and again (a third of the run time on a
    # large project). Nothing the scan allocates needs cycle collection before it ends.
    thresholds = gc.get_threshold()
    gc.set_threshold(200_000, 50, 100)
    try:
        return _scan(root, files, cache_dir, model_dirs, progress, facts, Excludes.of(exclude))
    finally:
        gc.set_threshold(*thresholds)


def _scan(
    root: Path,
    files: Sequence[Path] | None,
    cache_dir: Path | None,
    model_dirs: Sequence[Path],
    progress: Callable[[int, int], None] | None,
    facts: FactsCache | None = None,
    exclude: Excludes | None = None,
) -> CodeScanResult:
    root = Path(root).resolve()
    exclude = exclude or Excludes()
    models = load_models(model_dirs)
    errors: list[ScanError] = []
    started = time.time_ns()
    stated: Sequence[tuple[Path, os.stat_result | None]]
    if files is not None:
        given = [Path(f).resolve() for f in files]
        stated = [(p, None) for p in given if not p.name.endswith(_PAGE_SUFFIXES)]
        page_paths = [p for p in given if p.name.endswith(_PAGE_SUFFIXES)]
    else:
        stated, found_pages = _discover(root, exclude, errors)
        page_paths = [p for p, _ in found_pages]
    cache = _Cache(cache_dir, models, model_dirs, root) if cache_dir is not None else None
    sources = _Sources(errors)
    hashes: dict[str, str] = {}
    facts_keys: dict[str, str] = {}
    fresh_reads = 0
    pages: dict[str, str] = {}
    for p in page_paths:
        rel = p.relative_to(root).as_posix() if p.is_relative_to(root) else p.as_posix()
        data = _read_source(p, rel, errors)
        if data is None:
            continue
        pages[rel] = data.decode("utf-8", "replace")
        hashes[rel] = hashlib.sha256(data).hexdigest()
    for p, info in stated:
        try:
            rel = p.relative_to(root).as_posix()
        except ValueError:
            rel = p.as_posix()
        known = cache.unchanged(rel, info) if cache is not None and info is not None else None
        if known is not None:
            sources.later(rel, p)
            hashes[rel], facts_keys[rel] = known
            continue
        data = _read_source(p, rel, errors)
        if data is None:
            continue
        sources[rel] = data
        fresh_reads += 1
        hashes[rel] = hashlib.sha256(data).hexdigest()
        if cache is not None:
            cache.keep_source(rel, hashes[rel])
            if info is not None:
                cache.record(rel, info, hashes[rel], FactsCache.key(data, rel))
    analysed = 0
    package = _package_of(root)

    def module_infos() -> tuple[dict[str, ModuleInfo], dict[str, ModuleInfo]]:
        modules: dict[str, ModuleInfo] = {}
        by_rel: dict[str, ModuleInfo] = {}
        for rel in sources:
            name, is_pkg = _module_name(rel, package)
            mod = ModuleInfo(name, rel, is_pkg)
            modules.setdefault(name, mod)
            by_rel[rel] = mod
        return modules, by_rel

    modules, by_rel = module_infos()
    trees: dict[str, ast.Module | None] = {}
    parse_errors: dict[str, ScanError] = {}

    def parse(rel: str) -> ast.Module | None:
        if rel in trees:
            return trees[rel]
        parsed = parse_source(sources[rel], rel)
        trees[rel] = parsed.tree
        if parsed.tree is None:
            parse_errors[rel] = ScanError(
                rel, f"skipped: could not parse ({parsed.error})", parsed.error_line
            )
        return parsed.tree

    fingerprints: dict[str, Fingerprint | None] = {}

    def fingerprint(rel: str) -> Fingerprint | None:
        """The parts' digests of module ``rel`` in this run (None when it does not parse)."""
        if rel not in fingerprints:
            tree = parse(rel) if rel in sources else None
            fingerprints[rel] = split(tree) if tree is not None else None
        return fingerprints[rel]

    def same_tree(rel: str, old_hash: str, parts: frozenset[str]) -> bool:
        """Whether the ``parts`` of module ``rel`` a module read (:mod:`._parts`: its skeleton,
        the functions it ran) are the same, positions included, as in its version of content
        hash ``old_hash``: what the engine reads of a module is its tree, so a module that read
        only unchanged parts keeps its results."""
        old = cache.old_parts(rel, old_hash) if cache is not None and rel in sources else None
        new = fingerprint(rel) if old is not None else None
        return old is not None and new is not None and same_parts(old, new, parts)

    def resolve(dotted: str) -> str:
        """The file that answers a lookup of module ``dotted`` in this run ('' for none)."""
        mod = project.lookup_module(dotted)
        return mod.relpath if mod is not None else ""

    templates = _template_names(sorted(pages))

    def new_project() -> Project:
        made = Project(models, modules, lambda m: parse(m.relpath))
        made.templates = templates
        made.read_file = pages.get
        return made

    project = new_project()
    raw: list[RawFinding] = []
    checks: list[tuple[str, Any]] = []
    total = len(sources)
    for i, rel in enumerate(sorted(sources)):
        if progress is not None:
            progress(i, total)
        cached = cache.get(rel, hashes, same_tree, resolve) if cache is not None else None
        if cached is not None:
            if facts is not None and not (rel in facts_keys and facts.note_key(root, rel, facts_keys[rel])):
                facts.note(root, rel, sources[rel])
            raw.extend(cached["taint"])
            errors.extend(cached.get("notes", ()))
            checks.extend((rel, h) for h in cached["checks"])
            if cached.get("error"):
                parse_errors[rel] = cached["error"]
            continue
        tree = parse(rel)
        analysed += 1
        if tree is None:
            if facts is not None:
                facts.add_tree(root, rel, sources[rel], None)
            if cache is not None:
                cache.put(
                    rel, hashes, {"taint": [], "checks": [], "error": parse_errors.get(rel), "deps": {}}
                )
            continue
        nodes = walk(tree)
        if facts is not None:
            facts.add_tree(root, rel, sources[rel], tree, nodes)
        hits = [*run_checks(nodes, rel), *run_web_checks(nodes, rel)]
        checks.extend((rel, h) for h in hits)
        mod_raw: list[RawFinding] = []
        notes: list[ScanError] = []
        deps: dict[str, frozenset[str]] = {}
        if models.may_read_source(_words(sources[rel])):
            before = dict(project.findings)
            project.touched = set()
            project.files_read = set()
            project.incomplete = []
            try:
                project.analyse_module(by_rel[rel])
            except RecursionError:
                notes.append(ScanError(rel, "analysis incomplete: nesting too deep"))
            notes.extend(
                ScanError(
                    path,
                    f"analysis incomplete: {what} exceeded its work budget; "
                    "flows through calls it had not yet followed may be missed",
                )
                for path, what in project.incomplete
            )
            errors.extend(notes)
            mod_raw = [f for k, f in project.findings.items() if k not in before]
            deps = _reads_closure(modules, project.touched, project.files_read)
            deps.pop(rel, None)
        raw.extend(mod_raw)
        if len(trees) > MAX_LOADED_MODULES or project.loaded > MAX_LOADED_MODULES:
            # bounded memory on a large repository: the engine starts afresh (its trees and
            # summaries are dropped); what the next files need is loaded again
            modules, by_rel = module_infos()
            trees.clear()
            project = new_project()
            gc.collect()
        if cache is not None:
            cache.put(
                rel,
                hashes,
                {"taint": mod_raw, "checks": hits, "error": None, "notes": notes, "deps": deps},
            )
    for rel in sorted(pages):
        checks.extend(
            (rel, CheckHit("JS-DOMXSS", d.line, 0, d.text, f"{d.source} (line {d.source_line})"))
            for d in dom_sinks(pages[rel])
        )
    if progress is not None:
        progress(total, total)
    if cache is not None:
        cache.save(started, hashes, fingerprint)
    findings = _to_findings(raw, checks, models, sources)
    errors.extend(parse_errors[k] for k in sorted(parse_errors))
    return CodeScanResult(tuple(findings), tuple(errors), len(sources), analysed, fresh_reads + sources.reads)


def _reads_closure(
    modules: Mapping[str, ModuleInfo], touched: set[str], files: set[str]
) -> dict[str, frozenset[str]]:
    """The files read, each with the parts of it read (:mod:`._parts`; none for other files):
    the modules in ``touched`` and every module their top levels read (a cycle of imports
    leaves a module's record incomplete while it is evaluated: followed here), and ``files``;
    each lookup of a module by name is kept as its record (:data:`LOOKUP`), checked again by
    :meth:`_Cache.get`."""
    out: dict[str, set[str]] = {f: set() for f in files}
    seen: set[str] = set()
    stack = list(touched)
    while stack:
        item = stack.pop()
        if item.startswith(LOOKUP):
            out.setdefault(item, set())
            continue
        name, _, key = item.partition(PART_SEP)
        mod = modules.get(name)
        if mod is None:
            continue
        if mod.relpath:
            out.setdefault(mod.relpath, set()).update((SKELETON, key))
        if name in seen:
            continue
        seen.add(name)
        stack.extend(mod.reads[0])
        for f in mod.reads[1]:
            out.setdefault(f, set())
    return {k: frozenset(v) for k, v in out.items()}


def _line_text(sources: Mapping[str, bytes], cache: dict[str, list[str]], path: str, line: int) -> str:
    lines = cache.get(path)
    if lines is None:
        lines = sources.get(path, b"").decode("utf-8", "replace").splitlines()
        cache[path] = lines
    return lines[line - 1] if 0 < line <= len(lines) else ""


def _to_findings(
    raw: list[RawFinding], checks: list[tuple[str, Any]], models: Models, sources: Mapping[str, bytes]
) -> list[Finding]:
    out: list[Finding] = []
    seen: set[tuple[str, str, int, str]] = set()
    lines: dict[str, list[str]] = {}
    for f in raw:
        key = (f.rule, f.path, f.line, f.trace[0].path + str(f.trace[0].line) if f.trace else "")
        if key in seen:
            continue
        seen.add(key)
        rule = models.rules[f.rule]
        src = f.trace[0].note.removesuffix(" (source)") if f.trace else "untrusted data"
        out.append(
            _suppress(
                Finding(
                    kind="code",
                    rule_id=rule.id,
                    title=f"{rule.title}: {src} reaches {f.sink_text}",
                    severity=rule.severity,  # type: ignore[arg-type]
                    location=Location(f.path, f.line, f.column),
                    cwe=(rule.cwe,),
                    trace=f.trace,
                    confidence=(
                        "low"
                        if f.source in models.low_confidence
                        else ("high" if len(f.trace) <= 8 else "medium")
                    ),
                    description=rule.description,
                    fingerprint_basis=f.sink_text + "|" + src,
                ),
                _line_text(sources, lines, f.path, f.line),
            )
        )
    for rel, h in checks:
        rule = models.rules[h.rule]
        key = (h.rule, rel, h.line, h.text)
        if key in seen:
            continue
        seen.add(key)
        out.append(
            _suppress(
                Finding(
                    kind="code",
                    rule_id=rule.id,
                    title=f"{rule.title}: {h.text}",
                    severity=rule.severity,  # type: ignore[arg-type]
                    location=Location(rel, h.line, h.column),
                    cwe=(rule.cwe,),
                    trace=(TraceStep(rel, h.line, h.note, h.column),),
                    confidence=h.confidence or ("medium" if h.rule == "PY-WEAKRAND" else "high"),
                    description=rule.description,
                    fingerprint_basis=h.text,
                ),
                _line_text(sources, lines, rel, h.line),
            )
        )
    out = [replace(f, test=True, confidence="low") if is_test_path(f.location.path) else f for f in out]
    out.sort(key=lambda f: (f.location.path, f.location.line, f.rule_id))
    return out


def _suppress(f: Finding, line: str) -> Finding:
    m = _IGNORE.search(line)
    if m is None:
        return f
    ids = m.group(1)
    if ids and f.rule_id not in {x.strip() for x in ids.split(",")}:
        return f
    reason = m.group(2).strip() or "suppressed inline"
    return replace(f, status="not_affected", justification=reason)


def _engine_fingerprint(model_dirs: Sequence[Path]) -> str:
    """A digest of everything that decides what the engine reports: its own source files and
    every model file (bundled and the user's), by content.

    Stable across processes (the key was once built from ``repr`` of sets, which differ with
    every process's hash seed, so the cache never hit through the CLI).
    """
    digest = hashlib.sha256()
    here = Path(__file__).resolve().parent
    files = sorted(here.rglob("*.py")) + sorted(BUNDLED.glob("*.yaml"))
    for d in model_dirs:
        files.extend(sorted([*Path(d).glob("*.yaml"), *Path(d).glob("*.yml")]))
    for f in files:
        try:
            digest.update(f.name.encode() + b"\0" + f.read_bytes() + b"\0")
        except OSError:
            digest.update(f.name.encode() + b"\0missing\0")
    return digest.hexdigest()[:16]


class _Cache:
    """Per-file results keyed by content hash, engine version and models; one pickle file."""

    def __init__(
        self, cache_dir: Path, models: Models, model_dirs: Sequence[Path] = (), root: Path | None = None
    ) -> None:
        # one file per scanned root: projects whose files share relative paths do not evict
        # each other's entries
        tag = (
            hashlib.sha256(str(root).encode("utf-8", "surrogateescape")).hexdigest()[:16] if root else "code"
        )
        self.path = Path(cache_dir) / f"code-cache-{tag}.pickle"
        self.version = ENGINE_VERSION + ":" + _engine_fingerprint(model_dirs)
        self.entries: dict[str, dict[str, Any]] = {}
        self.dirty = False
        # stat records: rel -> ((size, mtime_ns, ctime_ns, inode, device), hash, facts key),
        # trusted for files whose ctime is RACY_SECONDS older than the recording scan's start
        self.stats: dict[str, tuple[tuple[int, int, int, int, int], str, str]] = {}
        self.old_stats: dict[str, tuple[tuple[int, int, int, int, int], str, str]] = {}
        self.trusted_before = 0
        self.racy = False
        # the parts' digests (:func:`._parts.split`) of each module another one read, as last
        # analysed, in a file of their own read only when a file changed (to tell whether a
        # module that read it is affected); digests only: the cache holds no source text
        self.parts_path = Path(cache_dir) / f"code-parts-{tag}.pickle"
        self.parts: dict[str, tuple[str, Fingerprint]] | None = None
        self.new_content: set[str] = set()
        try:
            with self.path.open("rb") as fh:
                data = pickle.load(fh)
            if isinstance(data, dict) and data.get("version") == self.version:
                self.entries = data["entries"]
                stats, started = data.get("stats", {}), data.get("started", 0)
                if isinstance(stats, dict) and isinstance(started, int):
                    self.old_stats = stats
                    self.trusted_before = started - RACY_SECONDS * 1_000_000_000
        except (OSError, pickle.PickleError, EOFError, AttributeError, KeyError, TypeError, ValueError):
            self.entries = {}
            self.old_stats = {}

    @staticmethod
    def _stat_key(info: os.stat_result) -> tuple[int, int, int, int, int]:
        return (info.st_size, info.st_mtime_ns, info.st_ctime_ns, info.st_ino, info.st_dev)

    def unchanged(self, rel: str, info: os.stat_result) -> tuple[str, str] | None:
        """The recorded (content hash, facts key) of a file whose stat matches its record and
        whose ctime is old enough to trust it; None when it must be read."""
        old = self.old_stats.get(rel)
        if old is None or old[0] != self._stat_key(info):
            return None
        if info.st_ctime_ns >= self.trusted_before:
            # recorded too soon after it was written: recorded again from this scan's start,
            # so that a later scan can trust it
            self.racy = True
            return None
        self.stats[rel] = old
        return old[1], old[2]

    def record(self, rel: str, info: os.stat_result, digest: str, facts_key: str) -> None:
        """Keep a file's stat (as the walk saw it, before it was read) with its hashes."""
        self.stats[rel] = (self._stat_key(info), digest, facts_key)

    def get(
        self,
        rel: str,
        hashes: dict[str, str],
        same: Callable[[str, str, frozenset[str]], bool] | None = None,
        resolve: Callable[[str], str] | None = None,
    ) -> dict[str, Any] | None:
        """The results of ``rel`` when its content and every file it read are unchanged; a
        module it read whose content changed counts as unchanged when ``same(dep, old_hash,
        parts)`` (the parts of its tree it read are the same), and the entry then records the
        new hash. A module looked up by name must resolve, by ``resolve(dotted)``, to the
        same file as then (a file added, removed or renamed can change what an import means)."""
        e = self.entries.get(rel)
        if e is None or e["hash"] != hashes.get(rel):
            return None
        moved: dict[str, tuple[str, frozenset[str]]] = {}
        for dep, (h, parts) in e["deps"].items():
            if dep.startswith(LOOKUP):
                dotted, _, found = dep[1:].partition(LOOKUP)
                if resolve is None or resolve(dotted) != found:
                    return None
                continue
            now = hashes.get(dep)
            if now != h:
                if now is None or same is None or not same(dep, h, parts):
                    return None
                moved[dep] = (now, parts)
        if moved:
            e["deps"] = {**e["deps"], **moved}
            self.dirty = True
        return e

    def keep_source(self, rel: str, digest: str) -> None:
        """Note a file read in this run whose content is new to the cache (its parts' digests
        are kept at :meth:`save`, the version a later scan compares a changed file with)."""
        e = self.entries.get(rel)
        if e is None or e["hash"] != digest:
            self.new_content.add(rel)

    def _load_parts(self) -> dict[str, tuple[str, Fingerprint]]:
        if self.parts is None:
            self.parts = {}
            try:
                with self.parts_path.open("rb") as fh:
                    data = pickle.load(fh)
                if isinstance(data, dict) and data.get("version") == self.version:
                    self.parts = data["parts"]
            except (OSError, pickle.PickleError, EOFError, AttributeError, KeyError, TypeError, ValueError):
                self.parts = {}
        return self.parts

    def old_parts(self, rel: str, digest: str) -> Fingerprint | None:
        """The parts' digests of ``rel`` as of its version of content hash ``digest``, if kept."""
        kept = self._load_parts().get(rel)
        if kept is None or kept[0] != digest:
            return None
        return kept[1]

    def put(self, rel: str, hashes: dict[str, str], value: dict[str, Any]) -> None:
        deps = {d: (hashes.get(d, ""), parts) for d, parts in value.pop("deps", {}).items()}
        self.entries[rel] = {**value, "hash": hashes[rel], "deps": deps}
        self.dirty = True

    def save(
        self, started: int, hashes: dict[str, str], fingerprint: Callable[[str], Fingerprint | None]
    ) -> None:
        """Write the cache when an entry or a stat record changed; ``started`` is this scan's
        start (``time.time_ns()`` before its walk), the reference of the racy rule;
        ``fingerprint(rel)`` gives the parts' digests of a module of new content (None when it
        was not parsed), kept for the modules another one read."""
        if not self.dirty and not self.racy and self.stats == self.old_stats:
            return
        read = {dep for e in self.entries.values() for dep in e["deps"]}
        fresh: dict[str, tuple[str, Fingerprint]] = {}
        for rel in sorted(self.new_content & read):
            fp = fingerprint(rel)
            if fp is not None and rel in hashes:
                fresh[rel] = (hashes[rel], fp)
        if fresh:
            kept = {**self._load_parts(), **fresh}
            _write_pickle(
                self.parts_path,
                {"version": self.version, "parts": {k: v for k, v in kept.items() if k in read}},
            )
        _write_pickle(
            self.path,
            {"version": self.version, "entries": self.entries, "stats": self.stats, "started": started},
        )


def _write_pickle(path: Path, value: object) -> None:
    """Replace ``path`` with ``value`` pickled, atomically (errors ignored: a cache)."""
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        # a temporary file of this writer's own: two scans (or two verification threads of
        # `mamori fix`) saving at once must never write through one file
        fd, tmp = tempfile.mkstemp(prefix=path.name + ".", suffix=".tmp", dir=path.parent)
        try:
            with os.fdopen(fd, "wb") as fh:
                pickle.dump(value, fh, protocol=pickle.HIGHEST_PROTOCOL)
            os.replace(tmp, path)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise
    except OSError:
        pass


class _Sources(Mapping[str, bytes]):
    """The bytes of each Python file by relative path; a file found unchanged by its stat
    record is read only when something asks for its bytes (a module analysed again because a
    module it read changed, or the line of a finding)."""

    def __init__(self, errors: list[ScanError]) -> None:
        self._data: dict[str, bytes | None] = {}
        self._paths: dict[str, Path] = {}
        self._errors = errors
        self.reads = 0
        """Files read on demand (after their stat record had spared them)."""

    def __setitem__(self, rel: str, data: bytes) -> None:
        self._data[rel] = data

    def later(self, rel: str, path: Path) -> None:
        self._data[rel] = None
        self._paths[rel] = path

    def __getitem__(self, rel: str) -> bytes:
        data = self._data[rel]
        if data is None:
            data = _read_source(self._paths[rel], rel, self._errors) or b""
            self.reads += 1
            self._data[rel] = data
        return data

    def __contains__(self, rel: object) -> bool:
        return rel in self._data

    def __iter__(self) -> Iterator[str]:
        return iter(self._data)

    def __len__(self) -> int:
        return len(self._data)
