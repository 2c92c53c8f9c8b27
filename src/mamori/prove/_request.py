"""From a finding's taint trace to the parts of a request: where the input goes, what else it needs.

The trace names the source (``flask.request.cookies (source)``) and the lines it went through.
The source line's expression says the parameter's place and name (``request.cookies.get("id")``,
``request.GET['q']``, ``self.get_argument('n')``, a view parameter); comparisons in the same
function between a request value and a literal give the values earlier branches need
(``if request.form.get('action') == 'delete'``). The route itself is found at run time by
the harness, from the code the framework registered for each URL.
"""

from __future__ import annotations

import ast
import re
from dataclasses import dataclass, field
from pathlib import Path

from mamori.model import Finding

# request attribute (or accessor method) -> place of the parameter
PLACES: dict[str, str] = {
    "args": "query",
    "GET": "query",
    "query_params": "query",
    "query": "query",
    "query_arguments": "query",
    "get_query_argument": "query",
    "get_query_arguments": "query",
    "rel_url": "query",
    "query_string": "query",
    "form": "form",
    "POST": "form",
    "body_arguments": "form",
    "get_body_argument": "form",
    "get_body_arguments": "form",
    "post": "form",
    "values": "values",
    "get_argument": "values",
    "get_arguments": "values",
    "arguments": "values",
    "cookies": "cookie",
    "COOKIES": "cookie",
    "get_cookie": "cookie",
    "get_secure_cookie": "cookie",
    "headers": "header",
    "META": "header",
    "json": "json",
    "get_json": "json",
    "data": "body",
    "get_data": "body",
    "body": "body",
    "text": "body",
    "content": "body",
    "stream": "body",
    "input_stream": "body",
    "files": "file",
    "FILES": "file",
    "view_args": "path",
    "match_info": "path",
    "path_params": "path",
    "user_agent": "header",
    "referrer": "header",
}
_HEADER_OF = {"user_agent": "User-Agent", "referrer": "Referer"}
_ACCESSORS = {"get", "getlist", "get_all", "getone", "getall", "pop", "get_list", "getvalue"}
_NOT_WEB = ("sys.", "input", "raw_input", "os.environ", "os.getenv", "fileinput", "recv", "urlopen", "argv")
_WORD = re.compile(r"^[A-Za-z_][\w\-]{0,80}$")
_ENVIRON_PLACES = {
    "QUERY_STRING": "query",
    "REQUEST_URI": "query",
    "wsgi.input": "form",
    "CONTENT_TYPE": "header",
    "PATH_INFO": "path",
}
"""Entries of a WSGI/CGI environ the client sets, and the part of the request each comes from."""


@dataclass(frozen=True, slots=True)
class Input:
    """One part of the request: where it goes, its name, and whether it carries the payload."""

    place: str
    name: str
    value: str = ""
    """A fixed value (for a branch); empty when the payload goes here."""
    name_is_payload: bool = False
    """The payload is the parameter's *name* (code that loops over the keys)."""


@dataclass(frozen=True, slots=True)
class Plan:
    """What the request for one finding needs, before a payload is chosen."""

    file: str
    lines: tuple[int, ...]
    carriers: tuple[Input, ...]
    """Where the payload goes (the first one that the code reads is enough)."""
    extras: tuple[Input, ...] = ()
    method: str | None = None
    literals: tuple[str, ...] = ()
    """Identifier-like string literals of the route's function (names to try when unsure)."""
    notes: tuple[str, ...] = field(default_factory=tuple)


def source_name(finding: Finding) -> str:
    """The source the trace starts at (``flask.request.args``), or ``""``."""
    if not finding.trace:
        return ""
    note = finding.trace[0].note
    if not note.endswith(" (source)"):
        return ""
    name = note[: -len(" (source)")]
    return name.split(" (", 1)[0]  # ``q (route parameter)`` -> ``q``


def is_web_source(finding: Finding) -> bool:
    """True when the finding's input comes from a web request (not argv, env, files, sockets)."""
    name = source_name(finding)
    if not name:
        return False
    return not any(name.startswith(p) or name.endswith(p) for p in _NOT_WEB)


_TREES: dict[Path, ast.Module | None] = {}


def _tree(path: Path) -> ast.Module | None:
    if path not in _TREES:
        from mamori.analysis import parse_source  # every Python version the analysis reads

        try:
            _TREES[path] = parse_source(path.read_bytes(), str(path)).tree
        except OSError:
            _TREES[path] = None
    return _TREES[path]


def _enclosing(tree: ast.Module, line: int) -> ast.FunctionDef | ast.AsyncFunctionDef | None:
    best: ast.FunctionDef | ast.AsyncFunctionDef | None = None
    for node in ast.walk(tree):
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
            end = getattr(node, "end_lineno", node.lineno) or node.lineno
            if node.lineno <= line <= end and (best is None or node.lineno >= best.lineno):
                best = node
    return best


def _chain(node: ast.AST) -> list[str]:
    """``request.form.getlist`` -> ``['request', 'form', 'getlist']`` (``[]`` if not a chain)."""
    out: list[str] = []
    while isinstance(node, ast.Attribute):
        out.append(node.attr)
        node = node.value
    if isinstance(node, ast.Name):
        out.append(node.id)
        return out[::-1]
    if isinstance(node, ast.Call):
        inner = _chain(node.func)
        return inner + out[::-1] if inner else []
    return []


def _literal(node: ast.AST | None) -> str | None:
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        return node.value
    return None


def _place_in(chain: list[str]) -> tuple[str, str] | None:
    """(place, attribute) for a chain that reads the request (``request.args``, ``self.get_argument``)."""
    for attr in chain[1:]:
        if attr in PLACES:
            return PLACES[attr], attr
    return None


def _accessor(node: ast.AST) -> tuple[str, str, str | None] | None:
    """(place, attribute, parameter name or None) for an expression reading one request value."""
    if isinstance(node, ast.Call):
        chain = _chain(node.func)
        found = _place_in(chain)
        if found is None:
            return None
        place, attr = found
        last = chain[-1]
        if last == attr and attr.startswith("get_") and attr not in ("get_json", "get_data"):
            return place, attr, _literal(node.args[0]) if node.args else None  # self.get_argument('x')
        if last in _ACCESSORS:
            return place, attr, _literal(node.args[0]) if node.args else None
        if last in ("get_json", "get_data", "json", "read", "text", "body", "post"):
            return place, attr, None
        return None
    if isinstance(node, ast.Subscript):
        chain = _chain(node.value)
        found = _place_in(chain)
        if found is None:
            return None
        return found[0], found[1], _literal(node.slice)
    return None


def _header_name(attr: str, name: str | None) -> str | None:
    if attr in _HEADER_OF:
        return _HEADER_OF[attr]
    if attr == "META" and name:
        if name.startswith("HTTP_"):
            return name[5:].replace("_", "-").title()
        return {"CONTENT_TYPE": "Content-Type", "QUERY_STRING": None}.get(name, name)
    return name


def _is_environ_key(name: str) -> bool:
    """An environ entry's name (``QUERY_STRING``, ``HTTP_HOST``): never a request parameter's."""
    return name in _ENVIRON_PLACES or name.startswith("HTTP_") or name in ("REQUEST_METHOD", "SCRIPT_NAME")


def _environ_reads(nodes: list[ast.AST], names: set[str]) -> list[tuple[str, str]]:
    """(place, header name or "") of ``environ["QUERY_STRING"]``/``environ.get("HTTP_X")`` reads."""
    out: list[tuple[str, str]] = []
    for node in nodes:
        key: str | None = None
        if isinstance(node, ast.Subscript) and isinstance(node.value, ast.Name) and node.value.id in names:
            key = _literal(node.slice)
        elif (
            isinstance(node, ast.Call)
            and isinstance(node.func, ast.Attribute)
            and node.func.attr in ("get", "pop")
            and isinstance(node.func.value, ast.Name)
            and node.func.value.id in names
            and node.args
        ):
            key = _literal(node.args[0])
        if key is None:
            continue
        if key.startswith("HTTP_"):
            header = _header_name("META", key)
            if header:
                out.append(("header", header))
        elif key in _ENVIRON_PLACES:
            out.append((_ENVIRON_PLACES[key], "Content-Type" if key == "CONTENT_TYPE" else ""))
    return list(dict.fromkeys(out))


def _companions(fn: ast.AST | None, carriers: list[Input], extras: list[Input]) -> list[Input]:
    """The other parameters the source's function reads by subscript (``request.form["password"]``):
    sent with a plain value, so that a missing one does not end the request (KeyError, HTTP 400)
    before the sink."""
    if fn is None:
        return []
    taken = {(i.place, i.name) for i in (*carriers, *extras)}
    out: list[Input] = []
    for node in ast.walk(fn):
        if not isinstance(node, ast.Subscript):
            continue
        acc = _accessor(node)
        if acc is None or not acc[2] or acc[0] not in ("query", "form", "values", "json"):
            continue
        key = (acc[0], acc[2])
        if key not in taken and _WORD.match(acc[2]):
            taken.add(key)
            out.append(Input(acc[0], acc[2], "mamori"))
    return out[:8]


def _function_literals(fn: ast.AST) -> list[str]:
    """Identifier-like literals of a function's body (not its decorators: methods, paths)."""
    seen: dict[str, None] = {}
    body = fn.body if isinstance(fn, ast.FunctionDef | ast.AsyncFunctionDef) else [fn]
    for node in (n for stmt in body for n in ast.walk(stmt)):
        value = _literal(node)
        if value is not None and _WORD.match(value) and len(seen) < 24:
            seen[value] = None
    return list(seen)


def _extras(fn: ast.AST) -> tuple[list[Input], str | None]:
    """Values branches compare request parameters with, and the method a branch asks for."""
    extras: list[Input] = []
    method: str | None = None
    for node in ast.walk(fn):
        if not isinstance(node, ast.Compare) or len(node.ops) != 1:
            continue
        left, right = node.left, node.comparators[0]
        if not isinstance(node.ops[0], ast.Eq | ast.In):
            continue
        for a, b in ((left, right), (right, left)):
            lit = _literal(b)
            if lit is None and isinstance(b, ast.Tuple | ast.List | ast.Set) and b.elts:
                lit = _literal(b.elts[0])
            if lit is None:
                continue
            chain = _chain(a)
            if chain[-2:] == ["request", "method"] or (chain[-1:] == ["method"] and "request" in chain):
                method = lit.upper()
                continue
            acc = _accessor(a)
            if acc and acc[2]:
                place, attr, name = acc
                header = _header_name(attr, name) if place == "header" else name
                if header:
                    extras.append(Input(place, header, lit))
    return extras, method


def plan_for(root: Path, finding: Finding) -> Plan | None:
    """The request parts for a web finding, or None when its source line cannot be read."""
    if not finding.trace:
        return None
    src = finding.trace[0]
    if src.line <= 0:  # a source the analysis could not place: the first placed step of its file
        src = next((s for s in finding.trace if s.line > 0 and s.path == src.path), src)
    lines = tuple(dict.fromkeys(step.line for step in finding.trace))
    # the route is looked up by the trace's lines in the file where the trace ends
    sink_file = finding.trace[-1].path
    tree = _tree(root / src.path)
    if tree is None:
        return None
    fn = _enclosing(tree, src.line)
    carriers: list[Input] = []
    loops_keys = False
    at_line = [n for n in ast.walk(fn or tree) if getattr(n, "lineno", None) == src.line]
    # an expression spanning lines (a template string's .format(request.url)) is placed at the
    # line its statement starts: read the whole statement when its first line names nothing
    spanning = [sub for n in at_line if isinstance(n, ast.stmt) for sub in ast.walk(n) if sub not in at_line]
    for node in at_line + spanning:
        if node in spanning and carriers:
            break
        if isinstance(node, ast.For) and isinstance(node.target, ast.Name):
            it = _chain(node.iter.func) if isinstance(node.iter, ast.Call) else _chain(node.iter)
            found = _place_in(it)
            if found and (it[-1] in ("keys", "items") or it[-1] == found[1]):
                loops_keys = True
                carriers.append(Input(found[0], "", name_is_payload=True))
        acc = _accessor(node)
        if acc is not None:
            place, attr, name = acc
            if place == "header":
                name = _header_name(attr, name)
            carriers.append(Input(place, name or ""))
        elif isinstance(node, ast.Attribute) and node.attr in ("query_string", "url", "full_path"):
            carriers.append(Input("query", "q"))  # the whole URL: any parameter carries it
        elif isinstance(node, ast.Attribute) and node.attr in _HEADER_OF:
            carriers.append(Input("header", _HEADER_OF[node.attr]))
    name = source_name(finding)
    if not carriers and fn is not None and "WSGI environ" in finding.trace[0].note:
        # the whole environ is the source: the entries read on the trace's lines (else anywhere
        # in the callable) say which parts of the request carry it
        on_trace = [n for n in ast.walk(fn) if getattr(n, "lineno", 0) in lines]
        reads = _environ_reads(on_trace, {name}) or _environ_reads(list(ast.walk(fn)), {name})
        carriers += [Input(place, header) for place, header in reads]
        if not carriers:
            carriers.append(Input("query", ""))
    if not carriers and "." not in name and name:
        carriers.append(Input("param", name))  # a view parameter (path segment, FastAPI query…)
    if not carriers and fn is not None:
        for arg in fn.args.args:
            if arg.arg in name.split("."):
                carriers.append(Input("param", arg.arg))
    # names the code reads through a helper: literal arguments of calls on the trace's lines,
    # after the keys the trace reads from a dict of its own (``params["domain"]`` at the sink,
    # where ``params`` was parsed from the whole query), nearest the sink first
    trace_literals: list[str] = []
    for step in reversed(finding.trace):
        t = _tree(root / step.path)
        for node in ast.walk(t) if t is not None else ():
            if isinstance(node, ast.Subscript) and getattr(node, "lineno", 0) == step.line:
                lit = _literal(node.slice)
                if lit is not None and _WORD.match(lit) and not _is_environ_key(lit):
                    trace_literals.append(lit)
    for step in finding.trace:
        t = _tree(root / step.path)
        if t is None:
            continue
        for node in ast.walk(t):
            if isinstance(node, ast.Call) and getattr(node, "lineno", 0) == step.line:
                for a in node.args:
                    lit = _literal(a)
                    if lit is not None and _WORD.match(lit) and not _is_environ_key(lit):
                        trace_literals.append(lit)
    sink_tree = _tree(root / sink_file)
    route_fn = _enclosing(sink_tree, finding.trace[-1].line) if sink_tree is not None else None
    literals = _function_literals(route_fn) if route_fn is not None else []
    if fn is not None and fn is not route_fn:
        literals += [x for x in _function_literals(fn) if x not in literals]
    named: list[Input] = []
    for c in carriers or [Input("query", "")]:
        if c.name or c.name_is_payload:
            named.append(c)
        else:
            for lit in dict.fromkeys(trace_literals or literals[:6]):
                named.append(Input(c.place, lit))
    named = list(dict.fromkeys(named))
    extras, method = _extras(route_fn or fn or tree)
    extras += _companions(fn, named, extras)
    notes = ("the code loops over the parameter names",) if loops_keys else ()
    return Plan(sink_file, lines, tuple(named), tuple(extras), method, tuple(literals), notes)
