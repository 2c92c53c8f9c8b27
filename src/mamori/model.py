"""The one findings model every stage produces and every output renders.

A :class:`Report` is the result of a run: findings plus the errors met on the way. The JSON
of ``--format json`` (``mamori.report/1``, see the public contract) is a direct rendering of
these dataclasses through :func:`mamori.output.jsonout.report_to_dict`. Values are lower case.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Literal

if TYPE_CHECKING:
    from mamori.inventory.interface import Component

Severity = Literal["critical", "high", "medium", "low", "info", "unknown"]
FindingKind = Literal["dependency", "code"]
Status = Literal["open", "not_affected", "fixed", "accepted"]
"""``accepted``: a risk the project accepted (an ``[[ignore]]`` with its reason): still affected,
but closed for ``--fail-on``; VEX states it ``affected`` with the acceptance as its action."""
Decision = Literal["act", "attend", "track*", "track"]
ProofStatus = Literal["proven", "not_proven", "not_attempted"]
MatchKind = Literal["exact", "every-version", "newest-allowed"]
CoverageReason = Literal["unpinned", "no-lockfile", "no-advisories", "unreadable"]

SEVERITY_ORDER: dict[str, int] = {
    "unknown": 0,
    "info": 1,
    "low": 2,
    "medium": 3,
    "high": 4,
    "critical": 5,
}
"""Severities by rank; ``unknown`` ranks lowest and counts only under ``--fail-on any``."""

DECISION_ORDER: dict[str, int] = {"track": 1, "track*": 2, "attend": 3, "act": 4}
"""SSVC decisions by rank."""


SECRET_CWES = frozenset({"CWE-798", "CWE-259", "CWE-321", "CWE-547"})
"""CWEs of hard-coded credentials: findings of these never carry a string literal."""

_SECRET_WORD = (
    r"[\w.]*(?:pass(?:word|wd|phrase)?|pwd|secret|token|api_?key|private_?key|salt|credentials?)[\w.]*"
)
_SECRET_ASSIGNMENT = re.compile(
    r"(?i)(\b" + _SECRET_WORD + r"['\"]?\]?\s*(?:==|!=|=|:)\s*[rbuf]{0,2})(['\"])(?:\\.|(?!\2).)*(?:\2|$)"
)
_LITERAL = re.compile(r"(?i)(?<![\w'\"])[rbuf]{0,2}(['\"])(?:\\.|(?!\1).)*(?:\1|$)")


def redact_secrets(text: str, *, every_literal: bool = False) -> str:
    """``text`` with the value of every secret-named literal shown as ``'…'``.

    ``password='x'``, ``"token": "x"`` and ``api_key == "x"`` keep their names and lose their
    values; an unclosed literal (code text cut short) is redacted to the end. With
    ``every_literal`` (findings about hard-coded credentials) every string literal goes, except a
    subscript or dict key (``app.config['SECRET_KEY']``, ``{'PASSWORD': …}``), which names it.
    """
    if "'" not in text and '"' not in text:
        return text
    text = _SECRET_ASSIGNMENT.sub(lambda m: m.group(1) + "'…'", text)
    if not every_literal:
        return text

    def one(m: re.Match[str]) -> str:
        before = text[: m.start()].rstrip()
        after = text[m.end() :].lstrip()
        if (before.endswith("[") and after.startswith("]")) or (
            before.endswith(("{", ",")) and after.startswith(":")
        ):
            return m.group(0)
        return "'…'"

    return _LITERAL.sub(one, text)


@dataclass(frozen=True, slots=True)
class Location:
    """Where something is: a path relative to the scan target and a 1-based line (0 if unknown)."""

    path: str
    line: int = 0
    column: int = 0


@dataclass(frozen=True, slots=True)
class Package:
    """A package as the advisories name it."""

    ecosystem: str
    """OSV ecosystem name: ``PyPI``, ``npm``, ``Go``, ``crates.io``, ``Maven`` …"""
    name: str
    version: str
    """The exact version; ``""`` for a dependency given only as a range (see ``range_spec``)."""
    purl: str
    range_spec: str = ""
    """The range a manifest allows (``>=0.12``) when it pins no version."""
    newest: str = ""
    """Online: the newest release ``range_spec`` allows, that a ``newest-allowed`` finding was
    matched as (``""`` when it was not resolved)."""


@dataclass(frozen=True, slots=True)
class AdvisoryRef:
    """The advisory behind a dependency finding, with every alias merged in."""

    id: str
    aliases: tuple[str, ...] = ()
    fixed: tuple[str, ...] = ()
    """Versions that fix it, as the advisory names them (lowest first)."""
    summary: str = ""
    published: str = ""
    modified: str = ""
    references: tuple[str, ...] = ()
    cvss: tuple[str, ...] = ()
    """CVSS vectors (v3.x / v4.0) as given by the advisory."""
    functions: tuple[str, ...] = ()
    """Affected functions or modules the advisory names (for reachability), if any."""


@dataclass(frozen=True, slots=True)
class TraceStep:
    """One step of a taint trace: source, propagation or sink."""

    path: str
    line: int
    note: str
    column: int = 0


@dataclass(frozen=True, slots=True)
class Priority:
    """A prioritisation decision with its reasons (filled by :mod:`mamori.prioritize`)."""

    decision: Decision
    score: float
    reasons: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class Proof:
    """A proof of vulnerability for a code finding (filled by :mod:`mamori.prove`).

    ``proven``: a real request, sent to the app running in a sandbox, made the canary reach
    the sink the way the class of weakness needs (``observed`` says what and where).
    ``not_proven``: a request was built and sent, or could not be, and ``reason`` says why.
    ``not_attempted``: no proof is attempted for this class or source.
    """

    status: ProofStatus
    reason: str = ""
    request: dict[str, object] | None = None
    """The request sent: ``method``, ``url``, the inputs by place, and a ``curl`` line."""
    observed: dict[str, object] | None = None
    """What the sink saw: ``sink``, ``value`` (the canary as it arrived), ``path``/``line``."""

    def __hash__(self) -> int:
        return hash((self.status, self.reason))


@dataclass(frozen=True, slots=True)
class Finding:
    """One vulnerability: a vulnerable dependency or a weakness in the project's code."""

    kind: FindingKind
    rule_id: str
    """The advisory id for dependencies, the rule id for code."""
    title: str
    severity: Severity
    location: Location
    cwe: tuple[str, ...] = ()
    package: Package | None = None
    advisory: AdvisoryRef | None = None
    trace: tuple[TraceStep, ...] = ()
    priority: Priority | None = None
    status: Status = "open"
    justification: str = ""
    confidence: Literal["high", "medium", "low"] = "high"
    reachability: Literal["reachable", "unreachable", "unknown"] = "unknown"
    """Whether the project's code reaches the vulnerable code (set by prioritisation)."""
    reachability_evidence: str = ""
    """Why, in words (``jinja2 is imported by app/views.py`` …)."""
    description: str = ""
    fingerprint_basis: str = ""
    """Text that identifies the finding independently of line numbers (normalised code for
    code findings); the stable id is computed from rule, path and this."""
    proof: Proof | None = None
    """The proof of vulnerability, when ``mamori prove`` or ``scan --prove`` tried one."""
    test: bool = False
    """A code finding in a test or fixture folder (kept, with low confidence; not a suppression)."""
    match: MatchKind = "exact"
    """How a dependency finding was matched: ``exact`` (the pinned version is affected),
    ``every-version`` (the component is a range and every version it allows is affected) or
    ``newest-allowed`` (online: the newest release the range allows is affected)."""

    def __post_init__(self) -> None:
        # The one place secrets are taken out: whatever built a code finding (a check, the
        # taint engine, a report read back), no output, database or fingerprint sees a value.
        if self.kind != "code":
            return
        every = bool(SECRET_CWES.intersection(self.cwe))
        for name in ("title", "fingerprint_basis", "justification"):
            value = getattr(self, name)
            clean = redact_secrets(value, every_literal=every and name != "justification")
            if clean != value:
                object.__setattr__(self, name, clean)
        if any("'" in t.note or '"' in t.note for t in self.trace):
            trace = tuple(
                TraceStep(t.path, t.line, redact_secrets(t.note, every_literal=every), t.column)
                for t in self.trace
            )
            if trace != self.trace:
                object.__setattr__(self, "trace", trace)

    @property
    def id(self) -> str:
        """A stable fingerprint: the same finding keeps it across runs and line moves."""
        if self.kind == "dependency" and self.package is not None:
            basis = "|".join(
                (
                    "dep",
                    self.rule_id,
                    self.package.ecosystem,
                    self.package.name.lower(),
                    self.package.version or self.package.range_spec,
                    self.location.path,
                )
            )
        else:
            basis = "|".join(("code", self.rule_id, self.location.path, self.fingerprint_basis))
        return hashlib.sha256(basis.encode("utf-8")).hexdigest()[:24]

    @property
    def all_ids(self) -> tuple[str, ...]:
        """The rule id with every alias: ``CVE-…``, ``GHSA-…`` and ``PYSEC-…`` name one hole."""
        if self.advisory is None:
            return (self.rule_id,)
        return (self.advisory.id, *self.advisory.aliases)


@dataclass(frozen=True, slots=True)
class ScanError:
    """A problem met during a run that did not stop it (a broken lockfile, a skipped file)."""

    path: str
    message: str
    line: int = 0


@dataclass(frozen=True, slots=True)
class Unchecked:
    """An inventory item a scan could not check, and why (``coverage.unchecked[]`` in JSON)."""

    path: str
    line: int
    name: str
    """The package name (``""`` for a file that could not be read)."""
    reason: CoverageReason
    detail: str
    """What it allows or what went wrong, and what to do about it."""
    advice: str = ""
    """What to do, without this item's own place and range: items sharing it are one row of the
    table (``""``: the detail is the advice)."""
    allows: str = ""
    """The range (or note) the item allows, shown beside its name when items are grouped."""


@dataclass(frozen=True, slots=True)
class Coverage:
    """What a scan checked: ``checked`` of ``total`` inventory items, and each one it did not.

    An item is a component (a pinned dependency, or a range no pinned copy covers) or a file
    that could not be read. A report says "no vulnerabilities found" only when
    ``checked == total``.
    """

    checked: int = 0
    total: int = 0
    unchecked: tuple[Unchecked, ...] = ()
    deps: bool = True
    """False when dependency matching was turned off (``--no-deps``)."""
    code_files: int = 0
    """Python files the code analysis read."""
    files: tuple[str, ...] = ()
    """The dependency files read (lockfiles, manifests, SBOMs), even those that declared nothing."""
    not_walked: tuple[ScanError, ...] = ()
    """Folders the walk did not enter, each with why: a symlinked folder leading outside the
    project (not the project's files; scan its target on its own) or a second link to a folder
    already walked. Neither is an unchecked item: nothing of the project went unread."""

    @property
    def complete(self) -> bool:
        """True when every inventory item was checked."""
        return self.deps and self.checked == self.total


@dataclass(frozen=True, slots=True)
class DatabaseInfo:
    """Which advisory data a report was made with."""

    updated: str = ""
    sources: tuple[str, ...] = ()
    advisories_modified: str = ""
    """The newest ``modified`` among the advisories (how current the data is)."""
    kev_released: str = ""
    """The KEV catalogue's own release date."""
    warnings: tuple[str, ...] = ()
    """Why the data may be stale (older than a week), in words."""


@dataclass(frozen=True, slots=True)
class Report:
    """The result of a scan: findings in a deterministic order, and the errors met."""

    findings: tuple[Finding, ...] = ()
    errors: tuple[ScanError, ...] = ()
    database: DatabaseInfo = field(default_factory=DatabaseInfo)
    target: str = "."
    components: int = 0
    """How many components the inventory held."""
    elapsed: float = 0.0
    """Seconds the scan took."""
    inventory: tuple[Component, ...] = ()
    """The components scanned (for SBOM-shaped outputs such as CycloneDX)."""
    code_files: int = 0
    """Python files of the project's own code that the scan covered."""
    code_files_analysed: int = 0
    """Of those, the files analysed in this run (the rest came from the cache, unchanged)."""
    coverage: Coverage = field(default_factory=Coverage)
    """What was and was not checked."""


def sort_findings(findings: list[Finding] | tuple[Finding, ...]) -> tuple[Finding, ...]:
    """Deterministic order: priority (when set), then severity, then path, line and rule."""

    def key(f: Finding) -> tuple[object, ...]:
        prio = f.priority
        return (
            -(DECISION_ORDER.get(prio.decision, 0) if prio else 0),
            -(prio.score if prio else 0.0),
            -SEVERITY_ORDER.get(f.severity, 0),
            f.location.path,
            f.location.line,
            f.rule_id,
            f.package.name if f.package else "",
        )

    return tuple(sorted(findings, key=key))
