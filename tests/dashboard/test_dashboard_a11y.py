"""The dashboard's accessibility, measured in a real browser rather than chosen by hand.

On every page (login, Posture, Speed, Attacks, Sharing, Findings, a finding, an alert) the page
itself computes, for every visible piece of text, its colour and its effective background
(ancestors walked up and composited until an opaque background; for SVG text, the shapes drawn
beneath it), and the WCAG 2.1 contrast ratio, which must reach AA: 4.5:1, or 3:1 for large text
(>= 24px, or >= 18.66px bold). Then Tab is pressed through the page: every link, button and input
must be reached, and each must look different when focused (outline, box-shadow, or for a chart
link the stroke of its shape). Uses the session's ``mamori serve`` and chromium from conftest.
"""

from __future__ import annotations

from typing import Any

import pytest

pytestmark = pytest.mark.slow

# Computed in the page. Returns one entry per text element that fails AA (empty when all pass),
# and how many text elements were measured, so an empty page cannot pass by measuring nothing.
CONTRAST_JS = r"""
() => {
  const parse = (c) => {
    const m = c && c.match(/rgba?\(([^)]+)\)/);
    if (!m) return null;
    const p = m[1].split(/[\s,\/]+/).filter(Boolean).map(Number);
    return [p[0], p[1], p[2], p.length > 3 ? p[3] : 1];
  };
  const over = (top, under) => {  // composite a translucent colour over an opaque one
    const a = top[3];
    return [0, 1, 2].map((i) => top[i] * a + under[i] * (1 - a)).concat([1]);
  };
  const lum = (c) => {
    const ch = c.slice(0, 3).map((v) => {
      v /= 255;
      return v <= 0.03928 ? v / 12.92 : Math.pow((v + 0.055) / 1.055, 2.4);
    });
    return 0.2126 * ch[0] + 0.7152 * ch[1] + 0.0722 * ch[2];
  };
  const ratio = (a, b) => {
    const [l1, l2] = [lum(a), lum(b)].sort((x, y) => y - x);
    return (l1 + 0.05) / (l2 + 0.05);
  };
  const SHAPES = new Set(["rect", "circle", "path", "polygon", "ellipse"]);
  // layers of colour from `el` outwards, stopping at the first opaque one
  const layersFrom = (el, layers) => {
    for (let e = el; e && e.nodeType === 1; e = e.parentElement) {
      const cs = getComputedStyle(e);
      const bg = parse(cs.backgroundColor);
      if (bg && bg[3] > 0) { layers.push(bg); if (bg[3] >= 1) return layers; }
    }
    layers.push([255, 255, 255, 1]);  // the canvas
    return layers;
  };
  const background = (el) => {
    const layers = [];
    if (el instanceof SVGElement) {
      // SVG text has no box of its own: the shapes under its centre, else the svg's HTML parents
      el.scrollIntoView({block: "center", inline: "center"});  // elementsFromPoint sees the viewport only
      const r = el.getBoundingClientRect();
      const x = r.left + r.width / 2, y = r.top + r.height / 2;
      const stack = document.elementsFromPoint(x, y);
      for (const under of stack) {
        if (under === el || el.contains(under)) continue;
        if (under instanceof SVGElement && SHAPES.has(under.tagName)) {
          const fill = parse(getComputedStyle(under).fill);
          if (fill && fill[3] > 0) { layers.push(fill); if (fill[3] >= 1) break; }
          continue;
        }
        if (under instanceof SVGElement) continue;
        layersFrom(under, layers);
        break;
      }
      if (!layers.length || layers[layers.length - 1][3] < 1) layersFrom(el.ownerSVGElement, layers);
    } else {
      layersFrom(el, layers);
    }
    let c = layers[layers.length - 1];
    for (let i = layers.length - 2; i >= 0; i--) c = over(layers[i], c);
    return c;
  };
  const visible = (el) => {
    if (el.checkVisibility && !el.checkVisibility({contentVisibilityAuto: true, opacityProperty: true,
                                                   visibilityProperty: true})) return false;
    const r = el.getBoundingClientRect();
    if (r.width <= 1 || r.height <= 1) return false;            // .sr-only and the like
    if (r.right <= 0 || r.bottom <= 0) return false;            // parked off-screen (skip link)
    for (let e = el; e && e.nodeType === 1; e = e.parentElement) {
      const cs = getComputedStyle(e);
      if (cs.display === "none" || cs.visibility === "hidden" || Number(cs.opacity) === 0) return false;
    }
    return el.getClientRects().length > 0;
  };
  const failures = [];
  let measured = 0;
  for (const el of document.body.querySelectorAll("*")) {
    if (["SCRIPT", "STYLE", "title", "TITLE", "NOSCRIPT", "OPTION"].includes(el.tagName)) continue;
    const own = Array.from(el.childNodes).some((n) => n.nodeType === 3 && n.textContent.trim());
    const isInput = el.tagName === "INPUT" && el.type !== "hidden" && el.value;
    if (!own && !isInput) continue;
    if (!visible(el)) continue;
    const cs = getComputedStyle(el);
    const fg0 = parse(el instanceof SVGElement ? cs.fill : cs.color);
    if (!fg0) continue;
    const bg = background(el);
    const fg = fg0[3] < 1 ? over(fg0, bg) : fg0;
    const size = parseFloat(cs.fontSize);
    const bold = Number(cs.fontWeight) >= 700 || cs.fontWeight === "bold";
    const large = size >= 24 || (size >= 18.66 && bold);
    const need = large ? 3.0 : 4.5;
    const got = ratio(fg, bg);
    measured += 1;
    if (got < need - 1e-9) {
      const text = (isInput ? el.value : el.textContent).trim().replace(/\s+/g, " ").slice(0, 40);
      failures.push(
        `${el.tagName.toLowerCase()}.${String(el.getAttribute("class") || "")} "${text}": ` +
        `${got.toFixed(2)} < ${need} (fg rgb(${fg.slice(0, 3).map(Math.round)}) ` +
        `on rgb(${bg.slice(0, 3).map(Math.round)}), ${size}px)`
      );
    }
  }
  return {measured, failures};
}
"""

# Every element a keyboard user must reach: links, buttons, inputs (and summaries of <details>).
INTERACTIVE_JS = r"""
() => {
  const sel = 'a[href], button, input:not([type=hidden]), select, textarea, summary';
  const all = Array.from(document.querySelectorAll(sel)).filter((el) => {
    if (el.disabled || el.getAttribute("tabindex") === "-1") return false;
    if (el.closest("[inert], [hidden]")) return false;
    if (el.checkVisibility && !el.checkVisibility({contentVisibilityAuto: true})) return false;  // closed <details>
    for (let e = el; e && e.nodeType === 1; e = e.parentElement) {
      const cs = getComputedStyle(e);
      if (cs.display === "none" || cs.visibility === "hidden") return false;
    }
    // a summary's or chart link's box may be its shapes'; a parked skip link still has a box
    return el.getClientRects().length > 0;
  });
  const look = (el) => {
    const cs = getComputedStyle(el);
    const parts = [cs.outlineStyle, cs.outlineWidth, cs.outlineColor, cs.boxShadow];
    for (const s of el.querySelectorAll("rect, circle, path")) {
      const ss = getComputedStyle(s);
      parts.push(ss.stroke, ss.strokeWidth);
    }
    return parts.join("|");
  };
  window.__mamoriA11y = {look, unfocused: new Map()};
  if (document.activeElement && document.activeElement !== document.body) document.activeElement.blur();
  all.forEach((el, i) => {
    el.setAttribute("data-a11y-i", String(i));
    window.__mamoriA11y.unfocused.set(el, look(el));
  });
  return all.map((el) => `${el.tagName.toLowerCase()} "${(el.textContent || el.getAttribute("aria-label") || el.id || "").trim().slice(0, 30)}"`);
}
"""

FOCUSED_JS = r"""
() => {
  const el = document.activeElement;
  if (!el || el === document.body) return null;
  const i = el.getAttribute("data-a11y-i");
  const st = window.__mamoriA11y;
  const before = st.unfocused.get(el);
  const now = st.look(el);
  const cs = getComputedStyle(el);
  const outlined = cs.outlineStyle !== "none" && parseFloat(cs.outlineWidth) > 0;
  return {i: i === null ? -1 : Number(i), changed: before !== undefined && before !== now,
          outlined, shadow: cs.boxShadow !== "none"};
}
"""


def _check_page(page: Any, label: str) -> list[str]:
    """The AA contrast failures and keyboard/focus failures of the page open in ``page``."""
    problems: list[str] = []
    contrast = page.evaluate(CONTRAST_JS)
    if contrast["measured"] < 3:
        problems.append(f"{label}: only {contrast['measured']} text elements measured")
    problems += [f"{label}: contrast {f}" for f in contrast["failures"]]

    names: list[str] = page.evaluate(INTERACTIVE_JS)
    reached: set[int] = set()
    seen_indicator: set[int] = set()
    for _ in range(len(names) + 3):
        page.keyboard.press("Tab")
        state = page.evaluate(FOCUSED_JS)
        if state is None:
            break  # focus left the page: the tab order is complete
        i = state["i"]
        if i < 0 or i in reached:
            if i in reached:
                break
            continue
        reached.add(i)
        if state["changed"]:
            seen_indicator.add(i)
    for i, name in enumerate(names):
        if i not in reached:
            problems.append(f"{label}: {name} is not reachable with Tab")
        elif i not in seen_indicator:
            problems.append(f"{label}: {name} shows no focus indicator")
    if not names:
        problems.append(f"{label}: no interactive element found")
    return problems


def test_every_page_meets_wcag_aa_contrast_and_keyboard_focus(demo: Any, server: str, browser: Any) -> None:
    page = browser.new_page()
    page.set_default_timeout(15_000)
    browser.clear_cookies()
    problems: list[str] = []

    page.goto(server + "/login")
    problems += _check_page(page, "login")
    page.fill("#org", "demo")
    page.fill("#token", "not-the-token")
    page.click("button[type=submit]")
    assert page.locator("#login-error").is_visible()
    problems += _check_page(page, "login (refused)")

    page.fill("#org", "demo")
    page.fill("#token", demo.token)
    page.click("button[type=submit]")
    page.wait_for_url(server + "/")

    for path, label in (
        ("/", "posture"),
        ("/speed", "speed"),
        ("/attacks", "attacks"),
        ("/sharing", "sharing"),
        ("/findings", "findings"),
    ):
        page.goto(server + path)
        problems += _check_page(page, label)

    # a finding with a verified fix (its diff, trace and reasons on screen), and an alert
    page.goto(server + "/speed")
    page.click('[data-metric="detected-to-fixed-samples"]')
    page.locator("table.list tbody a").filter(has_text="PY-").first.click()
    page.wait_for_url("**/findings/*")
    assert page.locator("pre.diff").count() >= 1
    problems += _check_page(page, "finding")
    page.goto(server + "/attacks")
    page.locator('table.list a[href^="/attacks/"]').first.click()
    page.wait_for_url("**/attacks/*")
    problems += _check_page(page, "alert")

    page.close()
    browser.clear_cookies()  # leave the session's browser logged out
    assert not problems, "\n".join(problems)


CALIBRATION = """<!doctype html><html lang="en"><head><style>
body { margin: 0; font: 15px sans-serif; background: #fff; }
.sr { position: absolute; width: 1px; height: 1px; overflow: hidden; clip: rect(0 0 0 0); }
a.bare:focus { outline: none; }
</style></head><body>
<p style="color:#777777">fail-grey-4.48</p>
<p style="color:#767676">pass-grey-4.54</p>
<p style="color:#949494;font-size:24px">pass-large-3.03</p>
<p style="color:#959595;font-size:24px">fail-large-2.99</p>
<p style="color:#949494;font-size:19px;font-weight:700">pass-large-bold</p>
<p style="color:#949494;font-size:19px">fail-not-large-enough</p>
<div style="background:rgba(0,0,0,.5)"><div><span style="color:#fff">fail-white-on-half-black</span></div></div>
<div style="background:#000"><span style="color:#fff">pass-white-on-black</span></div>
<p class="sr" style="color:#eee">hidden-sr-only</p>
<p style="display:none;color:#eee">hidden-display-none</p>
<svg width="300" height="60" role="img" aria-label="calibration">
  <rect x="0" y="0" width="150" height="60" fill="#000"/>
  <text x="10" y="30" fill="#fff">pass-svg</text>
  <text x="160" y="30" fill="#cccccc">fail-svg</text>
</svg>
<a href="#x">good-link</a> <a class="bare" href="#y">bare-link</a>
<a href="#z" tabindex="-1">not-in-order</a>
</body></html>"""


def test_the_checks_catch_low_contrast_and_missing_focus(browser: Any) -> None:
    """The in-page measurements on a page of known ratios: they flag exactly the failing ones."""
    page = browser.new_page()
    try:
        page.set_content(CALIBRATION)
        contrast = page.evaluate(CONTRAST_JS)
        failing = {f.split('"')[1] for f in contrast["failures"]}
        assert failing == {
            "fail-grey-4.48",
            "fail-large-2.99",
            "fail-not-large-enough",
            "fail-white-on-half-black",
            "fail-svg",
        }
        assert contrast["measured"] == 13  # all but the two hidden paragraphs
        problems = _check_page(page, "calibration")
        assert [p for p in problems if "focus" in p or "Tab" in p] == [
            'calibration: a "bare-link" shows no focus indicator'
        ]
    finally:
        page.close()
