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
FixStatus = Literal["proven", "verified", "unverified", "not_possible"]
"""``proven``: verified, and its proof of vulnerability fired before the fix and not after;
``verified``: the tests that passed before still pass, they ran every changed line (or imported
the upgraded package), and a re-scan no longer reports the finding; ``unverified``: a patch
exists but the evidence falls short (the reason says what is missing); ``not_possible``: no
correct automatic fix (shown as "refused", with what a person should do)."""
WRITTEN: tuple[str, ...] = ("proven", "verified")
"""The statuses the default mode writes to the project."""
Strategy = Literal["in-place", "latest-safe"]


@dataclass(frozen=True, slots=True)
class FileEdit:
    """A whole-file replacement: the text before and after, for one path relative to the project."""

    path: str
    before: str
    after: str

    def diff(self) -> str:
        """The unified diff of this edit (``a/PATH`` → ``b/PATH``), as ``git apply`` takes it
        (a last line without a newline is marked so)."""
        out: list[str] = []
        for line in difflib.unified_diff(
            self.before.splitlines(keepends=True),
            self.after.splitlines(keepends=True),
            fromfile=f"a/{self.path}",
            tofile=f"b/{self.path}",
        ):
            out.append(line if line.endswith("\n") else line + "\n\\ No newline at end of file\n")
        return "".join(out)


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
class Evidence:
    """What a fix's status rests on: the tests that ran the change, coverage, the proof."""

    tests_before: str = ""
    """The tests before any fix (``12 passed``, ``3 failed``), or ``""`` when none ran."""
    tests_after: str = ""
    """The tests with the fix."""
    covering_tests: tuple[str, ...] = ()
    """Tests that executed changed lines (from coverage contexts)."""
    lines_changed: int = 0
    """Changed executable statements (``def``/``class``/decorator lines not counted)."""
    lines_covered: int = 0
    uncovered: tuple[str, ...] = ()
    """``path:line`` of changed statements no test ran."""
    imported: tuple[str, ...] = ()
    """For upgrades: files of the upgraded package the tests imported."""
    proof: str = ""
    """The proof of vulnerability's result (``fired before, not after``), ``""`` when none ran."""
    added_tests: tuple[str, ...] = ()
    """Tests mamori added to the verification run (a PoV test, a derived behaviour test)."""
    rescan: str = ""
    """What the re-scan found."""


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
    evidence: Evidence = field(default_factory=Evidence)

    @property
    def label(self) -> str:
        """The status as a person reads it (``refused`` for ``not_possible``)."""
        return "refused" if self.status == "not_possible" else self.status


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
    dry_run: bool = False
    patch: str = ""
    """The unified diff of every fix that is written (in a dry run: would be), rendered together."""

    def counts(self) -> dict[str, int]:
        """Distinct fixes (one per diff or refusal) by status."""
        seen: dict[tuple[str, str, str, int], str] = {}
        for r in self.results:
            seen.setdefault((r.diff or r.finding_id, r.rule, r.path, r.line), r.status)
        out = {s: 0 for s in ("proven", "verified", "unverified", "not_possible")}
        for status in seen.values():
            out[status] += 1
        return out

    def summary(self) -> str:
        """``would fix 12 of 48; 3 unverified; 2 refused`` (``fixed`` when written)."""
        written = sum(1 for r in self.results if r.applied or (self.dry_run and r.status in WRITTEN))
        c = self.counts()
        verb = "would fix" if self.dry_run else "fixed"
        return (
            f"{verb} {written} of {len(self.results)}; {c['unverified']} unverified; {c['not_possible']} refused"
            + (f"; {c['proven']} proven" if c["proven"] else "")
        )

    @property
    def unfixed(self) -> tuple[FixResult, ...]:
        """Results whose finding is still there (not verified, or verified but not applied)."""
        return tuple(r for r in self.results if not r.applied)

    def diff(self) -> str:
        """Every fix's diff, concatenated."""
        return "".join(r.diff for r in self.results if r.diff)
