"""The dashboard in a real headless browser: Debian's chromium driven by Playwright.

``mamori serve`` runs (uvicorn, its own process) on a free loopback port over the data
``mamori demo`` left in a temporary MAMORI_HOME. The test logs in through the form with the
token the demo printed, opens every page, fails on any console error or page error, checks the
numbers on the pages against ``/api/dashboard``, drills down from a number to the findings
behind it and on to a finding with its trace, reasons and fix diff, and saves 1366x768
screenshots to ``docs/screenshots/`` for the README. Skipped, saying why, without chromium or
Playwright (CI: ``apt-get install -y chromium`` and ``pip install playwright``; never
``playwright install``).
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path
from typing import Any

import pytest

SCREENSHOTS = (
    Path(__file__).resolve().parents[2] / "docs" / "screenshots"
    if os.environ.get("MAMORI_UPDATE_SCREENSHOTS") == "1"
    else Path(tempfile.mkdtemp(prefix="mamori-screenshots-"))
)
"""The README's pictures are refreshed with MAMORI_UPDATE_SCREENSHOTS=1; otherwise the test still
takes every screenshot (a page that cannot render fails) into a temporary folder."""
pytestmark = pytest.mark.slow


def _metric(page: Any, name: str) -> str:
    return str(
        page.locator(f'[data-metric="{name}"] .num, span.num[data-metric="{name}"]').first.inner_text()
    ).strip()


def test_dashboard_in_a_real_browser(demo: Any, server: str, browser: Any) -> None:
    from mamori.dashboard._charts import duration

    problems: list[str] = []
    browser.clear_cookies()  # the browser is the session's: start logged out
    page = browser.new_page()
    page.set_default_timeout(15_000)
    page.on(
        "console", lambda m: problems.append(f"console {m.type}: {m.text}") if m.type == "error" else None
    )
    page.on("pageerror", lambda e: problems.append(f"page error: {e}"))
    page.on("requestfailed", lambda r: problems.append(f"request failed: {r.url}"))

    # not logged in: every page sends us to the login form; a wrong token is refused
    page.goto(server + "/speed")
    assert page.url.startswith(server + "/login")
    page.fill("#org", "demo")
    page.fill("#token", "not-the-token")
    page.click("button[type=submit]")
    assert page.locator("#login-error").is_visible()
    problems.clear()  # the 401 of a refused login is logged by chromium as a failed resource

    # log in with the token the demo printed; we land where we wanted to go
    page.fill("#org", "demo")
    page.fill("#token", demo.token)
    page.click("button[type=submit]")
    page.wait_for_url(server + "/speed")

    api = page.request.get(server + "/api/dashboard").json()
    assert api["admin"] is True

    # posture: every tile is the API's number
    page.goto(server + "/")
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SCREENSHOTS / "dashboard-posture.png"))
    posture = api["posture"]
    assert _metric(page, "open-total") == str(posture["open"])
    for decision in ("act", "attend", "track*", "track"):
        assert _metric(page, f"open-{decision}") == str(posture["by_decision"][decision])
    assert page.locator("svg[role=img][aria-label]").count() >= 3

    # drill down: the Track* number lists exactly that many findings, and one opens fully
    page.click('[data-metric="open-track*"]')
    page.wait_for_url("**/findings?decision=track*")
    rows = page.locator("table.list tbody tr")
    assert rows.count() == posture["by_decision"]["track*"] > 0
    page.goto(server + "/")
    page.click('[data-metric="open-total"]')
    assert page.locator("table.list tbody tr").count() == posture["open"]
    page.locator("a.finding-link").first.click()
    page.wait_for_url("**/findings/*")
    assert page.get_by_role("heading", name="Why this priority").is_visible()
    assert page.locator("ul.reasons li").count() >= 1
    assert page.get_by_role("heading", name="Trace").is_visible()

    # a fixed finding shows its diff: follow the speed figure to a fixed one
    page.goto(server + "/speed")
    page.screenshot(path=str(SCREENSHOTS / "dashboard-speed.png"))
    for key, figure in api["speed"].items():
        assert _metric(page, f"{key}-samples") == str(figure["samples"])
        assert _metric(page, f"{key}-mean") == duration(figure["mean_seconds"])
        assert _metric(page, f"{key}-p90") == duration(figure["p90_seconds"])
    page.click('[data-metric="detected-to-fixed-samples"]')
    assert page.locator("table.list tbody tr").count() == api["speed"]["detected-to-fixed"]["samples"]
    page.locator("table.list tbody a").filter(has_text="PY-").first.click()
    page.wait_for_url("**/findings/*")
    assert page.locator("pre.diff .add").count() >= 1
    assert page.locator("ol.trace li").count() >= 1  # a code finding: its taint trace
    assert page.locator("ul.reasons li").count() >= 1
    assert page.locator(".fix .badge").first.inner_text() == "verified"
    page.locator("#why-h").scroll_into_view_if_needed()
    page.evaluate("window.scrollTo(0, document.querySelector('#why-h').offsetTop - 8)")
    page.screenshot(path=str(SCREENSHOTS / "dashboard-finding.png"))

    # attacks: escalated on top, linked to the finding and its fix
    page.goto(server + "/attacks")
    page.screenshot(path=str(SCREENSHOTS / "dashboard-attacks.png"))
    assert _metric(page, "alerts-total") == str(api["alerts"]["total"])
    assert _metric(page, "alerts-escalated") == str(api["alerts"]["escalated"])
    rows = page.locator("table.list tbody tr")
    assert rows.count() == api["alerts"]["total"]
    first = rows.first
    if api["alerts"]["escalated"]:
        assert "escalated" in (first.get_attribute("class") or "")
        first.locator('a[href^="/findings/"]').first.click()
        page.wait_for_url("**/findings/*")
        assert page.get_by_role("heading", name="Attacks on it").is_visible()
        assert page.locator('a[href^="/attacks/"]').count() >= 1
    else:
        first.locator('a[href^="/attacks/"]').first.click()
        page.wait_for_url("**/attacks/*")
        assert page.get_by_role("heading", name="Targets").is_visible()

    # sharing: a peer reads the cross-sector collection over TAXII, so the hub has sent something;
    # totals and per-sector TLP numbers are the API's, and the drill-down lists the objects
    taxii = page.request.get(
        server + "/taxii2/hub/collections/cross-sector/objects/",
        headers={"Accept": "application/taxii+json;version=2.1", "Authorization": f"Bearer {demo.token}"},
    )
    assert taxii.ok
    read = len(taxii.json().get("objects", []))
    for _ in range(100):  # the hub writes its audit log in batches: wait for the read to land
        api = page.request.get(server + "/api/dashboard").json()
        if api["sharing"]["sent_total"]:
            break
        page.wait_for_timeout(100)
    assert api["sharing"]["sent_total"] == read > 0
    page.goto(server + "/sharing")
    page.screenshot(path=str(SCREENSHOTS / "dashboard-sharing.png"))
    sharing = api["sharing"]
    assert _metric(page, "received-total") == str(sharing["received_total"])
    assert _metric(page, "sent-total") == str(sharing["sent_total"])
    for sector, levels in sharing["received"].items():
        for tlp, n in levels.items():
            if n:
                assert page.locator(f'[data-metric="received-{sector}-{tlp}"]').inner_text() == str(n)
    sector, levels = next(iter(sharing["received"].items()))
    tlp = next(t for t, n in levels.items() if n)
    page.click(f'[data-metric="received-{sector}-{tlp}"]')
    assert page.locator("table.list tbody tr").count() == levels[tlp]

    # keyboard: Tab from the top reaches the skip link first, and it moves focus to the content
    page.goto(server + "/")
    page.keyboard.press("Tab")
    assert page.evaluate("document.activeElement.className") == "skip"
    page.keyboard.press("Enter")
    assert page.evaluate("location.hash") == "#main"

    assert problems == []
