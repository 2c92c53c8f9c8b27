"""Reading VEX statements (CycloneDX VEX, OpenVEX, CSAF VEX) and honouring them.

A statement names a vulnerability (any alias), optionally products (package URLs), a status and
a justification. ``not_affected`` and ``fixed`` close a matching open finding with that
justification; ``affected`` and ``under_investigation`` leave it open. A product given with a
version matches only that version; one without a version matches the package in any version.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from mamori import _safejson
from mamori.errors import InputError
from mamori.model import Finding, Status

_CDX_STATE = {
    "not_affected": "not_affected",
    "false_positive": "not_affected",
    "resolved": "fixed",
    "resolved_with_pedigree": "fixed",
    "exploitable": "affected",
    "in_triage": "under_investigation",
}


@dataclass(frozen=True, slots=True)
class VexStatement:
    """One VEX statement, whatever format it came from."""

    vulnerability_ids: frozenset[str]
    products: frozenset[str]
    """Package URLs; empty means every product of the document."""
    status: str
    """not_affected, fixed, affected or under_investigation."""
    justification: str = ""
    source: str = ""


def read_vex(path: Path) -> list[VexStatement]:
    """Statements of a VEX document (format detected from its content)."""
    # a VEX document is someone else's: size, depth and density capped, errors name file:line
    doc = _safejson.load(Path(path), str(path))
    if not isinstance(doc, dict):
        raise InputError("not a VEX document (expected a JSON object)", path=str(path))
    src = str(path)
    if doc.get("bomFormat") == "CycloneDX":
        return _cyclonedx(doc, src)
    if "statements" in doc and "openvex" in str(doc.get("@context", "")):
        return _openvex(doc, src)
    if isinstance(doc.get("document"), dict) and "csaf_version" in doc["document"]:
        return _csaf(doc, src)
    raise InputError("not a CycloneDX VEX, OpenVEX or CSAF VEX document", path=src)


def _ids(*values: Any) -> frozenset[str]:
    return frozenset(str(v).upper() for v in values if v)


def _cyclonedx(doc: dict[str, Any], src: str) -> list[VexStatement]:
    refs: dict[str, str] = {}

    def walk(components: Any) -> None:
        for c in components or []:
            if isinstance(c, dict):
                if c.get("bom-ref") and c.get("purl"):
                    refs[str(c["bom-ref"])] = str(c["purl"])
                walk(c.get("components"))

    walk(doc.get("components"))
    out: list[VexStatement] = []
    for v in doc.get("vulnerabilities") or []:
        if not isinstance(v, dict):
            continue
        analysis = v.get("analysis") or {}
        state = _CDX_STATE.get(str(analysis.get("state", "")), "")
        if not state:
            continue
        ids = _ids(v.get("id"), *[r.get("id") for r in v.get("references") or [] if isinstance(r, dict)])
        products = frozenset(
            refs.get(str(a.get("ref")), str(a.get("ref")))
            for a in v.get("affects") or []
            if isinstance(a, dict) and a.get("ref")
        )
        why = " ".join(str(x) for x in (analysis.get("justification"), analysis.get("detail")) if x)
        out.append(VexStatement(ids, products, state, why, src))
    return out


def _openvex(doc: dict[str, Any], src: str) -> list[VexStatement]:
    out: list[VexStatement] = []
    for s in doc.get("statements") or []:
        if not isinstance(s, dict):
            continue
        vuln = s.get("vulnerability") or {}
        if isinstance(vuln, str):
            ids = _ids(vuln)
        else:
            ids = _ids(vuln.get("name"), vuln.get("@id"), *(vuln.get("aliases") or []))
        products = frozenset(
            str(p.get("@id") if isinstance(p, dict) else p) for p in s.get("products") or [] if p
        )
        why = " ".join(
            str(x) for x in (s.get("justification"), s.get("impact_statement"), s.get("status_notes")) if x
        )
        out.append(VexStatement(ids, products, str(s.get("status", "")), why, src))
    return out


def _csaf(doc: dict[str, Any], src: str) -> list[VexStatement]:
    purls: dict[str, str] = {}

    def walk(node: Any) -> None:
        if isinstance(node, dict):
            pid = node.get("product_id")
            helper = node.get("product_identification_helper") or {}
            if pid and isinstance(helper, dict) and helper.get("purl"):
                purls[str(pid)] = str(helper["purl"])
            for value in node.values():
                walk(value)
        elif isinstance(node, list):
            for value in node:
                walk(value)

    walk(doc.get("product_tree"))
    out: list[VexStatement] = []
    for v in doc.get("vulnerabilities") or []:
        if not isinstance(v, dict):
            continue
        ids = _ids(v.get("cve"), *[i.get("text") for i in v.get("ids") or [] if isinstance(i, dict)])
        status = v.get("product_status") or {}
        flags = {
            str(p): str(f.get("label", ""))
            for f in v.get("flags") or []
            if isinstance(f, dict)
            for p in f.get("product_ids") or []
        }
        for key, state in (
            ("known_not_affected", "not_affected"),
            ("fixed", "fixed"),
            ("first_fixed", "fixed"),
            ("known_affected", "affected"),
            ("under_investigation", "under_investigation"),
        ):
            for pid in status.get(key) or []:
                purl = purls.get(str(pid), str(pid))
                out.append(VexStatement(ids, frozenset({purl}), state, flags.get(str(pid), ""), src))
    return out


def _purl_matches(product: str, purl: str) -> bool:
    if product == purl:
        return True
    base, _, version = product.partition("@")
    pbase, _, pversion = purl.partition("@")
    return base.lower() == pbase.lower() and (not version or version == pversion)


def apply_vex(findings: Iterable[Finding], statements: list[VexStatement]) -> list[Finding]:
    """Close open findings that a ``not_affected`` or ``fixed`` statement covers."""
    out: list[Finding] = []
    for f in findings:
        ids = {i.upper() for i in f.all_ids}
        purl = f.package.purl if f.package else ""
        chosen: VexStatement | None = None
        for s in statements:
            if not (s.vulnerability_ids & ids):
                continue
            if s.products and not any(_purl_matches(p, purl) for p in s.products):
                continue
            chosen = s
        if chosen is None or chosen.status not in ("not_affected", "fixed") or f.status != "open":
            out.append(f)
            continue
        status: Status = "not_affected" if chosen.status == "not_affected" else "fixed"
        why = f"VEX {chosen.status}" + (f": {chosen.justification}" if chosen.justification else "")
        out.append(replace(f, status=status, justification=f"{why} ({Path(chosen.source).name})"))
    return out
