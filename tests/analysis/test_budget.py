"""The engine's safety valve: no input makes it hang. An entry point that runs out of its work
budget is analysed again without building new summaries, its own flows are still found and
the cut is reported; shapes that would multiply summaries stay bounded."""

from __future__ import annotations

from pathlib import Path

import pytest

import mamori.analysis.engine.project as engine
from mamori.analysis import scan_code

_HELPER = """
def helper{n}(value):
    out = []
    for i in range(10):
        for j in range(10):
            if i == j:
                out.append(value + str(i))
            else:
                out.append(str(j))
    return out
"""


def _project(tmp_path: Path) -> Path:
    helpers = "".join(_HELPER.format(n=n) for n in range(6))
    calls = "".join(f"    helper{n}(q)\n" for n in range(6))
    (tmp_path / "app.py").write_text(
        "import os\nfrom flask import request\n"
        + helpers
        + "\n\ndef view():\n    q = request.args['q']\n"
        + calls
        + "    os.system(q)\n"
    )
    return tmp_path


def test_exhausted_entry_falls_back_and_is_recorded(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    root = _project(tmp_path)
    monkeypatch.setattr(engine, "ENTRY_BUDGET", 60)
    res = scan_code(root)
    assert [(f.rule_id, f.location.line) for f in res.findings if f.rule_id == "PY-CMDI"] == [
        ("PY-CMDI", root.joinpath("app.py").read_text().splitlines().index("    os.system(q)") + 1)
    ]
    notes = [e for e in res.errors if "work budget" in e.message]
    assert notes and all(n.path == "app.py" for n in notes)
    assert any("app.view " in n.message for n in notes)


def test_full_budget_needs_no_fallback(tmp_path: Path) -> None:
    res = scan_code(_project(tmp_path))
    assert not res.errors
    assert [f.rule_id for f in res.findings if f.rule_id == "PY-CMDI"] == ["PY-CMDI"]


def test_many_argument_shapes_stay_bounded(tmp_path: Path) -> None:
    # each level calls the next with several constants: one summary per shape would be 5**30
    depth = 30
    lines = ["import os", "from flask import request", ""]
    for i in range(depth):
        lines.append(f"def f{i}(a, b):")
        if i + 1 < depth:
            for c in ("'w'", "'x'", "'y'", "'z'", "1"):
                lines.append(f"    a = f{i + 1}(a, {c}) + b")
        lines.append("    return a")
        lines.append("")
    lines += ["def view():", "    os.system(f0(request.args['q'], 'k'))", ""]
    (tmp_path / "deep.py").write_text("\n".join(lines))
    res = scan_code(tmp_path)
    assert [f.rule_id for f in res.findings] == ["PY-CMDI"]
