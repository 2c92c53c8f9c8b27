"""Charts as inline SVG, drawn on the server: no script, no CDN, readable without colour.

Every chart is an ``<svg role="img">`` with an ``aria-label`` that states its numbers, and
every bar or point is a link (keyboard-focusable, with a ``<title>`` tooltip) to the findings or
objects behind it. Colours come from CSS classes (``seg-act``, ``tlp-amber`` …) so the
stylesheet holds the palette, and no inline ``style`` attribute is needed (the dashboard's
Content-Security-Policy forbids them).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from html import escape

from markupsafe import Markup


@dataclass(frozen=True, slots=True)
class Segment:
    """One part of a bar: its value, CSS class, link and tooltip."""

    value: float
    css: str
    href: str
    title: str


@dataclass(frozen=True, slots=True)
class Bar:
    """One bar (a label and its stacked segments)."""

    label: str
    segments: tuple[Segment, ...]

    @property
    def total(self) -> float:
        """The sum of its segments."""
        return sum(s.value for s in self.segments)


@dataclass(frozen=True, slots=True)
class Point:
    """One point of a line: x label, value, link and tooltip."""

    label: str
    value: float
    href: str
    title: str


def _a(href: str, title: str, inner: str) -> str:
    return f'<a href="{escape(href)}" aria-label="{escape(title)}"><title>{escape(title)}</title>{inner}</a>'


def _nice_max(value: float) -> float:
    if value <= 0:
        return 1.0
    exp = 10 ** math.floor(math.log10(value))
    for step in (1, 2, 2.5, 5, 10):
        if step * exp >= value:
            return step * exp
    return 10 * exp


def hbars(bars: Sequence[Bar], *, label: str, width: int = 560, dark: bool = False) -> Markup:
    """Horizontal stacked bars, one row per bar, the total written at its end."""
    row, left, right = 30, 150, 50
    height = max(1, len(bars)) * row + 10
    scale = (width - left - right) / _nice_max(max((b.total for b in bars), default=0.0))
    parts = [
        f'<svg class="chart{" chart-dark" if dark else ""}" role="img" aria-label="{escape(label)}" '
        f'viewBox="0 0 {width} {height}" width="100%" preserveAspectRatio="xMinYMin meet">'
    ]
    if dark:
        parts.append(f'<rect class="chart-bg" x="0" y="0" width="{width}" height="{height}"/>')
    if not bars:
        parts.append(f'<text class="axis-label" x="12" y="{row - 8}">nothing yet</text>')
    for i, bar in enumerate(bars):
        y = 5 + i * row
        parts.append(
            f'<text class="axis-label" x="{left - 8}" y="{y + 18}" text-anchor="end">{escape(_clip(bar.label, int((left - 8) // CHAR_WIDTH)))}</text>'
        )
        x = float(left)
        for seg in bar.segments:
            if seg.value <= 0:
                continue
            w = max(seg.value * scale, 2.0)
            parts.append(
                _a(
                    seg.href,
                    seg.title,
                    f'<rect class="seg {escape(seg.css)}" x="{x:.1f}" y="{y + 4}" width="{w:.1f}" height="{row - 10}"/>',
                )
            )
            x += w
        parts.append(f'<text class="value-label" x="{x + 6:.1f}" y="{y + 18}">{_num(bar.total)}</text>')
    parts.append("</svg>")
    return Markup("".join(parts))


def vbars(bars: Sequence[Bar], *, label: str, y_label: str, width: int = 560, height: int = 220) -> Markup:
    """Vertical stacked bars over time (one bar per point), with a value axis."""
    top, bottom, left, right = 24, 34, 44, 10
    plot_h = height - top - bottom
    top_value = _nice_max(max((b.total for b in bars), default=0.0))
    scale = plot_h / top_value
    n = max(1, len(bars))
    slot = (width - left - right) / n
    bw = min(48.0, slot * 0.7)
    parts = [
        f'<svg class="chart" role="img" aria-label="{escape(label)}" viewBox="0 0 {width} {height}" '
        f'width="100%" preserveAspectRatio="xMinYMin meet">',
        *_y_axis(left, top, plot_h, width - right, top_value, _num),
        f'<text class="axis-label" x="4" y="{top - 12}">{escape(y_label)}</text>',
    ]
    every = label_step(slot, [_clip(b.label, 14) for b in bars])
    centers: list[tuple[float, str]] = []
    for i, bar in enumerate(bars):
        x = left + i * slot + (slot - bw) / 2
        y = float(top + plot_h)
        for seg in bar.segments:
            if seg.value <= 0:
                continue
            h = max(seg.value * scale, 1.5)
            y -= h
            parts.append(
                _a(
                    seg.href,
                    seg.title,
                    f'<rect class="seg {escape(seg.css)}" x="{x:.1f}" y="{y:.1f}" width="{bw:.1f}" height="{h:.1f}"/>',
                )
            )
        if i % every == 0:
            centers.append((x + bw / 2, _clip(bar.label, 14)))
    parts.extend(x_labels(centers, left, width - 2, top + plot_h + 16))
    parts.append("</svg>")
    return Markup("".join(parts))


def lines(
    series: Sequence[tuple[str, str, Sequence[Point]]],
    *,
    label: str,
    fmt: object,
    width: int = 560,
    height: int = 200,
) -> Markup:
    """Lines over time: ``series`` is (name, CSS class, points); ``fmt`` formats axis values."""
    format_value = fmt if callable(fmt) else _num
    top, bottom, left, right = 12, 34, 64, 10
    plot_h = height - top - bottom
    top_value = _nice_max(max((p.value for _n, _c, pts in series for p in pts), default=0.0))
    n = max((len(pts) for _n, _c, pts in series), default=0)
    slot = (width - left - right) / max(1, n)
    parts = [
        f'<svg class="chart" role="img" aria-label="{escape(label)}" viewBox="0 0 {width} {height}" '
        f'width="100%" preserveAspectRatio="xMinYMin meet">',
        *_y_axis(left, top, plot_h, width - right, top_value, format_value),
    ]
    for name, css, pts in series:
        coords = [
            (left + i * slot + slot / 2, top + plot_h - p.value / top_value * plot_h)
            for i, p in enumerate(pts)
        ]
        if len(coords) > 1:
            path = " ".join(f"{x:.1f},{y:.1f}" for x, y in coords)
            parts.append(f'<polyline class="line {escape(css)}" points="{path}"/>')
        for (x, y), p in zip(coords, pts, strict=True):
            parts.append(
                _a(
                    p.href,
                    f"{name}: {p.title}",
                    f'<circle class="dot {escape(css)}" cx="{x:.1f}" cy="{y:.1f}" r="5"/>',
                )
            )
    labels = series[0][2] if series else ()
    every = label_step(slot, [_clip(p.label, 16) for p in labels])
    centers = [
        (left + i * slot + slot / 2, _clip(p.label, 16)) for i, p in enumerate(labels) if i % every == 0
    ]
    parts.extend(x_labels(centers, left, width - 2, top + plot_h + 16))
    parts.append("</svg>")
    return Markup("".join(parts))


def _y_axis(left: int, top: int, plot_h: int, right: float, top_value: float, fmt: object) -> list[str]:
    format_value = fmt if callable(fmt) else _num
    out = []
    for k in range(5):
        value = top_value * k / 4
        y = top + plot_h - plot_h * k / 4
        out.append(f'<line class="grid" x1="{left}" x2="{right:.1f}" y1="{y:.1f}" y2="{y:.1f}"/>')
        out.append(
            f'<text class="axis-label" x="{left - 6}" y="{y + 4:.1f}" text-anchor="end">{escape(str(format_value(value)))}</text>'
        )
    return out


CHAR_WIDTH = 7.2
"""An upper bound of one character's width in an axis label (12 px sans-serif), in px."""
LABEL_GAP = 8.0
"""The least space between two axis labels, in px."""


def label_step(slot: float, labels: Sequence[str]) -> int:
    """Label every n-th slot so that no two shown labels overlap: n slots must hold the widest
    label and a gap."""
    widest = max((len(t) for t in labels), default=0) * CHAR_WIDTH + LABEL_GAP
    return max(1, math.ceil(widest / max(slot, 1.0)))


def x_labels(centers: Sequence[tuple[float, str]], lo: float, hi: float, y: float) -> list[str]:
    """The x-axis labels (centre, text) that fit: each is centred under its point but kept inside
    ``lo``..``hi`` (the plot, clear of the value axis' labels), and one that would come closer
    than :data:`LABEL_GAP` to the last label shown is left out (its point keeps its tooltip)."""
    out: list[str] = []
    last = -math.inf
    for cx, text in centers:
        w = len(text) * CHAR_WIDTH
        start = min(max(cx - w / 2, lo), hi - w)
        if start < lo or start < last + LABEL_GAP:
            continue
        last = start + w
        out.append(
            f'<text class="axis-label" x="{start + w / 2:.1f}" y="{y}" text-anchor="middle">{escape(text)}</text>'
        )
    return out


def _num(value: float) -> str:
    return f"{value:.0f}" if float(value).is_integer() else f"{value:.1f}"


def _clip(text: str, size: int = 20) -> str:
    return text if len(text) <= size else text[: size - 1] + "…"


def duration(seconds: float | None) -> str:
    """A duration in the largest sensible unit: ``2.1 s``, ``5 min``, ``3.2 h``, ``12 days``, ``2.4 years``."""
    if seconds is None:
        return "–"
    s = float(seconds)
    for unit, size in (("years", 365.25 * 86400), ("days", 86400), ("h", 3600), ("min", 60)):
        if abs(s) >= size:
            v = s / size
            return f"{v:.1f} {unit}" if v < 10 else f"{v:.0f} {unit}"
    return f"{s:.1f} s"
