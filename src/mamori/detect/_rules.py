"""Load Sigma rules with pySigma and compile them; what cannot be compiled is listed with why.

pySigma parses YAML, modifiers and conditions (``1 of selection*``, ``all of them`` …) and
resolves correlation references and meta filters; :mod:`._compile` turns each detection into
Python. A rule that fails is an :class:`UnsupportedRule` entry with its file and reason, never
an exception that hides the other rules.
"""

from __future__ import annotations

import functools
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import Any

import yaml
from sigma.collection import SigmaCollection
from sigma.correlations import SigmaCorrelationRule
from sigma.exceptions import SigmaError
from sigma.rule import SigmaRule

from mamori.detect._cache import RuleCache
from mamori.detect._compile import CompiledDetection, UnsupportedRule, compile_condition
from mamori.detect._limits import RuleTooLarge, check_rule
from mamori.detect._yaml import load_all_located, load_one
from mamori.errors import InputError
from mamori.model import ScanError

_LEVELS = ("informational", "low", "medium", "high", "critical")


@dataclass(frozen=True, slots=True)
class Rule:
    """A Sigma detection rule, compiled."""

    id: str
    title: str
    level: str
    """Sigma level: informational, low, medium, high or critical."""
    tags: tuple[str, ...]
    path: str
    product: str | None
    category: str | None
    service: str | None
    detection: CompiledDetection
    name: str | None = None
    status: str = ""
    description: str = ""
    generate: bool = True
    """False for a rule only used by correlations (it raises no alert of its own)."""


@dataclass(frozen=True, slots=True)
class Correlation:
    """A Sigma correlation rule (event_count, value_count, temporal, temporal_ordered …)."""

    id: str
    title: str
    level: str
    tags: tuple[str, ...]
    path: str
    type: str
    rules: tuple[str, ...]
    """Ids of the referenced rules or correlations, in the order given."""
    group_by: tuple[str, ...]
    timespan: float
    """Seconds."""
    op: str
    """Condition operator: gt, gte, lt, lte, eq, neq."""
    count: float
    field: str | None = None
    aliases: tuple[tuple[str, tuple[tuple[str, str], ...]], ...] = ()
    """(alias, ((rule id, field), …)) pairs."""
    name: str | None = None
    conditions: tuple[tuple[str, float], ...] = ()
    """Every (operator, value) pair of the condition (a range has two)."""


@dataclass(frozen=True, slots=True)
class UnsupportedEntry:
    """A rule that could not be loaded, and why."""

    path: str
    reason: str
    rule_id: str = ""
    title: str = ""


@dataclass(frozen=True, slots=True)
class RuleSet:
    """Rules ready for the engine."""

    rules: tuple[Rule, ...]
    correlations: tuple[Correlation, ...] = ()
    unsupported: tuple[UnsupportedEntry, ...] = ()

    def by_id(self) -> dict[str, Rule]:
        """Rules by id."""
        return {r.id: r for r in self.rules}

    def merged(self, other: RuleSet) -> RuleSet:
        """Both sets together."""
        return RuleSet(
            self.rules + other.rules,
            self.correlations + other.correlations,
            self.unsupported + other.unsupported,
        )


def rule_files(paths: Iterable[Path]) -> Iterator[Path]:
    """Every ``.yml``/``.yaml`` file under the given files and folders, in a stable order."""
    for p in paths:
        if p.is_dir():
            yield from sorted(x for x in p.rglob("*") if x.suffix in (".yml", ".yaml") and x.is_file())
        elif p.is_file():
            yield p
        else:
            raise InputError("no such rule file or folder", path=str(p))


@functools.cache
def placeholders() -> dict[str, list[str]]:
    """Values for ``|expand`` placeholders (``%name%``), from ``mappings/placeholders.yaml``."""
    try:
        text = resources.files("mamori.detect").joinpath("mappings", "placeholders.yaml").read_text("utf-8")
    except FileNotFoundError:
        return {}
    data = load_one(text) or {}
    return {str(k): [str(x) for x in v] for k, v in (data.get("placeholders") or {}).items()}


def _level(rule: Any) -> str:
    lv = getattr(rule, "level", None)
    if lv is None:
        return "medium"
    name = str(getattr(lv, "name", lv)).lower()
    return name if name in _LEVELS else "medium"


def _tags(rule: Any) -> tuple[str, ...]:
    return tuple(f"{t.namespace}.{t.name}".lower() for t in (getattr(rule, "tags", None) or []))


def _reason(errors: list[Any]) -> str:
    first = errors[0]
    return f"{type(first).__name__}: {first}"


def _parse(text: str, shown: str) -> tuple[SigmaCollection, list[UnsupportedEntry]]:
    """The rule documents of ``text`` as a collection, and those refused by :mod:`._limits`.

    A document over a cap is left out with an entry naming the file and line; the file's other
    documents are still parsed.

    Raises:
        yaml.YAMLError, SigmaError, ValueError, TypeError, AttributeError: the file as a whole.
    """
    kept: list[Any] = []
    refused: list[UnsupportedEntry] = []
    for doc, lines in load_all_located(text):
        try:
            check_rule(doc, lines)
        except RuleTooLarge as exc:
            rid = str(doc.get("id") or doc.get("name") or "") if isinstance(doc, dict) else ""
            title = str(doc.get("title") or "") if isinstance(doc, dict) else ""
            refused.append(UnsupportedEntry(shown, f"rule too large: {exc}", rid, title))
            continue
        kept.append(doc)
    return SigmaCollection.from_dicts(kept, collect_errors=True, collect_filters=True), refused


def load_rules(
    paths: Iterable[Path], *, relative_to: Path | None = None, cache: RuleCache | None = None
) -> RuleSet:
    """Load and compile every Sigma rule under ``paths`` (files or folders).

    Rules that pySigma rejects or that use something the engine cannot evaluate are returned in
    ``unsupported`` with their reason; they never stop the others. With a ``cache``, a file whose
    compiled form is stored (same bytes, same engine) is taken from it without pySigma, and every
    file compiled here is stored for the next load.
    """
    results: list[RuleSet | None] = []
    parsed: list[tuple[int, str, SigmaCollection, str, tuple[UnsupportedEntry, ...]]] = []
    texts: list[tuple[str, str]] = []
    failed: list[RuleSet] = []
    for f in rule_files(paths):
        shown = str(f.relative_to(relative_to)) if relative_to and f.is_relative_to(relative_to) else str(f)
        try:
            data = f.read_bytes()
            text = data.decode("utf-8")
        except (OSError, UnicodeDecodeError) as exc:
            failed.append(RuleSet((), (), (UnsupportedEntry(shown, f"unreadable: {exc}"),)))
            results.append(failed[-1])
            continue
        texts.append((shown, text))
        key = cache.key(data) if cache is not None else ""
        if cache is not None:
            hit = cache.get(key, shown)
            if hit is not None:
                results.append(hit)
                continue
        try:
            coll, refused = _parse(text, shown)
        except (SigmaError, yaml.YAMLError, ValueError, TypeError, AttributeError) as exc:
            failed.append(RuleSet((), (), (UnsupportedEntry(shown, f"{type(exc).__name__}: {exc}"),)))
            results.append(failed[-1])
            continue
        parsed.append((len(results), shown, coll, key, tuple(refused)))
        results.append(None)
    if any(_refers_to_others(coll) for _, _, coll, _, _ in parsed):
        # filters and correlations reach into other files: compile the whole set together
        return _load_together(texts, failed)
    for i, shown, coll, key, too_large in parsed:
        # the file's refused rules are kept with its compiled ones, so a cache hit lists them too
        compiled = _compile_collections([(shown, coll)], list(too_large))
        results[i] = compiled
        if cache is not None:
            cache.put(key, compiled)
    out = RuleSet(())
    for r in results:
        if r is not None:
            out = RuleSet(out.rules + r.rules, (), out.unsupported + r.unsupported)
    return out


def _refers_to_others(coll: SigmaCollection) -> bool:
    return bool(coll.filters) or any(isinstance(r, SigmaCorrelationRule) for r in coll.rules)


def _load_together(texts: list[tuple[str, str]], failed: list[RuleSet]) -> RuleSet:
    """Parse every file and compile all rules as one collection (references are resolved)."""
    collections: list[tuple[str, SigmaCollection]] = []
    unsupported = [u for r in failed for u in r.unsupported]
    for shown, text in texts:
        try:
            coll, refused = _parse(text, shown)
        except (SigmaError, yaml.YAMLError, ValueError, TypeError, AttributeError):
            continue  # already listed in ``failed``
        unsupported.extend(refused)
        collections.append((shown, coll))
    return _compile_collections(collections, unsupported)


def load_rules_from_text(text: str, path: str = "<rules>") -> RuleSet:
    """Load rules from YAML text (one or several documents)."""
    coll, refused = _parse(text, path)
    return _compile_collections([(path, coll)], refused)


def _compile_collections(
    collections: list[tuple[str, SigmaCollection]], unsupported: list[UnsupportedEntry]
) -> RuleSet:
    origin: dict[int, str] = {}
    merged_rules: list[Any] = []
    coll_errors: list[UnsupportedEntry] = []
    for shown, coll in collections:
        for r in list(coll.rules) + list(coll.filters):
            origin[id(r)] = shown
            merged_rules.append(r)
        for err in coll.errors:
            coll_errors.append(UnsupportedEntry(shown, f"{type(err).__name__}: {err}"))
    try:
        merged = SigmaCollection(merged_rules)
    except SigmaError as exc:
        unsupported.append(UnsupportedEntry("<rules>", f"filters or correlation references: {exc}"))
        merged = SigmaCollection(
            [r for r in merged_rules if isinstance(r, SigmaRule)], resolve_references=False
        )
    correlated: set[str] = set()
    corrs: list[Correlation] = []
    for r in merged.rules:
        if isinstance(r, SigmaCorrelationRule):
            shown = origin.get(id(r), "<rules>")
            try:
                corr = _correlation(r, shown)
            except (SigmaError, AttributeError, TypeError, ValueError) as exc:
                unsupported.append(UnsupportedEntry(shown, f"correlation: {exc}", str(r.id or ""), r.title))
                continue
            corrs.append(corr)
            if not r.generate:
                correlated.update(corr.rules)
    compiled: list[Rule] = []
    holder = placeholders()
    for r in merged.rules:
        if not isinstance(r, SigmaRule):
            continue
        shown = origin.get(id(r), "<rules>")
        rid = str(r.id) if r.id else (r.name or f"{shown}#{r.title}")
        if r.errors:
            unsupported.append(UnsupportedEntry(shown, _reason(r.errors), rid, r.title))
            continue
        try:
            conditions = [c.parsed for c in r.detection.parsed_condition]
            detection = compile_condition(conditions, holder)
        except (SigmaError, UnsupportedRule, RecursionError, TypeError, ValueError, AttributeError) as exc:
            unsupported.append(UnsupportedEntry(shown, f"{type(exc).__name__}: {exc}", rid, r.title))
            continue
        ls = r.logsource
        compiled.append(
            Rule(
                id=rid,
                title=r.title,
                level=_level(r),
                tags=_tags(r),
                path=shown,
                product=ls.product,
                category=ls.category,
                service=ls.service,
                detection=detection,
                name=r.name,
                status=str(r.status.name).lower() if r.status else "",
                description=r.description or "",
                generate=(rid not in correlated and (r.name or "") not in correlated),
            )
        )
    # pySigma reports a broken rule both on the rule and on its collection: keep one entry
    seen = {(u.path, u.reason) for u in unsupported}
    unsupported.extend(u for u in coll_errors if (u.path, u.reason) not in seen)
    return RuleSet(tuple(compiled), tuple(corrs), tuple(unsupported))


def _correlation(r: SigmaCorrelationRule, shown: str) -> Correlation:
    refs: list[str] = []
    by_reference: dict[str, str] = {}
    for ref in r.rules or []:
        target = getattr(ref, "rule", None)
        if target is None:
            raise UnsupportedRule(f"unresolved rule reference {ref.reference}")
        resolved = str(target.id) if target.id else (target.name or ref.reference)
        refs.append(resolved)
        by_reference[ref.reference] = resolved
    cond = r.condition
    op = str(getattr(getattr(cond, "op", None), "name", "gte")).lower()
    count = float(getattr(cond, "count", 1) or 0)
    conditions = [(op, count)]
    extra = getattr(cond, "conditions", None)
    if isinstance(extra, list):
        conditions = [(str(c.op.name).lower(), float(c.count)) for c in extra]
    fieldref = getattr(cond, "fieldref", None)
    aliases: list[tuple[str, tuple[tuple[str, str], ...]]] = []
    for alias in r.aliases or []:
        mapping: list[tuple[str, str]] = []
        for ref, fname in alias.mapping.items():
            target = getattr(ref, "rule", None)
            reference = getattr(ref, "reference", str(ref))
            rid = (
                str(target.id) if target is not None and target.id else by_reference.get(reference, reference)
            )
            mapping.append((rid, fname))
        aliases.append((alias.alias, tuple(mapping)))
    fieldname: str | None
    fieldname = ",".join(fieldref) if isinstance(fieldref, list) else fieldref
    return Correlation(
        id=str(r.id) if r.id else (r.name or f"{shown}#{r.title}"),
        title=r.title,
        level=_level(r),
        tags=_tags(r),
        path=shown,
        type=str(r.type.name).lower(),
        rules=tuple(refs),
        group_by=tuple(r.group_by or ()),
        timespan=float(r.timespan.seconds),
        op=op,
        count=count,
        field=fieldname,
        aliases=tuple(aliases),
        name=r.name,
        conditions=tuple(conditions),
    )


def bundled_rules_path() -> Path:
    """The folder of mamori's bundled rule pack."""
    return Path(str(resources.files("mamori.detect").joinpath("rules")))


__all__ = [
    "Correlation",
    "Rule",
    "RuleSet",
    "ScanError",
    "UnsupportedEntry",
    "bundled_rules_path",
    "load_rules",
    "load_rules_from_text",
    "rule_files",
]
