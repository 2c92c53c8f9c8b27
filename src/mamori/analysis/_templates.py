"""Templates and the scripts inside them: where a page prints a value unescaped.

Jinja2 and Django templates escape what ``{{ x }}`` prints unless the template says not to:
``{{ x|safe }}``, a ``{% autoescape false %}`` (Jinja2) or ``{% autoescape off %}`` (Django)
block. Escaping does not help when the value starts a URL attribute (``href="{{ x }}"`` runs
``javascript:``). :func:`unescaped_uses` finds those places per context name, so that the
engine can report a tainted value passed to ``render_template(..., x=value)`` at the template
line that prints it.

:func:`dom_sinks` reads the inline scripts of a page: data from the page's URL
(``location.hash``, ``document.URL``…) written into ``innerHTML``, ``document.write``, a
jQuery ``.html()`` or a script's ``src``.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

_TAG = re.compile(r"\{%-?\s*(end)?autoescape\b\s*([A-Za-z]*)\s*-?%\}|\{\{-?(.*?)-?\}\}", re.S)
_NAME = re.compile(r"\s*([A-Za-z_][A-Za-z0-9_]*)")
_URL_ATTR = re.compile(r"""(?:href|src|action|formaction|data)\s*=\s*["']?\s*$""", re.I)


@dataclass(frozen=True)
class Use:
    """A place a template prints a context value without escaping it for its context."""

    line: int
    text: str
    why: str


def unescaped_uses(text: str) -> dict[str, list[Use]]:
    """Context names printed unescaped (or at the start of a URL attribute), with their lines."""
    out: dict[str, list[Use]] = {}
    off: list[bool] = []
    for m in _TAG.finditer(text):
        if m.group(3) is None:
            if m.group(1):
                if off:
                    off.pop()
            else:
                off.append(m.group(2).lower() in ("false", "off"))
            continue
        expr = m.group(3)
        nm = _NAME.match(expr)
        if nm is None:
            continue
        name = nm.group(1)
        if name in ("true", "false", "none", "True", "False", "None", "loop", "csrf_token", "url_for"):
            continue
        filters = [f.strip().split("(")[0] for f in expr.split("|")[1:]]
        why = ""
        if "safe" in filters:
            why = "marked |safe"
        elif off and off[-1]:
            why = "autoescape is off"
        elif "escape" not in filters and "e" not in filters and "urlencode" not in filters:
            before = text[max(0, m.start() - 40) : m.start()]
            if _URL_ATTR.search(before):
                why = "starts a URL attribute (javascript: URLs survive escaping)"
        if why:
            line = text.count("\n", 0, m.start()) + 1
            out.setdefault(name, []).append(Use(line, m.group(0).strip(), why))
    return out


_SCRIPT = re.compile(r"<script\b[^>]*>(.*?)</script>", re.S | re.I)
_DOM_SOURCE = re.compile(
    r"\b(?:window\.|document\.)?location\.(?:hash|search|href)\b|\bdocument\.(?:URL|documentURI|referrer)\b"
    r"|\bwindow\.name\b"
)
_ASSIGN = re.compile(r"(?:\b(?:var|let|const)\s+)?\b([A-Za-z_$][\w$]*)\s*=(?!=)\s*(.*)")
_DOM_SINK = re.compile(
    r"\.(?:innerHTML|outerHTML)\s*=(?!=)|\bdocument\.write(?:ln)?\s*\(|\.html\s*\(|\.insertAdjacentHTML\s*\("
    r"|\.src\s*=(?!=)|\beval\s*\("
)


@dataclass(frozen=True)
class DomFlow:
    """URL data of the page written into HTML or a script source by an inline script."""

    line: int
    source_line: int
    text: str
    source: str


def dom_sinks(text: str) -> list[DomFlow]:
    """Flows, inside each inline ``<script>``, from the page's URL into a DOM sink."""
    out: list[DomFlow] = []
    for sm in _SCRIPT.finditer(text):
        body = sm.group(1)
        first = text.count("\n", 0, sm.start(1)) + 1
        tainted: dict[str, tuple[int, str]] = {}
        for i, raw in enumerate(body.split("\n")):
            line = first + i
            stmt = raw.strip()
            if not stmt or stmt.startswith("//"):
                continue
            src = _DOM_SOURCE.search(stmt)
            uses = [v for v in tainted if re.search(r"(?<![\w$.])" + re.escape(v) + r"(?![\w$])", stmt)]
            am = _ASSIGN.match(stmt)
            sink = _DOM_SINK.search(stmt)
            if sink is not None and (src is not None or uses):
                rhs = stmt[sink.end() :]
                if src is not None and src.start() >= sink.start():
                    out.append(DomFlow(line, line, stmt[:120], src.group(0)))
                    continue
                hit = [v for v in uses if re.search(r"(?<![\w$.])" + re.escape(v) + r"(?![\w$])", rhs)]
                if hit:
                    sl, note = tainted[hit[0]]
                    out.append(DomFlow(line, sl, stmt[:120], note))
                    continue
            if am is not None and not stmt.startswith(("if", "for", "while")):
                name, rhs = am.group(1), am.group(2)
                if src is not None:
                    tainted[name] = (line, src.group(0))
                elif any(re.search(r"(?<![\w$.])" + re.escape(v) + r"(?![\w$])", rhs) for v in tainted):
                    v0 = next(
                        v for v in tainted if re.search(r"(?<![\w$.])" + re.escape(v) + r"(?![\w$])", rhs)
                    )
                    tainted[name] = tainted[v0]
                else:
                    tainted.pop(name, None)
    return out
