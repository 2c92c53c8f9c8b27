"""The fix stage's values: a proposed patch, the outcome of each fix, and the whole report.

Why values and not exceptions: a run fixes many findings and most of the interesting outcomes
are partial (one upgrade verified, one rewrite refused, one finding with no safe fix at all).
Each becomes a :class:`FixResult` with a status and the reason in words, so the CLI, the demo and
the benchmarks render the same facts.
"""

from __future__ import annotations

import difflib
from dataclasses import dataclass, field
from typing import Literal

FixKind = Literal["dependency", "code"]
FixStatus = Literal["verified", "unverified", "not_possible"]
Strategy = Literal["in-place", "latest-safe"]


@dataclass(frozen=True, slots=True)
class FileEdit:
    """A whole-file replacement: the text before and after, for one path relative to the project."""

    path: str
    before: str
    after: str

    def diff(self) -> str:
        """The unified diff of this edit (``a/PATH`` → ``b/PATH``)."""
        return "".join(
            difflib.unified_diff(
                self.before.splitlines(keepends=True),
                self.after.splitlines(keepends=True),
                fromfile=f"a/{self.path}",
                tofile=f"b/{self.path}",
            )
        )


@dataclass(frozen=True, slots=True)
class Patch:
    """A proposed fix for one or more findings: file edits plus what a human should know."""

    finding_ids: tuple[str, ...]
    """The findings this patch is meant to remove."""
    rule: str
    """The advisory id (dependencies) or rule id (code) it answers; named in commit messages."""
    kind: FixKind
    summary: str
    """One line: ``jinja2 2.10 → 2.11.3`` or ``parameterised query``."""
    edits: tuple[FileEdit, ...] = ()
    notes: tuple[str, ...] = ()
    """Warnings and follow-ups: dropped hashes, the lockfile command to run …"""
    upgrades: tuple[tuple[str, str, str, str], ...] = ()
    """(ecosystem, name, old version, new version) for dependency patches."""
    source: Literal["rule", "llm"] = "rule"
    """Who wrote it: a rule-based rewriter or a language-model draft."""

    def diff(self) -> str:
        """The unified diff of every edit."""
        return "".join(e.diff() for e in self.edits)


@dataclass(frozen=True, slots=True)
class FixResult:
    """The outcome for one finding."""

    finding_id: str
    rule: str
    """Advisory id or rule id."""
    kind: FixKind
    status: FixStatus
    why: str
    """Why it has this status, in words (what verified it, what failed, why no fix exists)."""
    path: str = ""
    line: int = 0
    summary: str = ""
    diff: str = ""
    seconds_to_verified: float | None = None
    """Seconds from the start of the scan to the verified patch (None unless verified)."""
    applied: bool = False
    """True when the patch was written to the user's tree."""
    notes: tuple[str, ...] = ()
    options: tuple[str, ...] = ()
    """When no fix is possible: what the user can do instead."""


@dataclass(frozen=True, slots=True)
class Verification:
    """How the fixes were checked."""

    tests: str = ""
    """The test command that was run, or ``""`` when none was found or run."""
    baseline_passed: bool | None = None
    """Whether the project's tests passed before any fix (None when not run)."""
    method: str = "re-scan"
    """``tests+install+re-scan`` (upgraded requirements installed into scratch virtualenvs and
    the tests run there, before and after), ``tests+re-scan``, ``re-scan`` or ``none``
    (``--no-verify``)."""
    warnings: tuple[str, ...] = ()
    combined: bool | None = None
    """Whether every verified fix also passed together (None when not checked)."""


@dataclass(frozen=True, slots=True)
class FixReport:
    """Everything one ``mamori fix`` run did."""

    root: str
    results: tuple[FixResult, ...] = ()
    verification: Verification = field(default_factory=Verification)
    scan_seconds: float = 0.0
    total_seconds: float = 0.0
    applied: bool = False
    """True when verified fixes were written to the user's tree."""
    branch: str = ""
    """The git branch the fixes were committed to, if any."""
    errors: tuple[str, ...] = ()

    @property
    def unfixed(self) -> tuple[FixResult, ...]:
        """Results whose finding is still there (not verified, or verified but not applied)."""
        return tuple(r for r in self.results if r.status != "verified")

    def diff(self) -> str:
        """Every fix's diff, concatenated."""
        return "".join(r.diff for r in self.results if r.diff)
