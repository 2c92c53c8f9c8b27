"""CVSS vectors read once: base score and metrics, cached by vector string.

A large inventory repeats the same few hundred vectors thousands of times; the ``cvss`` package
recomputes every score on each parse, so both the severity of a finding and its SSVC decision
points read vectors through this cache.
"""

from __future__ import annotations

from functools import lru_cache


@lru_cache(maxsize=1 << 14)
def parse_vector(vector: str) -> tuple[float | None, tuple[tuple[str, str], ...]]:
    """(base score or None, metrics as (name, value) pairs) of a CVSS v3.x or v4.0 vector."""
    metrics = tuple(
        (name, value) for name, _, value in (p.partition(":") for p in vector.split("/")[1:]) if value
    )
    score: float | None = None
    try:
        if vector.startswith("CVSS:4"):
            from cvss import CVSS4

            score = float(CVSS4(vector).base_score)
        elif vector.startswith("CVSS:3"):
            from cvss import CVSS3

            score = float(CVSS3(vector).scores()[0])
    except Exception:  # a malformed vector is the advisory's problem: keep what could be read
        score = None
    return score, metrics
