"""Benchmark: mamori's bundled web rules, detection rate per attack class and false positives.

Data: ``../shared/data/http-params/payload_full.csv`` (Morzeux/HttpParamsDataset, MIT: 31,067
labelled HTTP parameter values: norm, sqli, xss, path-traversal, cmdi) and, for the classes it
lacks, mamori's own labelled samples ``tests/detect/fixtures/web_samples_ssti_jndi.csv``
(template injection, JNDI lookups, benign look-alikes).

Each value is embedded in the query of a GET request line of a combined-format access log,
URL-encoded as a browser encodes a form field (``quote_plus``), and the log is read back
through mamori's access-log reader. Per class it prints the share of values on which the class's
rule fired and on which any bundled rule fired; for benign values (``norm``, ``benign``) the
share on which any rule fired is the false-positive rate.

In-sample and held-out: the rules were written looking at the whole dataset, so the rates on it
are in-sample (optimistic). The values are therefore split deterministically by a hash of the
value (SHA-256, first byte even: *tuning* half, odd: *held-out* half) and the rates are printed
per half, with 95 % Wilson intervals. From this split on, rules are tuned on the tuning half
only; the held-out figures become a true out-of-sample measurement from the next rule change
on (until then they are the held-out half of data the rules' author had seen, which the output
says). mamori's own samples (template injection, JNDI) were written with the rules: in-sample
only, reported apart.

Usage (from the repository root)::

    .venv/bin/python benchmarks/bench_detect_webrules.py
"""

from __future__ import annotations

import csv
import hashlib
import math
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path
from urllib.parse import quote_plus

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))

from mamori.detect import Detector, bundled_rules_path, load_rules  # noqa: E402

PARAMS = ROOT / ".." / "shared" / "data" / "http-params" / "payload_full.csv"
OWN = ROOT / "tests" / "detect" / "fixtures" / "web_samples_ssti_jndi.csv"

CLASS_RULE = {
    "sqli": "web_sqli_generic",
    "xss": "web_xss_generic",
    "path-traversal": "web_path_traversal_generic",
    "cmdi": "web_command_injection_generic",
    "ssti": "web_template_injection_generic",
    "jndi": "web_jndi_lookup_generic",
}
BENIGN = {"norm", "benign"}


def split_of(value: str) -> str:
    """``tuning`` or ``held-out``: a fixed split by a hash of the value (half each, stable forever)."""
    return "tuning" if hashlib.sha256(value.encode("utf-8")).digest()[0] % 2 == 0 else "held-out"


def samples() -> list[tuple[str, str, str]]:
    """(value, label, part) triples: http-params values split in two halves, then mamori's own."""
    out: list[tuple[str, str, str]] = []
    with PARAMS.open(newline="", encoding="utf-8") as fh:
        for row in csv.DictReader(fh):
            out.append((row["payload"], row["attack_type"], split_of(row["payload"])))
    with OWN.open(newline="", encoding="utf-8") as fh:
        for row in csv.DictReader(fh):
            out.append((row["payload"], row["attack_type"], "own"))
    return out


def wilson(k: int, n: int, z: float = 1.96) -> tuple[float, float]:
    """The 95 % Wilson score interval of a rate of k in n."""
    if n == 0:
        return (0.0, 1.0)
    p = k / n
    centre = (p + z * z / (2 * n)) / (1 + z * z / n)
    half = z * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / (1 + z * z / n)
    return (max(0.0, centre - half), min(1.0, centre + half))


def access_line(i: int, value: str) -> str:
    """A combined-format log line requesting ``/search?q=<value>`` as a browser would."""
    return (
        f"203.0.113.{i % 250 + 1} - - [10/Oct/2025:13:55:{i % 60:02d} +0000] "
        f'"GET /search?q={quote_plus(value)} HTTP/1.1" 200 512 "-" '
        f'"Mozilla/5.0 (X11; Linux x86_64; rv:128.0) Gecko/20100101 Firefox/128.0"'
    )


def main() -> None:
    data = samples()
    ruleset = load_rules([bundled_rules_path()])
    rule_file = {r.id: Path(r.path).stem for r in ruleset.rules}
    with tempfile.TemporaryDirectory(prefix="mamori-web-") as tmp:
        log = Path(tmp) / "access.log"
        with log.open("w", encoding="utf-8") as fh:
            for i, (value, _, _) in enumerate(data):
                fh.write(access_line(i, value) + "\n")
        detector = Detector(ruleset, peer_indicators=False)
        fired: dict[int, set[str]] = {}
        t0 = time.process_time()
        for alert in detector.run_files([str(log)]):
            fired.setdefault(alert.record, set()).add(rule_file.get(alert.rule_id, alert.rule_id))
        cpu = time.process_time() - t0
    totals: Counter[tuple[str, str]] = Counter()
    by_class: Counter[tuple[str, str]] = Counter()
    by_any: Counter[tuple[str, str]] = Counter()
    for i, (_, label, part) in enumerate(data, 1):
        for key in ((label, part), (label, "all")):
            if part == "own" and key[1] == "all":
                continue
            totals[key] += 1
            hits = fired.get(i, set())
            if hits:
                by_any[key] += 1
            if CLASS_RULE.get(label) in hits:
                by_class[key] += 1
    print(
        f"{len(ruleset.rules)} bundled rules; {len(data)} requests in {cpu:.2f} CPU s "
        f"({len(data) / cpu:,.0f} lines/CPU s); reader errors: {len(detector.stats.errors)}"
    )
    print(
        "http-params split by SHA-256 of the value: tuning half / held-out half. The rules were "
        "written\nlooking at all of it (in-sample); tune only on the tuning half from now on, so "
        "the held-out\nhalf measures rules on values they were not fitted to.  [lo-hi] = 95 % Wilson interval."
    )

    def cell(label: str, part: str, counter: Counter[tuple[str, str]], digits: int = 1) -> str:
        n = totals[(label, part)]
        k = counter[(label, part)]
        if not n:
            return f"{'-':>24}"
        lo, hi = wilson(k, n)
        return f"{k / n:.{digits}%} [{lo:.{digits}%}-{hi:.{digits}%}]".rjust(24)

    parts = ("all", "tuning", "held-out")
    print(f"{'detection (class rule)':<16}{'n all/held-out':>16}" + "".join(f"{p:>24}" for p in parts))
    for label in ("sqli", "xss", "path-traversal", "cmdi"):
        n = f"{totals[(label, 'all')]}/{totals[(label, 'held-out')]}"
        print(f"{label:<16}{n:>16}" + "".join(cell(label, p, by_class) for p in parts))
    print(f"{'detection (any rule)':<16}")
    for label in ("sqli", "xss", "path-traversal", "cmdi"):
        n = f"{totals[(label, 'all')]}/{totals[(label, 'held-out')]}"
        print(f"{label:<16}{n:>16}" + "".join(cell(label, p, by_any) for p in parts))
    print(f"{'false positives':<16}")
    n = f"{totals[('norm', 'all')]}/{totals[('norm', 'held-out')]}"
    print(f"{'norm (any rule)':<16}{n:>16}" + "".join(cell("norm", p, by_any, 2) for p in parts))
    print(f"{'  (count)':<16}{'':>16}" + "".join(f"{by_any[('norm', p)]:>24}" for p in parts))
    print("mamori's own samples (written with the rules: in-sample only)")
    for label in ("ssti", "jndi"):
        k, ka, n2 = by_class[(label, "own")], by_any[(label, "own")], totals[(label, "own")]
        if n2:
            print(f"  {label:<14}{n2:>5}  class rule {k / n2:.1%}  any rule {ka / n2:.1%}")
    k, n2 = by_any[("benign", "own")], totals[("benign", "own")]
    if n2:
        print(f"  {'benign':<14}{n2:>5}  false positives (any rule): {k} = {k / n2:.2%}")


if __name__ == "__main__":
    main()
