"""Chart axis labels never overlap (issue 12), measured where it matters: in a real browser
(headless Chromium) with the dashboard's own stylesheet, on charts far denser than the demo's."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from mamori.dashboard._charts import Bar, Point, Segment, hbars, lines, vbars

CSS = Path(__file__).resolve().parents[2] / "src" / "mamori" / "dashboard" / "static" / "dashboard.css"

_OVERLAPS = """() => {
  const out = [];
  for (const svg of document.querySelectorAll('svg')) {
    const boxes = [...svg.querySelectorAll('text.axis-label')].map(t => t.getBoundingClientRect());
    for (let i = 0; i < boxes.length; i++)
      for (let j = i + 1; j < boxes.length; j++) {
        const a = boxes[i], b = boxes[j];
        if (a.left < b.right && b.left < a.right && a.top < b.bottom && b.top < a.bottom)
          out.push([svg.getAttribute('aria-label'), svg.querySelectorAll('text.axis-label')[i].textContent, svg.querySelectorAll('text.axis-label')[j].textContent]);
      }
  }
  return out;
}"""


def _charts(n: int) -> str:
    start = datetime(2024, 1, 1, tzinfo=UTC)
    stamps = [(start + timedelta(days=i)).strftime("%Y-%m-%d %H:%M") for i in range(n)]
    bars = [Bar(s, (Segment(float(i % 7 + 1), "seg-act", "#", "x"),)) for i, s in enumerate(stamps)]
    points = [Point(s, float(i), "#", "x") for i, s in enumerate(stamps)]
    names = [
        Bar(f"a-rather-long-asset-name-number-{i}", (Segment(1.0, "seg-act", "#", "x"),)) for i in range(n)
    ]
    return "".join(
        (
            vbars(bars, label=f"vbars {n}", y_label="alerts"),
            lines([("mean", "line-mean", points)], label=f"lines {n}", fmt=None),
            hbars(names, label=f"hbars {n}"),
        )
    )


@pytest.mark.parametrize("n", [2, 9, 30, 120])
@pytest.mark.parametrize("width", [1366, 800, 420])
def test_axis_labels_do_not_overlap_in_the_browser(browser: Any, n: int, width: int) -> None:
    if not CSS.exists():
        pytest.skip("the dashboard stylesheet is missing")
    page = browser.new_page()
    try:
        page.set_viewport_size({"width": width, "height": 900})
        page.set_content(
            f"<!doctype html><html><head><style>{CSS.read_text(encoding='utf-8')}</style></head>"
            f"<body><main>{_charts(n)}</main></body></html>"
        )
        assert page.evaluate(_OVERLAPS) == []
        assert page.locator("text.axis-label").count() > 0
    finally:
        page.close()
