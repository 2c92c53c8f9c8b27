"""Offline conformance checks of CSAF 2.0 documents: the structure the schema requires and the
mandatory tests of section 6.1 that need no network.

No PyPI package found ships the CSAF 2.0 JSON schema (``csaf-tool`` does not), so the schema's
required structure is checked here by hand, alongside these mandatory tests: 6.1.1 (missing
definition of product id), 6.1.2 (multiple definitions of product id), 6.1.6 (contradicting
product status), 6.1.14 (sorted revision history), 6.1.16 (latest document version), 6.1.21
(missing item in revision history), 6.1.22 (multiple definitions in revision history), 6.1.23
(multiple use of the same CVE), 6.1.27.1–6.1.27.10 (profile tests of the security advisory and
VEX profiles). Each problem is ``"<test> <json path>: <message>"``.
"""

from __future__ import annotations

import re
from collections import Counter
from typing import Any

_PROFILES = (
    "csaf_security_advisory",
    "csaf_vex",
    "csaf_base",
    "csaf_informational_advisory",
    "csaf_security_incident_response",
)
_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2})$")
_AFFECTED = ("first_affected", "known_affected", "last_affected")
_NOT_AFFECTED = ("known_not_affected",)
_FIXED = ("first_fixed", "fixed")
_UNDER = ("under_investigation",)


def _product_ids(tree: Any) -> list[tuple[str, str]]:
    out: list[tuple[str, str]] = []

    def walk(node: Any, path: str) -> None:
        if isinstance(node, dict):
            if "product_id" in node and isinstance(node.get("product_id"), str) and "name" in node:
                out.append((node["product_id"], path))
            for k, v in node.items():
                if k != "product_reference" and k != "relates_to_product_reference":
                    walk(v, f"{path}/{k}")
        elif isinstance(node, list):
            for i, v in enumerate(node):
                walk(v, f"{path}/{i}")

    walk(tree, "/product_tree")
    return out


def _references(doc: dict[str, Any]) -> list[tuple[str, str]]:
    out = []
    for i, v in enumerate(doc.get("vulnerabilities", [])):
        for k, ids in (v.get("product_status") or {}).items():
            out += [(p, f"/vulnerabilities/{i}/product_status/{k}") for p in ids]
        for key in ("remediations", "threats", "flags", "scores"):
            for j, item in enumerate(v.get(key) or []):
                out += [
                    (p, f"/vulnerabilities/{i}/{key}/{j}")
                    for p in item.get("product_ids") or item.get("products") or []
                ]
    return out


def _version_key(v: str) -> tuple[int, ...]:
    return tuple(int(x) for x in re.findall(r"\d+", v.split("-")[0].split("+")[0])) or (0,)


def check_csaf(doc: Any) -> list[str]:
    """Problems of a CSAF 2.0 document (empty when it passes every implemented check)."""
    if not isinstance(doc, dict):
        return ["schema /: a CSAF document is a JSON object"]
    problems: list[str] = []
    document = doc.get("document")
    if not isinstance(document, dict):
        return ["schema /document: required"]
    for key in ("category", "csaf_version", "publisher", "title", "tracking"):
        if key not in document:
            problems.append(f"schema /document/{key}: required")
    if document.get("csaf_version") != "2.0":
        problems.append("schema /document/csaf_version: must be '2.0'")
    publisher = document.get("publisher") or {}
    for key in ("category", "name", "namespace"):
        if key not in publisher:
            problems.append(f"schema /document/publisher/{key}: required")
    tracking = document.get("tracking") or {}
    for key in (
        "current_release_date",
        "id",
        "initial_release_date",
        "revision_history",
        "status",
        "version",
    ):
        if key not in tracking:
            problems.append(f"schema /document/tracking/{key}: required")
    for key in ("current_release_date", "initial_release_date"):
        if key in tracking and not _DATE.match(str(tracking[key])):
            problems.append(f"schema /document/tracking/{key}: not a date-time")
    if tracking.get("status") not in ("draft", "final", "interim"):
        problems.append("schema /document/tracking/status: draft, final or interim")
    history = tracking.get("revision_history") or []
    if not history:
        problems.append("schema /document/tracking/revision_history: at least one item")
    # 6.1.14, 6.1.16, 6.1.21, 6.1.22: revision history
    numbers = [str(h.get("number", "")) for h in history]
    dates = [str(h.get("date", "")) for h in history]
    if dates != sorted(dates) and [_version_key(n) for n in numbers] != sorted(
        _version_key(n) for n in numbers
    ):
        problems.append("6.1.14 /document/tracking/revision_history: not sorted")
    if numbers and tracking.get("status") in ("final", "interim"):
        latest = max(numbers, key=_version_key)
        if _version_key(latest) != _version_key(str(tracking.get("version", ""))):
            problems.append(f"6.1.16 /document/tracking/version: latest revision is {latest}")
    if numbers and all(re.fullmatch(r"\d+", n) for n in numbers):
        ints = sorted(int(n) for n in numbers)
        if ints != list(range(ints[0], ints[0] + len(ints))) or ints[0] not in (0, 1):
            problems.append("6.1.21 /document/tracking/revision_history: missing item")
    for n, c in Counter(numbers).items():
        if c > 1:
            problems.append(f"6.1.22 /document/tracking/revision_history: number {n} defined {c} times")
    # 6.1.1, 6.1.2: product ids
    defined = _product_ids(doc.get("product_tree", {}))
    for pid, c in Counter(p for p, _ in defined).items():
        if c > 1:
            problems.append(f"6.1.2 /product_tree: product id {pid} defined {c} times")
    known = {p for p, _ in defined}
    for pid, path in _references(doc):
        if pid not in known:
            problems.append(f"6.1.1 {path}: product id {pid} is not defined")
    # 6.1.6, 6.1.23
    cves = Counter(v.get("cve") for v in doc.get("vulnerabilities", []) if v.get("cve"))
    problems += [f"6.1.23 /vulnerabilities: {c} used {n} times" for c, n in cves.items() if n > 1]
    for i, v in enumerate(doc.get("vulnerabilities", [])):
        status = v.get("product_status") or {}
        groups = [
            set().union(*(status.get(k, []) for k in g)) for g in (_AFFECTED, _NOT_AFFECTED, _FIXED, _UNDER)
        ]
        for a in range(4):
            for b in range(a + 1, 4):
                for pid in sorted(groups[a] & groups[b]):
                    problems.append(
                        f"6.1.6 /vulnerabilities/{i}/product_status: {pid} has contradicting statuses"
                    )
    problems += _profile_tests(doc)
    return problems


def _profile_tests(doc: dict[str, Any]) -> list[str]:
    category = doc["document"].get("category")
    problems: list[str] = []
    if category not in ("csaf_security_advisory", "csaf_vex"):
        return problems
    notes = doc["document"].get("notes") or []
    if not any(n.get("category") in ("description", "details", "general", "summary") for n in notes):
        problems.append("6.1.27.1 /document/notes: needs a description, details, general or summary note")
    if not doc["document"].get("references") and category == "csaf_security_advisory":
        problems.append("6.1.27.2 /document/references: required")
    if "vulnerabilities" not in doc:
        problems.append("6.1.27.3 /vulnerabilities: required")
    if "product_tree" not in doc:
        problems.append("6.1.27.4 /product_tree: required")
    for i, v in enumerate(doc.get("vulnerabilities", [])):
        if not v.get("notes") and category == "csaf_security_advisory":
            problems.append(f"6.1.27.5 /vulnerabilities/{i}/notes: required")
        status = v.get("product_status")
        if not status:
            problems.append(f"6.1.27.6 /vulnerabilities/{i}/product_status: required")
            continue
        if category != "csaf_vex":
            continue
        if not any(
            k in status for k in ("fixed", "known_affected", "known_not_affected", "under_investigation")
        ):
            problems.append(f"6.1.27.7 /vulnerabilities/{i}/product_status: needs a VEX status")
        if not v.get("cve") and not v.get("ids"):
            problems.append(f"6.1.27.8 /vulnerabilities/{i}: needs cve or ids")
        covered = {p for f in v.get("flags") or [] for p in f.get("product_ids", [])}
        covered |= {
            p
            for t in v.get("threats") or []
            if t.get("category") == "impact"
            for p in t.get("product_ids", [])
        }
        for pid in status.get("known_not_affected", []):
            if pid not in covered:
                problems.append(
                    f"6.1.27.9 /vulnerabilities/{i}: {pid} known_not_affected without impact statement"
                )
        remedied = {p for r in v.get("remediations") or [] for p in r.get("product_ids", [])}
        for pid in status.get("known_affected", []):
            if pid not in remedied:
                problems.append(
                    f"6.1.27.10 /vulnerabilities/{i}: {pid} known_affected without action statement"
                )
    return problems
