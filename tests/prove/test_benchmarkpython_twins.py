"""Every safe twin of OWASP BenchmarkPython, proved as if mamori had flagged it: none is proven.

The benchmark is not part of this repository (GPL, fetched): set ``MAMORI_BENCHMARK_PYTHON`` to
an extracted github:OWASP-Benchmark/BenchmarkPython and ``MAMORI_BENCHMARK_PYTHON_INTERPRETER``
to a Python 3.12+ with its requirements installed; otherwise the test is skipped, saying so.
"""

from __future__ import annotations

import ast
import os
from pathlib import Path

import pytest

from mamori import sandbox
from mamori.analysis import parse_source
from mamori.model import Finding, Location, TraceStep
from mamori.prove import prove_findings

RULES = {
    "sqli": ("PY-SQLI", "CWE-89"),
    "cmdi": ("PY-CMDI", "CWE-78"),
    "codeinj": ("PY-CODEI", "CWE-94"),
    "pathtraver": ("PY-PATH", "CWE-22"),
    "redirect": ("PY-REDIRECT", "CWE-601"),
    "xss": ("PY-XSS", "CWE-79"),
    "xxe": ("PY-XXE", "CWE-611"),
    "deserialization": ("PY-DESER", "CWE-502"),
    "ldapi": ("PY-LDAPI", "CWE-90"),
    "xpathi": ("PY-XPATHI", "CWE-643"),
}


def _tree_and_python() -> tuple[Path, Path]:
    tree = os.environ.get("MAMORI_BENCHMARK_PYTHON", "")
    python = os.environ.get("MAMORI_BENCHMARK_PYTHON_INTERPRETER", "")
    if not tree or not (Path(tree) / "app.py").is_file():
        pytest.skip("BenchmarkPython not fetched: set MAMORI_BENCHMARK_PYTHON to its extracted tree")
    if not python or not Path(python).exists():
        pytest.skip("set MAMORI_BENCHMARK_PYTHON_INTERPRETER to a Python 3.12+ with its requirements")
    return Path(tree), Path(python)


def _as_flagged(root: Path, name: str, category: str) -> Finding | None:
    """A finding for the test's POST view: source at its first request read, sink at its end."""
    rel = f"testcode/{name}.py"
    tree = parse_source((root / rel).read_bytes(), rel).tree
    if tree is None:
        return None
    lines = (root / rel).read_text(encoding="utf-8").splitlines()
    for node in ast.walk(tree):
        if isinstance(node, ast.FunctionDef) and node.name.endswith("_post"):
            end = node.end_lineno or node.lineno
            src = next(
                (
                    i
                    for i in range(node.lineno, end + 1)
                    if "request." in lines[i - 1] and "def " not in lines[i - 1]
                ),
                None,
            )
            if src is None:
                return None
            attr = lines[src - 1].split("request.", 1)[1].split(".")[0].split("(")[0]
            rule, cwe = RULES[category]
            return Finding(
                kind="code",
                rule_id=rule,
                title=f"{name} as if flagged",
                severity="high",
                location=Location(rel, end),
                cwe=(cwe,),
                trace=(
                    TraceStep(rel, src, f"flask.request.{attr} (source)"),
                    TraceStep(rel, end, "sink (sink)"),
                ),
            )
    return None


def test_no_safe_twin_is_proven() -> None:
    root, python = _tree_and_python()
    truth = root / "expectedresults-0.1.csv"
    findings: list[Finding] = []
    for line in truth.read_text().splitlines():
        if line.startswith("#") or not line.strip():
            continue
        name, category, real = line.split(",")[:3]
        if real == "false" and category in RULES:
            finding = _as_flagged(root, name, category)
            if finding is not None:
                findings.append(finding)
    assert len(findings) > 200
    proofs = prove_findings(root, findings, python=python, unsafe=sandbox.unavailable_reason() is not None)
    proven = [
        f.location.path
        for f, p in zip(findings, proofs, strict=True)
        if p is not None and p.status == "proven"
    ]
    assert proven == []
    # the builder did run them: each safe twin got a request, not a start-up failure
    assert all(p is not None and p.request is not None for p in proofs[:50]), proofs[:3]
