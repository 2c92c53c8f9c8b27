"""Randomness: calls of the ``random`` module become the operating system's CSPRNG."""

from __future__ import annotations

from mamori.fix.fixers._shared import Context, NoFix, parse_expr

CWES = ("CWE-330", "CWE-338")
"""The weaknesses this fixer answers."""


_RANDOM_FUNCS = (
    "random",
    "randint",
    "randrange",
    "choice",
    "choices",
    "getrandbits",
    "uniform",
    "shuffle",
    "sample",
    "randbytes",
    "normalvariate",
    "gauss",
    "triangular",
    "betavariate",
    "expovariate",
    "lognormvariate",
)


def fix(ctx: Context, line: int) -> tuple[str, list[str]]:
    for call in ctx.calls_at(line):
        q = ctx.qualname(call.func)
        if q.startswith("random.") and q.split(".", 1)[1] in _RANDOM_FUNCS:
            method = q.split(".", 1)[1]
            ctx.replace(call, call.with_changes(func=parse_expr(f"secrets.SystemRandom().{method}")))
            ctx.imports.add("secrets")
            return f"secrets.SystemRandom().{method} (the operating system's CSPRNG)", []
    raise NoFix(f"no call of the random module at line {line}")
