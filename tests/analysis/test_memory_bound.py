"""The engine starts afresh past MAX_LOADED_MODULES (bounded memory on a large repository).

The same weaknesses are found at the same places however small the limit: a file's analysis
loads what it imports again after a restart.
"""

from __future__ import annotations

from pathlib import Path

import pytest

import mamori.analysis as analysis
from mamori.analysis import scan_code

CORPUS = Path(__file__).parent / "corpus"


def _sinks(root: Path) -> set[tuple[str, str, int]]:
    return {(f.rule_id, f.location.path, f.location.line) for f in scan_code(root).findings}


@pytest.mark.parametrize("case", ["cross_module", "flask_sqli", "package_root"])
def test_restarting_engine_finds_the_same(case: str, monkeypatch: pytest.MonkeyPatch) -> None:
    root = CORPUS / case
    whole = _sinks(root)
    assert whole
    monkeypatch.setattr(analysis, "MAX_LOADED_MODULES", 0)
    assert _sinks(root) == whole
