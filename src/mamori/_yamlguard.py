"""Judge an untrusted YAML text before any node of it is built.

Every YAML loader in mamori (lockfiles in :mod:`mamori.inventory._safe`, Sigma rules in
:mod:`mamori.detect._yaml`, OSV advisories in :mod:`mamori.advisories.osv`) composes a document
into ``yaml.Node`` objects before checking it, and a composed node costs about 370 bytes: a
30 MB ``pnpm-lock.yaml`` of ``- {}`` lines is four million nodes, 1.5 GB and minutes of work
before any count could refuse it. :func:`preflight` walks the parser's *event* stream instead
(one event alive at a time, so memory stays flat) and refuses, naming the line, a document with
more nodes than its caller accepts, nested deeper than it accepts, or — after the first
:data:`DENSE_AFTER` nodes — denser than :data:`BYTES_PER_NODE` bytes of text per node, a shape
no real lockfile or rule has and that would take a hundred times its size once composed. Only
a text that passes is composed by its caller.
"""

from __future__ import annotations

from typing import Any

import yaml

__all__ = ["BYTES_PER_NODE", "DENSE_AFTER", "YamlRefused", "preflight"]

BYTES_PER_NODE = 10
"""Fewest bytes of text per node accepted past :data:`DENSE_AFTER` nodes. Real lockfiles and
Sigma rules spend 14 or more (a key, a version, an integrity hash); ``  - {}`` and ``[a,a,…]``
spend 3 to 7."""

DENSE_AFTER = 100_000
"""Nodes read before the density of the text so far is judged (small files are never dense)."""

_Loader: type[Any] = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
_NODE_EVENTS = (yaml.ScalarEvent, yaml.SequenceStartEvent, yaml.MappingStartEvent, yaml.AliasEvent)
_OPEN = (yaml.SequenceStartEvent, yaml.MappingStartEvent)
_CLOSE = (yaml.SequenceEndEvent, yaml.MappingEndEvent)


class YamlRefused(yaml.YAMLError):
    """A YAML text refused before it was composed; ``line`` is 1-based (0 when unknown)."""

    def __init__(self, message: str, line: int = 0) -> None:
        super().__init__(message)
        self.message = message
        self.line = line

    def __str__(self) -> str:
        return f"line {self.line}: {self.message}" if self.line else self.message


def preflight(text: str | bytes, *, max_nodes: int, max_depth: int) -> int:
    """Count the nodes of every document in ``text`` from its event stream; their number.

    Raises:
        YamlRefused: over ``max_nodes`` nodes, nested over ``max_depth``, or too dense.
        yaml.YAMLError: the text is not YAML (the parser's own error, with its mark).
    """
    loader = _Loader(text)
    nodes = depth = 0
    try:
        while loader.check_event():
            event = loader.get_event()
            mark = event.start_mark
            line, index = (mark.line + 1, mark.index) if mark is not None else (0, 0)
            if isinstance(event, _NODE_EVENTS):
                nodes += 1
                if nodes > max_nodes:
                    raise YamlRefused(
                        f"more than {max_nodes:,} YAML nodes; refused before building them",
                        line,
                    )
                if nodes > DENSE_AFTER and nodes % 1024 == 0 and nodes * BYTES_PER_NODE > index:
                    raise YamlRefused(
                        f"{nodes:,} YAML nodes in the first {index:,} characters (denser than "
                        f"one per {BYTES_PER_NODE}): not a real document, refused before building it (it "
                        "would take gigabytes in memory)",
                        line,
                    )
            if isinstance(event, _OPEN):
                depth += 1
                if depth > max_depth:
                    raise YamlRefused(f"YAML nested over {max_depth} deep", line)
            elif isinstance(event, _CLOSE):
                depth -= 1
    finally:
        loader.dispose()
    return nodes
