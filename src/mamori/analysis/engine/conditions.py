"""Conditions as sanitisers: the environments where a test holds and where it does not
(``if x not in ALLOWED: return``, containment checks of resolved paths, ``isdigit()``, modelled
guards such as ``url_has_allowed_host_and_scheme``)."""

from __future__ import annotations

import ast

from mamori.analysis._values import (
    ALL,
    EMPTY,
    NOCONST,
    Val,
    join_envs,
    with_taint,
)
from mamori.analysis.engine.core import Env, FrameBase, _annotation_name

# Characters whose absence a check can establish, and the sinks that absence protects.
_META: dict[str, frozenset[str]] = {
    "'": frozenset({"sql", "xpath"}),
    '"': frozenset({"sql", "xpath"}),
    "..": frozenset({"path"}),
    # joined under a fixed folder ("base/" + x), a name escapes it only through "../"
    "../": frozenset({"path"}),
    "/": frozenset({"path"}),
    "\\": frozenset({"path"}),
    "<": frozenset({"xss"}),
    ">": frozenset({"xss"}),
    ";": frozenset({"cmd", "sql"}),
    "|": frozenset({"cmd"}),
    "&": frozenset({"cmd"}),
    "`": frozenset({"cmd"}),
    "$": frozenset({"cmd"}),
    "\n": frozenset({"header", "log"}),
    "\r": frozenset({"header", "log"}),
    "(": frozenset({"ldap"}),
    "*": frozenset({"ldap"}),
}


_ALL_GONE: dict[str, frozenset[str]] = {"cmd": frozenset({";", "|", "&", "`", "$"})}
"""Classes a replacement clears only once every one of these characters is gone."""
_VALIDATORS = frozenset(
    {"isdigit", "isdecimal", "isnumeric", "isalnum", "isalpha", "isidentifier", "isascii_digits"}
)


_HOST_ATTRS = frozenset({"netloc", "hostname", "host", "scheme", "port"})


def _is_inner_slice(n: ast.expr) -> bool:
    """``x[1:-1]``: the text between the first and the last character of ``x``."""
    if not (
        isinstance(n, ast.Subscript) and isinstance(n.slice, ast.Slice) and isinstance(n.value, ast.Name)
    ):
        return False
    lo, hi = n.slice.lower, n.slice.upper
    return (
        isinstance(lo, ast.Constant)
        and lo.value == 1
        and isinstance(hi, ast.UnaryOp)
        and isinstance(hi.op, ast.USub)
        and isinstance(hi.operand, ast.Constant)
        and hi.operand.value == 1
    )


def _unwrap_str(n: ast.expr) -> ast.expr:
    while (
        isinstance(n, ast.Call)
        and isinstance(n.func, ast.Name)
        and n.func.id in ("str", "os.fspath")
        and n.args
    ):
        n = n.args[0]
    if (
        isinstance(n, ast.Call)
        and isinstance(n.func, ast.Attribute)
        and n.func.attr in ("resolve", "absolute", "realpath", "abspath", "normpath")
    ):
        if n.func.attr in ("realpath", "abspath", "normpath") and n.args:
            return _unwrap_str(n.args[0])
        return _unwrap_str(n.func.value)
    return n


def _is_path_like(n: ast.expr) -> bool:
    """A containment check is on a resolved path (``str(p)``, ``os.path.realpath(x)`` …)."""
    if isinstance(n, ast.Call):
        f = n.func
        if isinstance(f, ast.Name) and f.id == "str":
            return True
        if isinstance(f, ast.Attribute) and f.attr in (
            "realpath",
            "abspath",
            "normpath",
            "resolve",
            "absolute",
        ):
            return True
    return isinstance(n, ast.Name)


class Conditions(FrameBase):
    """Conditions as sanitisers: the environments where a test holds and where it does not"""

    def refine(self, test: ast.expr) -> tuple[Env, Env]:
        """Environments where ``test`` holds and where it does not."""
        env = self.env
        if isinstance(test, ast.UnaryOp) and isinstance(test.op, ast.Not):
            a, b = self.refine(test.operand)
            return b, a
        if isinstance(test, ast.BoolOp):
            if isinstance(test.op, ast.And):
                # false when some operand is false after the ones before it held
                saved = self.env
                false_env: Env | None = None
                for v in test.values:
                    held, failed = self.refine(v)
                    false_env = (join_envs(false_env, failed) or failed) if false_env is not None else failed
                    self.env = held
                and_env = self.env
                self.env = saved
                return and_env, false_env if false_env is not None else env
            saved = self.env
            t_env: Env | None = None
            for v in test.values:
                a, b = self.refine(v)
                t_env = (join_envs(t_env, a) or a) if t_env is not None else a
                self.env = b
            f_env = self.env
            self.env = saved
            return t_env or env, f_env
        classes: frozenset[str] | None = None
        var_node: ast.expr | None = None
        when_true = True
        guard = self._guard(test) if isinstance(test, ast.Call) else None
        if isinstance(test, ast.Name):
            # a false value (empty text, None, 0) carries no attacker-controlled text
            classes, var_node, when_true = frozenset({ALL}), test, False
        elif guard is not None:
            classes, var_node = guard
        elif isinstance(test, ast.Call) and isinstance(test.func, ast.Attribute):
            m = test.func.attr
            if m in _VALIDATORS:
                classes, var_node = frozenset({ALL}), test.func.value
            elif m in ("startswith", "is_relative_to") and test.args:
                inner = test.func.value
                arg = self.eval(test.args[0])
                if not arg.taint and _is_path_like(inner):
                    classes, var_node = frozenset({"path"}), _unwrap_str(inner)
            elif m in ("fullmatch", "match") and len(test.args) >= 2:
                pat = self.eval(test.args[0])
                if isinstance(pat.const, str) and (m == "fullmatch" or pat.const.endswith(("$", "\\Z"))):
                    classes, var_node = frozenset({ALL}), test.args[1]
        elif isinstance(test, ast.Call) and isinstance(test.func, ast.Name) and test.func.id == "isinstance":
            if (
                len(test.args) == 2
                and isinstance(test.args[1], ast.Name)
                and test.args[1].id in ("int", "float", "bool")
            ):
                classes, var_node = frozenset({ALL}), test.args[0]
        elif isinstance(test, ast.Compare) and len(test.ops) == 1:
            op, right = test.ops[0], test.comparators[0]
            left = test.left
            if type(op) in (ast.In, ast.NotIn):
                rv = self.eval(right)
                lv = self.eval(left)
                cont = self._container_const(rv)
                if cont is not NOCONST and not rv.taint:
                    classes, var_node = frozenset({ALL}), left
                    when_true = isinstance(op, ast.In)
                    if isinstance(left, ast.Attribute) and left.attr in _HOST_ATTRS:
                        classes = frozenset({"redirect", "ssrf"})
                elif lv.const is not NOCONST and isinstance(lv.const, str) and lv.const in _META:
                    classes, var_node = _META[lv.const], right
                    when_true = isinstance(op, ast.NotIn)
                    if lv.const in ("'", '"') and _is_inner_slice(right):
                        # no quote between the first and last character: a quoted literal
                        classes, var_node = classes | {"code"}, right.value  # type: ignore[attr-defined]
            elif type(op) in (ast.Eq, ast.NotEq):
                rv = self.eval(right)
                if rv.const is not NOCONST and not rv.taint:
                    classes, var_node = frozenset({ALL}), left
                    when_true = isinstance(op, ast.Eq)
                    if isinstance(left, ast.Attribute) and left.attr in _HOST_ATTRS:
                        classes = frozenset({"redirect", "ssrf"}) if left.attr != "scheme" else frozenset()
        if classes is None or var_node is None or not classes:
            return env, env
        cleared = self._clear(env, var_node, classes)
        return (cleared, env) if when_true else (env, cleared)

    def _guard(self, test: ast.Call) -> tuple[frozenset[str], ast.expr] | None:
        """A call of a modelled check (``url_has_allowed_host_and_scheme(url, ...)``): the
        classes it protects and the argument it checks."""
        guards = self.p.models.guards
        if not guards:
            return None
        ref = self.eval(test.func).ref.removeprefix("py:")
        spec = guards.get(ref)
        if spec is None:
            return None
        positions, keywords, classes = spec
        for pos in positions:
            if pos < len(test.args) and not isinstance(test.args[pos], ast.Starred):
                return classes, test.args[pos]
        for kw in test.keywords:
            if kw.arg in keywords:
                return classes, kw.value
        return None

    def _clear(self, env: Env, node: ast.expr, classes: frozenset[str]) -> Env:
        names: list[str] = []
        n = _unwrap_str(node)
        if isinstance(n, ast.Attribute) and n.attr in _HOST_ATTRS:
            n = n.value
            # ``urlparse(url).hostname``: the check is about ``url``
            if (
                isinstance(n, ast.Call)
                and n.args
                and _annotation_name(n.func).rsplit(".", 1)[-1] in ("urlparse", "urlsplit")
            ):
                n = n.args[0]
        if isinstance(n, ast.Subscript) and isinstance(n.slice, ast.Slice):
            return env
        if isinstance(n, ast.Name):
            names.append(n.id)
            names.extend(self.derived.get(n.id, ()))
        if not names:
            return env
        out = dict(env)
        for name in names:
            v = out.get(name)
            if v is None or not v.taint:
                continue
            if ALL in classes:
                out[name] = (
                    with_taint(v, EMPTY) if not v.fields else Val(fields=v.fields, kind=v.kind, ref=v.ref)
                )
            else:
                out[name] = with_taint(v, frozenset(t.clear(classes) for t in v.taint))
        return out
