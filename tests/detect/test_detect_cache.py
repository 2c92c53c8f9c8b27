"""The compiled-rule cache: a second load skips pySigma and code generation, and never lies.

Use is measured by counting pySigma parses and compiler calls, never by timing.
"""

from __future__ import annotations

import re
import shutil
from pathlib import Path
from typing import Any

import pytest
import yaml
from sigma.collection import SigmaCollection

from mamori.detect import _compile
from mamori.detect._cache import RuleCache, default_rule_cache
from mamori.detect._engine import Engine
from mamori.detect._readers import read_events
from mamori.detect._rules import RuleSet, load_rules
from mamori.model import ScanError

FIXTURES = Path(__file__).resolve().parent / "fixtures" / "rule_cache"
_ID = re.compile(r"^id:\s*['\"]?([0-9a-fA-F-]{36})", re.MULTILINE)


class _Counter:
    """Counts pySigma parses (``SigmaCollection.from_dicts``) and compiler calls."""

    def __init__(self, monkeypatch: pytest.MonkeyPatch) -> None:
        self.parses = 0
        original = SigmaCollection.from_dicts.__func__  # type: ignore[attr-defined]

        def counting(cls: Any, *args: Any, **kwargs: Any) -> Any:
            self.parses += 1
            return original(cls, *args, **kwargs)

        monkeypatch.setattr(SigmaCollection, "from_dicts", classmethod(counting))
        self._compiles = _compile.compile_calls

    @property
    def compiles(self) -> int:
        return _compile.compile_calls - self._compiles


def _regression_subset(sigma: Path, every: int = 6) -> tuple[list[Path], list[tuple[str, Path]]]:
    """Every ``every``-th regression case: its rule file and its .evtx sample."""
    cases: list[tuple[str, Path]] = []
    for info in sorted((sigma / "regression_data").rglob("info.yml"))[::every]:
        data = yaml.safe_load(info.read_text(encoding="utf-8"))
        rid = data["rule_metadata"][0]["id"]
        for test in data.get("regression_tests_info") or []:
            if test.get("type") == "evtx":
                cases.append((rid, sigma / test["path"]))
    wanted = {rid for rid, _ in cases}
    files = []
    for folder in ("rules", "rules-emerging-threats", "rules-threat-hunting"):
        for f in sorted((sigma / folder).rglob("*.yml")):
            m = _ID.search(f.read_text(encoding="utf-8", errors="replace"))
            if m and m.group(1) in wanted:
                files.append(f)
    return files, cases


def _hits(ruleset: RuleSet, logs: list[Path]) -> list[tuple[str, int, str]]:
    engine = Engine(ruleset.rules)
    errors: list[ScanError] = []
    out = [
        (log.name, n, r.id)
        for log in logs
        for n, ev in enumerate(read_events(str(log), errors))
        for r in engine.match(ev)
    ]
    assert not errors
    return out


def _shape(ruleset: RuleSet) -> list[tuple[Any, ...]]:
    return [
        (
            r.id,
            r.title,
            r.level,
            r.tags,
            r.path,
            r.product,
            r.category,
            r.service,
            r.name,
            r.status,
            r.description,
            r.generate,
            r.detection.atoms,
            r.detection.fields,
            r.detection.source,
            r.detection.generic_source,
        )
        for r in ruleset.rules
    ]


@pytest.fixture
def rules_dir(tmp_path: Path) -> Path:
    folder = tmp_path / "rules"
    folder.mkdir()
    shutil.copy(FIXTURES / "every_constant_kind.yml", folder / "every_constant_kind.yml")
    return folder


def test_second_load_skips_pysigma_and_the_compiler(
    shared_data: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    files, cases = _regression_subset(shared_data / "sigma")
    assert len(files) >= 30
    cache = RuleCache(tmp_path / "cache")
    counter = _Counter(monkeypatch)
    cold = load_rules(files, cache=cache)
    assert counter.parses == len(files)
    assert counter.compiles == len(cold.rules) > 0
    assert cache.stats.writes == len(files)

    warm_cache = RuleCache(tmp_path / "cache")
    counter = _Counter(monkeypatch)
    warm = load_rules(files, cache=warm_cache)
    assert (counter.parses, counter.compiles) == (0, 0)
    assert warm_cache.stats.hits == len(files)
    assert _shape(warm) == _shape(cold)
    assert warm.unsupported == cold.unsupported

    uncached = load_rules(files)
    assert _shape(uncached) == _shape(cold)
    logs = [evtx for _, evtx in cases] + [evtx.with_suffix(".json") for _, evtx in cases]
    expected = _hits(uncached, logs)
    assert {rid for rid, _ in cases} <= {rid for _, _, rid in expected}
    assert _hits(warm, logs) == expected


def test_every_kind_of_constant_survives_the_cache(tmp_path: Path, rules_dir: Path) -> None:
    cold = load_rules([rules_dir], cache=RuleCache(tmp_path / "cache"))
    warm_cache = RuleCache(tmp_path / "cache")
    warm = load_rules([rules_dir], cache=warm_cache)
    assert warm_cache.stats.hits == 1
    kinds = {recipe[0] for r in warm.rules for _, recipe in r.detection.recipes}
    assert {"search", "set", "fullmatch", "net", "op", "rx", "time"} <= kinds
    logs = [FIXTURES / "events.jsonl"]
    fired = _hits(cold, logs)
    assert len({n for _, n, _ in fired}) >= 6
    assert _hits(warm, logs) == fired == _hits(load_rules([rules_dir]), logs)


def test_a_changed_rule_file_is_compiled_again(
    tmp_path: Path, rules_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    other = rules_dir / "second.yml"
    other.write_text(
        (FIXTURES / "every_constant_kind.yml").read_text(encoding="utf-8").split("---")[0], encoding="utf-8"
    )
    load_rules([rules_dir], cache=RuleCache(tmp_path / "cache"))
    text = other.read_text(encoding="utf-8").replace("regex search, value set", "edited title")
    other.write_text(text, encoding="utf-8")
    cache = RuleCache(tmp_path / "cache")
    counter = _Counter(monkeypatch)
    again = load_rules([rules_dir], cache=cache)
    assert counter.parses == 1
    assert (cache.stats.hits, cache.stats.misses, cache.stats.writes) == (1, 1, 1)
    titles = [r.title for r in again.rules if r.path == str(other)]
    assert titles == ["Cache fixture - edited title, wildcard pattern"]


@pytest.mark.parametrize(
    "damage",
    ["garbage", "truncated", "empty", "other_key"],
)
def test_a_corrupt_entry_is_ignored_and_rewritten(
    tmp_path: Path, rules_dir: Path, monkeypatch: pytest.MonkeyPatch, damage: str
) -> None:
    folder = tmp_path / "cache"
    cold = load_rules([rules_dir], cache=RuleCache(folder))
    (entry,) = [p for p in folder.rglob("*.bin")]
    blob = entry.read_bytes()
    if damage == "garbage":
        entry.write_bytes(b"\x00\xff" * 300)
    elif damage == "truncated":
        entry.write_bytes(blob[: len(blob) // 2])
    elif damage == "empty":
        entry.write_bytes(b"")
    else:  # a valid entry of another file, stored under this file's key
        other = tmp_path / "other"
        other.mkdir()
        (other / "x.yml").write_text(
            (FIXTURES / "every_constant_kind.yml").read_text(encoding="utf-8").split("---")[2],
            encoding="utf-8",
        )
        load_rules([other], cache=RuleCache(tmp_path / "cache2"))
        (foreign,) = list((tmp_path / "cache2").rglob("*.bin"))
        entry.write_bytes(foreign.read_bytes())
    cache = RuleCache(folder)
    counter = _Counter(monkeypatch)
    again = load_rules([rules_dir], cache=cache)
    assert counter.parses == 1
    assert (cache.stats.rejected, cache.stats.writes) == (1, 1)
    assert _shape(again) == _shape(cold)
    assert entry.read_bytes() == blob
    third = RuleCache(folder)
    load_rules([rules_dir], cache=third)
    assert third.stats.hits == 1


def test_rules_with_correlations_are_never_cached(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    folder = tmp_path / "rules"
    folder.mkdir()
    base = (FIXTURES / "every_constant_kind.yml").read_text(encoding="utf-8").split("---")[0]
    (folder / "corr.yml").write_text(
        base.replace("level: high", "name: base_rule\nlevel: high")
        + "---\ntitle: many downloads\nid: 0b5a7c1e-1111-4c1e-9d1e-0000000000c1\nlevel: high\n"
        "correlation:\n  type: event_count\n  rules: [base_rule]\n  group-by: [User]\n"
        "  timespan: 5m\n  condition:\n    gte: 3\n",
        "utf-8",
    )
    shutil.copy(FIXTURES / "every_constant_kind.yml", folder / "plain.yml")
    for _ in range(2):
        cache = RuleCache(tmp_path / "cache")
        counter = _Counter(monkeypatch)
        rs = load_rules([folder], cache=cache)
        assert len(rs.correlations) == 1
        assert [r.generate for r in rs.rules if r.name == "base_rule"] == [False]
        assert counter.parses >= 2
        assert cache.stats.writes == 0


def test_the_default_cache_lives_in_mamori_home(mamori_home: Path, rules_dir: Path) -> None:
    cache = default_rule_cache()
    assert cache.folder == mamori_home / "cache" / "detect"
    load_rules([rules_dir], cache=cache)
    assert list(cache.folder.rglob("*.bin"))
