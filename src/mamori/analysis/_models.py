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

_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
"""libyaml's safe loader when PyYAML was built with it (8x faster on the bundled models)."""

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
    arg_kind: str = ""
    """The sink applies only when the argument at ``arg_kind_position`` (or keyword
    ``arg_kind_keyword``) is an object of this kind (an XML parser with external entities on)."""
    arg_kind_position: int = -1
    arg_kind_keyword: str = ""


@dataclass(frozen=True, slots=True)
class MarkSpec:
    """A call that gives an object a kind: its result (``lxml.etree.XMLParser(
    resolve_entities=True)``) or the receiver it configures (``parser.setFeature(
    feature_external_ges, True)``)."""

    kind: str
    receiver: bool = False
    when_keyword: str = ""
    when_value: object = None
    args: tuple[tuple[int | str, tuple[object, ...]], ...] = ()
    """(position or keyword, accepted values): a constant or the qualified name of a library
    value."""


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
    server_modules: frozenset[str] = frozenset()
    """Top-level packages of web server frameworks: a ``request`` parameter is taken as a web
    request only in a module that imports one (or belongs to one), or in a view."""
    decoders: frozenset[str] = frozenset()
    """Calls that decode their argument (``unquote``, ``b64decode``…): what a check proved absent
    from the encoded text (``"../" not in name``) may be back in the result."""
    guards: dict[str, tuple[tuple[int, ...], tuple[str, ...], frozenset[str]]] = field(default_factory=dict)
    """Check functions: qualified name -> (positions, keywords of the checked argument, sink
    classes it is cleared for where the check holds)."""
    marks: dict[str, tuple[MarkSpec, ...]] = field(default_factory=dict)
    """Callee (qualified name or ``*.method``) -> how it gives an object a kind."""
    static_route_values: frozenset[str] = frozenset()
    """Sources fixed by the route: in a view whose routes hold no variable part, the request
    path is the route's own URL, not client input."""
    source_cleared: dict[str, frozenset[str]] = field(default_factory=dict)
    """Source name -> sink classes its flows start cleared for (sources that reach only some
    sinks, such as the operator's own input)."""
    low_confidence: frozenset[str] = frozenset()
    """Sources whose findings have low confidence (the operator's own input)."""
    protocols: tuple[tuple[tuple[str, ...], str], ...] = ()
    """(parameter names in order, note): a server calls such a function with request data in
    the first parameter (WSGI's ``environ, start_response``)."""
    request_variables: dict[str, tuple[str, ...]] = field(default_factory=dict)
    """Mapping source -> names of the entries that are client input (CGI's ``QUERY_STRING`` in
    ``os.environ``; a trailing ``*`` matches a prefix)."""
    validated_stores: dict[str, tuple[str, ...]] = field(default_factory=dict)
    """Store sink -> packages whose objects validate the stored value themselves (their
    response headers refuse CR/LF), given as dotted prefixes matched on name components."""
    client_keys: dict[str, tuple[str, ...]] = field(default_factory=dict)
    """Mapping source -> names of its entries that are client input; read by any other
    constant key it is server state (``request.META["SERVER_NAME"]``)."""
    source_exempt_kinds: dict[str, frozenset[str]] = field(default_factory=dict)
    """Source name -> object kinds whose reads are not that source (a Unix domain socket's
    ``recv`` is no network input)."""
    request_holders: tuple[str, ...] = ()
    """Library classes (dotted prefixes) whose instances hold the request being served in
    ``self.request`` (Django's class-based views, Django REST framework's views)."""
    source_patterns: tuple[tuple[str, str, str], ...] = ()
    """(prefix, suffix, source name) of sources named with a ``*`` inside
    (``wtforms.*().data``: the value of any field class of the package)."""
    callbacks: dict[str, tuple[int | str, int, str]] = field(default_factory=dict)
    """Callee -> (position or keyword of the callback registered, parameter of the callback
    that receives untrusted data, note): a message queue's consumer callback."""
    source_keys: tuple[frozenset[str], ...] = ()
    """Word sets, one per source: a module whose text holds none of these sets entirely cannot
    read any source (see :meth:`may_read_source`)."""

    def may_read_source(self, words: set[str] | frozenset[str]) -> bool:
        """Whether a module with these identifier words may read untrusted input."""
        return any(key <= words for key in self.source_keys)


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
    server_mod: set[str] = set()
    stores: dict[str, list[str]] = {}
    kinds: dict[str, list[str]] = {}
    marks: dict[str, list[MarkSpec]] = {}
    static_route: set[str] = set()
    reaches: dict[str, set[str]] = {}
    not_reaching: dict[str, set[str]] = {}
    guards: dict[str, tuple[tuple[int, ...], tuple[str, ...], frozenset[str]]] = {}
    decoders: set[str] = set()
    low: set[str] = set()
    protocols: dict[str, tuple[tuple[str, ...], str]] = {}
    request_vars: dict[str, list[str]] = {}
    client_keys: dict[str, list[str]] = {}
    validated: dict[str, list[str]] = {}
    exempt: dict[str, set[str]] = {}
    holders: set[str] = set()
    callbacks: dict[str, tuple[int | str, int, str]] = {}
    for path in files:
        try:
            data = yaml.load(path.read_text(encoding="utf-8"), Loader=_LOADER) or {}
        except (OSError, yaml.YAMLError) as exc:
            line = getattr(getattr(exc, "problem_mark", None), "line", -1) + 1
            raise InputError(f"cannot read model file: {exc}", path=str(path), line=line or None) from exc
        if not isinstance(data, dict):
            raise InputError("a model file must hold a mapping", path=str(path))
        try:
            _merge(data, rules, sources, sinks, sanitizers, clean, stores, kinds)
            _merge_marks(data, marks)
            params = data.get("params") or {}
            pnames.update(params.get("names") or ())
            pann.update(params.get("annotations") or ())
            ptype = params.get("type") or ptype
            route_dec.update(params.get("route_decorators") or ())
            route_mod.update(params.get("route_modules") or ())
            server_mod.update(params.get("server_modules") or ())
            static_route.update(params.get("static_route_values") or ())
            holders.update(str(h) for h in params.get("request_holders") or ())
            for cname, cb in (data.get("callbacks") or {}).items():
                where = cb["callback"]
                callbacks[str(cname)] = (
                    int(where) if isinstance(where, int) else str(where),
                    int(cb["param"]),
                    str(cb.get("note", "callback")),
                )
            for group in (data.get("sources") or {}).values():
                if group.get("reaches") is not None:
                    for name in group.get("names") or ():
                        reaches[str(name)] = {str(c) for c in group["reaches"]}
                if group.get("not_reaching") is not None:
                    for name in group.get("names") or ():
                        not_reaching.setdefault(str(name), set()).update(
                            str(c) for c in group["not_reaching"]
                        )
                for name in group.get("names") or ():
                    exempt.setdefault(str(name), set()).update(
                        str(k) for k in group.get("not_from_kinds") or ()
                    )
                if group.get("confidence") == "low":
                    low.update(str(n) for n in group.get("names") or ())
            decoders.update(str(d) for d in data.get("decoders") or ())
            for gname, g in (data.get("guards") or {}).items():
                gargs = g.get("args") or []
                guards[str(gname)] = (
                    tuple(a for a in gargs if isinstance(a, int)),
                    tuple(str(a) for a in gargs if isinstance(a, str)),
                    frozenset(str(c) for c in g["classes"]),
                )
            for src, keys in (data.get("request_variables") or {}).items():
                request_vars.setdefault(str(src), []).extend(str(k) for k in keys)
            for store, pkgs in (data.get("validated_stores") or {}).items():
                validated.setdefault(str(store), []).extend(str(k) for k in pkgs)
            for src, keys in (data.get("client_keys") or {}).items():
                client_keys.setdefault(str(src), []).extend(str(k) for k in keys)
            for pname, proto in (data.get("protocols") or {}).items():
                names = tuple(str(n) for n in proto["params"])
                if not names:
                    raise ValueError(f"protocol {pname} names no parameters")
                protocols[str(pname)] = (names, str(proto.get("note", pname)))
        except (TypeError, ValueError, AttributeError, KeyError) as exc:
            raise InputError(f"bad model entry: {exc}", path=str(path)) from exc
    keys = _source_keys(sources, pnames | {a.rsplit(".", 1)[-1] for a in pann}, route_mod)
    keys += tuple(frozenset(names) for names, _ in protocols.values())
    keys += tuple(frozenset({c.rsplit(".", 1)[-1]}) for c in sorted(callbacks))
    classes = {r.klass for r in rules.values() if r.klass}
    cleared = {name: frozenset(classes - only) for name, only in reaches.items()}
    for name, never in not_reaching.items():
        cleared[name] = cleared.get(name, frozenset()) | frozenset(never)
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
        server_modules=frozenset(server_mod),
        static_route_values=frozenset(static_route),
        stores={k: tuple(v) for k, v in stores.items()},
        kinds={k: tuple(v) for k, v in kinds.items()},
        marks={k: tuple(v) for k, v in marks.items()},
        source_cleared=cleared,
        guards=guards,
        decoders=frozenset(decoders),
        low_confidence=frozenset(low),
        protocols=tuple(protocols.values()),
        request_variables={k: tuple(v) for k, v in request_vars.items()},
        client_keys={k: tuple(v) for k, v in client_keys.items()},
        validated_stores={k: tuple(v) for k, v in validated.items()},
        source_exempt_kinds={k: frozenset(v) for k, v in exempt.items() if v},
        source_keys=keys,
        request_holders=tuple(sorted(holders)),
        source_patterns=tuple(
            (n.split("*", 1)[0], n.split("*", 1)[1], n) for n in sorted(sources) if "*" in n[1:]
        ),
        callbacks=callbacks,
    )


def _source_keys(
    sources: dict[str, str], request_words: set[str], route_modules: set[str]
) -> tuple[frozenset[str], ...]:
    """The words a module must contain to read each source.

    ``flask.request.args`` needs ``flask`` (its import) and ``args``; a method of a framework
    class (``tornado.web.RequestHandler.get_argument``) is called on ``self`` in a subclass
    anywhere, so only its own name is needed; ``$request.GET`` needs a request parameter's name
    or annotation and ``GET``; a FastAPI route needs ``fastapi`` or ``starlette``.
    """
    keys: set[frozenset[str]] = set()
    for name in sources:
        parts = name.split(".")
        last = parts[-1].removesuffix("()")
        if name.startswith("$"):
            keys.update(frozenset({w, last}) for w in request_words)
        elif name.startswith("*.") or len(parts) == 1:
            keys.add(frozenset({last}))
        elif any(p[:1].isupper() for p in parts[:-1]):
            cls = next(p for p in reversed(parts[:-1]) if p[:1].isupper())
            keys.add(frozenset({last}) if "_" in last else frozenset({cls, last}))
        else:
            keys.add(frozenset({parts[0], last}))
    keys.update(frozenset({m.split(".")[0]}) for m in route_modules)
    # GraphQL resolvers receive the query's arguments (engine/frameworks.py graphql_args)
    keys.update(frozenset({m}) for m in ("graphene", "strawberry"))
    return tuple(sorted(keys, key=sorted))


def _merge_marks(data: dict[str, Any], marks: dict[str, list[MarkSpec]]) -> None:
    for kind, entries in (data.get("marks") or {}).items():
        for e in entries:
            when = e.get("when") or {}
            args = tuple(
                (
                    int(pos) if isinstance(pos, int) or str(pos).isdigit() else str(pos),
                    tuple(vals if isinstance(vals, list) else [vals]),
                )
                for pos, vals in (e.get("args") or {}).items()
            )
            spec = MarkSpec(
                kind=str(kind),
                receiver=bool(e.get("receiver", False)),
                when_keyword=str(when.get("keyword", "")),
                when_value=when.get("is"),
                args=args,
            )
            marks.setdefault(str(e["call"]), []).append(spec)


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
            kind_of_arg = e.get("arg_kind") or {}
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
                arg_kind=str(kind_of_arg.get("kind", "")),
                arg_kind_position=int(kind_of_arg.get("position", -1)),
                arg_kind_keyword=str(kind_of_arg.get("keyword", "")),
            )
            sinks.setdefault(str(e["call"]), []).append(spec)
    for name, classes in (data.get("sanitizers") or {}).items():
        sanitizers.setdefault(str(name), set()).update(str(c) for c in classes)
    clean.update(str(c) for c in data.get("clean_calls") or ())
    for name, refs in (data.get("stores") or {}).items():
        stores.setdefault(str(name), []).extend(str(r) for r in refs)
    for name, refs in (data.get("kinds") or {}).items():
        kinds.setdefault(str(name), []).extend(str(r) for r in refs)
