"""Compile a parsed Sigma condition tree into one Python function per rule, plus pre-filter atoms.

Why generated code: a detection is evaluated only for the few rules the pre-filter lets through,
and a generated expression such as ``'\\\\cmd.exe' in l.get('image', '')`` costs tens of
nanoseconds, where a tree of closures costs a function call per node. Each rule gets two
versions: a fast one that assumes every field holds one string, and a generic one (helpers that
also accept multi-valued fields) used for the rare event that has list values.

Events are seen through two dicts keyed by the lower-cased field name: ``o`` (original values,
``None`` for JSON null, tuples for lists) and ``l`` (lower-cased string values only). Sigma
matches case-insensitively unless ``|cased`` or ``|re`` say otherwise.

The pre-filter atoms of a rule are a *necessary* condition: if the rule matches an event, at
least one atom holds — either ``("eq", field, value)`` (the lower-cased field equals value) or
``("sub", field, literal)`` (literal occurs in the lower-cased field). ``None`` means no such
set exists (a negation, a regex without literals, a keyword) and the rule is always evaluated.
"""

from __future__ import annotations

import ipaddress
import re
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sigma.conditions import (
    ConditionAND,
    ConditionFieldEqualsValueExpression,
    ConditionItem,
    ConditionNOT,
    ConditionOR,
    ConditionValueExpression,
)
from sigma.types import (
    CompareOperators,
    Placeholder,
    SigmaBool,
    SigmaCasedString,
    SigmaCIDRExpression,
    SigmaCompareExpression,
    SigmaExists,
    SigmaExpansion,
    SigmaFieldReference,
    SigmaNull,
    SigmaNumber,
    SigmaQueryExpression,
    SigmaRegularExpression,
    SigmaRegularExpressionFlag,
    SigmaString,
    SigmaTimestampPart,
    SigmaType,
    SpecialChars,
    TimestampPart,
)

from mamori.detect._literals import LiteralSet

Atom = tuple[str, str, str]
"""A pre-filter atom: ``("eq" | "sub", lower-cased field, lower-cased literal)``."""

Matcher = Callable[[Mapping[str, Any], Mapping[str, str]], bool]
"""A compiled rule body: ``matcher(o, l) -> bool``."""

Recipe = tuple[Any, ...]
"""How to rebuild a constant of the generated code: ``("search", pattern, flags)``, ``("set",
(values …))``, ``("net", "10.0.0.0/8")`` … Plain data (``marshal``-able), so a compiled rule can
be stored in the rule cache and rebuilt without pySigma."""


class UnsupportedRule(Exception):
    """A rule uses something this engine cannot evaluate; the message says what."""


@dataclass(frozen=True, slots=True)
class CompiledDetection:
    """A rule's detection compiled to Python."""

    fast: Matcher
    """Evaluator for events whose fields are all single strings."""
    generic: Matcher
    """Evaluator that also handles multi-valued (list) fields."""
    atoms: frozenset[Atom] | None
    """Necessary pre-filter atoms, or ``None`` when the rule must always be evaluated."""
    fields: frozenset[str]
    """Lower-cased field names the rule reads."""
    source: str
    """The generated expression (for debugging and tests)."""
    generic_source: str = ""
    """The generated expression of :attr:`generic`."""
    recipes: tuple[tuple[str, Recipe], ...] = ()
    """The constants the expressions name, as (name, recipe) pairs."""
    code: tuple[Any, Any] | None = None
    """The compiled code objects of (fast, generic): what the rule cache stores. The generic
    one is ``None`` until an event with a list field first needs it (most logs never do, so a
    cold load compiles half as much)."""


class _LazyMatcher:
    """The generic evaluator, compiled from its source on first call."""

    __slots__ = ("_fn", "_ns", "_source")

    def __init__(self, source: str, ns: dict[str, Any]) -> None:
        self._source = source
        self._ns = ns
        self._fn: Matcher | None = None

    def __call__(self, o: Mapping[str, Any], l: Mapping[str, Any]) -> bool:  # noqa: E741
        fn = self._fn
        if fn is None:
            try:
                fn = eval(compile(f"lambda o, l: {self._source}", "<sigma>", "eval"), self._ns)
            except (SyntaxError, RecursionError, MemoryError):  # the fast form compiled: cannot happen
                fn = _never
            self._fn = fn
        return bool(fn(o, l))


def _never(o: Any, l: Any) -> bool:  # noqa: E741
    return False


# --------------------------------------------------------------------------- runtime helpers


def _values(v: Any) -> tuple[Any, ...]:
    if v is None:
        return ()
    if isinstance(v, tuple):
        return v
    return (v,)


def _any(v: Any, pred: Callable[[str], bool]) -> bool:
    """True when ``pred`` holds for the value or for any element of a multi-valued field."""
    if v is None:
        return False
    if isinstance(v, tuple):
        return any(pred(x) for x in v if x is not None)
    return pred(v)


def _to_number(v: Any) -> float | None:
    if v is None or isinstance(v, bool):
        return None
    if isinstance(v, int | float):
        return float(v)
    text = str(v).strip()
    try:
        if text[:2].lower() == "0x":
            return float(int(text, 16))
        return float(text)
    except ValueError:
        return None


_OPS: dict[CompareOperators, Callable[[float, float], bool]] = {
    CompareOperators.LT: lambda a, b: a < b,
    CompareOperators.LTE: lambda a, b: a <= b,
    CompareOperators.GT: lambda a, b: a > b,
    CompareOperators.GTE: lambda a, b: a >= b,
    CompareOperators.NEQ: lambda a, b: a != b,
}


def _cmp(v: Any, op: Callable[[float, float], bool], number: float) -> bool:
    for x in _values(v):
        n = _to_number(x)
        if n is not None and op(n, number):
            return True
    return False


def _cidr(v: Any, net: ipaddress.IPv4Network | ipaddress.IPv6Network) -> bool:
    for x in _values(v):
        try:
            if ipaddress.ip_address(str(x).strip("[]")) in net:
                return True
        except ValueError:
            continue
    return False


def _fieldref(a: Any, b: Any, mode: int) -> bool:
    """Compare two fields (lower-cased): 0 equal, 1 a startswith b, 2 a endswith b."""
    for x in _values(a):
        for y in _values(b):
            if not isinstance(x, str) or not isinstance(y, str):
                continue
            if (mode == 0 and x == y) or (mode == 1 and x.startswith(y)) or (mode == 2 and x.endswith(y)):
                return True
    return False


_TIME_PARTS: dict[TimestampPart, Callable[[datetime], int]] = {
    TimestampPart.MINUTE: lambda d: d.minute,
    TimestampPart.HOUR: lambda d: d.hour,
    TimestampPart.DAY: lambda d: d.day,
    TimestampPart.WEEK: lambda d: d.isocalendar()[1],
    TimestampPart.MONTH: lambda d: d.month,
    TimestampPart.YEAR: lambda d: d.year,
}


def _timepart(v: Any, part: TimestampPart, number: int) -> bool:
    for x in _values(v):
        try:
            d = datetime.fromisoformat(str(x).strip().replace("Z", "+00:00").replace(" ", "T", 1))
        except ValueError:
            continue
        if _TIME_PARTS[part](d) == number:
            return True
    return False


def _keyword_sub(l: Mapping[str, Any], needle: str) -> bool:  # noqa: E741 - the shared event name
    for v in l.values():
        if isinstance(v, str):
            if needle in v:
                return True
        elif isinstance(v, tuple) and any(isinstance(x, str) and needle in x for x in v):
            return True
    return False


def _keyword_re(l: Mapping[str, Any], rx: re.Pattern[str]) -> bool:  # noqa: E741
    for v in l.values():
        for x in v if isinstance(v, tuple) else (v,):
            if isinstance(x, str) and rx.search(x) is not None:
                return True
    return False


_ALLOWED_FLAGS = int(re.IGNORECASE | re.MULTILINE | re.DOTALL)


def _any_of(literals: tuple[str, ...]) -> Callable[[str], bool]:
    """A test of whether a text contains any of ``literals``: one RE2 Set pass
    (:class:`LiteralSet`) instead of a Python loop over every literal, which a rule of forty SQL
    keywords ran on every request of a web log."""
    found = LiteralSet(literals)
    return lambda text: bool(found.match(text))


def build_const(recipe: Recipe) -> Any:
    """The constant described by ``recipe`` (raises ``ValueError`` for an unknown recipe)."""
    kind = recipe[0]
    if kind in ("search", "fullmatch", "rx"):
        pattern, flags = recipe[1], recipe[2]
        if not isinstance(pattern, str) or not isinstance(flags, int) or flags & ~_ALLOWED_FLAGS:
            raise ValueError(f"bad regular expression recipe {recipe!r}")
        rx = re.compile(pattern, flags)
        return rx if kind == "rx" else rx.search if kind == "search" else rx.fullmatch
    if kind == "set":
        return frozenset(str(x) for x in recipe[1])
    if kind == "anyof":
        return _any_of(tuple(str(x) for x in recipe[1]))
    if kind == "time":
        return TimestampPart[str(recipe[1])]
    if kind == "net":
        return ipaddress.ip_network(str(recipe[1]), strict=False)
    if kind == "op":
        return _OPS[CompareOperators[str(recipe[1])]]
    raise ValueError(f"unknown constant recipe {kind!r}")


def _namespace() -> dict[str, Any]:
    return {
        "__builtins__": __builtins__,
        "_any": _any,
        "_cmp": _cmp,
        "_cidr": _cidr,
        "_fieldref": _fieldref,
        "_timepart": _timepart,
        "_kwsub": _keyword_sub,
        "_kwre": _keyword_re,
        "_values": _values,
    }


def rebuild_detection(
    code: tuple[Any, Any],
    recipes: Iterable[tuple[str, Recipe]],
    atoms: frozenset[Atom] | None,
    fields: frozenset[str],
    source: str,
    generic_source: str,
) -> CompiledDetection:
    """A :class:`CompiledDetection` from its stored parts (the rule cache), without pySigma.

    ``code`` holds the code objects :func:`compile_condition` made; evaluating them in a fresh
    namespace of rebuilt constants gives the same functions.
    """
    ns = _namespace()
    recipes = tuple(recipes)
    for name, recipe in recipes:
        if not isinstance(name, str) or not name.startswith("_k"):
            raise ValueError(f"bad constant name {name!r}")
        ns[name] = build_const(recipe)
    fast_fn = eval(code[0], ns)
    generic_fn: Matcher = eval(code[1], ns) if code[1] is not None else _LazyMatcher(generic_source, ns)
    if not callable(fast_fn) or not callable(generic_fn):
        raise ValueError("stored code does not make functions")
    return CompiledDetection(
        fast=fast_fn,
        generic=generic_fn,
        atoms=atoms,
        fields=fields,
        source=source,
        generic_source=generic_source,
        recipes=recipes,
        code=code,
    )


# --------------------------------------------------------------------------- code generation


_CHAINED_CONTAINS = 8
"""Up to this many OR-ed ``contains`` values on one field are tested one by one (more: one
RE2 Set pass, :func:`_any_of`)."""


class _Gen:
    """Generates the expression of one rule; constants go to a namespace, not into the source."""

    def __init__(self, placeholders: Mapping[str, list[str]]) -> None:
        self.ns: dict[str, Any] = _namespace()
        self.fields: set[str] = set()
        self.placeholders = placeholders
        self.recipes: list[tuple[str, Recipe]] = []
        self._n = 0

    def const(self, recipe: Recipe) -> str:
        """Bind the constant built from ``recipe`` to a fresh name of the namespace."""
        name = f"_k{self._n}"
        self.ns[name] = build_const(recipe)
        self._n += 1
        self.recipes.append((name, recipe))
        return name

    # ---- tree

    def node(self, n: Any, generic: bool) -> tuple[str, frozenset[Atom] | None]:
        if isinstance(n, ConditionAND):
            parts = [self.node(a, generic) for a in n.args]
            atoms = _best([a for _, a in parts])
            return "(" + " and ".join(p for p, _ in parts) + ")", atoms
        if isinstance(n, ConditionOR):
            parts = self._merged_or(n.args) if not generic else []
            parts += [self.node(a, generic) for a in n.args if generic or _shape(a) is None]
            union: set[Atom] = set()
            ok = True
            for _, a in parts:
                if a is None:
                    ok = False
                    break
                union |= a
            return "(" + " or ".join(p for p, _ in parts) + ")", frozenset(union) if ok else None
        if isinstance(n, ConditionNOT):
            inner, _ = self.node(n.args[0], generic)
            return f"(not {inner})", None
        if isinstance(n, ConditionFieldEqualsValueExpression):
            return self.field_value(n.field, n.value, generic)
        if isinstance(n, ConditionValueExpression):
            return self.keyword(n.value)
        if isinstance(n, ConditionItem) and not getattr(n, "args", None):
            raise UnsupportedRule(f"empty condition item {type(n).__name__}")
        raise UnsupportedRule(f"condition element {type(n).__name__} is not supported")

    def _merged_or(self, args: list[Any]) -> list[tuple[str, frozenset[Atom] | None]]:
        """OR-ed plain matches on one field become one test: ``v.endswith((a, b, c))``.

        Sigma value lists (``Image|endswith: [...]``) are the common case; one lookup and one
        call replace one per value.
        """
        groups: dict[tuple[str, str], list[str]] = {}
        for a in args:
            shape = _shape(a)
            if shape is not None:
                kind, key, text = shape
                groups.setdefault((kind, key), []).append(text)
        out: list[tuple[str, frozenset[Atom] | None]] = []
        for (kind, key), texts in groups.items():
            self.fields.add(key)
            k = repr(key)
            lits = repr(tuple(dict.fromkeys(texts)))
            if kind == "eq":
                out.append(
                    (
                        f"(l.get({k}) in {self.const(('set', tuple(sorted(set(texts)))))})",
                        frozenset(("eq", key, t) for t in texts),
                    )
                )
                continue
            atoms = frozenset(("sub", key, t) for t in texts)
            if kind == "ends":
                out.append((f"l.get({k}, '\\x00').endswith({lits})", atoms))
            elif kind == "starts":
                out.append((f"l.get({k}, '\\x00').startswith({lits})", atoms))
            elif len(texts) <= _CHAINED_CONTAINS:  # chained ``in`` tests beat any() over a few
                chain = " or ".join(f"{t!r} in v" for t in dict.fromkeys(texts))
                out.append((f"((v := l.get({k})) is not None and ({chain}))", atoms))
            else:  # a long list (hashes, emoji): one constant, not thousands of tests to compile
                found = self.const(("anyof", tuple(sorted(set(texts)))))
                out.append((f"((v := l.get({k})) is not None and {found}(v))", atoms))
        return out

    # ---- values

    def field_value(self, field: str, value: SigmaType, generic: bool) -> tuple[str, frozenset[Atom] | None]:
        key = field.lower()
        self.fields.add(key)
        k = repr(key)
        if isinstance(value, SigmaExpansion):
            parts = [self.field_value(field, v, generic) for v in value.values]
            union: set[Atom] = set()
            ok = True
            for _, a in parts:
                if a is None:
                    ok = False
                else:
                    union |= a
            return "(" + " or ".join(p for p, _ in parts) + ")", frozenset(union) if ok else None
        if isinstance(value, SigmaString) and value.contains_placeholder():
            return self.field_value(field, self.expand(value), generic)
        if isinstance(value, SigmaCasedString):
            return self.string(key, value, cased=True, generic=generic)
        if isinstance(value, SigmaString):
            return self.string(key, value, cased=False, generic=generic)
        if isinstance(value, SigmaBool):
            lit = "true" if value.boolean else "false"
            if generic:
                return f"_any(l.get({k}), lambda v: v == {lit!r})", frozenset({("eq", key, lit)})
            return f"(l.get({k}) == {lit!r})", frozenset({("eq", key, lit)})
        if isinstance(value, SigmaTimestampPart):
            return (
                f"_timepart(o.get({k}), {self.const(('time', value.timestamp_part.name))}, {int(value.number)})",
                None,
            )
        if isinstance(value, SigmaNumber):
            lit = str(value.number).lower()
            if generic:
                return f"_any(l.get({k}), lambda v: v == {lit!r})", frozenset({("eq", key, lit)})
            return f"(l.get({k}) == {lit!r})", frozenset({("eq", key, lit)})
        if isinstance(value, SigmaNull):
            return f"(o.get({k}) in (None, ''))", None
        if isinstance(value, SigmaExists):
            return (f"({k} in o)" if value.exists else f"({k} not in o)"), None
        if isinstance(value, SigmaRegularExpression):
            flags = 0
            for f in value.flags:
                flags |= {
                    SigmaRegularExpressionFlag.IGNORECASE: re.IGNORECASE,
                    SigmaRegularExpressionFlag.MULTILINE: re.MULTILINE,
                    SigmaRegularExpressionFlag.DOTALL: re.DOTALL,
                }.get(f, 0)
            pattern = (
                value.regexp.to_plain_regex() if isinstance(value.regexp, SigmaString) else str(value.regexp)
            )
            try:
                name = self.const(("search", pattern, int(flags)))
            except re.error as exc:
                raise UnsupportedRule(f"regular expression {pattern!r}: {exc}") from exc
            atoms = _regex_atoms(key, pattern, flags)
            if not generic:  # single string values: no helper call
                return f"((v := o.get({k})).__class__ is str and {name}(v) is not None)", atoms
            return f"_any(o.get({k}), lambda v: isinstance(v, str) and {name}(v) is not None)", atoms
        if isinstance(value, SigmaCIDRExpression):
            return f"_cidr(o.get({k}), {self.const(('net', str(value.network)))})", None
        if isinstance(value, SigmaCompareExpression):
            return (
                f"_cmp(o.get({k}), {self.const(('op', value.op.name))}, {float(value.number.number)!r})",
                None,
            )
        if isinstance(value, SigmaFieldReference):
            other = value.field.lower()
            self.fields.add(other)
            mode = 1 if value.starts_with else 2 if value.ends_with else 0
            return f"_fieldref(l.get({k}), l.get({other!r}), {mode})", None
        if isinstance(value, SigmaQueryExpression):
            raise UnsupportedRule("query expressions (backend-specific placeholders) cannot be evaluated")
        raise UnsupportedRule(f"value type {type(value).__name__} is not supported")

    def expand(self, value: SigmaString) -> SigmaType:
        """Expand ``%name%`` placeholders from the mapping data, or to a wildcard when unknown."""
        variants: list[list[str | SpecialChars]] = [[]]
        for part in value.s:
            if isinstance(part, Placeholder):
                repl = self.placeholders.get(part.name)
                if repl:
                    variants = [v + _parse_plain(r) for v in variants for r in repl]
                else:
                    variants = [[*v, SpecialChars.WILDCARD_MULTI] for v in variants]
            else:
                variants = [[*v, part] for v in variants]
        out: list[SigmaType] = []
        for parts in variants:
            s = SigmaCasedString() if isinstance(value, SigmaCasedString) else SigmaString()
            s.s = parts  # type: ignore[assignment]
            out.append(s)
        return out[0] if len(out) == 1 else SigmaExpansion(out)

    def string(
        self, key: str, value: SigmaString, *, cased: bool, generic: bool
    ) -> tuple[str, frozenset[Atom] | None]:
        k = repr(key)
        parts = list(value.s)
        src = "o" if cased else "l"
        norm: Callable[[str], str] = (lambda s: s) if cased else str.lower
        lead = bool(parts) and parts[0] == SpecialChars.WILDCARD_MULTI
        trail = len(parts) > 1 and parts[-1] == SpecialChars.WILDCARD_MULTI
        core = parts[(1 if lead else 0) : (len(parts) - 1 if trail else len(parts))]
        plain = len(core) <= 1 and all(isinstance(p, str) for p in core)
        text = norm(core[0]) if core and isinstance(core[0], str) else ""
        if parts == [SpecialChars.WILDCARD_MULTI]:
            return f"_any({src}.get({k}), lambda v: isinstance(v, str))", None
        if plain:
            lit = repr(text)
            if lead and trail:
                expr = f"{lit} in v"
            elif lead:
                expr = f"v.endswith({lit})"
            elif trail:
                expr = f"v.startswith({lit})"
            else:
                expr = f"v == {lit}"
            atoms: frozenset[Atom] | None
            if cased:
                atoms = frozenset({("sub", key, text.lower())}) if text else None
            elif not (lead or trail):
                atoms = frozenset({("eq", key, text)})
            else:
                atoms = frozenset({("sub", key, text)}) if text else None
            if cased and not generic:
                return f"((v := o.get({k})).__class__ is str and {expr})", atoms
            if generic or cased:
                return f"_any({src}.get({k}), lambda v: isinstance(v, str) and {expr})", atoms
            if lead and trail:
                return (f"({lit} in l.get({k}, ''))" if text else f"({k} in l)"), atoms
            if lead:
                return f"l.get({k}, '\\x00').endswith({lit})", atoms
            if trail:
                return f"l.get({k}, '\\x00').startswith({lit})", atoms
            return f"(l.get({k}) == {lit})", atoms
        # general wildcard pattern: anchored regex over the value
        rx_parts: list[str] = []
        longest = ""
        for p in parts:
            if p == SpecialChars.WILDCARD_MULTI:
                rx_parts.append(".*")
            elif p == SpecialChars.WILDCARD_SINGLE:
                rx_parts.append(".")
            elif isinstance(p, str):
                rx_parts.append(re.escape(norm(p)))
                if len(p) > len(longest):
                    longest = norm(p)
            else:
                raise UnsupportedRule(f"unexpanded placeholder in {value}")
        rx_text = "".join(rx_parts)
        name = self.const(("fullmatch", rx_text, int(re.DOTALL)))
        atoms = frozenset({("sub", key, longest.lower())}) if longest else None
        if not generic:
            return f"((v := {src}.get({k})).__class__ is str and {name}(v) is not None)", atoms
        return f"_any({src}.get({k}), lambda v: isinstance(v, str) and {name}(v) is not None)", atoms

    def keyword(self, value: SigmaType) -> tuple[str, frozenset[Atom] | None]:
        """A value without a field: full-text search over every field of the event.

        Its pre-filter atoms use the pseudo-field ``*`` (any field value).
        """
        if isinstance(value, SigmaExpansion):
            parts = [self.keyword(v) for v in value.values]
            union: set[Atom] = set()
            for _, a in parts:
                if a is None:
                    return "(" + " or ".join(p for p, _ in parts) + ")", None
                union |= a
            return "(" + " or ".join(p for p, _ in parts) + ")", frozenset(union)
        if isinstance(value, SigmaString) and value.contains_placeholder():
            return self.keyword(self.expand(value))
        if isinstance(value, SigmaString):
            parts = list(value.s)  # type: ignore[arg-type]
            while parts and parts[0] == SpecialChars.WILDCARD_MULTI:
                parts.pop(0)
            while parts and parts[-1] == SpecialChars.WILDCARD_MULTI:
                parts.pop()
            cased = isinstance(value, SigmaCasedString)
            plain = [str(p) for p in parts if isinstance(p, str)]
            longest = max(plain, key=len, default="").lower()
            atoms = frozenset({("sub", "*", longest)}) if longest else None
            if len(parts) == 1 and isinstance(parts[0], str) and not cased:
                return f"_kwsub(l, {parts[0].lower()!r})", atoms
            rx_parts = []
            for p in parts:
                if p == SpecialChars.WILDCARD_MULTI:
                    rx_parts.append(".*")
                elif p == SpecialChars.WILDCARD_SINGLE:
                    rx_parts.append(".")
                else:
                    rx_parts.append(re.escape(str(p) if cased else str(p).lower()))
            rx_const = self.const(("rx", "".join(rx_parts), int(re.DOTALL)))
            if cased:
                return f"_kwre(o, {rx_const})", atoms
            return f"_kwre(l, {rx_const})", atoms
        if isinstance(value, SigmaNumber | SigmaBool):
            lit = str(value.number if isinstance(value, SigmaNumber) else value.boolean).lower()
            return f"_kwsub(l, {lit!r})", frozenset({("sub", "*", lit)})
        if isinstance(value, SigmaRegularExpression):
            pattern = (
                value.regexp.to_plain_regex() if isinstance(value.regexp, SigmaString) else str(value.regexp)
            )
            flags = re.IGNORECASE if SigmaRegularExpressionFlag.IGNORECASE in value.flags else 0
            atoms = _regex_atoms("*", pattern, flags)
            try:
                rx_const = self.const(("rx", pattern, int(flags)))
            except re.error as exc:
                raise UnsupportedRule(f"regular expression {pattern!r}: {exc}") from exc
            return f"_kwre(o, {rx_const})", atoms
        raise UnsupportedRule(f"keyword of type {type(value).__name__} is not supported")


def _shape(n: Any) -> tuple[str, str, str] | None:
    """("eq" | "ends" | "starts" | "contains", field, lower-cased text) of a plain string match."""
    if not isinstance(n, ConditionFieldEqualsValueExpression):
        return None
    value = n.value
    if (
        not isinstance(value, SigmaString)
        or isinstance(value, SigmaCasedString)
        or value.contains_placeholder()
    ):
        return None
    parts = list(value.s)
    lead = bool(parts) and parts[0] == SpecialChars.WILDCARD_MULTI
    trail = len(parts) > 1 and parts[-1] == SpecialChars.WILDCARD_MULTI
    core = parts[(1 if lead else 0) : (len(parts) - 1 if trail else len(parts))]
    if len(core) != 1 or not isinstance(core[0], str) or not core[0]:
        return None
    kind = "contains" if lead and trail else "ends" if lead else "starts" if trail else "eq"
    return kind, n.field.lower(), core[0].lower()


def _parse_plain(text: str) -> list[str | SpecialChars]:
    return list(SigmaString(text).s)  # type: ignore[arg-type]


_RX_META = set(".^$*+?{}[]\\|()")


def _regex_atoms(key: str, pattern: str, flags: int) -> frozenset[Atom] | None:
    """A literal every match must contain: the longest meta-free run outside groups.

    Conservative: patterns with alternation, inline flags or multi-line mode give no atom.
    """
    if "|" in pattern or flags & re.MULTILINE or "(?" in pattern:
        return None
    runs: list[str] = []
    cur: list[str] = []
    depth = 0
    i = 0
    n = len(pattern)

    def close(keep_last: bool = True) -> None:
        nonlocal cur
        if not keep_last and cur:
            cur.pop()
        if cur and depth == 0:
            runs.append("".join(cur))
        cur = []

    while i < n:
        c = pattern[i]
        if c == "\\" and i + 1 < n:
            nxt = pattern[i + 1]
            if nxt.isalnum():
                close()
            elif depth == 0:
                cur.append(nxt)
            i += 2
            continue
        if c == "[":
            close()
            j = i + 1
            if j < n and pattern[j] == "^":
                j += 1
            if j < n and pattern[j] == "]":
                j += 1
            j = pattern.find("]", j)
            if j < 0:
                return None
            i = j + 1
            continue
        if c == "(":
            close()
            depth += 1
        elif c == ")":
            close()
            depth -= 1
        elif c in "*?":
            close(keep_last=False)
        elif c == "{":
            close(keep_last=False)
            j = pattern.find("}", i)
            i = (j + 1) if j >= 0 else i + 1
            continue
        elif c == "+" or c in ".^$":
            close()
        elif depth == 0:
            cur.append(c)
        i += 1
    close()
    best = max(runs, key=len, default="").lower()
    if len(best) < 3:
        return None
    return frozenset({("sub", key, best)})


def _atom_cost(atoms: frozenset[Atom]) -> float:
    """Lower is better: few atoms, long literals, exact values."""
    cost = 0.0
    for kind, _, lit in atoms:
        cost += 1.0 if kind == "eq" else 1.0 + 6.0 / (1 + len(lit))
    return cost


def _best(options: Iterable[frozenset[Atom] | None]) -> frozenset[Atom] | None:
    usable = [a for a in options if a]
    if not usable:
        return None
    return min(usable, key=_atom_cost)


def compile_condition(
    conditions: list[Any], placeholders: Mapping[str, list[str]] | None = None
) -> CompiledDetection:
    """Compile a rule's parsed conditions (several are OR-linked) into a :class:`CompiledDetection`.

    Raises :class:`UnsupportedRule` for constructs that cannot be evaluated.
    """
    gen = _Gen(placeholders or {})
    fast_parts: list[str] = []
    generic_parts: list[str] = []
    atom_sets: list[frozenset[Atom] | None] = []
    for cond in conditions:
        fast, atoms = gen.node(cond, generic=False)
        generic, _ = gen.node(cond, generic=True)
        fast_parts.append(fast)
        generic_parts.append(generic)
        atom_sets.append(atoms)
    fast_src = " or ".join(fast_parts) or "False"
    generic_src = " or ".join(generic_parts) or "False"
    union: set[Atom] = set()
    all_known = True
    for a in atom_sets:
        if a is None:
            all_known = False
        else:
            union |= a
    global compile_calls
    compile_calls += 1
    try:
        fast_code = compile(f"lambda o, l: {fast_src}", "<sigma>", "eval")
        fast_fn = eval(fast_code, gen.ns)
        generic_fn = fast_fn if generic_src == fast_src else _LazyMatcher(generic_src, gen.ns)
    except (SyntaxError, RecursionError, MemoryError) as exc:
        raise UnsupportedRule(f"condition too complex to compile: {exc}") from exc
    return CompiledDetection(
        fast=fast_fn,
        generic=generic_fn,
        atoms=frozenset(union) if all_known and union else None,
        fields=frozenset(gen.fields),
        source=fast_src,
        generic_source=generic_src,
        recipes=tuple(gen.recipes),
        code=(fast_code, None),
    )


compile_calls = 0
"""How many conditions :func:`compile_condition` compiled in this process (tests of the cache)."""
