"""Ignores with a reason and an expiry date, from ``mamori.toml`` or ``[tool.mamori]``.

```toml
[[ignore]]
id = "CVE-2019-10906"        # any alias works: the GHSA and PYSEC ids of the same hole match too
reason = "sandbox not used; templates are ours"
expires = 2027-03-31          # after this date the finding comes back
path = "requirements.txt"    # optional: only findings in this file
```

An ignored finding is an accepted risk, not a finding that does not apply: it stays in the
report with status ``accepted`` and the reason as its justification (VEX states it ``affected``
with the acceptance as its action statement) and does not count for ``--fail-on``. An expired
ignore is reported as a warning and the finding is open again.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterable
from dataclasses import dataclass, replace
from typing import Any

from mamori.errors import InputError
from mamori.model import Finding


@dataclass(frozen=True, slots=True)
class Ignore:
    """One configured ignore."""

    id: str
    reason: str
    expires: dt.date | None = None
    path: str = ""


def parse_ignores(config: dict[str, Any], source: str = "mamori.toml") -> list[Ignore]:
    """The ``[[ignore]]`` entries of a project configuration; a bad entry is an InputError."""
    raw = config.get("ignore", [])
    if not isinstance(raw, list):
        raise InputError("`ignore` must be an array of tables ([[ignore]])", path=source)
    out: list[Ignore] = []
    for n, entry in enumerate(raw, 1):
        if not isinstance(entry, dict):
            raise InputError(f"ignore #{n} is not a table", path=source)
        ident = str(entry.get("id", "")).strip()
        reason = str(entry.get("reason", "")).strip()
        if not ident or not reason:
            raise InputError(f"ignore #{n} needs both `id` and `reason`", path=source)
        out.append(Ignore(ident, reason, _date(entry.get("expires"), n, source), str(entry.get("path", ""))))
    return out


def _date(value: Any, n: int, source: str) -> dt.date | None:
    if value is None or value == "":
        return None
    if isinstance(value, dt.datetime):
        return value.date()
    if isinstance(value, dt.date):
        return value
    try:
        return dt.date.fromisoformat(str(value))
    except ValueError as exc:
        raise InputError(f"ignore #{n}: expires {value!r} is not a date (YYYY-MM-DD)", path=source) from exc


def apply_ignores(
    findings: Iterable[Finding],
    ignores: list[Ignore],
    *,
    today: dt.date | None = None,
    warn: Callable[[str], None] = lambda _m: None,
) -> list[Finding]:
    """Mark ignored findings ``accepted``; warn about each expired ignore that matched."""
    today = today or dt.date.today()
    out: list[Finding] = []
    warned: set[str] = set()
    for f in findings:
        ids = {i.upper() for i in f.all_ids}
        rule = None
        for ig in ignores:
            if ig.id.upper() in ids and (not ig.path or ig.path == f.location.path):
                rule = ig
                break
        if rule is None or f.status != "open":
            out.append(f)
            continue
        if rule.expires is not None and rule.expires < today:
            if rule.id not in warned:
                warn(f"the ignore of {rule.id} expired on {rule.expires.isoformat()}: it is reported again")
                warned.add(rule.id)
            out.append(f)
            continue
        until = f" (until {rule.expires.isoformat()})" if rule.expires else ""
        out.append(replace(f, status="accepted", justification=f"risk accepted: {rule.reason}{until}"))
    return out
