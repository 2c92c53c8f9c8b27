"""A cache of compiled Sigma rules, so a second run over the same rule folder skips pySigma.

Loading the 2,407 SigmaHQ Windows rules spends most of its time in pySigma (YAML, modifiers,
condition parsing) and in generating and compiling each rule's Python predicates; matching the
events afterwards is cheaper. Rule folders rarely change between runs, so each rule file's
result is stored under ``MAMORI_HOME/cache/detect/``: the rules' metadata, the compiled code
objects of their predicates (``marshal``), the recipes of the constants the code names (regular
expressions, value sets, networks), the pre-filter atoms, and the file's unsupported entries.

An entry is keyed by the SHA-256 of the file's bytes together with the engine version (the
source of the compiler, the loader and this module, the pySigma and Python versions, and the
logsource mappings' content). The key is also stored inside the entry and checked on read; an
entry that does not decode, has the wrong key or the wrong shape is ignored (the file is
compiled again and the entry rewritten atomically). Only files of plain rules are cached: filters
and correlation rules refer to rules in other files, so a rule set holding one is always
compiled from scratch.
"""

from __future__ import annotations

import functools
import hashlib
import importlib.util
import marshal
import os
import sys
import tempfile
from dataclasses import dataclass
from importlib import metadata, resources
from pathlib import Path
from typing import TYPE_CHECKING, Any

from mamori.detect import _compile

if TYPE_CHECKING:
    from mamori.detect._rules import RuleSet

_MAGIC = b"mamori-sigma-cache/1\n"


@functools.cache
def engine_version() -> str:
    """A digest of everything a compiled rule depends on besides its own file."""
    h = hashlib.sha256(_MAGIC)
    h.update(sys.version.encode())
    h.update(importlib.util.MAGIC_NUMBER)
    try:
        h.update(metadata.version("pysigma").encode())
    except metadata.PackageNotFoundError:  # pragma: no cover - pySigma is a dependency
        h.update(b"pysigma?")
    here = Path(__file__).resolve().parent
    for name in ("_compile.py", "_rules.py", "_cache.py", "_yaml.py"):
        h.update(name.encode())
        h.update((here / name).read_bytes())
    mappings = resources.files("mamori.detect").joinpath("mappings")
    for entry in sorted(mappings.iterdir(), key=lambda e: e.name) if mappings.is_dir() else []:
        if entry.is_file():
            h.update(entry.name.encode())
            h.update(entry.read_bytes())
    return h.hexdigest()


@dataclass(slots=True)
class CacheStats:
    """What the cache did during loads (for tests and the benchmark)."""

    hits: int = 0
    misses: int = 0
    rejected: int = 0
    """Entries that existed but were corrupt, stale or of the wrong shape."""
    writes: int = 0


class RuleCache:
    """Compiled rule files stored in ``folder``, one entry per distinct file content."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self.stats = CacheStats()

    def key(self, content: bytes) -> str:
        """The entry key of a rule file with these bytes."""
        h = hashlib.sha256(engine_version().encode())
        h.update(b"\0")
        h.update(content)
        return h.hexdigest()

    def _path(self, key: str) -> Path:
        return self.folder / key[:2] / f"{key}.bin"

    def get(self, key: str, shown: str) -> RuleSet | None:
        """The stored rule set of the file with ``key`` (rules' paths set to ``shown``), or None."""
        path = self._path(key)
        try:
            blob = path.read_bytes()
        except OSError:
            self.stats.misses += 1
            return None
        try:
            if not blob.startswith(_MAGIC):
                raise ValueError("not a cache entry")
            payload = marshal.loads(blob[len(_MAGIC) :])
            ruleset = _decode(payload, key, shown)
        except Exception:
            self.stats.rejected += 1
            self.stats.misses += 1
            return None
        self.stats.hits += 1
        return ruleset

    def put(self, key: str, ruleset: RuleSet) -> None:
        """Store the compiled rules of one file (atomically; a failure only costs the cache)."""
        try:
            payload = _encode(key, ruleset)
            if payload is None:
                return
            blob = _MAGIC + marshal.dumps(payload)
            target = self._path(key)
            target.parent.mkdir(parents=True, exist_ok=True)
            fd, tmp = tempfile.mkstemp(dir=target.parent, prefix=".tmp-", suffix=".bin")
            try:
                with os.fdopen(fd, "wb") as fh:
                    fh.write(blob)
                os.replace(tmp, target)
            except BaseException:
                Path(tmp).unlink(missing_ok=True)
                raise
        except (OSError, ValueError):
            return
        self.stats.writes += 1


def default_rule_cache() -> RuleCache:
    """The cache under ``MAMORI_HOME/cache/detect``."""
    from mamori.config import mamori_home

    return RuleCache(mamori_home() / "cache" / "detect")


def _encode(key: str, ruleset: RuleSet) -> tuple[Any, ...] | None:
    rules: list[tuple[Any, ...]] = []
    for r in ruleset.rules:
        d = r.detection
        if d.code is None or not r.generate:
            return None
        rules.append(
            (
                r.id,
                r.title,
                r.level,
                r.tags,
                r.product,
                r.category,
                r.service,
                r.name,
                r.status,
                r.description,
                d.code,
                d.recipes,
                d.atoms,
                d.fields,
                d.source,
                d.generic_source,
            )
        )
    unsupported = tuple((u.reason, u.rule_id, u.title) for u in ruleset.unsupported)
    return (key, tuple(rules), unsupported)


def _decode(payload: Any, key: str, shown: str) -> RuleSet:
    from mamori.detect._rules import Rule, RuleSet, UnsupportedEntry

    stored_key, rules_data, unsupported_data = payload
    if stored_key != key:
        raise ValueError("entry of another key")
    rules: list[Rule] = []
    for item in rules_data:
        (rid, title, level, tags, product, category, service, name, status, description) = item[:10]
        code, recipes, atoms, fields, source, generic_source = item[10:]
        if not (isinstance(rid, str) and isinstance(title, str) and isinstance(tags, tuple)):
            raise ValueError("bad rule entry")
        if atoms is not None and not isinstance(atoms, frozenset):
            raise ValueError("bad atoms")
        detection = _compile.rebuild_detection(
            tuple(code),
            recipes,
            atoms,
            frozenset(fields),
            str(source),
            str(generic_source),
        )
        rules.append(
            Rule(
                id=rid,
                title=title,
                level=str(level),
                tags=tuple(str(t) for t in tags),
                path=shown,
                product=product,
                category=category,
                service=service,
                detection=detection,
                name=name,
                status=str(status),
                description=str(description),
            )
        )
    unsupported = tuple(
        UnsupportedEntry(shown, str(reason), str(rid), str(title)) for reason, rid, title in unsupported_data
    )
    return RuleSet(tuple(rules), (), unsupported)
