"""Rule-based rewrites of weaknesses in Python code, one fixer a module, with libcst so
formatting is preserved.

Why keyed on the CWE and the shape of the sink: rule ids belong to the analysis stage and may
change; what a fix needs is *what kind of hole* (the CWE) and *what the code looks like* at the
sink line (an ``execute`` whose query is an f-string, a ``subprocess.run`` with ``shell=True``…).
Each fixer (a module here with ``CWES`` and ``fix(ctx, line)``) finds the call at the finding's
line (or the lines of its trace), follows a query or command held in a local variable back to
its assignment in the same function, and rewrites it into the safe form. Fixers that cannot
place a safe rewrite say why; weaknesses with no safe mechanical rewrite (pickle from a client,
``exec``, session trust) are reported as such.

All rewrites of one file are applied in one pass over the original tree, so any subset of the
findings of a file can be rendered together (the combined verification run relies on this).

Adding a fixer: a module beside its siblings with ``CWES`` and ``fix``, listed in ``FIXERS``,
and its cases in ``tests/fix/fixers/test_<module>.py``.
"""

from __future__ import annotations

from collections.abc import Sequence
from types import ModuleType

import libcst as cst
from libcst.codemod import CodemodContext
from libcst.codemod.visitors import AddImportsVisitor
from libcst.metadata import MetadataWrapper

from mamori.fix.fixers import (
    codeinj,
    command,
    cookie,
    debug,
    deserialise,
    ldap_filter,
    paths,
    randomness,
    redirect,
    sql,
    template,
    tls,
    trust,
    weak_hash,
    xpath,
    xss,
    xxe,
)
from mamori.fix.fixers._shared import (
    CodeOutcome,
    CodeTarget,
    Consequence,
    Context,
    Handler,
    NoFix,
    Replacer,
    guess_paramstyle,
)
from mamori.fix.fixers.trust import SESSION_KEY_PATTERN, SESSION_VALUE_PATTERN

FIXERS: tuple[ModuleType, ...] = (
    trust,
    sql,
    command,
    deserialise,
    codeinj,
    weak_hash,
    randomness,
    cookie,
    xxe,
    xpath,
    ldap_filter,
    xss,
    redirect,
    paths,
    template,
    tls,
    debug,
)
"""Every fixer, in the order they are tried when several answer one CWE."""

HANDLERS: dict[str, tuple[Handler, ...]] = {}
"""CWE → fixers' ``fix`` functions, tried in order at the finding's line, then at its trace lines."""
for _module in FIXERS:
    for _cwe in _module.CWES:
        HANDLERS[_cwe] = (*HANDLERS.get(_cwe, ()), _module.fix)

NOT_POSSIBLE: dict[str, tuple[str, tuple[str, ...]]] = {
    "CWE-918": (
        "which hosts the server may fetch from is the application's policy; mamori cannot guess the allow-list",
        ("check the URL's host against an allow-list before the request",),
    ),
    "CWE-798": (
        "a hard-coded secret must be rotated and moved out of the code; a rewrite cannot do either",
        ("read it from the environment or a secret store, and rotate it",),
    ),
    "CWE-327": (
        "replacing a cipher changes the data format and key management; no drop-in rewrite exists",
        ("use AES-GCM or ChaCha20-Poly1305 from the cryptography package",),
    ),
    "CWE-377": (
        "tempfile.mkstemp returns a descriptor and a name, so the code around mktemp must change by hand",
        ("use tempfile.NamedTemporaryFile or tempfile.mkstemp",),
    ),
}

"""CWEs no fixer answers, with why no rewrite exists and what a person should do."""


def rewrite_code(
    text: str, targets: Sequence[CodeTarget], *, paramstyle: str = ""
) -> tuple[str, dict[str, CodeOutcome]]:
    """``text`` with every target that has a safe rewrite rewritten, and the outcome of each target.

    ``paramstyle`` is the DB-API placeholder style of the project's database driver (``qmark``
    for sqlite3, ``format`` for psycopg/MySQL drivers); by default it is guessed from the file.
    Raises :class:`libcst.ParserSyntaxError` when the file does not parse.
    """
    module = cst.parse_module(text)
    wrapper = MetadataWrapper(module, unsafe_skip_copy=True)
    ctx = Context(wrapper)
    ctx.paramstyle = paramstyle or guess_paramstyle(text)
    outcomes: dict[str, CodeOutcome] = {}
    for target in targets:
        outcomes[target.finding_id] = _fix(ctx, target)
    if not ctx.replacements and not ctx.before:
        return text, outcomes
    new_module = wrapper.module.visit(Replacer(ctx.replacements, ctx.before))
    if ctx.imports:
        cctx = CodemodContext()
        for mod in sorted(ctx.imports):
            AddImportsVisitor.add_needed_import(cctx, mod)
        new_module = AddImportsVisitor(cctx).transform_module(new_module)
    return new_module.code, outcomes


def _fix(ctx: Context, target: CodeTarget) -> CodeOutcome:
    ctx.owner = target.finding_id
    handlers = [h for cwe in target.cwe for h in HANDLERS.get(cwe.upper(), ())]
    if not handlers:
        for cwe in target.cwe:
            if cwe.upper() in NOT_POSSIBLE:
                why, options = NOT_POSSIBLE[cwe.upper()]
                return CodeOutcome(False, why, options=options)
        return CodeOutcome(False, f"no rule-based rewrite for {', '.join(target.cwe) or 'this finding'}")
    lines = [target.line, *[ln for ln in target.trace_lines if ln != target.line]] if target.line else []
    if not lines:
        lines = sorted({ctx.line(c) for c in ctx.calls})
    first_error: NoFix | None = None
    for line in lines:
        for handler in handlers:
            saved = (dict(ctx.replacements), set(ctx.imports), dict(ctx.before), dict(ctx.spans))
            try:
                summary, notes = handler(ctx, line)
            except NoFix as exc:
                ctx.replacements, ctx.imports, ctx.before, ctx.spans = saved
                if first_error is None and line == lines[0]:
                    first_error = exc
                if exc.options:  # a definite "no safe rewrite" for this sink
                    return CodeOutcome(False, exc.why, options=exc.options)
                continue
            return CodeOutcome(
                True,
                summary,
                tuple(n for n in notes if not isinstance(n, Consequence)),
                consequences=tuple(n for n in notes if isinstance(n, Consequence)),
            )
    if first_error is not None:
        return CodeOutcome(False, first_error.why, options=first_error.options)
    return CodeOutcome(False, f"no sink of the expected shape at line {target.line}")


def supported_cwes() -> tuple[str, ...]:
    """The CWEs that have a rule-based rewrite."""
    return tuple(sorted(HANDLERS))


__all__ = [
    "FIXERS",
    "HANDLERS",
    "NOT_POSSIBLE",
    "SESSION_KEY_PATTERN",
    "SESSION_VALUE_PATTERN",
    "CodeOutcome",
    "CodeTarget",
    "Consequence",
    "guess_paramstyle",
    "rewrite_code",
    "supported_cwes",
]
