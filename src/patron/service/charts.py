"""Inline SVG charts of the service pages: estimates with their 95% intervals (NPS can be
negative, so the axis spans the range given). No script, works offline, like
:mod:`patron.insights.charts`."""

from __future__ import annotations

from html import escape


def interval_svg(
    rows: list[tuple[str, float, float, float, str]], *, title: str, low: float, high: float
) -> str:
    """One row per group: (label, estimate, ci_low, ci_high, shown) as a dot with a whisker on
    an axis from ``low`` to ``high`` (a zero line when the axis crosses zero). Every dot
    carries ``data-label``, ``data-value``, ``data-low`` and ``data-high``."""
    if not rows:
        return ""
    left, length, row_h = 140, 320, 24
    span = (high - low) or 1.0

    def x(v: float) -> float:
        return left + (min(max(v, low), high) - low) / span * length

    height = len(rows) * row_h + 26
    parts = [
        f'<svg viewBox="0 0 {left + length + 200} {height}" role="img" class="chart '
        f'interval-chart"><title>{escape(title)}</title>'
    ]
    for tick in (low, (low + high) / 2, high):
        parts.append(
            f'<line x1="{x(tick):.1f}" y1="4" x2="{x(tick):.1f}" y2="{height - 20}" '
            f'stroke="{"#9aa3ad" if tick == 0 else "#e3e6ea"}"/>'
            f'<text x="{x(tick):.1f}" y="{height - 6}" text-anchor="middle" class="axis">'
            f"{tick:g}</text>"
        )
    for i, (label, value, lo, hi, shown) in enumerate(rows):
        y = 6 + i * row_h + row_h / 2
        parts.append(
            f'<text x="{left - 8}" y="{y + 4:.1f}" text-anchor="end" class="axis">'
            f"{escape(label)}</text>"
            f'<line x1="{x(lo):.1f}" y1="{y:.1f}" x2="{x(hi):.1f}" y2="{y:.1f}" '
            f'stroke="#2f6fb0" stroke-width="2"/>'
            f'<circle cx="{x(value):.1f}" cy="{y:.1f}" r="4.5" fill="#2f6fb0" '
            f'data-label="{escape(label)}" data-value="{value:.2f}" data-low="{lo:.2f}" '
            f'data-high="{hi:.2f}"><title>{escape(shown)}</title></circle>'
            f'<text x="{left + length + 8}" y="{y + 4:.1f}" class="val">{escape(shown)}</text>'
        )
    parts.append("</svg>")
    return "".join(parts)
