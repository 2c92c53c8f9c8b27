"""The watch's latencies in Prometheus' text format, per sector (``/metrics`` of ``mamori serve``).

Read from the watch state (``MAMORI_HOME/watch.sqlite``, through the service's own class) and the
fleet file the service last ran with (its projects' sectors); a scrape changes no figure. Exposed with ``prometheus_client``'s own exposition
(escaping and format are the library's, not hand-made):

- ``mamori_watch_published_to_proposed_seconds`` (histogram, label ``sector``): advisory
  published (from the OSV record) → verified fix proposed;
- ``mamori_watch_seen_to_proposed_seconds`` (histogram, ``sector``): advisory seen by the
  service → proposed;
- ``mamori_watch_kev_seen_to_notified_seconds`` (histogram, ``sector``): a KEV addition seen →
  the project's people notified;
- ``mamori_watch_proposals`` (gauge, ``sector``) and ``mamori_watch_jobs`` (gauge, ``state``);
- ``mamori_watch_state_present``: 0 when no watch ever ran here (every other figure is empty).

Project names, advisories and components are not labels: a scrape tells how fast, per sector,
not what is vulnerable where.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping
from pathlib import Path
from typing import Any

from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, generate_latest
from prometheus_client.core import GaugeMetricFamily, HistogramMetricFamily, Metric
from prometheus_client.registry import Collector
from prometheus_client.utils import floatToGoString

from mamori.errors import InputError

CONTENT_TYPE = CONTENT_TYPE_LATEST
"""The media type of :func:`metrics_text` (Prometheus' text format, as prometheus_client names it)."""
BUCKETS = (5.0, 10.0, 30.0, 60.0, 120.0, 300.0, 600.0, 1800.0, 3600.0, 86400.0)
"""Upper bounds (seconds) of the latency histograms: the goal is a minute, a day is the worst."""
UNKNOWN = "unknown"
"""The sector label of a project the fleet file gives none (or no longer lists)."""


def _histogram(name: str, doc: str, values: Mapping[str, list[float]]) -> HistogramMetricFamily:
    family = HistogramMetricFamily(name, doc, labels=["sector"])
    for sector in sorted(values):
        seen = sorted(values[sector])
        buckets = [(floatToGoString(b), sum(1 for v in seen if v <= b)) for b in BUCKETS]
        buckets.append(("+Inf", len(seen)))
        family.add_metric([sector], buckets, sum_value=sum(seen))
    return family


class _WatchCollector(Collector):
    def __init__(self, state_path: Path) -> None:
        self.state_path = state_path

    def collect(self) -> Iterator[Metric]:
        present = GaugeMetricFamily(
            "mamori_watch_state_present", "1 when a watch state exists on this machine", value=0
        )
        if not self.state_path.is_file():
            yield present
            return
        from mamori.watch.fleet import load_fleet
        from mamori.watch.state import WatchState
        from mamori.watch.status import kev_latencies, latencies

        state = WatchState(self.state_path)
        try:
            fleet_file = state.cursor("fleet")
            sectors: dict[str, str] = {}
            try:
                fleet = load_fleet(Path(fleet_file) if fleet_file else None)
                sectors = {p.name: p.asset.sector or UNKNOWN for p in fleet.projects}
            except (InputError, OSError):  # a fleet file being edited or moved: sectors unknown
                sectors = {}
            fixes = latencies(state)
            kev = kev_latencies(state)
            jobs = state.job_counts()
            proposals = state.proposals()
        finally:
            state.close()
        yield GaugeMetricFamily(present.name, present.documentation, value=1)

        def by_sector(rows: Iterable[dict[str, Any]], key: str) -> dict[str, list[float]]:
            out: dict[str, list[float]] = {}
            for r in rows:
                if isinstance(r.get(key), int | float):
                    out.setdefault(sectors.get(r["project"], UNKNOWN), []).append(float(r[key]))
            return out

        yield _histogram(
            "mamori_watch_published_to_proposed_seconds",
            "Seconds from an advisory's publication to a verified fix proposed",
            by_sector(fixes, "published_to_proposed"),
        )
        yield _histogram(
            "mamori_watch_seen_to_proposed_seconds",
            "Seconds from an advisory seen by the watch to a verified fix proposed",
            by_sector(fixes, "seen_to_proposed"),
        )
        yield _histogram(
            "mamori_watch_kev_seen_to_notified_seconds",
            "Seconds from a KEV addition seen to the project's people notified",
            by_sector(kev, "seen_to_notified"),
        )
        per_sector: dict[str, int] = {}
        for p in proposals:
            sector = sectors.get(str(p.get("project", "")), UNKNOWN)
            per_sector[sector] = per_sector.get(sector, 0) + 1
        gauge = GaugeMetricFamily("mamori_watch_proposals", "Fixes proposed", labels=["sector"])
        for sector, n in sorted(per_sector.items()):
            gauge.add_metric([sector], n)
        yield gauge
        queue = GaugeMetricFamily("mamori_watch_jobs", "Jobs of the watch queue by state", labels=["state"])
        for name, n in sorted(jobs.items()):
            queue.add_metric([name], n)
        yield queue


def metrics_text(state_path: Path | None = None) -> bytes:
    """The text exposition of the watch state at ``state_path``
    (default: the service's own)."""
    from mamori.watch.service import state_path as default_state

    registry = CollectorRegistry(auto_describe=False)
    registry.register(_WatchCollector(Path(state_path) if state_path is not None else default_state()))
    return generate_latest(registry)
