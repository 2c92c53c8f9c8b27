"""Safe, fast YAML for Sigma rules and the mapping data: libyaml, expansion and depth capped.

Rule files come from anywhere (a SigmaHQ checkout, a colleague's folder, a peer), so they are
read like every other untrusted YAML in mamori: each document is *composed* into nodes first
(linear in the text even for an alias bomb, because aliases share nodes), the node graph is
walked as construction would expand it — more than :data:`MAX_NODES` nodes once aliases are
expanded (an alias bomb), or more than :data:`MAX_DEPTH` levels (deep nesting, a recursive
alias), is refused — and only then constructed into Python values with the
safe constructors (no tags that build objects). Before any of that, the text's event stream is
counted (:func:`mamori._yamlguard.preflight`) so that a file of millions of nodes, or one nested
too deep, is refused without composing it. Parsing goes through libyaml's ``CSafeLoader``
when PyYAML was built with it (about eight times faster than the pure-Python loader, which is
the fallback).
"""

from __future__ import annotations

from typing import Any

import yaml

from mamori._yamlguard import YamlRefused, preflight

MAX_DEPTH = 64
"""Deepest nesting accepted in a rule document (SigmaHQ's rules stay below 10)."""

MAX_NODES = 200_000
"""Most YAML nodes accepted in one rule file (the largest SigmaHQ rule has a few thousand)."""

try:
    _Loader: type[yaml.SafeLoader] = yaml.CSafeLoader  # type: ignore[assignment]
except AttributeError:  # pragma: no cover - depends on how PyYAML was built
    _Loader = yaml.SafeLoader


class UnsafeYaml(yaml.YAMLError):
    """A YAML document refused before construction (an alias bomb, too deep, too large)."""


def _check(root: yaml.Node, budget: list[int]) -> None:
    """Walk the node graph as construction would expand it, within the budget and depth caps.

    An alias is walked again wherever it is used, so an alias bomb spends the budget as fast
    as it would spend memory, and a recursive alias hits the depth cap; both are refused in
    time linear in :data:`MAX_NODES`. Plain aliases (a list reused by two selections, as the
    bundled web rules do) cost only what they expand to.
    """
    stack: list[tuple[yaml.Node, int]] = [(root, 0)]
    while stack:
        node, depth = stack.pop()
        budget[0] -= 1
        if budget[0] < 0:
            raise UnsafeYaml(
                f"more than {MAX_NODES:,} YAML nodes once aliases are expanded; refused before building them"
            )
        if depth > MAX_DEPTH:
            raise UnsafeYaml(
                f"line {node.start_mark.line + 1}: YAML nested over {MAX_DEPTH} deep (or a recursive alias)"
            )
        if isinstance(node, yaml.MappingNode):
            for key, value in node.value:
                stack.append((key, depth + 1))
                stack.append((value, depth + 1))
        elif isinstance(node, yaml.SequenceNode):
            stack.extend((item, depth + 1) for item in node.value)


def load_all(text: str | bytes) -> list[Any]:
    """Every document of ``text``, constructed safely (see the module docstring).

    Raises:
        yaml.YAMLError: invalid YAML, or :class:`UnsafeYaml` for a refused document.
    """
    return [value for value, _ in load_all_located(text)]


def _key_lines(root: yaml.Node) -> dict[str, int]:
    """1-based lines of a document (``""``), its top-level keys and theirs (``a.b``)."""
    lines = {"": root.start_mark.line + 1}
    if not isinstance(root, yaml.MappingNode):
        return lines
    for key, value in root.value:
        if not isinstance(key, yaml.ScalarNode):
            continue
        lines.setdefault(str(key.value), key.start_mark.line + 1)
        if isinstance(value, yaml.MappingNode):
            for sub, _ in value.value:
                if isinstance(sub, yaml.ScalarNode):
                    lines.setdefault(f"{key.value}.{sub.value}", sub.start_mark.line + 1)
    return lines


def load_all_located(text: str | bytes) -> list[tuple[Any, dict[str, int]]]:
    """Like :func:`load_all`, each document with the lines of its keys (see :func:`_key_lines`).

    Raises:
        yaml.YAMLError: invalid YAML, or :class:`UnsafeYaml` for a refused document.
    """
    try:  # judged from the event stream first: a file of millions of nodes is never composed
        preflight(text, max_nodes=MAX_NODES, max_depth=MAX_DEPTH)
    except YamlRefused as exc:
        raise UnsafeYaml(str(exc)) from None
    loader = _Loader(text)
    budget = [MAX_NODES]
    docs: list[tuple[Any, dict[str, int]]] = []
    try:
        while loader.check_node():
            node = loader.get_node()
            if node is None:  # pragma: no cover - check_node said there is one
                break
            _check(node, budget)
            docs.append((loader.construct_document(node), _key_lines(node)))
    except RecursionError:
        raise UnsafeYaml(f"YAML nested over {MAX_DEPTH} deep") from None
    finally:
        loader.dispose()
    return docs


def load_one(text: str | bytes) -> Any:
    """The single document of ``text`` (None when empty), constructed safely."""
    docs = load_all(text)
    return docs[0] if docs else None
