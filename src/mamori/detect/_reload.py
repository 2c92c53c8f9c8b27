"""Rules edited while ``mamori detect --follow`` runs are used without a restart.

A follower checks the rule files it was given (their paths, sizes and modification times: one
``stat`` each) every :data:`RULES_CHECK_EVERY` seconds; when anything changed — a rule added,
edited or removed — the rules are loaded again (through the compile cache) and the detector
matches with them from the next line on. A change that leaves no usable rule keeps the rules
loaded before, and says so: a half-written file never blinds a running follower.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from pathlib import Path

from mamori._text import count
from mamori.detect._detector import Detector, resolve_rules
from mamori.detect._rules import rule_files

RULES_CHECK_EVERY = 1.0
"""Seconds between two looks at the rule files."""

Stamp = tuple[tuple[str, int, int], ...]


def rules_stamp(paths: Sequence[Path]) -> Stamp:
    """(path, size, mtime in ns) of every rule file under ``paths`` (-1 for one that vanished)."""
    out: list[tuple[str, int, int]] = []
    for f in rule_files(paths):
        try:
            info = f.stat()
        except OSError:
            out.append((str(f), -1, -1))
            continue
        out.append((str(f), info.st_size, info.st_mtime_ns))
    return tuple(out)


class RuleReloader:
    """Swaps a detector's rules when the rule files change (see the module docstring)."""

    def __init__(
        self,
        paths: Sequence[Path],
        detector: Detector,
        say: Callable[[str], None],
        every: float = RULES_CHECK_EVERY,
    ) -> None:
        self.paths = list(paths)
        self.detector = detector
        self.say = say
        self.every = every
        self.stamp = rules_stamp(self.paths)
        self.last = time.monotonic()
        self.reloads = 0

    def check(self) -> bool:
        """Look at the rule files if it is time; True when new rules are now in use."""
        now = time.monotonic()
        if now - self.last < self.every:
            return False
        self.last = now
        stamp = rules_stamp(self.paths)
        if stamp == self.stamp:
            return False
        self.stamp = stamp
        before = len(self.detector.ruleset.rules)
        ruleset = resolve_rules(self.paths)
        for u in ruleset.unsupported:
            self.say(f"rule not loaded: {u.path}: {u.reason}")
        if not ruleset.rules:
            self.say(
                "the rule files changed and none is usable now; "
                f"still matching the {count(before, 'rule')} loaded before"
            )
            return False
        self.detector.use_rules(ruleset)
        self.reloads += 1
        self.say(f"rules reloaded: {count(len(ruleset.rules), 'rule')} (was {before})")
        return True
