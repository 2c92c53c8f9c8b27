"""All the literals of one field at once: RE2's multi-pattern Set (a DFA over every literal,
like Aho-Corasick), shared by the engine's pre-filter and the compiled rules' long ``contains``
lists; plain substring tests are the fallback."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

try:  # RE2's multi-pattern Set is the fast path; plain substring tests are the fallback
    import re2 as _re2
except ImportError:  # pragma: no cover - depends on the environment
    _re2 = None


class LiteralSet:
    """All literals of one field: ``match(text)`` returns the indices of those it contains."""

    def __init__(self, literals: Sequence[str]) -> None:
        self.literals = list(literals)
        self._set: Any = None
        self._match: Callable[[str], list[int] | None] = lambda text: None
        if _re2 is not None and len(self.literals) > 4:
            opts = _re2.Options()
            opts.max_mem = 256 << 20
            s = _re2.Set.SearchSet(opts)
            for lit in self.literals:
                s.Add(_re2.escape(lit))
            s.Compile()
            self._set = s
            # the C++ Set (skips a wrapper call per match) reads bytes: a lone surrogate, which a
            # JSON log may carry as "\ud800", is passed through rather than stopping the run
            raw = getattr(s, "_set", None)
            if raw is not None:
                self._match = lambda text: raw.Match(text.encode("utf-8", "surrogatepass"))
            else:  # the wrapper encodes strictly: a lone surrogate (a JSON "\ud800") is replaced
                self._match = lambda text: s.Match(text.encode("utf-8", "replace").decode("utf-8"))

    def match(self, text: str) -> Sequence[int]:
        if self._set is not None:
            res: list[int] | None = self._match(text)
            return res or ()
        return [i for i, lit in enumerate(self.literals) if lit in text]
