"""Server-rendered SVG charts: no JavaScript, no CDN, readable in WeChat's browser and on intranets.

Templates include the returned markup with `|safe`: every label is escaped here.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from html import escape

from django.utils.safestring import SafeString, mark_safe

PALETTE = ["#0b6e4f", "#0969da", "#bc4c00", "#8250df", "#cf222e", "#0e7c86", "#9a6700", "#6e7781"]


def _fmt(value: float) -> str:
    if abs(value) >= 1_000_000:
        return f"{value / 1_000_000:.1f}M"
    if abs(value) >= 10_000:
        return f"{value / 1000:.0f}k"
    return f"{value:,.0f}" if float(value).is_integer() else f"{value:,.1f}"


def bar_chart(
    labels: Sequence[str],
    values: Sequence[float],
    *,
    title: str = "",
    width: int = 640,
    bar_height: int = 22,
    colour: str = PALETTE[0],
    unit: str = "",
) -> SafeString:
    """Horizontal bars: long Chinese labels stay readable on a phone."""
    label_w = min(260, max(60, 8 + 13 * max((len(lbl) for lbl in labels), default=4)))
    top = 26 if title else 6
    height = top + len(values) * (bar_height + 6) + 6
    peak = max((float(v) for v in values), default=0.0) or 1.0
    span = width - label_w - 70
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {width} {height}" role="img" aria-label="{escape(title)}">'
    ]
    if title:
        parts.append(f'<text x="0" y="16" font-weight="600" fill="#1f2328">{escape(title)}</text>')
    for i, (label, value) in enumerate(zip(labels, values, strict=True)):
        y = top + i * (bar_height + 6)
        w = max(1.0, span * float(value) / peak) if value else 0
        parts.append(
            f'<text x="{label_w - 6}" y="{y + bar_height * 0.7:.0f}" text-anchor="end">{escape(str(label))}</text>'
        )
        parts.append(
            f'<rect x="{label_w}" y="{y}" width="{w:.1f}" height="{bar_height}" rx="3" fill="{colour}"><title>{escape(str(label))}: {escape(_fmt(float(value)))}{escape(unit)}</title></rect>'
        )
        parts.append(
            f'<text x="{label_w + w + 4:.1f}" y="{y + bar_height * 0.7:.0f}">{escape(_fmt(float(value)))}{escape(unit)}</text>'
        )
    parts.append("</svg>")
    return mark_safe("".join(parts))  # noqa: S308 - every interpolated string is escaped above


def line_chart(
    labels: Sequence[str],
    series: Mapping[str, Sequence[float]],
    *,
    title: str = "",
    width: int = 640,
    height: int = 220,
) -> SafeString:
    """One or more series over the same x labels (months, days)."""
    left, right, top, bottom = 48, 10, 26 if title else 10, 40
    plot_w, plot_h = width - left - right, height - top - bottom
    peak = max((float(v) for vals in series.values() for v in vals), default=0.0) or 1.0
    n = max(len(labels), 1)
    step = plot_w / max(n - 1, 1)
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {width} {height + 18 * len(series)}" role="img" aria-label="{escape(title)}">'
    ]
    if title:
        parts.append(f'<text x="0" y="16" font-weight="600" fill="#1f2328">{escape(title)}</text>')
    for frac in (0, 0.5, 1):
        y = top + plot_h * (1 - frac)
        parts.append(
            f'<line x1="{left}" x2="{width - right}" y1="{y:.1f}" y2="{y:.1f}" stroke="#d1d9e0"/>'
        )
        parts.append(
            f'<text x="{left - 4}" y="{y + 4:.1f}" text-anchor="end">{escape(_fmt(peak * frac))}</text>'
        )
    every = max(1, n // 8)
    for i, label in enumerate(labels):
        if i % every == 0 or i == n - 1:
            parts.append(
                f'<text x="{left + i * step:.1f}" y="{top + plot_h + 16}" text-anchor="middle">{escape(str(label))}</text>'
            )
    for k, (name, values) in enumerate(series.items()):
        colour = PALETTE[k % len(PALETTE)]
        points = " ".join(
            f"{left + i * step:.1f},{top + plot_h * (1 - float(v) / peak):.1f}"
            for i, v in enumerate(values)
        )
        parts.append(
            f'<polyline fill="none" stroke="{colour}" stroke-width="2" points="{points}"><title>{escape(name)}</title></polyline>'
        )
        ly = height + 18 * k + 6
        parts.append(
            f'<rect x="{left}" y="{ly - 9}" width="12" height="12" fill="{colour}"/><text x="{left + 18}" y="{ly + 1}">{escape(name)}</text>'
        )
    parts.append("</svg>")
    return mark_safe("".join(parts))  # noqa: S308 - every interpolated string is escaped above


def uptime_bars(
    days: Sequence[tuple[str, float | None]], *, width: int = 600, height: int = 28
) -> SafeString:
    """A status-page strip: one bar per day, green to red by uptime; grey where nothing was measured."""
    n = max(len(days), 1)
    w = width / n
    parts = [f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {width} {height}" role="img">']
    for i, (label, uptime) in enumerate(days):
        if uptime is None:
            colour, text = "#d1d9e0", "—"
        else:
            colour = "#1a7f37" if uptime >= 0.999 else "#9a6700" if uptime >= 0.95 else "#cf222e"
            text = f"{uptime * 100:.2f}%"
        parts.append(
            f'<rect x="{i * w + 1:.1f}" y="0" width="{max(w - 2, 1):.1f}" height="{height}" rx="2" fill="{colour}"><title>{escape(str(label))}: {text}</title></rect>'
        )
    parts.append("</svg>")
    return mark_safe("".join(parts))  # noqa: S308 - every interpolated string is escaped above
