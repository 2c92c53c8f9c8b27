"""Deserialisation: yaml loaders become safe loaders; pickle-family data from a client is refused."""

from __future__ import annotations

import libcst as cst

from mamori.fix.fixers._shared import Context, NoFix, parse_expr, positional_arg

CWES = ("CWE-502",)
"""The weaknesses this fixer answers."""


_YAML_SAFE = {
    "yaml.load": "safe_load",
    "yaml.full_load": "safe_load",
    "yaml.unsafe_load": "safe_load",
    "yaml.load_all": "safe_load_all",
    "yaml.full_load_all": "safe_load_all",
    "yaml.unsafe_load_all": "safe_load_all",
}
_PICKLES = (
    "pickle.",
    "_pickle.",
    "cPickle.",
    "dill.",
    "marshal.",
    "shelve.",
    "jsonpickle.",
    "pandas.read_pickle",
)


def fix(ctx: Context, line: int) -> tuple[str, list[str]]:
    for call in ctx.calls_at(line):
        q = ctx.qualname(call.func)
        if q in _YAML_SAFE:
            arg = positional_arg(call, 0, ("stream",))
            if arg is None:
                raise NoFix("yaml.load without a stream argument")
            if isinstance(call.func, cst.Attribute) and ctx.qualname(call.func.value) == "yaml":
                func: cst.BaseExpression = call.func.with_changes(attr=cst.Name(_YAML_SAFE[q]))
            else:
                func = parse_expr(f"yaml.{_YAML_SAFE[q]}")
                ctx.imports.add("yaml")
            ctx.replace(
                call,
                cst.Call(
                    func=func,
                    args=[
                        arg.with_changes(
                            keyword=None, equal=cst.MaybeSentinel.DEFAULT, comma=cst.MaybeSentinel.DEFAULT
                        )
                    ],
                ),
            )
            return f"yaml.{_YAML_SAFE[q]} (plain data only, no Python objects)", []
        if q.startswith(_PICKLES):
            raise NoFix(
                f"{q} runs code chosen by whoever wrote the data; no loader makes untrusted pickle-family data safe",
                (
                    "exchange the data as JSON (json.loads) and validate it",
                    "if it must stay pickle, authenticate it first (hmac.compare_digest over a server-side key)",
                ),
            )
    raise NoFix(f"no deserialising call at line {line}")
