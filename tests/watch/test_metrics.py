"""``/metrics`` of ``mamori serve``: the watch's latencies per sector, in Prometheus' format.

The watch state is a real one (the service's own class) and the exposition is parsed back with
prometheus_client's own parser (the endpoint's login: tests/dashboard/test_dashboard_metrics.py).
No project name, advisory or component appears in a scrape.
"""

from __future__ import annotations

from pathlib import Path

from prometheus_client.parser import text_string_to_metric_families

from mamori.watch.metrics import metrics_text
from mamori.watch.state import WatchState

FLEET = """
[[project]]
name = "grid-scada"
path = "{root}"
asset = {{ sector = "electric-power", criticality = "high" }}

[[project]]
name = "bank-api"
path = "{root}"
asset = {{ sector = "finance" }}
"""


def _samples(text: bytes) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    out = {}
    for family in text_string_to_metric_families(text.decode()):
        for s in family.samples:
            out[(s.name, tuple(sorted(s.labels.items())))] = s.value
    return out


def make_state(tmp_path: Path, path: Path | None = None) -> Path:
    """A real watch state at ``path`` (default: in ``tmp_path``) with fixes in two sectors."""
    root = tmp_path / "proj"
    root.mkdir()
    fleet = tmp_path / "fleet.toml"
    fleet.write_text(FLEET.format(root=root.as_posix()))
    path = path or tmp_path / "watch.sqlite"
    state = WatchState(path)
    state.set_cursor("fleet", str(fleet))
    t0 = 1_800_000_000.0
    # grid-scada: two fixes, 20 s and 90 s after publication; bank-api: one at 4 s; a project
    # the fleet no longer lists: one at 400 s (sector unknown); one not proposed yet: no sample
    for subject, published, proposed in (
        ("grid-scada|GHSA-aaaa|pypi:a", t0, t0 + 20),
        ("grid-scada|GHSA-bbbb|pypi:b", t0, t0 + 90),
        ("bank-api|GHSA-cccc|npm:c", t0, t0 + 4),
        ("gone|GHSA-dddd|pypi:d", t0, t0 + 400),
        ("bank-api|GHSA-eeee|npm:e", t0, None),
    ):
        state.mark(subject, "published", published)
        state.mark(subject, "seen", published + 1)
        if proposed is not None:
            state.mark(subject, "proposed", proposed)
    state.add_proposal("grid-scada", "GHSA-aaaa", "pypi:a", "1.0.1", "mamori/fix-a")
    state.close()
    return path


def test_latencies_are_histograms_per_sector_and_name_nothing_vulnerable(tmp_path: Path) -> None:
    text = metrics_text(make_state(tmp_path))
    got = _samples(text)
    name = "mamori_watch_published_to_proposed_seconds"
    power = (("sector", "electric-power"),)
    assert got[(name + "_count", power)] == 2
    assert got[(name + "_sum", power)] == 110
    assert got[(name + "_bucket", (("le", "30.0"), ("sector", "electric-power")))] == 1
    assert got[(name + "_bucket", (("le", "120.0"), ("sector", "electric-power")))] == 2
    assert got[(name + "_count", (("sector", "finance"),))] == 1
    assert got[(name + "_count", (("sector", "unknown"),))] == 1
    assert got[("mamori_watch_seen_to_proposed_seconds_sum", power)] == 108
    assert got[("mamori_watch_proposals", power)] == 1
    assert got[("mamori_watch_state_present", ())] == 1
    for secret in (b"grid-scada", b"bank-api", b"GHSA-", b"pypi:", b"npm:"):
        assert secret not in text


def test_no_watch_here_says_so(tmp_path: Path) -> None:
    got = _samples(metrics_text(tmp_path / "nothing.sqlite"))
    assert got == {("mamori_watch_state_present", ()): 0}
    assert not (tmp_path / "nothing.sqlite").exists()  # a scrape creates no state
