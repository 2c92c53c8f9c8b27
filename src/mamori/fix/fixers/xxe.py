"""XML external entities: defusedxml or a parser with entity resolution off."""

from __future__ import annotations

import re

import libcst as cst

from mamori.fix.fixers._shared import Context, NoFix, parse_expr, replace_arg, set_keyword, source_of

CWES = ("CWE-611",)
"""The weaknesses this fixer answers."""


_DEFUSED = {
    "xml.etree.ElementTree.parse": "defusedxml.ElementTree.parse",
    "xml.etree.ElementTree.fromstring": "defusedxml.ElementTree.fromstring",
    "xml.etree.ElementTree.XML": "defusedxml.ElementTree.fromstring",
    "xml.etree.ElementTree.iterparse": "defusedxml.ElementTree.iterparse",
    "xml.dom.minidom.parse": "defusedxml.minidom.parse",
    "xml.dom.minidom.parseString": "defusedxml.minidom.parseString",
    "xml.dom.pulldom.parse": "defusedxml.pulldom.parse",
    "xml.dom.pulldom.parseString": "defusedxml.pulldom.parseString",
    "xml.sax.parse": "defusedxml.sax.parse",
    "xml.sax.parseString": "defusedxml.sax.parseString",
}


def fix(ctx: Context, line: int) -> tuple[str, list[str]]:
    calls = ctx.calls_at(line)
    if not calls:
        raise NoFix(f"no parser call at line {line}")
    scope = ctx.function_of(calls[0])
    changed = 0
    for call in ctx.calls:
        if ctx.function_of(call) is not scope:
            continue
        if (
            isinstance(call.func, cst.Attribute)
            and call.func.attr.value == "setFeature"
            and len(call.args) == 2
        ):
            feature = source_of(call.args[0].value)
            if re.search(r"external_(ges|pes)|external-general|external-parameter", feature) and source_of(
                call.args[1].value
            ) in ("True", "1"):
                ctx.replace(call, replace_arg(call, call.args[1], cst.Name("False")))
                changed += 1
        q = ctx.qualname(call.func)
        if q.endswith("XMLParser") and q.startswith("lxml"):
            new = set_keyword(call, "resolve_entities", cst.Name("False"))
            new = set_keyword(new, "no_network", cst.Name("True"))
            ctx.replace(call, new)
            changed += 1
    if changed:
        return "external entity resolution turned off in the parser", []
    for call in calls:
        q = ctx.qualname(call.func)
        if q in _DEFUSED:
            target = _DEFUSED[q]
            ctx.replace(call, call.with_changes(func=parse_expr(target)))
            ctx.imports.add(target.rsplit(".", 1)[0])
            return f"{target} (entities and external references refused)", ["needs the defusedxml package"]
        if q in ("lxml.etree.parse", "lxml.etree.fromstring", "lxml.etree.XML"):
            parser = parse_expr("lxml.etree.XMLParser(resolve_entities=False, no_network=True)")
            ctx.replace(call, set_keyword(call, "parser", parser))
            ctx.imports.add("lxml.etree")
            return "lxml parser with resolve_entities=False, no_network=True", []
    raise NoFix(f"no XML parser of a known kind at line {line}")
