"""The analysis stage: find vulnerabilities in a project's own Python code.

:func:`scan_code` parses every Python file (any Python version, see :mod:`._parse`), follows
untrusted data through the whole project with the taint engine (:mod:`._engine`), runs the
checks that need no flow (:mod:`._checks`) and returns :class:`mamori.model.Finding` values
with their traces. Models (sources, sinks, sanitisers, rules) are YAML data in ``models/``;
users add their own folders with ``model_dirs``.

Inline suppression: ``# mamori: ignore[PY-SQLI] reason`` on the sink's line (or a bare
``# mamori: ignore``) keeps the finding in the result with ``status="not_affected"`` and the
reason as its justification, so outputs can still show it.

With ``cache_dir``, results are cached per file (keyed by content hash and engine version);
a module's taint results are reused until it or a module it read changes.
"""

from __future__ import annotations

import ast
import gc
import hashlib
import os
import pickle
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from mamori.analysis._checks import run_checks
from mamori.analysis._engine import ModuleInfo, Project, RawFinding, walk
from mamori.analysis._models import Models, load_models
from mamori.analysis._parse import parse_source
from mamori.model import Finding, Location, ScanError, TraceStep
from mamori.treewalk import MAX_SOURCE_BYTES, regular_file_error, walk_files

__all__ = ["ENGINE_VERSION", "CodeScanResult", "scan_code"]

ENGINE_VERSION = "6"
"""Bumped whenever the engine or its bundled models change what they report."""

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


def _discover(root: Path, errors: list[ScanError] | None = None) -> list[Path]:
    return list(
        walk_files(
            root,
            skip_dir=lambda d: d in _SKIP_DIRS or d.endswith(".egg-info"),
            want=lambda p: p.name.endswith((".py", ".pyw")),
            errors=errors,
        )
    )


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
    model_dirs: Sequence[Path] = (),
    progress: Callable[[int, int], None] | None = None,
) -> CodeScanResult:
    """Scan the Python code under ``root`` (or just ``files``) and return its findings."""
    # The trees of a whole project stay alive during the scan; with the default thresholds the
    # cyclic collector would re-traverse them again and again (a third of the run time on a
    # large project). Nothing the scan allocates needs cycle collection before it ends.
    thresholds = gc.get_threshold()
    gc.set_threshold(200_000, 50, 100)
    try:
        return _scan(root, files, cache_dir, model_dirs, progress)
    finally:
        gc.set_threshold(*thresholds)


def _scan(
    root: Path,
    files: Sequence[Path] | None,
    cache_dir: Path | None,
    model_dirs: Sequence[Path],
    progress: Callable[[int, int], None] | None,
) -> CodeScanResult:
    root = Path(root).resolve()
    models = load_models(model_dirs)
    errors: list[ScanError] = []
    paths = [Path(f).resolve() for f in files] if files is not None else _discover(root, errors)
    sources: dict[str, bytes] = {}
    hashes: dict[str, str] = {}
    for p in paths:
        try:
            rel = p.relative_to(root).as_posix()
        except ValueError:
            rel = p.as_posix()
        special = regular_file_error(p)
        if special:
            errors.append(ScanError(rel, f"skipped: {special}"))
            continue
        try:
            size = p.stat().st_size
            if size > MAX_SOURCE_BYTES:
                errors.append(
                    ScanError(
                        rel, f"skipped: file is {size} bytes, over the {MAX_SOURCE_BYTES}-byte limit for code"
                    )
                )
                continue
            data = p.read_bytes()
        except OSError as exc:
            errors.append(ScanError(rel, f"skipped: could not read ({exc.strerror or exc})"))
            continue
        sources[rel] = data
        hashes[rel] = hashlib.sha256(data).hexdigest()
    cache = _Cache(cache_dir, models) if cache_dir is not None else None
    modules: dict[str, ModuleInfo] = {}
    by_rel: dict[str, ModuleInfo] = {}
    package = _package_of(root)
    for rel in sources:
        name, is_pkg = _module_name(rel, package)
        mod = ModuleInfo(name, rel, is_pkg)
        modules.setdefault(name, mod)
        by_rel[rel] = mod
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

    project = Project(models, modules, lambda m: parse(m.relpath))
    raw: list[RawFinding] = []
    checks: list[tuple[str, Any]] = []
    total = len(sources)
    for i, rel in enumerate(sorted(sources)):
        if progress is not None:
            progress(i, total)
        cached = cache.get(rel, hashes) if cache is not None else None
        if cached is not None:
            raw.extend(cached["taint"])
            errors.extend(cached.get("notes", ()))
            checks.extend((rel, h) for h in cached["checks"])
            if cached.get("error"):
                parse_errors[rel] = cached["error"]
            continue
        tree = parse(rel)
        if tree is None:
            if cache is not None:
                cache.put(
                    rel, hashes, {"taint": [], "checks": [], "error": parse_errors.get(rel), "deps": []}
                )
            continue
        nodes = walk(tree)
        hits = list(run_checks(nodes, rel))
        checks.extend((rel, h) for h in hits)
        mod_raw: list[RawFinding] = []
        notes: list[ScanError] = []
        deps: list[str] = []
        if models.may_read_source(_words(sources[rel])):
            before = dict(project.findings)
            project.touched = set()
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
            deps = sorted({modules[m].relpath for m in project.touched if m in modules} - {rel})
        raw.extend(mod_raw)
        if cache is not None:
            cache.put(
                rel,
                hashes,
                {"taint": mod_raw, "checks": hits, "error": None, "notes": notes, "deps": deps},
            )
    if progress is not None:
        progress(total, total)
    if cache is not None:
        cache.save()
    findings = _to_findings(raw, checks, models, sources)
    errors.extend(parse_errors[k] for k in sorted(parse_errors))
    return CodeScanResult(tuple(findings), tuple(errors), len(sources))


def _line_text(sources: dict[str, bytes], cache: dict[str, list[str]], path: str, line: int) -> str:
    lines = cache.get(path)
    if lines is None:
        lines = sources.get(path, b"").decode("utf-8", "replace").splitlines()
        cache[path] = lines
    return lines[line - 1] if 0 < line <= len(lines) else ""


def _to_findings(
    raw: list[RawFinding], checks: list[tuple[str, Any]], models: Models, sources: dict[str, bytes]
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


class _Cache:
    """Per-file results keyed by content hash, engine version and models; one pickle file."""

    def __init__(self, cache_dir: Path, models: Models) -> None:
        self.path = Path(cache_dir) / "code-cache.pickle"
        key = repr(sorted(models.rules)) + repr(sorted(models.sources)) + repr(sorted(models.sinks))
        key += repr(sorted(models.sanitizers.items()))
        self.version = ENGINE_VERSION + ":" + hashlib.sha256(key.encode()).hexdigest()[:16]
        self.entries: dict[str, dict[str, Any]] = {}
        self.dirty = False
        try:
            with self.path.open("rb") as fh:
                data = pickle.load(fh)
            if isinstance(data, dict) and data.get("version") == self.version:
                self.entries = data["entries"]
        except (OSError, pickle.PickleError, EOFError, AttributeError, KeyError, TypeError, ValueError):
            self.entries = {}

    def get(self, rel: str, hashes: dict[str, str]) -> dict[str, Any] | None:
        e = self.entries.get(rel)
        if e is None or e["hash"] != hashes.get(rel):
            return None
        for dep, h in e["deps"].items():
            if hashes.get(dep) != h:
                return None
        return e

    def put(self, rel: str, hashes: dict[str, str], value: dict[str, Any]) -> None:
        deps = {d: hashes.get(d, "") for d in value.pop("deps", [])}
        self.entries[rel] = {**value, "hash": hashes[rel], "deps": deps}
        self.dirty = True

    def save(self) -> None:
        if not self.dirty:
            return
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            tmp = self.path.with_suffix(".tmp")
            with tmp.open("wb") as fh:
                pickle.dump(
                    {"version": self.version, "entries": self.entries}, fh, protocol=pickle.HIGHEST_PROTOCOL
                )
            os.replace(tmp, self.path)
        except OSError:
            pass
