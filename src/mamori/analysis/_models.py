"""Load the engine's models (rules, sources, sinks, sanitisers) from YAML data files.

The models are data so that users can extend them: every ``*.yaml`` file of the bundled
``models`` folder is read, then those of each folder the user adds (``model_dirs``); a later
file adds entries to the same tables (a sink list grows, a sanitiser gains classes). The
format is documented at the top of each bundled file.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from mamori.errors import InputError

BUNDLED = Path(__file__).resolve().parent / "models"


@dataclass(frozen=True, slots=True)
class Rule:
    """One rule: its stable id, CWE, severity and texts; ``klass`` for taint rules."""

    id: str
    cwe: str
    severity: str
    title: str
    description: str
    klass: str = ""


@dataclass(frozen=True, slots=True)
class SinkSpec:
    """Which arguments of a callee are dangerous for one rule."""

    rule: str
    positions: tuple[int, ...] = ()
    keywords: tuple[str, ...] = ()
    receiver: bool = False
    receiver_kind: str = ""
    when_keyword: str = ""
    when_value: object = None
    unless_keyword: str = ""
    unless_position: int = -1
    unless_values: tuple[str, ...] = ()
    program: bool = False
    elements: tuple[int, ...] = ()


@dataclass(frozen=True, slots=True)
class Models:
    """Every model table the engine reads."""

    rules: dict[str, Rule]
    sources: dict[str, str]
    """Qualified name (or ``*.method``) -> note."""
    sinks: dict[str, tuple[SinkSpec, ...]]
    sanitizers: dict[str, frozenset[str]]
    clean_calls: frozenset[str]
    param_names: frozenset[str]
    param_annotations: frozenset[str]
    param_type: str
    route_decorators: frozenset[str]
    route_modules: frozenset[str]
    stores: dict[str, tuple[str, ...]]
    kinds: dict[str, tuple[str, ...]]
    source_words: frozenset[str] = field(default_factory=frozenset)
    """Last components of source names: a module without any of these words holds no source."""


def load_models(model_dirs: Sequence[Path] = ()) -> Models:
    """Read the bundled models and then those of ``model_dirs``."""
    files = sorted(BUNDLED.glob("*.yaml"))
    for d in model_dirs:
        if not d.is_dir():
            raise InputError(f"model folder not found: {d}", path=str(d))
        files.extend(sorted([*d.glob("*.yaml"), *d.glob("*.yml")]))
    rules: dict[str, Rule] = {}
    sources: dict[str, str] = {}
    sinks: dict[str, list[SinkSpec]] = {}
    sanitizers: dict[str, set[str]] = {}
    clean: set[str] = set()
    pnames: set[str] = set()
    pann: set[str] = set()
    ptype = "$request"
    route_dec: set[str] = set()
    route_mod: set[str] = set()
    stores: dict[str, list[str]] = {}
    kinds: dict[str, list[str]] = {}
    for path in files:
        try:
            data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
        except (OSError, yaml.YAMLError) as exc:
            line = getattr(getattr(exc, "problem_mark", None), "line", -1) + 1
            raise InputError(f"cannot read model file: {exc}", path=str(path), line=line or None) from exc
        if not isinstance(data, dict):
            raise InputError("a model file must hold a mapping", path=str(path))
        try:
            _merge(data, rules, sources, sinks, sanitizers, clean, stores, kinds)
            params = data.get("params") or {}
            pnames.update(params.get("names") or ())
            pann.update(params.get("annotations") or ())
            ptype = params.get("type") or ptype
            route_dec.update(params.get("route_decorators") or ())
            route_mod.update(params.get("route_modules") or ())
        except (TypeError, ValueError, AttributeError, KeyError) as exc:
            raise InputError(f"bad model entry: {exc}", path=str(path)) from exc
    words = {name.rsplit(".", 1)[-1] for name in sources}
    words |= {name.split(".", 1)[0].lstrip("$") for name in sources}
    words |= pnames | {a.rsplit(".", 1)[-1] for a in pann} | route_dec
    return Models(
        rules=rules,
        sources=sources,
        sinks={k: tuple(v) for k, v in sinks.items()},
        sanitizers={k: frozenset(v) for k, v in sanitizers.items()},
        clean_calls=frozenset(clean),
        param_names=frozenset(pnames),
        param_annotations=frozenset(pann),
        param_type=ptype,
        route_decorators=frozenset(route_dec),
        route_modules=frozenset(route_mod),
        stores={k: tuple(v) for k, v in stores.items()},
        kinds={k: tuple(v) for k, v in kinds.items()},
        source_words=frozenset(words),
    )


def _merge(
    data: dict[str, Any],
    rules: dict[str, Rule],
    sources: dict[str, str],
    sinks: dict[str, list[SinkSpec]],
    sanitizers: dict[str, set[str]],
    clean: set[str],
    stores: dict[str, list[str]],
    kinds: dict[str, list[str]],
) -> None:
    for rid, r in (data.get("rules") or {}).items():
        rules[str(rid)] = Rule(
            id=str(rid),
            cwe=str(r["cwe"]),
            severity=str(r.get("severity", "medium")),
            title=str(r.get("title", rid)),
            description=str(r.get("description", "")),
            klass=str(r.get("class", "")),
        )
    for group in (data.get("sources") or {}).values():
        note = str(group.get("note", "source"))
        for name in group.get("names") or ():
            sources[str(name)] = note
    for rid, entries in (data.get("sinks") or {}).items():
        for e in entries:
            args = e.get("args") or []
            when = e.get("when") or {}
            unless = e.get("unless") or {}
            elements = e.get("element", ())
            if isinstance(elements, int):
                elements = (elements,)
            spec = SinkSpec(
                rule=str(rid),
                positions=tuple(a for a in args if isinstance(a, int)),
                keywords=tuple(str(a) for a in args if isinstance(a, str)),
                receiver=bool(e.get("receiver", False)),
                receiver_kind=str(e.get("receiver_kind", "")),
                when_keyword=str(when.get("keyword", "")),
                when_value=when.get("is"),
                unless_keyword=str(unless.get("keyword", "")),
                unless_position=int(unless.get("position", -1)),
                unless_values=tuple(str(v) for v in unless.get("in") or ()),
                program=bool(e.get("program", False)),
                elements=tuple(int(x) for x in elements),
            )
            sinks.setdefault(str(e["call"]), []).append(spec)
    for name, classes in (data.get("sanitizers") or {}).items():
        sanitizers.setdefault(str(name), set()).update(str(c) for c in classes)
    clean.update(str(c) for c in data.get("clean_calls") or ())
    for name, refs in (data.get("stores") or {}).items():
        stores.setdefault(str(name), []).extend(str(r) for r in refs)
    for name, refs in (data.get("kinds") or {}).items():
        kinds.setdefault(str(name), []).extend(str(r) for r in refs)
