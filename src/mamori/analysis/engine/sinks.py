"""Sinks: a call's dangerous arguments checked against the sink models, and :meth:`Sinks.emit`,
which reports a flow or records it in the summary of the function under analysis."""

from __future__ import annotations

import ast

from mamori.analysis._models import SinkSpec
from mamori.analysis._values import (
    ALL,
    EMPTY,
    NOCONST,
    Taint,
    Val,
    from_taint,
)
from mamori.analysis.engine.core import FrameBase, RawFinding, _sink_text
from mamori.model import TraceStep

_SCRIPT_FLAGS = frozenset({"-c", "/c", "/C", "-Command", "-command", "-e"})


_SHELLS = frozenset(
    {
        "sh", "bash", "zsh", "dash", "ksh", "csh", "tcsh", "fish", "ash", "busybox", "cmd",
        "powershell", "pwsh", "python", "python2", "python3", "perl", "ruby", "node", "php",
        "env", "su", "sudo", "ssh",
    }
)  # fmt: skip


def _may_be_shell(first: Val | None) -> bool:
    """Whether the program of an argument list may run its ``-c`` argument as a script: a
    known shell or interpreter, or a program not known here (``ping -c 1`` is a count)."""
    if first is None or not isinstance(first.const, str):
        return True
    name = first.const.replace("\\", "/").rsplit("/", 1)[-1].lower().removesuffix(".exe")
    return name.rstrip("0123456789.") in _SHELLS or name in _SHELLS


class Sinks(FrameBase):
    """Sinks: a call's dangerous arguments checked against the sink models, and :meth:`Sinks.emit`,"""

    def emit(self, t: Taint, rule: str, step: TraceStep, text: str) -> None:
        """A flow reached a sink: report it, or record it in the summary for a parameter."""
        r = self.p.models.rules.get(rule)
        klass = r.klass if r is not None else ""
        if klass in t.cleared or ALL in t.cleared:
            return
        if t.label.startswith("#"):
            # one hit per (flow, rule, sink): paths through branches and loops, and the hits
            # of callees, would otherwise repeat it and multiply in every caller's summary
            key = (t, rule, step.path, step.line)
            if key not in self._hit_keys:
                self._hit_keys.add(key)
                self.hits.append((t, rule, step, text))
            return
        trace = (*t.trace, step)
        self.p.report(
            RawFinding(
                rule,
                step.path,
                step.line,
                step.column,
                trace,
                text,
                t.trace[0].note if t.trace else "",
                t.label.rpartition("@")[0],
            )
        )

    def check_call_sinks(
        self,
        specs: tuple[SinkSpec, ...],
        name: str,
        args: list[Val],
        kwargs: dict[str, Val],
        receiver: Val | None,
        node: ast.Call,
    ) -> None:
        """Check the dangerous arguments of a sink call."""
        fired: set[str] = set()
        for spec in specs:
            if spec.rule in fired:
                continue
            if spec.receiver_kind:
                rk = receiver.kind if receiver is not None else ""
                rref = receiver.ref if receiver is not None else ""
                if rk != spec.receiver_kind and self.p.kind_of(rref) != spec.receiver_kind:
                    continue
            if spec.when_keyword:
                kv = kwargs.get(spec.when_keyword)
                if kv is None or kv.const != spec.when_value:
                    continue
            if spec.arg_kind:
                av = kwargs.get(spec.arg_kind_keyword) if spec.arg_kind_keyword else None
                if av is None and 0 <= spec.arg_kind_position < len(args):
                    av = args[spec.arg_kind_position]
                if av is None or av.kind != spec.arg_kind:
                    continue
            if spec.unless_keyword:
                kv = kwargs.get(spec.unless_keyword)
                if kv is None and 0 <= spec.unless_position < len(args):
                    kv = args[spec.unless_position]
                if kv is not None and kv.ref in spec.unless_values:
                    continue
            vals: list[Val] = []
            if spec.receiver and receiver is not None:
                vals.append(receiver)
            for pos in spec.positions:
                if pos < len(args):
                    vals.append(args[pos])
            for kw in spec.keywords:
                if kw in kwargs:
                    vals.append(kwargs[kw])
            if spec.program:
                shell = kwargs.get("shell")
                if shell is not None and shell.const is not False and shell.const is not NOCONST:
                    continue
                progs: list[Val] = []
                for v in vals:
                    if (
                        v.kind in ("list", "tuple")
                        and any(x.const in _SCRIPT_FLAGS for _, x in v.fields)
                        and _may_be_shell(v.get(0))
                    ):  # [shell, "-c", script]: the script is a command line
                        progs.append(v)
                    elif v.kind in ("list", "tuple"):
                        first = v.get(0)
                        progs.append(first if first is not None else from_taint(v.taint))
                    else:
                        progs.append(v)
                vals = progs
            if self.check_sink(
                spec.rule, tuple(vals), {}, spec, node, node, rule_direct=True, elements=spec.elements
            ):
                fired.add(spec.rule)

    def check_sink(
        self,
        name: str,
        vals: tuple[Val, ...],
        kwargs: dict[str, Val],
        spec: SinkSpec | None,
        at: ast.AST,
        text_node: ast.AST,
        *,
        rule_direct: bool = False,
        elements: tuple[int, ...] = (),
    ) -> bool:
        """Report the flows in ``vals`` reaching sink ``name`` (a rule id or a pseudo-call)."""
        rules: list[tuple[str, tuple[int, ...]]] = []
        if rule_direct:
            rules.append((name, elements))
        else:
            for s in self.p._sink_index.get(name, ()):
                rules.append((s.rule, s.elements))
        hit = False
        line = getattr(at, "lineno", 0)
        col = getattr(at, "col_offset", 0)
        text = _sink_text(text_node)
        for rule, elements in rules:
            taints: set[Taint] = set()
            for v in vals:
                if elements and v.kind == "tuple" and v.fields:
                    for e in elements:
                        item = v.get(e)
                        if item is not None:
                            taints |= item.deep_taint()
                elif elements and 0 not in elements:
                    continue
                else:
                    taints |= (
                        v.deep_taint()
                        if (v.kind in ("list", "tuple", "dict", "set"))
                        else v.taint | (v.deep_taint() if v.fields and not v.inst else EMPTY)
                    )
            if not taints:
                continue
            step = TraceStep(self.m.relpath, line, f"{text} (sink)", col)
            r = self.p.models.rules.get(rule)
            klass = r.klass if r is not None else ""
            for t in taints:
                self.emit(t, rule, step, text)
                hit = True
                # a page fetched from a URL the attacker chose is still the attacker's text
                if rule_direct and klass != "ssrf" and klass not in t.cleared and ALL not in t.cleared:
                    self.sunk.add(t)
        return hit
