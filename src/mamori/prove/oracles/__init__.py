"""Canaries and oracles, one module per family of weakness.

A :class:`Family` says which rule ids and CWEs it proves, which payloads carry its canary
(variants for the quoting contexts an app may build around the input) and how to judge what the
harness observed. A judgement is *proven* only when the observation shows the canary acting at
the sink the way the weakness needs — parsed as structure, evaluated, opened outside the
folder, sent to a foreign host — never merely present.

Adding a family is one module beside its siblings, listed in :data:`FAMILIES`.
"""

from __future__ import annotations

import secrets
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

Observation = dict[str, Any]
"""One request's result from the harness: ``events`` (sink records), ``response``, ``exception``."""


@dataclass(frozen=True, slots=True)
class Canary:
    """A unique, harmless marker for one finding (lower-case letters and digits only)."""

    token: str
    second: str = ""
    """A second marker some families need (the content of the XXE entity file)."""

    @classmethod
    def new(cls) -> Canary:
        return cls("mq" + secrets.token_hex(5), "mk" + secrets.token_hex(5))

    @property
    def marks(self) -> list[str]:
        return [m for m in (self.token, self.second) if m]


@dataclass(frozen=True, slots=True)
class Verdict:
    """An oracle's judgement of one observation."""

    proven: bool
    reason: str
    sink: str = ""
    value: str = ""
    where: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class Family:
    """One class of weakness the prover handles."""

    name: str
    rule_ids: tuple[str, ...]
    cwes: tuple[str, ...]
    payloads: Callable[[Canary], Sequence[str]]
    judge: Callable[[Observation, Canary, str], Verdict | None]
    """Returns a proven verdict, a negative one explaining what was seen, or None (nothing seen)."""
    files: Callable[[Canary], dict[str, str]] = field(default=lambda _c: {})
    """Files the harness must create before the app starts (absolute paths inside the sandbox)."""


def events(obs: Observation, *sinks: str) -> list[dict[str, Any]]:
    """The observation's sink events whose ``sink`` is one of ``sinks`` (all when none given)."""
    out = [e for e in obs.get("events") or [] if isinstance(e, dict)]
    return [e for e in out if not sinks or e.get("sink") in sinks]


def response_text(obs: Observation) -> str:
    """The excerpts of the response body the harness kept (around the canaries)."""
    resp = obs.get("response") or {}
    return "\n".join(str(x) for x in resp.get("excerpts") or [])


def verdict_at(event: dict[str, Any], proven: bool, reason: str, value: str) -> Verdict:
    where = event.get("where") if isinstance(event.get("where"), dict) else {}
    return Verdict(proven, reason, str(event.get("sink", "")), value[:500], dict(where or {}))


def _families() -> tuple[Family, ...]:
    from mamori.prove.oracles import (
        code,
        command,
        deserial,
        header,
        ldap,
        path,
        redirect,
        sql,
        ssrf,
        template,
        xpath,
        xss,
        xxe,
    )

    return (
        sql.FAMILY,
        command.FAMILY,
        code.FAMILY,
        template.FAMILY,
        path.FAMILY,
        redirect.FAMILY,
        xss.FAMILY,
        xxe.FAMILY,
        ssrf.FAMILY,
        deserial.FAMILY,
        ldap.FAMILY,
        xpath.FAMILY,
        header.FAMILY,
    )


FAMILIES: tuple[Family, ...] = ()


def family_for(rule_id: str, cwes: Sequence[str]) -> Family | None:
    """The family that proves findings of this rule (or, failing that, of these CWEs)."""
    global FAMILIES
    if not FAMILIES:
        FAMILIES = _families()
    for fam in FAMILIES:
        if rule_id in fam.rule_ids:
            return fam
    for fam in FAMILIES:
        if set(cwes) & set(fam.cwes):
            return fam
    return None
