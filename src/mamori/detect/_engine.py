"""The matching engine: which rules fire on an event, without trying every rule.

Cost is kept sub-linear in rules × events in two steps:

1. **Logsource buckets.** Events with the same logsource (say Sysmon event 1 =
   ``process_creation``) share one bucket, built on first sight, holding only the rules whose
   logsource applies.
2. **Pre-filter.** Every rule has a set of necessary atoms (see :mod:`._compile`): exact values
   go into a hash index per field, literals into one multi-pattern matcher per field (RE2's
   ``Set``, a DFA over all literals at once, like Aho-Corasick). An event only evaluates the
   rules that one of its field values points to, plus the few rules without atoms.

The candidates then run their generated Python predicates.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from mamori.detect._events import LogEvent, Logsource, linux_map, windows_map
from mamori.detect._literals import LiteralSet as _SubMatcher
from mamori.detect._rules import Rule


@dataclass(slots=True)
class _Bucket:
    """The rules of one logsource with their pre-filter indexes."""

    rules: list[Rule]
    always: list[int]
    index: dict[str, tuple[dict[str, list[int]] | None, _SubMatcher | None, list[list[int]]]]
    """Per field: exact values -> rules, literal matcher, rules per literal."""
    anyfield: tuple[_SubMatcher, list[list[int]]] | None
    """Literals of keyword rules, searched in every field value."""
    fast: list[Callable[[Any, Any], bool]]
    generic: list[Callable[[Any, Any], bool]]
    used: frozenset[str] | None
    """Lower-cased fields the bucket's rules read; ``None`` when a keyword rule reads them all."""


def _known_categories() -> frozenset[str]:
    return windows_map().categories | {"webserver"}


def _known_services() -> frozenset[str]:
    return windows_map().services | linux_map().services


def rule_applies(rule: Rule, ls: Logsource) -> bool:
    """Does ``rule``'s logsource cover events of logsource ``ls``?

    A rule is skipped only when the event's source is known and differs. An unknown event
    logsource (a JSON line naming no source) is covered by every rule. A known one rules out a
    rule of another product, category or service — a database keyword rule never runs on
    Sysmon events. One exception keeps rules that cannot be ruled out: a rule of the event's
    own product naming a category or service no mapping produces is applied to every event of
    that product. Syslog records may come from any service (``any_service``), and access logs
    name no product (Apache, nginx and IIS write the same lines).
    """
    if not ls.known:
        return True
    same_product = bool(rule.product) and rule.product == ls.product
    if rule.product and ls.product and not same_product:
        return False
    if (
        rule.category
        and rule.category not in ls.categories
        and (rule.category in _known_categories() or not same_product)
    ):
        return False
    return not (
        rule.service
        and rule.service not in ls.services
        and not ls.any_service
        and (rule.service in _known_services() or not same_product)
    )


class Engine:
    """Matches events against a set of compiled rules."""

    def __init__(self, rules: Sequence[Rule]) -> None:
        self.rules = list(rules)
        self._buckets: dict[Logsource, _Bucket] = {}
        self._keys: dict[str, str] = {}
        """Field name -> lower-cased field name (field names repeat: lower each once)."""
        self.evaluations = 0
        """How many (rule, event) predicates were evaluated (for the benchmark)."""

    def applicable(self) -> int:
        """How many rules apply to the log sources of the events seen so far (a rule for web
        server logs does not apply to a Windows event): what a run really checked."""
        return len({id(r) for b in self._buckets.values() for r in b.rules})

    def _bucket(self, ls: Logsource) -> _Bucket:
        b = self._buckets.get(ls)
        if b is None:
            b = self._build([r for r in self.rules if rule_applies(r, ls)])
            self._buckets[ls] = b
        return b

    @staticmethod
    def _build(rules: list[Rule]) -> _Bucket:
        always: list[int] = []
        eq: dict[str, dict[str, list[int]]] = {}
        sub_lits: dict[str, dict[str, list[int]]] = {}
        for i, r in enumerate(rules):
            atoms = r.detection.atoms
            if not atoms:
                always.append(i)
                continue
            for kind, fld, lit in atoms:
                if kind == "eq":
                    eq.setdefault(fld, {}).setdefault(lit, []).append(i)
                else:
                    sub_lits.setdefault(fld, {}).setdefault(lit, []).append(i)
        index: dict[str, tuple[dict[str, list[int]] | None, _SubMatcher | None, list[list[int]]]] = {}
        anyfield: tuple[_SubMatcher, list[list[int]]] | None = None
        for fld in set(eq) | set(sub_lits):
            lits = sub_lits.get(fld, {})
            keys = list(lits)
            matcher = _SubMatcher(keys) if keys else None
            ids = [lits[k] for k in keys]
            if fld == "*":
                if matcher is not None:
                    anyfield = (matcher, ids)
                continue
            index[fld] = (eq.get(fld), matcher, ids)
        used: frozenset[str] | None = frozenset(f for r in rules for f in r.detection.fields)
        if anyfield is not None or any("_kw" in r.detection.source for r in rules):
            used = None  # keyword rules search every value
        return _Bucket(
            rules=rules,
            always=always,
            index=index,
            anyfield=anyfield,
            fast=[r.detection.fast for r in rules],
            generic=[r.detection.generic for r in rules],
            used=used,
        )

    def match(self, event: LogEvent) -> list[Rule]:
        """The rules that fire on ``event``, in rule order."""
        b = self._bucket(event.logsource)
        if not b.rules:
            return []
        keys = self._keys
        used = b.used
        try:
            if used is None:
                o = {keys[k]: v for k, v in event.fields.items()}
            else:  # only the fields some rule reads: the others cost nothing below
                o = {lk: v for k, v in event.fields.items() if (lk := keys[k]) in used}
        except KeyError:
            if len(keys) > 100_000:  # field names from wild JSON: keep the cache bounded
                keys.clear()
            for k in event.fields:
                keys.setdefault(k, k.lower())
            if used is None:
                o = {keys[k]: v for k, v in event.fields.items()}
            else:
                o = {lk: v for k, v in event.fields.items() if (lk := keys[k]) in used}
        if event.has_lists:
            l: dict[str, Any] = {}  # noqa: E741 - the name the generated code uses
            for k, v in o.items():
                if isinstance(v, str):
                    l[k] = v.lower()
                elif isinstance(v, tuple):
                    l[k] = tuple(x.lower() for x in v if isinstance(x, str))
            funcs = b.generic
        else:
            l = {k: v.lower() for k, v in o.items() if v.__class__ is str}  # noqa: E741
            funcs = b.fast
        cands = set(b.always)
        index = b.index
        for k, v in l.items():
            entry = index.get(k)
            if entry is None:
                continue
            eqmap, matcher, ids = entry
            if v.__class__ is str:
                if eqmap is not None:
                    hit = eqmap.get(v)
                    if hit:
                        cands.update(hit)
                if matcher is not None:
                    for i in matcher.match(v):
                        cands.update(ids[i])
            else:
                for x in v:
                    if eqmap is not None:
                        hit = eqmap.get(x)
                        if hit:
                            cands.update(hit)
                    if matcher is not None:
                        for i in matcher.match(x):
                            cands.update(ids[i])
        anyfield = b.anyfield
        if anyfield is not None:
            matcher, ids = anyfield
            if event.has_lists:
                text = "\n".join(
                    x for v in l.values() for x in (v if isinstance(v, tuple) else (v,)) if isinstance(x, str)
                )
            else:
                text = "\n".join(l.values())
            for i in matcher.match(text):
                cands.update(ids[i])
        if not cands:
            return []
        self.evaluations += len(cands)
        rules = b.rules
        return [rules[i] for i in sorted(cands) if funcs[i](o, l)]
