"""The SSVC decision: CISA's published tree row by row, then hand-made cases end to end."""

from __future__ import annotations

import itertools
from dataclasses import replace
from pathlib import Path

import pytest

from mamori.model import AdvisoryRef, Finding, Location, Package, Proof, TraceStep
from mamori.prioritize import AssetContext, EpssFact, KevFact, SsvcInputs, decide, prioritize

# CISA's coordinator tree ("CISA Levels", SSVC 2.0.3), as published in CSV by CERT/CC:
# exploitation, automatable, technical impact, mission & well-being -> decision.
CISA_TABLE = """
none,no,partial,low,track
none,no,partial,medium,track
none,no,partial,high,track
none,no,total,low,track
none,no,total,medium,track
none,no,total,high,track*
none,yes,partial,low,track
none,yes,partial,medium,track
none,yes,partial,high,attend
none,yes,total,low,track
none,yes,total,medium,track
none,yes,total,high,attend
public poc,no,partial,low,track
public poc,no,partial,medium,track
public poc,no,partial,high,track*
public poc,no,total,low,track
public poc,no,total,medium,track*
public poc,no,total,high,attend
public poc,yes,partial,low,track
public poc,yes,partial,medium,track
public poc,yes,partial,high,attend
public poc,yes,total,low,track
public poc,yes,total,medium,track*
public poc,yes,total,high,attend
active,no,partial,low,track
active,no,partial,medium,track
active,no,partial,high,attend
active,no,total,low,track
active,no,total,medium,attend
active,no,total,high,act
active,yes,partial,low,attend
active,yes,partial,medium,attend
active,yes,partial,high,act
active,yes,total,low,attend
active,yes,total,medium,act
active,yes,total,high,act
"""


def _rows() -> list[tuple[SsvcInputs, str]]:
    rows = []
    for line in CISA_TABLE.strip().splitlines():
        e, a, t, m, d = line.split(",")
        inputs = SsvcInputs(
            exploitation="poc" if e == "public poc" else e,  # type: ignore[arg-type]
            automatable=a == "yes",
            technical_impact=t,  # type: ignore[arg-type]
            mission_wellbeing=m,  # type: ignore[arg-type]
        )
        rows.append((inputs, d))
    return rows


@pytest.mark.parametrize(("inputs", "expected"), _rows())
def test_every_row_of_cisas_tree(inputs: SsvcInputs, expected: str) -> None:
    assert decide(inputs) == expected


def test_tree_is_complete_and_monotone() -> None:
    rank = {"track": 0, "track*": 1, "attend": 2, "act": 3}
    order_e = ["none", "poc", "active"]
    order_m = ["low", "medium", "high"]
    for e, a, t, m in itertools.product(order_e, (False, True), ("partial", "total"), order_m):
        d = rank[decide(SsvcInputs(e, a, t, m))]  # type: ignore[arg-type]
        # More exploitation or more mission impact never lowers the decision.
        if e != "active":
            up = order_e[order_e.index(e) + 1]
            assert rank[decide(SsvcInputs(up, a, t, m))] >= d  # type: ignore[arg-type]
        if m != "high":
            up_m = order_m[order_m.index(m) + 1]
            assert rank[decide(SsvcInputs(e, a, t, up_m))] >= d  # type: ignore[arg-type]


class Facts:
    """An enrichment source from a table (the database's role in the scan)."""

    def __init__(
        self, kev: dict[str, KevFact] | None = None, epss: dict[str, EpssFact] | None = None
    ) -> None:
        self._kev = kev or {}
        self._epss = epss or {}

    def kev(self, cve: str) -> KevFact | None:
        return self._kev.get(cve)

    def epss(self, cve: str) -> EpssFact | None:
        return self._epss.get(cve)


RCE_NET = "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H"
LOCAL_PARTIAL = "CVSS:3.1/AV:L/AC:H/PR:L/UI:R/S:U/C:L/I:N/A:N"
NET_USER_TOTAL = "CVSS:3.1/AV:N/AC:L/PR:N/UI:R/S:U/C:H/I:H/A:H"


def dep(cve: str, vector: str | None = None, cwe: tuple[str, ...] = (), name: str = "log4j-core") -> Finding:
    return Finding(
        kind="dependency",
        rule_id=f"GHSA-{cve}",
        title="t",
        severity="unknown",
        location=Location("pom.xml", 10),
        cwe=cwe,
        package=Package("Maven", f"org.example:{name}", "1.0", f"pkg:maven/org.example/{name}@1.0"),
        advisory=AdvisoryRef(id=f"GHSA-{cve}", aliases=(cve,), cvss=(vector,) if vector else ()),
    )


# Hand-made cases: (finding, facts, asset) -> the decision CISA's tree gives for the decision
# points a responder would pick from that evidence.
CASES = [
    # KEV + network RCE on a high-criticality asset: active, automatable, total, high -> act
    (
        dep("CVE-2021-44228", RCE_NET),
        Facts(kev={"CVE-2021-44228": KevFact("CVE-2021-44228", "2021-12-10")}),
        AssetContext(sector="electric-power"),
        "act",
    ),
    # Same, medium mission: active/yes/total/medium -> act
    (
        dep("CVE-2021-44228", RCE_NET),
        Facts(kev={"CVE-2021-44228": KevFact("CVE-2021-44228")}),
        AssetContext(criticality="medium"),
        "act",
    ),
    # KEV, but needs user interaction: active/no/total/high -> act
    (
        dep("CVE-2023-0001", NET_USER_TOTAL),
        Facts(kev={"CVE-2023-0001": KevFact("CVE-2023-0001")}),
        AssetContext(sector="water"),
        "act",
    ),
    # KEV, user interaction, low mission: active/no/total/low -> track
    (
        dep("CVE-2023-0001", NET_USER_TOTAL),
        Facts(kev={"CVE-2023-0001": KevFact("CVE-2023-0001")}),
        AssetContext(criticality="low"),
        "track",
    ),
    # High EPSS, no KEV, network RCE, high mission: poc/yes/total/high -> attend
    (
        dep("CVE-2022-0002", RCE_NET),
        Facts(epss={"CVE-2022-0002": EpssFact("CVE-2022-0002", 0.42, 0.97)}),
        AssetContext(sector="railways"),
        "attend",
    ),
    # High EPSS, medium mission: poc/yes/total/medium -> track*
    (
        dep("CVE-2022-0002", RCE_NET),
        Facts(epss={"CVE-2022-0002": EpssFact("CVE-2022-0002", 0.42, 0.97)}),
        AssetContext(),
        "track*",
    ),
    # Low EPSS, nothing else: none/yes/total/high -> attend
    (
        dep("CVE-2022-0003", RCE_NET),
        Facts(epss={"CVE-2022-0003": EpssFact("CVE-2022-0003", 0.002, 0.3)}),
        AssetContext(sector="medical"),
        "attend",
    ),
    # Local, partial, no exploitation: none/no/partial/high -> track
    (dep("CVE-2022-0004", LOCAL_PARTIAL), Facts(), AssetContext(sector="gas"), "track"),
    # No CVSS at all, CWE of code execution, KEV: active/yes(CWE on internet asset)/total/medium -> act
    (
        dep("CVE-2022-0005", None, ("CWE-94",)),
        Facts(kev={"CVE-2022-0005": KevFact("CVE-2022-0005")}),
        AssetContext(),
        "act",
    ),
    # Isolated asset: automatable no: active/no/total/high -> act; poc/no/total/high -> attend
    (
        dep("CVE-2022-0006", RCE_NET),
        Facts(epss={"CVE-2022-0006": EpssFact("CVE-2022-0006", 0.5, 0.99)}),
        AssetContext(sector="ports", exposure="isolated"),
        "attend",
    ),
    # Nothing known, medium mission, unknown CVSS and CWE: none/no/partial/medium -> track
    (dep("CVE-2022-0007"), Facts(), AssetContext(), "track"),
]


@pytest.mark.parametrize(("finding", "facts", "asset", "expected"), CASES)
def test_hand_made_cases_match_cisas_tree(
    finding: Finding, facts: Facts, asset: AssetContext, expected: str
) -> None:
    (out,) = prioritize([finding], enrichment=facts, context=asset)
    assert out.priority is not None
    assert out.priority.decision == expected, out.priority.reasons
    assert out.priority.reasons[0].startswith("SSVC/")
    assert any(r.startswith("exploitation") for r in out.priority.reasons)
    assert any(r.startswith("mission and well-being") for r in out.priority.reasons)


def test_score_orders_within_a_decision() -> None:
    kev = Facts(
        kev={"CVE-1": KevFact("CVE-1", ransomware=True), "CVE-2": KevFact("CVE-2")},
        epss={"CVE-1": EpssFact("CVE-1", 0.9, 0.99), "CVE-2": EpssFact("CVE-2", 0.1, 0.8)},
    )
    a, b = prioritize([dep("CVE-1", RCE_NET), dep("CVE-2", RCE_NET, name="other")], enrichment=kev)
    assert a.priority and b.priority
    assert a.priority.decision == b.priority.decision == "act"
    assert a.priority.score > b.priority.score


def test_code_finding_with_web_source_is_poc_and_automatable() -> None:
    f = Finding(
        kind="code",
        rule_id="PY-SQLI",
        title="SQL injection",
        severity="high",
        location=Location("app.py", 9),
        cwe=("CWE-89",),
        trace=(
            TraceStep("app.py", 5, "request.args.get (source)"),
            TraceStep("app.py", 9, "cursor.execute (sink)"),
        ),
    )
    # only a proof of vulnerability makes a code finding a PoC; the claim of the analysis does not
    (unproven,) = prioritize([f], context=AssetContext(sector="finance"))
    assert unproven.priority is not None
    assert any(
        r.startswith("exploitation none: no proof of vulnerability") for r in unproven.priority.reasons
    )
    proven = replace(
        f,
        proof=Proof(
            "proven", "the input changed the structure of the SQL query", {"method": "GET", "url": "/q"}
        ),
    )
    (out,) = prioritize([proven], context=AssetContext(sector="finance"))
    assert out.priority is not None
    # poc (proven by a request) / automatable (remote input) / total (CWE-89) / high -> attend
    assert out.priority.decision == "attend"
    assert any(r.startswith("exploitation poc: proven by a request (GET /q)") for r in out.priority.reasons)
    local = Finding(
        kind="code",
        rule_id="PY-CMDI",
        title="command injection",
        severity="high",
        location=Location("tool.py", 3),
        cwe=("CWE-78",),
        trace=(TraceStep("tool.py", 2, "sys.argv (source)"), TraceStep("tool.py", 3, "os.system (sink)")),
    )
    (out_local,) = prioritize([local], context=AssetContext(sector="finance"))
    assert out_local.priority is not None
    assert any("exploitation none" in r for r in out_local.priority.reasons)
    assert any("automatable no" in r for r in out_local.priority.reasons)


def test_peer_shared_vulnerability_ranks_higher_and_says_so() -> None:
    (plain,) = prioritize([dep("CVE-2022-0009", RCE_NET)])
    (shared,) = prioritize([dep("CVE-2022-0009", RCE_NET)], peers={"CVE-2022-0009": ["log4shell"]})
    assert plain.priority and shared.priority
    assert shared.priority.decision == plain.priority.decision
    assert shared.priority.score > plain.priority.score
    assert any("shared by peers" in r for r in shared.priority.reasons)


def test_store_enrichment_bulk_matches_single_lookups(tmp_path: Path, shared_data: Path) -> None:
    from mamori.advisories.store import AdvisoryStore
    from mamori.prioritize import StoreEnrichment

    epss = tmp_path / "epss.csv"
    epss.write_text(
        "#model_version:v2025.03.14,score_date:2026-11-26T00:00:00Z\ncve,epss,percentile\n"
        "CVE-2021-44228,0.94400,0.99990\nCVE-2019-10906,0.01234,0.78000\n"
    )
    store = AdvisoryStore(tmp_path / "db.sqlite")
    store.import_paths([shared_data / "cisa-kev/known_exploited_vulnerabilities.json", epss])
    single = StoreEnrichment(store)
    bulk = StoreEnrichment(store)
    cves = {"CVE-2021-44228", "CVE-2019-10906", "CVE-1999-0001"}
    bulk.prefetch(cves)
    for cve in cves:
        assert single.kev(cve) == bulk.kev(cve)
        assert single.epss(cve) == bulk.epss(cve)
    kev = bulk.kev("CVE-2021-44228")
    assert kev is not None and kev.date_added == "2021-12-10"
    assert bulk.kev("CVE-2019-10906") is None
