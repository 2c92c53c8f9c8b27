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
- ``mamori_detect_written_to_alert_seconds`` (histogram, ``sector``): a log line written → its
  alert raised by ``detect --follow`` (from the results database; the sector of the project
  ``--project`` tied the alerts to, ``unspecified`` without one);
- ``mamori_watch_state_present``: 0 when no watch ever ran here (every other figure is empty).

Project names, advisories and components are not labels: a scrape tells how fast, per sector,
not what is vulnerable where.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
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


@dataclass(frozen=True, slots=True)
class SectorLatency:
    """The watch's figures for one sector (the Speed page's rows, the histograms' series)."""

    sector: str
    published_to_proposed: tuple[float, ...] = ()
    """Seconds from an advisory's publication to a verified fix proposed, one per fix."""
    seen_to_proposed: tuple[float, ...] = ()
    kev_seen_to_notified: tuple[float, ...] = ()
    proposals: int = 0

    @staticmethod
    def quantile(values: Sequence[float], q: float) -> float | None:
        """The ``q`` quantile (nearest rank) of ``values``, or None without any."""
        if not values:
            return None
        ordered = sorted(values)
        return ordered[max(0, min(len(ordered) - 1, math.ceil(q * len(ordered)) - 1))]


@dataclass(frozen=True, slots=True)
class WatchFigures:
    """What the watch state holds for the metrics, per sector."""

    sectors: tuple[SectorLatency, ...]
    jobs: Mapping[str, int]


def watch_figures(state_path: Path | None = None) -> WatchFigures | None:
    """The watch's latencies per sector from the state at ``state_path`` (default: the
    service's own), or None when no watch ever ran here (nothing is created)."""
    from mamori.watch.fleet import load_fleet
    from mamori.watch.service import state_path as default_state
    from mamori.watch.state import WatchState
    from mamori.watch.status import kev_latencies, latencies

    path = Path(state_path) if state_path is not None else default_state()
    if not path.is_file():
        return None
    state = WatchState(path)
    try:
        fleet_file = state.cursor("fleet")
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

    def by_sector(rows: Iterable[dict[str, Any]], key: str) -> dict[str, list[float]]:
        out: dict[str, list[float]] = {}
        for r in rows:
            if isinstance(r.get(key), int | float):
                out.setdefault(sectors.get(str(r.get("project", "")), UNKNOWN), []).append(float(r[key]))
        return out

    published = by_sector(fixes, "published_to_proposed")
    seen = by_sector(fixes, "seen_to_proposed")
    notified = by_sector(kev, "seen_to_notified")
    counted: dict[str, int] = {}
    for p in proposals:
        sector = sectors.get(str(p.get("project", "")), UNKNOWN)
        counted[sector] = counted.get(sector, 0) + 1
    names = sorted({*published, *seen, *notified, *counted})
    return WatchFigures(
        tuple(
            SectorLatency(
                n,
                tuple(published.get(n, ())),
                tuple(seen.get(n, ())),
                tuple(notified.get(n, ())),
                counted.get(n, 0),
            )
            for n in names
        ),
        dict(jobs),
    )


def detection_figures(results: Path | None = None) -> dict[str, list[float]]:
    """Seconds from a log line written to its alert raised, by sector, of the alerts that
    ``detect --follow`` recorded in the results database (default: ``MAMORI_HOME``'s); nothing
    is created when there is none."""
    from mamori.config import results_db_path
    from mamori.results import ResultsStore

    path = Path(results) if results is not None else results_db_path()
    if not path.is_file():
        return {}
    out: dict[str, list[float]] = {}
    for sector, seconds in ResultsStore(path).detection_latencies():
        out.setdefault(sector, []).append(seconds)
    return out


class _WatchCollector(Collector):
    def __init__(self, state_path: Path | None, results_path: Path | None = None) -> None:
        self.state_path = state_path
        self.results_path = results_path

    def collect(self) -> Iterator[Metric]:
        yield _histogram(
            "mamori_detect_written_to_alert_seconds",
            "Seconds from a log line written to its alert raised by detect --follow",
            detection_figures(self.results_path),
        )
        figures = watch_figures(self.state_path)
        yield GaugeMetricFamily(
            "mamori_watch_state_present",
            "1 when a watch state exists on this machine",
            value=0 if figures is None else 1,
        )
        if figures is None:
            return
        rows = figures.sectors
        yield _histogram(
            "mamori_watch_published_to_proposed_seconds",
            "Seconds from an advisory's publication to a verified fix proposed",
            {r.sector: list(r.published_to_proposed) for r in rows if r.published_to_proposed},
        )
        yield _histogram(
            "mamori_watch_seen_to_proposed_seconds",
            "Seconds from an advisory seen by the watch to a verified fix proposed",
            {r.sector: list(r.seen_to_proposed) for r in rows if r.seen_to_proposed},
        )
        yield _histogram(
            "mamori_watch_kev_seen_to_notified_seconds",
            "Seconds from a KEV addition seen to the project's people notified",
            {r.sector: list(r.kev_seen_to_notified) for r in rows if r.kev_seen_to_notified},
        )
        gauge = GaugeMetricFamily("mamori_watch_proposals", "Fixes proposed", labels=["sector"])
        for r in rows:
            if r.proposals:
                gauge.add_metric([r.sector], r.proposals)
        yield gauge
        queue = GaugeMetricFamily("mamori_watch_jobs", "Jobs of the watch queue by state", labels=["state"])
        for name, n in sorted(figures.jobs.items()):
            queue.add_metric([name], n)
        yield queue


def metrics_text(state_path: Path | None = None, results_path: Path | None = None) -> bytes:
    """The text exposition of the watch state at ``state_path``
    (default: the service's own)."""
    registry = CollectorRegistry(auto_describe=False)
    registry.register(_WatchCollector(state_path, results_path))
    return generate_latest(registry)
