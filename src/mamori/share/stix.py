"""mamori's results as STIX 2.1 bundles: what a hub shares.

A scan report becomes ``vulnerability`` objects (one per advisory, with its CVE, GHSA and CWE
references, and one per open weakness in the project's own code, with its CWE: a peer running
the same framework learns which weakness class is being found and exploited) gathered in a
``report``; ``detect`` alerts become ``indicator`` objects with STIX
patterns on the observables found in the alert's event (IP addresses, domain names, URLs, file
hashes), ``sighting`` objects of them, and ``attack-pattern`` objects for the ATT&CK techniques
the rule names. Everything carries the TLP marking the user chose and, for AMBER and RED, the
recipients in ``x_mamori_recipients``; an ``identity`` names the producer.

``anonymise`` keeps what helps a peer defend (technique, indicators, advisory) and drops what
identifies the victim: host and user names, internal paths (the manifest of a dependency, the
file, line and trace of a code weakness, its free-text description), private addresses, internal
domain names, and the producer's name. Ids are UUID v5 of their content, so sharing the same result twice
gives the same objects (a hub stores them once).
"""

from __future__ import annotations

import ipaddress
import json
import re
import uuid
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from mamori import _safejson
from mamori._text import count
from mamori.errors import InputError, ParseError
from mamori.model import Finding, Report
from mamori.share.tlp import RECIPIENT_SECTORS_PROPERTY, RECIPIENTS_PROPERTY, Tlp

_NS = uuid.UUID("a3c2f0de-6d1b-5e7a-8b9c-6d616d6f7269")
_CVE = re.compile(r"^CVE-\d{4}-\d{4,}$", re.IGNORECASE)
_IPV4 = re.compile(r"(?<![\d.])(?:\d{1,3}\.){3}\d{1,3}(?![\d.])")
_IPV6 = re.compile(r"(?<![0-9A-Fa-f:])(?:[0-9A-Fa-f]{1,4}:){2,7}[0-9A-Fa-f]{1,4}(?![0-9A-Fa-f:])")
_URL = re.compile(r"\b(?:https?|ldaps?|rmi|dns|ftp|iiop|corba|nds|nis)://[^\s\"'<>`${}]+", re.IGNORECASE)
_HEX = re.compile(r"(?<![0-9A-Fa-f])(?:[0-9A-Fa-f]{64}|[0-9A-Fa-f]{40}|[0-9A-Fa-f]{32})(?![0-9A-Fa-f])")
_LABELLED_HASH = re.compile(r"\b(MD5|SHA1|SHA256|SHA-1|SHA-256)=([0-9A-Fa-f]{32,64})\b", re.IGNORECASE)
_DOMAIN = re.compile(r"^(?=.{4,253}$)(?:[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z]{2,63}$")
_ATTACK = re.compile(r"^attack\.(t\d{4}(?:\.\d{3})?)$", re.IGNORECASE)
_INTERNAL_SUFFIXES = (
    ".local",
    ".lan",
    ".internal",
    ".corp",
    ".localdomain",
    ".home.arpa",
    ".intranet",
    ".invalid",
)
_FILE_SUFFIXES = frozenset(
    {"exe", "dll", "sys", "bat", "ps1", "js", "vbs", "txt", "log", "tmp", "dat", "php", "html", "htm", "py"}
)
_DOMAIN_FIELDS = ("queryname", "destinationhostname", "domain", "dns", "query", "hostname_requested", "r-dns")
_HOST_FIELDS = (
    "computer",
    "computername",
    "hostname",
    "host",
    "workstation",
    "workstationname",
    "sourcehostname",
    "machine",
)
_HASH_NAMES = {32: "MD5", 40: "SHA-1", 64: "SHA-256"}
_HASH_LABELS = {"MD5": "MD5", "SHA1": "SHA-1", "SHA-1": "SHA-1", "SHA256": "SHA-256", "SHA-256": "SHA-256"}


@dataclass(frozen=True, slots=True)
class ShareOptions:
    """How to share: the TLP level, the recipients of AMBER/RED, anonymisation, the producer."""

    tlp: Tlp = Tlp.AMBER
    recipients: tuple[str, ...] = ()
    anonymise: bool = False
    producer: str = "mamori user"
    """The producing organisation's name (replaced by ``anonymous`` when anonymising)."""
    namespace: uuid.UUID | None = None
    """The UUID v5 namespace of the objects' ids; ``share push --anonymise`` passes the random one
    of the organisation's MAMORI_HOME, so no other organisation can recompute (and so attribute)
    an id from the producer's name and the content. None: mamori's public namespace."""

    @property
    def id_namespace(self) -> uuid.UUID:
        """The namespace ids are derived under."""
        return self.namespace or _NS


@dataclass(frozen=True, slots=True)
class Observable:
    """A value a peer can look for: ``ipv4-addr``, ``ipv6-addr``, ``domain-name``, ``url`` or a file hash."""

    kind: str
    value: str
    hash_name: str = ""

    @property
    def comparison(self) -> str:
        """This observable as one STIX pattern comparison expression."""
        value = self.value.replace("\\", "\\\\").replace("'", "\\'")
        if self.kind == "file":
            return f"[file:hashes.'{self.hash_name}' = '{value}']"
        return f"[{self.kind}:value = '{value}']"


def _sid(kind: str, *parts: str, ns: uuid.UUID = _NS) -> str:
    return f"{kind}--{uuid.uuid5(ns, '|'.join((kind, *parts)))}"


def _stamp(when: datetime) -> str:
    return when.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.") + f"{when.microsecond // 1000:03d}Z"


def _parse_time(text: str) -> datetime | None:
    if not text:
        return None
    try:
        dt = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        return None
    return dt if dt.tzinfo else dt.replace(tzinfo=UTC)


def _global_ip(text: str) -> bool:
    try:
        ip = ipaddress.ip_address(text)
    except ValueError:
        return False
    return ip.is_global and not ip.is_multicast


def _internal_host(host: str, event_hosts: set[str]) -> bool:
    h = host.lower().rstrip(".")
    return "." not in h or h in event_hosts or h.endswith(_INTERNAL_SUFFIXES)


def observables_of(event: Mapping[str, Any], *, anonymise: bool = False) -> list[Observable]:
    """The observables worth sharing in an event: public IPs, domains, URLs and file hashes.

    Private, loopback and reserved addresses and internal names (``.local``, ``.corp``, single
    labels …) are never shared: they name the victim's network, not the attacker. With
    ``anonymise``, URLs and domains naming the event's own hosts are dropped too.
    """
    found: dict[tuple[str, str], Observable] = {}
    hosts = {
        str(v).lower()
        for k, v in event.items()
        if isinstance(v, str) and k.lower().replace("-", "").replace("_", "") in _HOST_FIELDS
    }

    def add(o: Observable) -> None:
        found.setdefault((o.kind + o.hash_name, o.value.lower()), o)

    def walk(key: str, value: Any) -> None:
        if isinstance(value, Mapping):
            for k, v in value.items():
                walk(str(k), v)
            return
        if isinstance(value, list | tuple):
            for v in value:
                walk(key, v)
            return
        if not isinstance(value, str) or not value:
            return
        text = value[:8192]
        for url in _URL.findall(text):
            url = url.rstrip(".,;)")
            host = urlsplit(url).hostname or ""
            if not host or _internal_host(host, hosts if anonymise else set()):
                continue
            try:
                is_ip = ipaddress.ip_address(host) is not None
            except ValueError:
                is_ip = False
            if is_ip and not _global_ip(host):
                continue
            add(Observable("url", url))
            if not is_ip and _DOMAIN.match(host.lower()) and not _internal_host(host, hosts):
                add(Observable("domain-name", host.lower()))
        for ip in _IPV4.findall(text):
            if _global_ip(ip):
                add(Observable("ipv4-addr", ip))
        for ip in _IPV6.findall(text):
            if _global_ip(ip):
                add(Observable("ipv6-addr", str(ipaddress.ip_address(ip))))
        labelled = _LABELLED_HASH.findall(text)
        for label, digest in labelled:
            name = _HASH_LABELS[label.upper()]
            if len(digest) == {"MD5": 32, "SHA-1": 40, "SHA-256": 64}[name]:
                add(Observable("file", digest.lower(), name))
        norm = key.lower().replace("-", "").replace("_", "")
        if not labelled and norm in ("md5", "sha1", "sha256", "hash", "hashes", "filehash"):
            for digest in _HEX.findall(text):
                add(Observable("file", digest.lower(), _HASH_NAMES[len(digest)]))
        if norm in _DOMAIN_FIELDS:
            name = text.strip().lower().rstrip(".")
            if (
                _DOMAIN.match(name)
                and name.rsplit(".", 1)[-1] not in _FILE_SUFFIXES
                and not _internal_host(name, hosts)
            ):
                add(Observable("domain-name", name))

    for k, v in event.items():
        walk(str(k), v)
    return sorted(found.values(), key=lambda o: (o.kind, o.hash_name, o.value))


class _Builder:
    def __init__(self, options: ShareOptions, when: datetime) -> None:
        self.options = options
        self.when = _stamp(when)
        name = "anonymous" if options.anonymise else options.producer
        self.identity_id = _sid("identity", name, ns=options.id_namespace)
        self.objects: dict[str, dict[str, Any]] = {}
        self.add(
            {
                "type": "identity",
                "id": self.identity_id,
                "name": name,
                "identity_class": "unknown" if options.anonymise else "organization",
            },
            by=False,
        )

    def add(self, obj: dict[str, Any], *, by: bool = True) -> dict[str, Any]:
        obj.setdefault("spec_version", "2.1")
        obj.setdefault("created", self.when)
        obj.setdefault("modified", self.when)
        if by:
            obj["created_by_ref"] = self.identity_id
        obj["object_marking_refs"] = [self.options.tlp.marking_id]
        if self.options.tlp in (Tlp.AMBER, Tlp.RED) and self.options.recipients:
            obj[RECIPIENTS_PROPERTY] = list(self.options.recipients)
        self.objects.setdefault(obj["id"], obj)
        return self.objects[obj["id"]]

    def bundle(self) -> dict[str, Any]:
        objs = sorted(self.objects.values(), key=lambda o: (o["type"] != "identity", o["type"], o["id"]))
        digest = json.dumps([o["id"] for o in objs])
        return {
            "type": "bundle",
            "id": _sid("bundle", digest, self.when, ns=self.options.id_namespace),
            "objects": objs,
        }


def _cwe_reference(cwe: str) -> dict[str, str]:
    ref = {"source_name": "cwe", "external_id": cwe}
    m = re.fullmatch(r"CWE-(\d+)", cwe.strip(), re.IGNORECASE)
    if m:
        ref["external_id"] = f"CWE-{m.group(1)}"
        ref["url"] = f"https://cwe.mitre.org/data/definitions/{m.group(1)}.html"
    return ref


def _code_weakness(b: _Builder, f: Finding, options: ShareOptions) -> str:
    """One open code finding as a ``vulnerability`` with its CWE; returns its id."""
    cwes = sorted({c.strip().upper() for c in f.cwe if c.strip()})
    title = f.title or f.rule_id
    name = f"{cwes[0]}: {title}" if cwes else title
    text = f"{title} (mamori rule {f.rule_id}, {f.confidence} confidence)"
    obj: dict[str, Any] = {
        "type": "vulnerability",
        # the finding's fingerprint (rule, file, code) tells weaknesses apart without the path
        "id": _sid("vulnerability", options.producer, "code", f.id, ns=options.id_namespace),
        "name": name[:250],
        "x_mamori_rule": f.rule_id,
    }
    if cwes:
        obj["external_references"] = [_cwe_reference(c) for c in cwes]
    if not options.anonymise:
        where = f"{f.location.path}:{f.location.line}" if f.location.line else f.location.path
        text += f" in {where}"
        if f.trace:
            text += "; flow: " + " -> ".join(f"{t.path}:{t.line} {t.note}".strip() for t in f.trace[:20])
        if f.description:
            text += f". {f.description}"
        obj["x_mamori_location"] = where
    obj["description"] = text[:4000]
    if f.severity not in ("unknown", "info"):
        obj["labels"] = [f"severity:{f.severity}"]
    return str(b.add(obj)["id"])


def report_to_stix(report: Report, options: ShareOptions, *, when: datetime | None = None) -> dict[str, Any]:
    """A scan report as a STIX 2.1 bundle: one ``vulnerability`` per advisory and one per open
    code weakness (with its CWE), in a ``report``.

    With ``anonymise`` a code weakness keeps its class (CWE, rule, severity) and loses where it
    is: no path, line, trace or free text.
    """
    b = _Builder(options, when or datetime.now(UTC))
    refs: list[str] = []
    weaknesses: list[str] = []
    for f in report.findings:
        if f.kind == "code":
            if f.status == "open":
                weaknesses.append(_code_weakness(b, f, options))
            continue
        if f.advisory is None or f.package is None:
            continue
        adv = f.advisory
        ids = [adv.id, *adv.aliases]
        external: list[dict[str, str]] = []
        for i in sorted(set(ids)):
            if _CVE.match(i):
                external.append({"source_name": "cve", "external_id": i.upper()})
            elif i.upper().startswith("GHSA-"):
                external.append(
                    {"source_name": "ghsa", "external_id": i, "url": f"https://github.com/advisories/{i}"}
                )
            else:
                external.append(
                    {"source_name": "osv", "external_id": i, "url": f"https://osv.dev/vulnerability/{i}"}
                )
        external.extend(_cwe_reference(c) for c in sorted(set(f.cwe)))
        name = next((i.upper() for i in ids if _CVE.match(i)), adv.id)
        fixed = f" (fixed in {', '.join(adv.fixed)})" if adv.fixed else ""
        place = "" if options.anonymise else f" in {f.location.path}"
        obj = b.add(
            {
                "type": "vulnerability",
                "id": _sid("vulnerability", options.producer, adv.id, ns=options.id_namespace),
                "name": name,
                "description": f"{f.title or adv.summary or adv.id}: {f.package.name} {f.package.version}{fixed}{place}"[
                    :4000
                ],
                "external_references": external,
                "x_mamori_packages": [],
            }
        )
        if f.package.purl not in obj["x_mamori_packages"]:
            obj["x_mamori_packages"].append(f.package.purl)
            obj["x_mamori_packages"].sort()
        if f.severity not in ("unknown", "info"):
            obj["labels"] = sorted({*obj.get("labels", []), f"severity:{f.severity}"})
        refs.append(obj["id"])
    project = "" if options.anonymise else (report.target.rstrip("/").rsplit("/", 1)[-1] or "")
    every = sorted({*refs, *weaknesses})
    b.add(
        {
            "type": "report",
            "id": _sid("report", options.producer, "scan", project, *every, ns=options.id_namespace),
            "name": f"mamori scan{' of ' + project if project and project != '.' else ''}",
            "description": f"{count(len(set(refs)), 'vulnerable dependency')} and {len(set(weaknesses))} "
            "code weaknesses found by mamori.",
            "report_types": ["vulnerability"],
            "published": b.when,
            "object_refs": every or [b.identity_id],
        }
    )
    return b.bundle()


def _techniques(tags: Iterable[str]) -> list[str]:
    out = []
    for t in tags:
        m = _ATTACK.match(t)
        if m:
            out.append(m.group(1).upper())
    return sorted(set(out))


def alerts_to_stix(
    alerts: Sequence[Mapping[str, Any]], options: ShareOptions, *, when: datetime | None = None
) -> dict[str, Any]:
    """``mamori detect`` alerts (contract JSON objects) as a STIX 2.1 bundle.

    One indicator per rule and set of observables, a sighting of it per rule (its count the
    number of alerts), attack patterns for the ATT&CK techniques, vulnerabilities for CVE tags.
    An alert without observables yields a sighting of its attack pattern only.
    """
    now = when or datetime.now(UTC)
    b = _Builder(options, now)
    groups: dict[tuple[str, tuple[Observable, ...]], list[Mapping[str, Any]]] = {}
    for a in alerts:
        # what the attacker sent (detect leaves out User-Agent and Referer), else the whole event
        event = a.get("attacker", a.get("event"))
        obs = tuple(observables_of(event if isinstance(event, Mapping) else {}, anonymise=options.anonymise))
        groups.setdefault((str(a.get("rule_id", "")), obs), []).append(a)
    for (rule_id, obs), members in sorted(
        groups.items(), key=lambda kv: (kv[0][0], [o.value for o in kv[0][1]])
    ):
        first = members[0]
        title = str(first.get("title") or rule_id)
        tags = [t for m in members for t in m.get("tags", []) if isinstance(t, str)]
        times = sorted(
            t for t in (_parse_time(str(m.get("timestamp", ""))) for m in members) if t is not None
        )
        patterns = []
        for tech in _techniques(tags):
            patterns.append(
                b.add(
                    {
                        "type": "attack-pattern",
                        "id": _sid("attack-pattern", options.producer, tech, ns=options.id_namespace),
                        "name": tech,
                        "external_references": [
                            {
                                "source_name": "mitre-attack",
                                "external_id": tech,
                                "url": f"https://attack.mitre.org/techniques/{tech.replace('.', '/')}/",
                            }
                        ],
                    }
                )["id"]
            )
        for tag in sorted({t for t in tags if t.lower().startswith("cve.")}):
            cve = "CVE-" + tag[4:].upper()
            if _CVE.match(cve):
                b.add(
                    {
                        "type": "vulnerability",
                        "id": _sid("vulnerability", options.producer, cve, ns=options.id_namespace),
                        "name": cve,
                        "external_references": [{"source_name": "cve", "external_id": cve}],
                    }
                )
        target = patterns[0] if patterns else ""
        if obs:
            valid_from = _stamp(times[0]) if times else b.when
            ind = b.add(
                {
                    "type": "indicator",
                    "id": _sid(
                        "indicator",
                        options.producer,
                        rule_id,
                        *(o.comparison for o in obs),
                        ns=options.id_namespace,
                    ),
                    "name": title[:250],
                    "description": f"Observables of events that fired Sigma rule {rule_id} ({title}).",
                    "indicator_types": ["malicious-activity"],
                    "pattern": " OR ".join(o.comparison for o in obs),
                    "pattern_type": "stix",
                    "pattern_version": "2.1",
                    "valid_from": valid_from,
                    "labels": sorted({t.lower() for t in tags})[:50],
                    "external_references": [{"source_name": "sigma", "external_id": rule_id}]
                    + [{"source_name": "mitre-attack", "external_id": t} for t in _techniques(tags)],
                }
            )
            if not ind["labels"]:
                del ind["labels"]
            for p in patterns:
                b.add(
                    {
                        "type": "relationship",
                        "id": _sid("relationship", ind["id"], "indicates", p, ns=options.id_namespace),
                        "relationship_type": "indicates",
                        "source_ref": ind["id"],
                        "target_ref": p,
                    }
                )
            target = ind["id"]
        if not target:
            continue
        sighting: dict[str, Any] = {
            "type": "sighting",
            "id": _sid(
                "sighting",
                options.producer,
                target,
                *(str(m.get("timestamp", "")) for m in members),
                ns=options.id_namespace,
            ),
            "sighting_of_ref": target,
            "count": len(members),
            "where_sighted_refs": [b.identity_id],
            "description": f"{count(len(members), 'alert')} of Sigma rule {rule_id} ({title}).",
        }
        if times:
            sighting["first_seen"] = _stamp(times[0])
            sighting["last_seen"] = _stamp(times[-1])
        if not options.anonymise:
            places = sorted(
                {
                    f"{(m.get('source') or {}).get('path', '')}:{(m.get('source') or {}).get('record', '')}"
                    for m in members
                    if isinstance(m.get("source"), Mapping)
                }
            )
            hosts = sorted({str(m.get("host")) for m in members if m.get("host")})
            if places:
                sighting["description"] += f" Seen in {', '.join(places[:20])}."
            if hosts:
                sighting["description"] += f" Hosts: {', '.join(hosts[:20])}."
        b.add(sighting)
    return b.bundle()


def read_alerts(text: str, *, source: str = "-") -> list[dict[str, Any]]:
    """Alerts from ``mamori detect --format jsonl`` (or a JSON list of them)."""
    stripped = text.lstrip()
    if stripped.startswith("["):
        data = _safejson.loads(stripped, source)  # a ParseError (an InputError) names the line
        items = list(enumerate(data if isinstance(data, list) else [], start=1))
    else:
        items = []
        for n, line in enumerate(text.splitlines(), start=1):
            if not line.strip():
                continue
            try:
                items.append((n, _safejson.loads(line, source)))
            except ParseError as exc:
                raise InputError(f"not a JSON alert: {exc.message}", path=source, line=n) from None
    alerts = []
    for n, item in items:
        if not isinstance(item, dict) or "rule_id" not in item:
            raise InputError("not a mamori alert (no rule_id)", path=source, line=n)
        alerts.append(item)
    return alerts


def to_stix(text: str, options: ShareOptions, *, source: str = "-") -> dict[str, Any]:
    """A scan report (``mamori.report/1``), alerts (JSONL), or a STIX bundle, as a STIX bundle.

    A bundle given as input is re-marked with the chosen TLP and recipients.
    """
    from mamori.output.jsonout import report_from_dict

    stripped = text.lstrip()
    if stripped.startswith("{") and not _looks_like_jsonl(stripped):
        data = _safejson.loads(stripped, source)  # a ParseError (an InputError) names the line
        if isinstance(data, dict) and data.get("type") == "bundle":
            return remark_bundle(data, options)
        if isinstance(data, dict) and str(data.get("schema", "")).startswith("mamori.report/"):
            return report_to_stix(report_from_dict(data, source=source), options)
        if isinstance(data, dict) and "rule_id" in data:
            return alerts_to_stix([data], options)
        raise InputError("neither a mamori report, mamori alerts nor a STIX bundle", path=source)
    return alerts_to_stix(read_alerts(text, source=source), options)


def _looks_like_jsonl(text: str) -> bool:
    first = text.split("\n", 1)[0].strip()
    try:
        _safejson.loads(first, "-")
    except ParseError:
        return False
    return "\n" in text.strip() and first.endswith("}")


def remark_bundle(bundle: Mapping[str, Any], options: ShareOptions) -> dict[str, Any]:
    """A copy of a STIX bundle with every object marked with the chosen TLP (and recipients)."""
    objs = bundle.get("objects")
    if not isinstance(objs, list):
        raise InputError("a STIX bundle needs an 'objects' list")
    out = []
    for o in objs:
        if not isinstance(o, dict):
            raise InputError("a STIX bundle's objects must be JSON objects")
        o = dict(o)
        if o.get("type") != "marking-definition":
            o["object_marking_refs"] = [options.tlp.marking_id]
            if options.tlp in (Tlp.AMBER, Tlp.RED) and options.recipients:
                o[RECIPIENTS_PROPERTY] = list(options.recipients)
            else:
                o.pop(RECIPIENTS_PROPERTY, None)
        out.append(o)
    return {
        "type": "bundle",
        "id": str(bundle.get("id") or _sid("bundle", json.dumps(out), ns=options.id_namespace)),
        "objects": out,
    }


def address_to_sector(bundle: Mapping[str, Any], sector: str) -> dict[str, Any]:
    """A copy of an AMBER bundle whose objects name ``sector`` in ``x_mamori_recipient_sectors``:
    TLP:AMBER pushed to a sector's collection without ``--to`` is for that sector's members (the
    collection's sector is the recipient set; public contract, additions)."""
    out = []
    for o in bundle.get("objects") or []:
        if isinstance(o, Mapping) and o.get("type") != "marking-definition":
            o = {**o, RECIPIENT_SECTORS_PROPERTY: [sector]}
        out.append(o)
    return {**bundle, "objects": out}


def validate_bundle(bundle: Mapping[str, Any]) -> list[str]:
    """The errors ``stix2-validator`` finds in a bundle (empty when it is valid STIX 2.1)."""
    from stix2validator import ValidationOptions, validate_parsed_json

    result = validate_parsed_json(dict(bundle), ValidationOptions(version="2.1"))
    results = result if isinstance(result, list) else [result]
    return [str(e) for r in results for e in r.errors]


def render_stix(report: Report, *, target_root: Path | None = None) -> str:
    """A scan report as a STIX 2.1 bundle (TLP AMBER, as ``share push`` defaults to): the
    renderer of ``--format stix``."""
    return json.dumps(report_to_stix(report, ShareOptions()), indent=2, ensure_ascii=False) + "\n"
