"""The management dashboard of ``mamori serve``: posture, speed, attacks and sharing at a glance.

People who must recognise the risk and lead read pictures, not JSON. The hub serves these pages
beside its APIs with the same login; every figure comes from the results database (scans, fix
runs, alerts: :mod:`mamori.results`) and the hub's own tables, every number links to the findings
or objects behind it, and everything (HTML, CSS, the SVG charts, a few lines of script) is served
by mamori itself: no CDN, no network at run time.

Public API::

    app.include_router(create_router(hub))          # what mamori.share._server does
    data = dashboard_data(ResultsStore(path))       # the figures as JSON
"""

from __future__ import annotations

from mamori.dashboard._sharing import SharingStats, Viewer, sharing_stats, viewer_of
from mamori.dashboard._views import create_router, dashboard_data

__all__ = ["SharingStats", "Viewer", "create_router", "dashboard_data", "sharing_stats", "viewer_of"]
