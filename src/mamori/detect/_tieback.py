"""Tie alerts back to the holes a project has: "this attack targets a hole you have".

``mamori detect --project PATH`` reads the last scan of ``PATH`` from the results database. An
alert is escalated when its rule names a CVE (tag ``cve.2021-44228``) that is the advisory id or
an alias of an open finding, or a CWE (tag ``cwe.89``, or an attack class such as *SQL
injection* in its tags or title, mapped to CWEs by ``mappings/cwe.yaml``) that an open finding
carries *in the component the attack targets*: the project's own code, or a dependency that is
a server-side component of that class (``components`` in the mapping; a server-side template
injection is not an attack on a front-end lodash). ``exploits`` lists those findings' ids;
``titles`` names them for people.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from typing import Any

from mamori.detect._yaml import load_one

_CVE_TAG = re.compile(r"^cve\.(\d{4})[-.](\d{4,})$")
_CWE_TAG = re.compile(r"^cwe\.(\d+)$")


@dataclass(frozen=True, slots=True)
class _Mapping:
    tags: dict[str, tuple[str, ...]]
    classes: dict[str, tuple[str, ...]]
    components: dict[str, frozenset[str]]
    server_ecosystems: frozenset[str]


@functools.cache
def _mapping() -> _Mapping:
    text = resources.files("mamori.detect").joinpath("mappings", "cwe.yaml").read_text("utf-8")
    data = load_one(text) or {}
    return _Mapping(
        tags={str(k).lower(): tuple(str(x) for x in v or ()) for k, v in (data.get("tags") or {}).items()},
        classes={
            str(k).lower(): tuple(str(x) for x in v or ()) for k, v in (data.get("classes") or {}).items()
        },
        components={
            str(k).lower(): frozenset(str(x).lower() for x in v or ())
            for k, v in (data.get("components") or {}).items()
        },
        server_ecosystems=frozenset(str(x).lower() for x in data.get("server_ecosystems") or ()),
    )


def _classes() -> tuple[dict[str, tuple[str, ...]], dict[str, tuple[str, ...]]]:
    m = _mapping()
    return m.tags, m.classes


def rule_classes(tags: Iterable[str], title: str = "") -> set[str]:
    """The attack classes (keys of the mapping's ``classes``) a rule's tags or title name."""
    _, classes = _classes()
    words = " " + re.sub(r"[^a-z0-9]+", " ", title.lower()) + " "
    for t in tags:
        words += " " + re.sub(r"[^a-z0-9]+", " ", t.lower()) + " "
    return {p for p in classes if " " + re.sub(r"[^a-z0-9]+", " ", p) + " " in words}


def rule_cves(tags: Iterable[str]) -> set[str]:
    """CVE ids named by a rule's tags (``cve.2021-44228`` -> ``CVE-2021-44228``)."""
    out: set[str] = set()
    for t in tags:
        m = _CVE_TAG.match(t.lower())
        if m:
            out.add(f"CVE-{m.group(1)}-{m.group(2)}")
    return out


def rule_cwes(tags: Iterable[str], title: str = "") -> set[str]:
    """CWE ids a rule's attack class maps to: ``cwe.N`` tags, then classes in tags and title."""
    tag_map, classes = _classes()
    out: set[str] = set()
    words = " " + re.sub(r"[^a-z0-9]+", " ", title.lower()) + " "
    for t in tags:
        low = t.lower()
        m = _CWE_TAG.match(low)
        if m:
            out.add(f"CWE-{m.group(1)}")
        out.update(tag_map.get(low, ()))
        words += " " + re.sub(r"[^a-z0-9]+", " ", low) + " "
    for phrase, cwes in classes.items():
        if " " + re.sub(r"[^a-z0-9]+", " ", phrase) + " " in words:
            out.update(cwes)
    return out


@dataclass(frozen=True, slots=True)
class _Target:
    """What a finding is in: the project's code, or a dependency (ecosystem, lower-cased name)."""

    fid: str
    code: bool
    ecosystem: str = ""
    package: str = ""


@dataclass(frozen=True, slots=True)
class TieBack:
    """The open findings of a project, indexed by CVE/alias and by CWE."""

    by_id: Mapping[str, tuple[str, ...]]
    """Upper-cased advisory id or alias -> finding ids."""
    by_cwe: Mapping[str, tuple[str, ...]]
    """``CWE-N`` -> finding ids."""
    titles: Mapping[str, str] = field(default_factory=dict)
    """Finding id -> what a person reads: its title and the package or file it is in."""
    targets: Mapping[str, _Target] = field(default_factory=dict)

    @classmethod
    def from_findings(cls, findings: Sequence[Mapping[str, Any]]) -> TieBack:
        """Index contract-JSON finding dicts; only open findings count."""
        by_id: dict[str, list[str]] = {}
        by_cwe: dict[str, list[str]] = {}
        titles: dict[str, str] = {}
        targets: dict[str, _Target] = {}
        for f in findings:
            if str(f.get("status", "open")) != "open":
                continue
            fid = str(f.get("id", ""))
            if not fid:
                continue
            names = {str(f.get("rule_id", ""))}
            adv = f.get("advisory") or {}
            if isinstance(adv, Mapping):
                names.add(str(adv.get("id", "")))
                names.update(str(a) for a in adv.get("aliases") or ())
            for n in names:
                if n:
                    by_id.setdefault(n.upper(), []).append(fid)
            for c in f.get("cwe") or ():
                by_cwe.setdefault(str(c).upper(), []).append(fid)
            pkg = f.get("package")
            loc = f.get("location")
            title = str(f.get("title") or f.get("rule_id") or fid)
            if isinstance(pkg, Mapping) and pkg.get("name"):
                version = f" {pkg['version']}" if pkg.get("version") else ""
                titles[fid] = f"{title} ({pkg['name']}{version})"
                targets[fid] = _Target(
                    fid, False, str(pkg.get("ecosystem", "")).lower(), str(pkg["name"]).lower()
                )
            else:
                where = (
                    f" ({loc['path']}:{loc.get('line') or 0})"
                    if isinstance(loc, Mapping) and loc.get("path")
                    else ""
                )
                titles[fid] = title + where
                targets[fid] = _Target(fid, str(f.get("kind", "code")) != "dependency")
        return cls(
            {k: tuple(dict.fromkeys(v)) for k, v in by_id.items()},
            {k: tuple(dict.fromkeys(v)) for k, v in by_cwe.items()},
            titles,
            targets,
        )

    def _component_fits(self, fid: str, classes: set[str]) -> bool:
        t = self.targets.get(fid)
        if t is None or t.code:
            return True
        m = _mapping()
        listed = [m.components[c] for c in classes if c in m.components]
        if listed:
            return any(t.package in names for names in listed)
        return t.ecosystem in m.server_ecosystems

    def exploits(self, tags: Iterable[str], title: str = "") -> tuple[str, ...]:
        """Ids of the open findings a rule with these tags and title targets (stable order)."""
        tags = tuple(tags)
        out: dict[str, None] = {}
        for cve in sorted(rule_cves(tags)):
            for fid in self.by_id.get(cve, ()):
                out[fid] = None
        classes = rule_classes(tags, title)
        for cwe in sorted(rule_cwes(tags, title)):
            for fid in self.by_cwe.get(cwe, ()):
                if self._component_fits(fid, classes):
                    out[fid] = None
        return tuple(out)


def load_tieback(project: Path) -> TieBack | None:
    """The tie-back for the last scan of ``project`` in the results database (None if never scanned)."""
    from mamori.config import results_db_path
    from mamori.results import ResultsStore

    findings = ResultsStore(results_db_path()).last_scan_findings(project)
    if findings is None:
        return None
    return TieBack.from_findings(findings)
