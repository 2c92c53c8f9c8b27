"""CISA's SSVC decision tree, as CISA publishes it for its own use.

The table is CISA's coordinator tree (SSVC 2.0.3, "CISA Levels"): 36 rows over Exploitation
(none, public PoC, active) × Automatable (no, yes) × Technical Impact (partial, total) ×
Mission & Well-being (low, medium, high) → Track, Track*, Attend, Act. It is kept as data so it
can be checked row by row against the published CSV.
"""

from __future__ import annotations

from mamori.model import Decision
from mamori.prioritize.interface import SsvcInputs

# (exploitation, automatable, technical impact) -> decisions for mission low, medium, high
_TREE: dict[tuple[str, bool, str], tuple[Decision, Decision, Decision]] = {
    ("none", False, "partial"): ("track", "track", "track"),
    ("none", False, "total"): ("track", "track", "track*"),
    ("none", True, "partial"): ("track", "track", "attend"),
    ("none", True, "total"): ("track", "track", "attend"),
    ("poc", False, "partial"): ("track", "track", "track*"),
    ("poc", False, "total"): ("track", "track*", "attend"),
    ("poc", True, "partial"): ("track", "track", "attend"),
    ("poc", True, "total"): ("track", "track*", "attend"),
    ("active", False, "partial"): ("track", "track", "attend"),
    ("active", False, "total"): ("track", "attend", "act"),
    ("active", True, "partial"): ("attend", "attend", "act"),
    ("active", True, "total"): ("attend", "act", "act"),
}

_MISSION_INDEX = {"low": 0, "medium": 1, "high": 2}


def decide(inputs: SsvcInputs) -> Decision:
    """The SSVC decision for the four decision points."""
    row = _TREE[(inputs.exploitation, inputs.automatable, inputs.technical_impact)]
    return row[_MISSION_INDEX[inputs.mission_wellbeing]]


def vector(inputs: SsvcInputs, decision: Decision) -> str:
    """A compact, readable record of the decision (``SSVC/E:A/A:Y/T:T/M:H/D:act``)."""
    e = {"none": "N", "poc": "P", "active": "A"}[inputs.exploitation]
    return (
        f"SSVC/E:{e}/A:{'Y' if inputs.automatable else 'N'}/T:{inputs.technical_impact[0].upper()}"
        f"/M:{inputs.mission_wellbeing[0].upper()}/D:{decision}"
    )
