"""Benchmark: mamori's bundled web rules, detection rate per attack class and false positives.

Data: ``../shared/data/http-params/payload_full.csv`` (Morzeux/HttpParamsDataset, MIT: 31,067
labelled HTTP parameter values: norm, sqli, xss, path-traversal, cmdi) and, for the classes it
lacks, mamori's own labelled samples ``tests/detect/fixtures/web_samples_ssti_jndi.csv``
(template injection, JNDI lookups, benign look-alikes).

Each value is embedded in the query of a GET request line of a combined-format access log,
URL-encoded as a browser encodes a form field (``quote_plus``), and the log is read by the
command a user runs, ``mamori detect access.log --format jsonl --no-record -o alerts.jsonl``
(bundled rule pack), as a child process measured alone (``os.wait4``: CPU seconds, wall, peak
RSS): *cold* on a fresh MAMORI_HOME (no compiled-rule cache), then *warm* on the same home, each
``--runs`` times (3 by default; median and spread printed, with the load average). Per class it
prints, from the command's JSON Lines (the alert's ``source.record`` is the log line), the share
of values on which the class's rule fired and on which any bundled rule fired; for benign values
(``norm``, ``benign``) the share on which any rule fired is the false-positive rate. No other
tool applies Sigma rules to access logs here, so there is no anchor beside it.

In-sample and held-out: the rules were written looking at the whole dataset, so the rates on it
are in-sample (optimistic). The values are therefore split deterministically by a hash of the
value (SHA-256, first byte even: *tuning* half, odd: *held-out* half) and the rates are printed
per half, with 95 % Wilson intervals. From this split on, rules are tuned on the tuning half
only; the held-out figures become a true out-of-sample measurement from the next rule change
on (until then they are the held-out half of data the rules' author had seen, which the output
says). mamori's own samples (template injection, JNDI) were written with the rules: in-sample
only, reported apart.

Usage (from the repository root)::

    .venv/bin/python benchmarks/bench_detect_webrules.py [--runs 3]
"""

from __future__ import annotations

import argparse
import csv
import hashlib
import json
import math
import os
import tempfile
from collections import Counter
from pathlib import Path
from urllib.parse import quote_plus

import yaml
from _gen import BUNDLED_RULES, Run, mamori_cmd, run, summary

ROOT = Path(__file__).resolve().parents[1]

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


def rule_files() -> dict[str, str]:
    """Rule id -> the stem of the bundled rule file that holds it (read from the YAML)."""
    out: dict[str, str] = {}
    for path in sorted(BUNDLED_RULES.rglob("*.yml")):
        for doc in yaml.safe_load_all(path.read_text(encoding="utf-8")):
            if isinstance(doc, dict) and doc.get("id"):
                out[str(doc["id"])] = path.stem
    return out


def fired_by_record(out: Path, rule_file: dict[str, str]) -> dict[int, set[str]]:
    """Log line -> the rule files that fired on it, from ``mamori detect``'s JSON Lines."""
    fired: dict[int, set[str]] = {}
    for line in out.read_text(encoding="utf-8").splitlines():
        if line.strip():
            alert = json.loads(line)
            rid = str(alert["rule_id"])
            fired.setdefault(int(alert["source"]["record"]), set()).add(rule_file.get(rid, rid))
    return fired


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--runs", type=int, default=3, help="cold+warm pairs (default 3)")
    args = parser.parse_args()
    data = samples()
    rule_file = rule_files()
    env0 = {k: v for k, v in os.environ.items() if k != "MAMORI_HOME"}
    print(f"load average before: {' '.join(f'{x:.2f}' for x in os.getloadavg())} ({os.cpu_count()} CPUs)")
    cold: list[Run] = []
    warm: list[Run] = []
    outputs: list[dict[int, set[str]]] = []
    with tempfile.TemporaryDirectory(prefix="mamori-web-") as tmp:
        log = Path(tmp) / "access.log"
        with log.open("w", encoding="utf-8") as fh:
            for i, (value, _, _) in enumerate(data):
                fh.write(access_line(i, value) + "\n")
        for i in range(args.runs):
            env = {**env0, "MAMORI_HOME": str(Path(tmp) / f"home{i}")}
            for runs in (cold, warm):
                out = Path(tmp) / "alerts.jsonl"
                cmd = [*mamori_cmd(), "detect", str(log), "--format", "jsonl", "--no-record", "-o", str(out)]
                runs.append(run(cmd, env=env))
                if runs[-1].code not in (0, 1):
                    raise SystemExit(f"mamori detect failed (exit {runs[-1].code})")
                outputs.append(fired_by_record(out, rule_file))
    fired = outputs[0]
    same = all(o == fired for o in outputs)
    print(f"{len(rule_file)} bundled rules; {len(data)} requests; mamori detect, whole command:")
    c = summary("mamori detect, cold", cold)
    w = summary("mamori detect, warm", warm)
    print(
        f"  lines per CPU s (median): cold {len(data) / c:,.0f}, warm {len(data) / w:,.0f}; "
        f"every run fired the same alerts: {'yes' if same else 'NO'}"
    )
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
    print("anchor: none (no other tool here applies Sigma rules to access logs)")
    print(f"load average after: {' '.join(f'{x:.2f}' for x in os.getloadavg())}")


if __name__ == "__main__":
    main()
