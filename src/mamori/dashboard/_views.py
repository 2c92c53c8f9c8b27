"""The dashboard's pages and its JSON, as a FastAPI router mounted by ``mamori serve`` at ``/``.

Login is the hub's: an organisation's API token, sent as ``Authorization: Bearer``, as HTTP
Basic (organisation name and token) on every page and API call, or once through the login form,
which starts a session (:mod:`mamori.share._orgs`): the ``HttpOnly``, ``SameSite=Strict``
cookie holds a random session id, never the token; sessions expire and logging out (or the
operator's ``mamori hub rotate-token``/``revoke``) ends them. Login and logout refuse a request
whose ``Origin`` (or ``Referer``) is another site (CSRF). Posture, speed and attacks are the hub
operator's own results, so only an admin organisation (admin of the cross-sector collection)
sees them, and any other organisation lands on its sharing page; every organisation sees the
sharing figures of its own collections only. Pages are
rendered on the server with Jinja2 (autoescaped) from the same values as ``/api/dashboard``,
so the numbers a browser shows are the numbers the API returns.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from importlib import resources
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlencode, urlsplit

from fastapi import APIRouter, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import HTMLResponse, JSONResponse, RedirectResponse, Response
from jinja2 import Environment, FileSystemLoader, select_autoescape

from mamori._text import count
from mamori.dashboard import _charts as charts
from mamori.dashboard._sharing import (
    TLP_LEVELS,
    Viewer,
    shared_objects,
    sharing_stats,
    viewer_of,
)
from mamori.results import DECISIONS, AlertRecord, Posture, ResultsStore, SpeedFigure
from mamori.share import _orgs
from mamori.share._hub import Hub, Org

COOKIE = "mamori_session"
"""The session cookie: a random session id (HttpOnly, SameSite=Strict), never the API token."""
ALERTS_SHOWN = 1000
"""The most alerts the attacks page lists (the figures count all of them)."""

DECISION_NAMES = {
    "act": "Act",
    "attend": "Attend",
    "track*": "Track*",
    "track": "Track",
    "unprioritised": "None",
}
"""How decisions are written on the pages."""

_CSP = (
    "default-src 'none'; style-src 'self'; script-src 'self'; img-src 'self'; "
    "form-action 'self'; frame-ancestors 'none'; base-uri 'none'"
)
_STATIC_TYPES = {
    ".css": "text/css; charset=utf-8",
    ".js": "text/javascript; charset=utf-8",
    ".svg": "image/svg+xml",
}


def _package_dir(name: str) -> Path:
    return Path(str(resources.files("mamori.dashboard") / name))


def _environment() -> Environment:
    env = Environment(
        loader=FileSystemLoader(str(_package_dir("templates"))),
        autoescape=select_autoescape(("html",)),
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.filters["duration"] = charts.duration
    env.filters["decision_name"] = lambda d: DECISION_NAMES.get(str(d), str(d))
    env.filters["css"] = lambda d: "seg-" + str(d).replace("*", "-star")
    env.filters["when"] = _when
    env.globals["DECISIONS"] = DECISIONS
    env.globals["TLP_LEVELS"] = TLP_LEVELS
    return env


def _when(text: str | None) -> str:
    if not text:
        return "–"
    try:
        dt = datetime.fromisoformat(str(text).replace("Z", "+00:00"))
    except ValueError:
        return str(text)
    dt = dt if dt.tzinfo else dt.replace(tzinfo=UTC)
    return dt.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S UTC")


def _link(path: str, **params: object) -> str:
    query = {k: str(v) for k, v in params.items() if v is not None and v != ""}
    return f"{path}?{urlencode(query)}" if query else path


def create_router(hub: Hub, results: Path | None = None) -> APIRouter:
    """The dashboard's routes over ``hub`` (logins, sharing) and the results database ``results``
    (default: ``results.sqlite`` under ``MAMORI_HOME``)."""
    from mamori.config import results_db_path

    store = ResultsStore(results or results_db_path())
    env = _environment()
    router = APIRouter()

    def authenticate(request: Request) -> Org | None:
        header = request.headers.get("authorization", "")
        if header:
            return _orgs.authenticate_header(hub, header)[0]
        sid = request.cookies.get(COOKIE, "")
        return _orgs.session_org(hub, sid) if sid else None

    def page(request: Request, template: str, status: int = 200, **context: Any) -> HTMLResponse:
        html = env.get_template(template).render(request_path=request.url.path, **context)
        return HTMLResponse(html, status_code=status, headers=_headers())

    def guarded(
        render: Callable[[Request, Viewer], Response], *, admin: bool = True
    ) -> Callable[[Request], Any]:
        async def handler(request: Request) -> Response:
            def run() -> Response:
                org = authenticate(request)
                if org is None:
                    target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
                    return RedirectResponse(_link("/login", next=target), status_code=303)
                viewer = viewer_of(hub, org)
                if admin and not viewer.admin:
                    return page(
                        request,
                        "forbidden.html",
                        status=403,
                        viewer=viewer,
                        title="Not for your organisation",
                    )
                return render(request, viewer)

            return await run_in_threadpool(run)

        return handler

    # -- login --------------------------------------------------------------------------------

    @router.get("/login", response_class=HTMLResponse)
    def login_form(request: Request) -> Response:
        return page(request, "login.html", title="Log in", next=_safe_next(request.query_params.get("next")))

    @router.post("/login")
    async def login(request: Request) -> Response:
        if not _same_origin(request):
            return _cross_site(request)
        form = parse_qs((await request.body()).decode("utf-8", "replace"))
        name = (form.get("org") or [""])[0].strip()
        token = (form.get("token") or [""])[0].strip()
        nxt = _safe_next((form.get("next") or ["/"])[0])
        org = await run_in_threadpool(hub.authenticate, token, name) if token and name else None
        if org is None:
            await run_in_threadpool(hub.audit_denied, name or "(anonymous)", "auth-failed", "", "/login")
            return page(
                request,
                "login.html",
                status=401,
                title="Log in",
                next=nxt,
                error="That organisation name and token do not match.",
                org=name,
            )
        sid = await run_in_threadpool(_orgs.create_session, hub, org)
        response = RedirectResponse(nxt, status_code=303)
        response.set_cookie(
            COOKIE,
            sid,
            max_age=_orgs.session_seconds(),
            httponly=True,
            samesite="strict",
            secure=request.url.scheme == "https",
            path="/",
        )
        return response

    @router.post("/logout")
    def logout(request: Request) -> Response:
        if not _same_origin(request):
            return _cross_site(request)
        _orgs.end_session(hub, request.cookies.get(COOKIE, ""))
        response = RedirectResponse("/login", status_code=303)
        response.delete_cookie(COOKIE, path="/")
        return response

    @router.get("/favicon.ico")
    def favicon() -> Response:
        return static("favicon.svg")

    @router.get("/static/{name}")
    def static(name: str) -> Response:
        path = _package_dir("static") / name
        if "/" in name or name.startswith(".") or path.suffix not in _STATIC_TYPES or not path.is_file():
            return Response("not found", status_code=404, media_type="text/plain")
        return Response(
            path.read_bytes(),
            media_type=_STATIC_TYPES[path.suffix],
            headers={"Cache-Control": "max-age=300", "X-Content-Type-Options": "nosniff"},
        )

    # -- pages ----------------------------------------------------------------------------------

    def overview(request: Request, viewer: Viewer) -> Response:
        if not viewer.admin:  # a writer's or reader's landing page is its sharing page
            return RedirectResponse("/sharing", status_code=303)
        posture = store.posture()
        trend = store.trend()
        counts = posture.by_decision()
        return page(
            request,
            "overview.html",
            title="Posture",
            viewer=viewer,
            posture=posture,
            counts=counts,
            total=sum(counts.values()),
            oldest_act=posture.oldest("act"),
            oldest_open=_oldest_any(posture),
            asset_chart=_decision_bars(posture.by_asset(), "asset", "Open findings by asset"),
            sector_chart=_decision_bars(posture.by_sector(), "sector", "Open findings by sector"),
            trend_chart=_trend_chart(trend),
            trend=trend,
            by_asset=posture.by_asset(),
            by_sector=posture.by_sector(),
        )

    def speed(request: Request, viewer: Viewer) -> Response:
        from mamori.watch.metrics import SectorLatency, detection_figures, watch_figures

        figures = store.speed()
        detection = [
            (sector, len(v), SectorLatency.quantile(v, 0.5), SectorLatency.quantile(v, 0.95))
            for sector, v in sorted(detection_figures(store.path).items())
        ]
        return page(
            request,
            "speed.html",
            title="Speed",
            viewer=viewer,
            figures=[(f, _speed_chart(f)) for f in figures],
            watch=watch_figures(),
            detection=detection,
        )

    def speed_samples(request: Request, viewer: Viewer) -> Response:
        key = request.query_params.get("figure", "")
        group = request.query_params.get("group")
        figure = next((f for f in store.speed() if f.key == key), None)
        if figure is None:
            return page(request, "missing.html", status=404, viewer=viewer, title="No such figure", what=key)
        samples = [s for s in figure.samples if group is None or s.group == group]
        return page(
            request,
            "samples.html",
            title=figure.title,
            viewer=viewer,
            figure=figure,
            group=group,
            samples=sorted(samples, key=lambda s: -s.seconds),
        )

    def attacks(request: Request, viewer: Viewer) -> Response:
        alerts = store.alerts(limit=ALERTS_SHOWN)
        counts = store.alert_counts()
        bucket = request.query_params.get("bucket")
        escalated_only = request.query_params.get("escalated") == "1"
        buckets = _buckets(alerts)
        shown = [
            a
            for a in alerts
            if (bucket is None or _bucket_of(a, buckets.unit) == bucket)
            and (not escalated_only or a.escalated)
        ]
        linked = {fid: store.finding(fid) for a in shown if a.escalated for fid in a.exploits}
        return page(
            request,
            "attacks.html",
            title="Attacks",
            viewer=viewer,
            alerts=shown,
            total=counts[0],
            escalated=counts[1],
            listed=len(alerts),
            bucket=bucket,
            escalated_only=escalated_only,
            chart=_alert_chart(buckets),
            linked=linked,
        )

    def alert_page(request: Request, viewer: Viewer) -> Response:
        ref = request.path_params["ref"]
        alert = store.alert(ref)
        if alert is None:
            return page(request, "missing.html", status=404, viewer=viewer, title="No such alert", what=ref)
        linked = {fid: store.finding(fid) for fid in alert.exploits}
        return page(request, "alert.html", title=alert.title, viewer=viewer, alert=alert, linked=linked)

    def sharing(request: Request, viewer: Viewer) -> Response:
        stats = sharing_stats(hub, viewer)
        return page(
            request,
            "sharing.html",
            title="Sharing",
            viewer=viewer,
            stats=stats,
            received_chart=_tlp_chart(stats.sectors, stats.received, "received"),
            sent_chart=_tlp_chart(stats.sectors, stats.sent, "sent"),
        )

    def sharing_objects(request: Request, viewer: Viewer) -> Response:
        q = request.query_params
        direction = "sent" if q.get("direction") == "sent" else "received"
        objs = shared_objects(hub, viewer, sector=q.get("sector"), tlp=q.get("tlp"), sent=direction == "sent")
        return page(
            request,
            "objects.html",
            title=f"Objects {direction}",
            viewer=viewer,
            objects=objs,
            direction=direction,
            sector=q.get("sector"),
            tlp=q.get("tlp"),
            total=sum(o.times_sent for o in objs) if direction == "sent" else len(objs),
        )

    def findings(request: Request, viewer: Viewer) -> Response:
        q = request.query_params
        upto = q.get("upto")
        posture = store.posture(upto_scan=int(upto) if upto and upto.isdigit() else None)
        selected = posture.select(decision=q.get("decision"), asset=q.get("asset"), sector=q.get("sector"))
        return page(
            request,
            "findings.html",
            title="Open findings",
            viewer=viewer,
            findings=selected,
            filters={k: q.get(k) for k in ("decision", "asset", "sector", "upto") if q.get(k)},
        )

    def finding(request: Request, viewer: Viewer) -> Response:
        fid = request.path_params["finding_id"]
        detail = store.finding(fid)
        if detail is None:
            return page(request, "missing.html", status=404, viewer=viewer, title="No such finding", what=fid)
        return page(
            request, "finding.html", title=str(detail.finding.get("title", fid)), viewer=viewer, d=detail
        )

    def api(request: Request, viewer: Viewer) -> Response:
        body: dict[str, Any] = {"organisation": viewer.org.name, "admin": viewer.admin}
        if viewer.admin:
            body.update(dashboard_data(store))
        stats = sharing_stats(hub, viewer)
        body["sharing"] = {
            "received": _tlp_table(stats.received),
            "sent": _tlp_table(stats.sent),
            "received_total": stats.total("received"),
            "sent_total": stats.total("sent"),
        }
        return JSONResponse(body, headers={"Cache-Control": "no-store"})

    router.add_api_route("/", guarded(overview, admin=False), methods=["GET"], include_in_schema=False)
    router.add_api_route("/speed", guarded(speed), methods=["GET"], include_in_schema=False)
    router.add_api_route("/speed/samples", guarded(speed_samples), methods=["GET"], include_in_schema=False)
    router.add_api_route("/attacks", guarded(attacks), methods=["GET"], include_in_schema=False)
    router.add_api_route("/attacks/{ref}", guarded(alert_page), methods=["GET"], include_in_schema=False)
    router.add_api_route("/sharing", guarded(sharing, admin=False), methods=["GET"], include_in_schema=False)
    router.add_api_route(
        "/sharing/objects", guarded(sharing_objects, admin=False), methods=["GET"], include_in_schema=False
    )
    router.add_api_route("/findings", guarded(findings), methods=["GET"], include_in_schema=False)
    router.add_api_route("/findings/{finding_id}", guarded(finding), methods=["GET"], include_in_schema=False)

    async def api_handler(request: Request) -> Response:
        org = await run_in_threadpool(authenticate, request)
        if org is None:
            return JSONResponse(
                {"title": "Unauthorized", "http_status": "401"},
                status_code=401,
                headers={"WWW-Authenticate": 'Bearer realm="mamori", Basic realm="mamori"'},
            )
        viewer = await run_in_threadpool(viewer_of, hub, org)
        return await run_in_threadpool(api, request, viewer)

    router.add_api_route("/api/dashboard", api_handler, methods=["GET"], include_in_schema=False)

    async def metrics_handler(request: Request) -> Response:
        """The watch's latencies per sector for Prometheus (:mod:`mamori.watch.metrics`): an
        admin organisation's token, as for the speed page (``authorization`` in the scrape config)."""
        from mamori.watch.metrics import CONTENT_TYPE, metrics_text

        org = await run_in_threadpool(authenticate, request)
        if org is None:
            return Response(
                "send an admin organisation's API token: Authorization: Bearer TOKEN\n",
                status_code=401,
                media_type="text/plain",
                headers={"WWW-Authenticate": 'Bearer realm="mamori"'},
            )
        viewer = await run_in_threadpool(viewer_of, hub, org)
        if not viewer.admin:
            return Response(
                "only an admin organisation reads /metrics\n", status_code=403, media_type="text/plain"
            )
        body = await run_in_threadpool(metrics_text, None, store.path)
        return Response(body, media_type=CONTENT_TYPE, headers={"Cache-Control": "no-store"})

    router.add_api_route("/metrics", metrics_handler, methods=["GET"], include_in_schema=False)
    return router


def dashboard_data(store: ResultsStore) -> dict[str, Any]:
    """The dashboard's figures as JSON (what ``/api/dashboard`` returns to an admin)."""
    posture = store.posture()
    oldest = posture.oldest("act")
    figures = store.speed()
    total, escalated = store.alert_counts()
    return {
        "posture": {
            "open": len(posture.findings),
            "by_decision": posture.by_decision(),
            "by_asset": posture.by_asset(),
            "by_sector": posture.by_sector(),
            "oldest_act": None
            if oldest is None
            else {"id": oldest.id, "first_seen": oldest.first_seen, "age_seconds": oldest.age_seconds},
        },
        "trend": [
            {
                "scan": p.scan_id,
                "at": p.at,
                "target": p.target,
                "open": p.total,
                "by_decision": dict(p.counts),
            }
            for p in store.trend()
        ],
        "speed": {
            f.key: {
                "title": f.title,
                "samples": len(f.samples),
                "mean_seconds": f.mean,
                "p90_seconds": f.p90,
                "series": [
                    {"group": g, "at": at, "mean_seconds": m, "p90_seconds": p, "samples": n}
                    for g, at, m, p, n in f.series()
                ],
            }
            for f in figures
        },
        "alerts": {
            "total": total,
            "escalated": escalated,
        },
    }


def _headers() -> dict[str, str]:
    return {
        "Content-Security-Policy": _CSP,
        "X-Content-Type-Options": "nosniff",
        # same-origin: the hub's own form posts carry their Origin (no-referrer would make it
        # "null", indistinguishable from a cross-site post); other sites get no referrer at all
        "Referrer-Policy": "same-origin",
        "Cache-Control": "no-store",
    }


def _same_origin(request: Request) -> bool:
    """Whether a state-changing request comes from this site: its ``Origin`` (or, without one,
    its ``Referer``) names this host. A request with neither is not from a browser page (a
    browser sends ``Origin`` with every cross-site POST). A browser's own ``Sec-Fetch-Site``
    decides first when it is there."""
    fetch_site = request.headers.get("sec-fetch-site", "").strip().lower()
    if fetch_site:
        return fetch_site in ("same-origin", "none")
    claimed = request.headers.get("origin") or request.headers.get("referer")
    if not claimed:
        return True
    if claimed == "null":
        return False
    parts = urlsplit(claimed)
    host = request.headers.get("host", "")
    return bool(parts.scheme in ("http", "https") and parts.netloc and parts.netloc.lower() == host.lower())


def _cross_site(request: Request) -> Response:
    return Response(
        "refused: this form was sent from another site (Origin does not match this hub)",
        status_code=403,
        media_type="text/plain; charset=utf-8",
        headers=_headers(),
    )


def _safe_next(value: str | None) -> str:
    """Only same-site paths: never let the login redirect elsewhere."""
    if not value or not value.startswith("/") or value.startswith("//") or "\\" in value:
        return "/"
    return value


def _oldest_any(posture: Posture) -> Any:
    for decision in DECISIONS:
        found = posture.oldest(decision)
        if found is not None:
            return found
    return None


def _decision_segments(counts: dict[str, int], **params: str) -> tuple[charts.Segment, ...]:
    return tuple(
        charts.Segment(
            counts.get(d, 0),
            "seg-" + d.replace("*", "-star"),
            _link("/findings", decision=d, **params),
            f"{counts.get(d, 0)} {DECISION_NAMES[d]}",
        )
        for d in DECISIONS
    )


def _decision_bars(groups: dict[str, dict[str, int]], kind: str, label: str) -> Any:
    bars = [charts.Bar(name, _decision_segments(counts, **{kind: name})) for name, counts in groups.items()]
    words = "; ".join(
        f"{b.label}: " + ", ".join(f"{groups[b.label][d]} {DECISION_NAMES[d]}" for d in DECISIONS)
        for b in bars
    )
    return charts.hbars(bars, label=f"{label}. {words or 'none'}")


def _trend_chart(trend: Any) -> Any:
    points = list(trend)[-40:]
    bars = [
        charts.Bar(
            _when(p.at)[5:16],
            tuple(
                charts.Segment(
                    p.counts.get(d, 0),
                    "seg-" + d.replace("*", "-star"),
                    _link("/findings", decision=d, upto=p.scan_id),
                    f"after scan {p.scan_id} ({_when(p.at)}): {p.counts.get(d, 0)} {DECISION_NAMES[d]}",
                )
                for d in reversed(DECISIONS)
            ),
        )
        for p in points
    ]
    words = "; ".join(f"scan {p.scan_id}: {p.total} open" for p in points)
    return charts.vbars(
        bars, label=f"Open findings after each scan. {words or 'no scans yet'}", y_label="open"
    )


def _speed_chart(figure: SpeedFigure) -> Any:
    series = figure.series()
    mean_pts = [
        charts.Point(
            _when(at)[5:16],
            m,
            _link("/speed/samples", figure=figure.key, group=g),
            f"{g}: mean {charts.duration(m)} over {n}",
        )
        for g, at, m, _p, n in series
    ]
    p90_pts = [
        charts.Point(
            _when(at)[5:16],
            p,
            _link("/speed/samples", figure=figure.key, group=g),
            f"{g}: 90th percentile {charts.duration(p)} over {n}",
        )
        for g, at, _m, p, n in series
    ]
    words = "; ".join(
        f"{g}: mean {charts.duration(m)}, 90th percentile {charts.duration(p)}" for g, _at, m, p, _n in series
    )
    return charts.lines(
        [("mean", "line-mean", mean_pts), ("90th percentile", "line-p90", p90_pts)],
        label=f"{figure.title} over time. {words or 'no samples yet'}",
        fmt=charts.duration,
        height=160,
    )


class _Buckets:
    def __init__(self, unit: str, counts: dict[str, tuple[int, int]]) -> None:
        self.unit = unit
        self.counts = counts


def _alert_time(a: AlertRecord) -> datetime | None:
    for text in (a.timestamp, a.recorded):
        try:
            dt = datetime.fromisoformat(text.replace("Z", "+00:00"))
        except ValueError:
            continue
        return dt if dt.tzinfo else dt.replace(tzinfo=UTC)
    return None


def _bucket_of(a: AlertRecord, unit: str) -> str:
    dt = _alert_time(a)
    if dt is None:
        return "unknown"
    dt = dt.astimezone(UTC)
    return dt.strftime("%Y-%m-%d") if unit == "day" else dt.strftime("%Y-%m-%d %H:00")


def _buckets(alerts: tuple[AlertRecord, ...]) -> _Buckets:
    times = [t for t in (_alert_time(a) for a in alerts) if t is not None]
    span = (max(times) - min(times)).total_seconds() if times else 0.0
    unit = "day" if span > 2 * 86400 else "hour"
    counts: dict[str, tuple[int, int]] = {}
    for a in alerts:
        key = _bucket_of(a, unit)
        esc, other = counts.get(key, (0, 0))
        counts[key] = (esc + 1, other) if a.escalated else (esc, other + 1)
    return _Buckets(unit, dict(sorted(counts.items())))


def _alert_chart(buckets: _Buckets) -> Any:
    bars = [
        charts.Bar(
            key[5:] if buckets.unit == "hour" else key,
            (
                charts.Segment(
                    esc,
                    "seg-escalated",
                    _link("/attacks", bucket=key, escalated=1),
                    f"{key}: {esc} escalated",
                ),
                charts.Segment(
                    other, "seg-alert", _link("/attacks", bucket=key), f"{key}: {count(other, 'other alert')}"
                ),
            ),
        )
        for key, (esc, other) in list(buckets.counts.items())[-40:]
    ]
    words = "; ".join(f"{k}: {e} escalated, {o} other" for k, (e, o) in buckets.counts.items())
    return charts.vbars(
        bars,
        label=f"Alerts per {buckets.unit}. {words or 'no alerts yet'}",
        y_label=f"alerts per {buckets.unit}",
    )


def _tlp_chart(sectors: tuple[str, ...], counts: dict[tuple[str, str], int], direction: str) -> Any:
    bars = [
        charts.Bar(
            sector,
            tuple(
                charts.Segment(
                    counts.get((sector, tlp), 0),
                    "tlp-" + tlp.replace("+", "-"),
                    _link("/sharing/objects", direction=direction, sector=sector, tlp=tlp),
                    f"{sector}: {counts.get((sector, tlp), 0)} TLP:{tlp.upper()} {direction}",
                )
                for tlp in TLP_LEVELS
            ),
        )
        for sector in sectors
        if any(counts.get((sector, t), 0) for t in TLP_LEVELS)
    ]
    words = "; ".join(
        f"{b.label}: " + ", ".join(f"{counts.get((b.label, t), 0)} TLP:{t.upper()}" for t in TLP_LEVELS)
        for b in bars
    )
    return charts.hbars(
        bars, label=f"Objects {direction} by sector and TLP. {words or 'none yet'}", dark=True
    )


def _tlp_table(counts: dict[tuple[str, str], int]) -> dict[str, dict[str, int]]:
    out: dict[str, dict[str, int]] = {}
    for (sector, tlp), n in sorted(counts.items()):
        out.setdefault(sector, dict.fromkeys(TLP_LEVELS, 0))[tlp] = n
    return out
