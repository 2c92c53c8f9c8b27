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

Usage (from the repository root)::

    .venv/bin/python benchmarks/bench_detect_webrules.py
"""

from __future__ import annotations

import csv
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


def samples() -> list[tuple[str, str]]:
    """(value, label) pairs from both files."""
    out: list[tuple[str, str]] = []
    with PARAMS.open(newline="", encoding="utf-8") as fh:
        for row in csv.DictReader(fh):
            out.append((row["payload"], row["attack_type"]))
    with OWN.open(newline="", encoding="utf-8") as fh:
        for row in csv.DictReader(fh):
            out.append((row["payload"], row["attack_type"]))
    return out


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
            for i, (value, _) in enumerate(data):
                fh.write(access_line(i, value) + "\n")
        detector = Detector(ruleset)
        fired: dict[int, set[str]] = {}
        t0 = time.process_time()
        for alert in detector.run_files([str(log)]):
            fired.setdefault(alert.record, set()).add(rule_file.get(alert.rule_id, alert.rule_id))
        cpu = time.process_time() - t0
    totals: Counter[str] = Counter()
    by_class: Counter[str] = Counter()
    by_any: Counter[str] = Counter()
    for i, (_, label) in enumerate(data, 1):
        totals[label] += 1
        hits = fired.get(i, set())
        if hits:
            by_any[label] += 1
        if CLASS_RULE.get(label) in hits:
            by_class[label] += 1
    print(
        f"{len(ruleset.rules)} bundled rules; {len(data)} requests in {cpu:.2f} CPU s "
        f"({len(data) / cpu:,.0f} lines/CPU s); reader errors: {len(detector.stats.errors)}"
    )
    print(f"{'class':<16}{'n':>7}  {'class rule':>10}  {'any rule':>9}")
    for label in ("sqli", "xss", "path-traversal", "cmdi", "ssti", "jndi"):
        n = totals[label]
        if n:
            print(f"{label:<16}{n:>7}  {by_class[label] / n:>10.1%}  {by_any[label] / n:>9.1%}")
    for label in sorted(BENIGN):
        n = totals[label]
        if n:
            print(f"{label:<16}{n:>7}  false positives (any rule): {by_any[label]} = {by_any[label] / n:.2%}")


if __name__ == "__main__":
    main()
