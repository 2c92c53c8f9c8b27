"""Offline conformance checks of CSAF 2.0 documents: the official JSON schema and the mandatory
tests of section 6.1 that need no network.

The schema is the OASIS CSAF 2.0 JSON schema (with the FIRST CVSS 2.0/3.0/3.1 schemas it
references) as shipped by the ``csaf`` package on PyPI; it is read from that package's files
and resolved without any network access. Where the package is missing, the structure the
schema requires of the document and its tracking is checked by hand instead, so a check still
means something.

Mandatory tests implemented, numbered as in the standard: 6.1.1 (missing definition of product
id), 6.1.2 (multiple definition of product id), 6.1.6 (contradicting product status), 6.1.14
(sorted revision history), 6.1.16 (latest document version), 6.1.21 (missing item in revision
history), 6.1.22 (multiple definition in revision history), 6.1.23 (multiple use of same CVE)
and 6.1.27.1-6.1.27.11 (the profile tests). The tests suite checks them against the OASIS
TC's own failing and valid examples. Each problem is ``"<test> <json path>: <message>"``
(``schema`` for the schema).
"""

from __future__ import annotations

import json
import re
from collections import Counter
from collections.abc import Callable
from datetime import UTC, datetime
from functools import lru_cache
from itertools import pairwise
from typing import Any

_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2})$")
_SEMVER = re.compile(
    r"^(0|[1-9]\d*)\.(0|[1-9]\d*)\.(0|[1-9]\d*)(?:-([0-9A-Za-z.-]+))?(?:\+([0-9A-Za-z.-]+))?$"
)
_INTEGER = re.compile(r"^(0|[1-9]\d*)$")
_AFFECTED = ("first_affected", "known_affected", "last_affected")
_NOT_AFFECTED = ("known_not_affected",)
_FIXED = ("first_fixed", "fixed")
_UNDER = ("under_investigation",)
_VEX_STATUS = ("fixed", "known_affected", "known_not_affected", "under_investigation")
_NOTE_CATEGORIES = ("description", "details", "general", "summary")

SCHEMA_ID = "https://docs.oasis-open.org/csaf/csaf/v2.0/csaf_json_schema.json"
"""The ``$id`` of the official CSAF 2.0 JSON schema."""


# -- the schema ---------------------------------------------------------------------------------


@lru_cache(maxsize=1)
def _validator() -> Any | None:
    """The official schema's validator, or None when the ``csaf`` package is not installed."""
    try:
        from importlib.resources import files

        import jsonschema
        from referencing import Registry, Resource
        from referencing.jsonschema import DRAFT4

        root = files("csaf") / "csaf" / "v20" / "schema"
        schema = json.loads((root / "csaf.json").read_text(encoding="utf-8"))
        registry: Registry[Any] = Registry()
        for name in ("cvss-v2.0.json", "cvss-v3.0.json", "cvss-v3.1.json"):
            contents = json.loads((root / "referenced" / name).read_text(encoding="utf-8"))
            resource = Resource.from_contents(contents, default_specification=DRAFT4)
            # the CSAF schema refers to them by URL without the ids' ?date query
            for uri in {f"https://www.first.org/cvss/{name}", contents.get("$id") or contents.get("id")}:
                if uri:
                    registry = registry.with_resource(str(uri), resource)
    except (ImportError, FileNotFoundError, ModuleNotFoundError, OSError, ValueError):
        return None
    if schema.get("$id") != SCHEMA_ID:
        return None
    cls = jsonschema.validators.validator_for(schema)
    return cls(schema, registry=registry, format_checker=cls.FORMAT_CHECKER)


def official_schema_available() -> bool:
    """Whether the official CSAF 2.0 JSON schema (``csaf`` package) is there to check against."""
    return _validator() is not None


def schema_errors(doc: Any) -> list[str]:
    """Where ``doc`` breaks the official CSAF 2.0 JSON schema (hand checks if it is missing)."""
    validator = _validator()
    if validator is None:
        return _structure(doc)
    out = []
    for err in sorted(validator.iter_errors(doc), key=lambda e: list(map(str, e.absolute_path))):
        path = "/" + "/".join(str(p) for p in err.absolute_path)
        out.append(f"schema {path}: {err.message[:300]}")
    return out


def _structure(doc: Any) -> list[str]:
    """The schema's requirements on the document and its tracking, by hand."""
    if not isinstance(doc, dict):
        return ["schema /: a CSAF document is a JSON object"]
    document = doc.get("document")
    if not isinstance(document, dict):
        return ["schema /document: required"]
    problems: list[str] = []
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
    if not tracking.get("revision_history"):
        problems.append("schema /document/tracking/revision_history: at least one item")
    return problems


# -- helpers ------------------------------------------------------------------------------------


def _when(text: str) -> datetime:
    m = _DATE.match(text)
    if not m:
        return datetime.min.replace(tzinfo=UTC)
    head, frac, zone = text[:19], (m.group(1) or ".0")[1:], m.group(2)
    stamp = f"{head}.{frac[:6].ljust(6, '0')}{'+00:00' if zone == 'Z' else zone}"
    return datetime.fromisoformat(stamp)


def _version_key(v: str, *, pre: bool = True) -> tuple[Any, ...]:
    """Sort key of an integer or semantic version (build metadata ignored; pre-release too
    when ``pre`` is false)."""
    if _INTEGER.match(v):
        return (int(v), 0, 0, 1, ())
    m = _SEMVER.match(v)
    if not m:
        return (-1, 0, 0, 0, (v,))
    release = (int(m.group(1)), int(m.group(2)), int(m.group(3)))
    if not pre or not m.group(4):
        return (*release, 1, ())
    parts = tuple((0, int(p), "") if p.isdigit() else (1, 0, p) for p in m.group(4).split("."))
    return (*release, 0, parts)


def _major(v: str) -> int | None:
    m = _INTEGER.match(v) or _SEMVER.match(v)
    return int(m.group(1)) if m else None


def _items(node: Any, key: str) -> list[Any]:
    value = node.get(key) if isinstance(node, dict) else None
    return value if isinstance(value, list) else []


def _defined_products(doc: dict[str, Any]) -> list[tuple[str, str]]:
    """Product ids defined in the product tree: branches' products, full product names and
    relationships' full product names."""
    tree = doc.get("product_tree")
    out: list[tuple[str, str]] = []

    def branches(items: list[Any], path: str) -> None:
        for i, b in enumerate(items):
            if not isinstance(b, dict):
                continue
            product = b.get("product")
            if isinstance(product, dict) and isinstance(product.get("product_id"), str):
                out.append((product["product_id"], f"{path}/{i}/product/product_id"))
            branches(_items(b, "branches"), f"{path}/{i}/branches")

    if not isinstance(tree, dict):
        return out
    branches(_items(tree, "branches"), "/product_tree/branches")
    for i, fpn in enumerate(_items(tree, "full_product_names")):
        if isinstance(fpn, dict) and isinstance(fpn.get("product_id"), str):
            out.append((fpn["product_id"], f"/product_tree/full_product_names/{i}/product_id"))
    for i, rel in enumerate(_items(tree, "relationships")):
        fpn = rel.get("full_product_name") if isinstance(rel, dict) else None
        if isinstance(fpn, dict) and isinstance(fpn.get("product_id"), str):
            out.append((fpn["product_id"], f"/product_tree/relationships/{i}/full_product_name/product_id"))
    return out


def _referenced_products(doc: dict[str, Any]) -> list[tuple[str, str]]:
    """Every place a product id is used rather than defined (as 6.1.1 lists them)."""
    out: list[tuple[str, str]] = []
    tree = doc.get("product_tree") if isinstance(doc.get("product_tree"), dict) else {}
    for i, group in enumerate(_items(tree, "product_groups")):
        out += [(p, f"/product_tree/product_groups/{i}/product_ids") for p in _items(group, "product_ids")]
    for i, rel in enumerate(_items(tree, "relationships")):
        for key in ("product_reference", "relates_to_product_reference"):
            if isinstance(rel, dict) and isinstance(rel.get(key), str):
                out.append((rel[key], f"/product_tree/relationships/{i}/{key}"))
    for i, v in enumerate(_items(doc, "vulnerabilities")):
        status = v.get("product_status") if isinstance(v, dict) else None
        for k, ids in (status or {}).items():
            out += [(p, f"/vulnerabilities/{i}/product_status/{k}") for p in ids if isinstance(p, str)]
        for key, field in (("remediations", "product_ids"), ("threats", "product_ids"), ("flags", "product_ids"),
                           ("scores", "products")):  # fmt: skip
            for j, item in enumerate(_items(v, key)):
                out += [(p, f"/vulnerabilities/{i}/{key}/{j}/{field}") for p in _items(item, field)]
    return [(p, path) for p, path in out if isinstance(p, str)]


def _group_members(doc: dict[str, Any]) -> dict[str, set[str]]:
    tree = doc.get("product_tree") if isinstance(doc.get("product_tree"), dict) else {}
    return {
        str(g.get("group_id")): {p for p in _items(g, "product_ids") if isinstance(p, str)}
        for g in _items(tree, "product_groups")
        if isinstance(g, dict)
    }


# -- the mandatory tests ------------------------------------------------------------------------


def _test_products(doc: dict[str, Any]) -> list[str]:
    problems = []
    defined = _defined_products(doc)
    for pid, c in Counter(p for p, _ in defined).items():
        if c > 1:
            problems.append(f"6.1.2 /product_tree: product id {pid} defined {c} times")
    known = {p for p, _ in defined}
    for pid, path in _referenced_products(doc):
        if pid not in known:
            problems.append(f"6.1.1 {path}: product id {pid} is not defined")
    return problems


def _test_status(doc: dict[str, Any]) -> list[str]:
    problems = []
    cves = Counter(
        v.get("cve") for v in _items(doc, "vulnerabilities") if isinstance(v, dict) and v.get("cve")
    )
    problems += [f"6.1.23 /vulnerabilities: {c} used {n} times" for c, n in cves.items() if n > 1]
    for i, v in enumerate(_items(doc, "vulnerabilities")):
        status = (v.get("product_status") if isinstance(v, dict) else None) or {}
        groups = [
            set().union(*(_items(status, k) for k in g)) for g in (_AFFECTED, _NOT_AFFECTED, _FIXED, _UNDER)
        ]
        for a in range(4):
            for b in range(a + 1, 4):
                for pid in sorted(groups[a] & groups[b]):
                    problems.append(
                        f"6.1.6 /vulnerabilities/{i}/product_status: {pid} has contradicting statuses"
                    )
    return problems


def _test_history(doc: dict[str, Any]) -> list[str]:
    tracking = doc["document"].get("tracking")
    if not isinstance(tracking, dict):
        return []
    items = [h for h in _items(tracking, "revision_history") if isinstance(h, dict)]
    if not items:
        return []
    problems = []
    numbers = [str(h.get("number", "")) for h in items]
    # sorted by date; items of the same date in the order of their numbers
    by_date = sorted(
        items, key=lambda h: (_when(str(h.get("date", ""))), _version_key(str(h.get("number", ""))))
    )
    keys = [_version_key(str(h.get("number", ""))) for h in by_date]
    if keys != sorted(keys):
        problems.append("6.1.14 /document/tracking/revision_history: numbers not ascending by date")
    draft = tracking.get("status") == "draft"
    # the latest item: by date, and among items of that date the highest number
    last_date = _when(str(by_date[-1].get("date", "")))
    latest = max(
        (str(h.get("number", "")) for h in by_date if _when(str(h.get("date", ""))) == last_date),
        key=_version_key,
    )
    version = str(tracking.get("version", ""))
    if _version_key(latest, pre=not draft) != _version_key(version, pre=not draft):
        problems.append(f"6.1.16 /document/tracking/version: {version} is not the latest revision {latest}")
    majors = [_major(str(h.get("number", ""))) for h in by_date]
    if None not in majors:
        known = [m for m in majors if m is not None]
        gaps = any(b - a not in (0, 1) for a, b in pairwise(known))
        if known[0] not in (0, 1) or gaps:
            problems.append("6.1.21 /document/tracking/revision_history: a version is missing")
    for n, c in Counter(numbers).items():
        if c > 1:
            problems.append(f"6.1.22 /document/tracking/revision_history: number {n} defined {c} times")
    return problems


def _test_profiles(doc: dict[str, Any]) -> list[str]:
    """6.1.27.1-6.1.27.11: what each profile requires (by ``/document/category``)."""
    category = doc["document"].get("category")
    problems: list[str] = []
    document = doc["document"]
    vulns = _items(doc, "vulnerabilities")
    if category in ("csaf_informational_advisory", "csaf_security_incident_response"):
        notes = _items(document, "notes")
        if not any(isinstance(n, dict) and n.get("category") in _NOTE_CATEGORIES for n in notes):
            problems.append("6.1.27.1 /document/notes: needs a description, details, general or summary note")
        refs = _items(document, "references")
        if not any(isinstance(r, dict) and r.get("category", "external") == "external" for r in refs):
            problems.append("6.1.27.2 /document/references: needs an external reference")
    if category == "csaf_informational_advisory" and "vulnerabilities" in doc:
        problems.append("6.1.27.3 /vulnerabilities: an informational advisory has none")
    if category not in ("csaf_security_advisory", "csaf_vex"):
        return problems
    if "product_tree" not in doc:
        problems.append("6.1.27.4 /product_tree: required")
    if "vulnerabilities" not in doc:
        problems.append("6.1.27.11 /vulnerabilities: required")
    groups = _group_members(doc)
    for i, v in enumerate(vulns):
        if not isinstance(v, dict):
            continue
        if not v.get("notes"):
            problems.append(f"6.1.27.5 /vulnerabilities/{i}/notes: required")
        status = v.get("product_status")
        if category == "csaf_security_advisory":
            if not status:
                problems.append(f"6.1.27.6 /vulnerabilities/{i}/product_status: required")
            continue
        status = status if isinstance(status, dict) else {}
        if not any(k in status for k in _VEX_STATUS):
            problems.append(f"6.1.27.7 /vulnerabilities/{i}/product_status: needs a VEX status")
        if not v.get("cve") and not v.get("ids"):
            problems.append(f"6.1.27.8 /vulnerabilities/{i}: needs cve or ids")

        def covered(items: list[Any], keep: Callable[[dict[str, Any]], bool]) -> set[str]:
            out: set[str] = set()
            for item in items:
                if isinstance(item, dict) and keep(item):
                    out |= set(_items(item, "product_ids"))
                    for g in _items(item, "group_ids"):
                        out |= groups.get(str(g), set())
            return out

        impact = covered(_items(v, "flags"), lambda _f: True)
        impact |= covered(_items(v, "threats"), lambda t: t.get("category") == "impact")
        for pid in _items(status, "known_not_affected"):
            if pid not in impact:
                problems.append(
                    f"6.1.27.9 /vulnerabilities/{i}: {pid} known_not_affected without impact statement"
                )
        action = covered(_items(v, "remediations"), lambda _r: True)
        for pid in _items(status, "known_affected"):
            if pid not in action:
                problems.append(
                    f"6.1.27.10 /vulnerabilities/{i}: {pid} known_affected without action statement"
                )
    return problems


def check_csaf(doc: Any) -> list[str]:
    """Problems of a CSAF 2.0 document: the official schema (hand checks without the ``csaf``
    package) and the offline mandatory tests; empty when it passes them all."""
    problems = schema_errors(doc)
    if not isinstance(doc, dict) or not isinstance(doc.get("document"), dict):
        return problems or ["schema /document: required"]
    for test in (_test_history, _test_products, _test_status, _test_profiles):
        try:
            problems += test(doc)
        except (AttributeError, TypeError, ValueError) as exc:  # a shape the schema already refused
            problems.append(f"{test.__name__[6:]} /: cannot run on this document ({exc})")
    return problems
