"""Inline SVG of estimates with their intervals (as the analysis charts of
:mod:`patron.insights.charts`: no script, nothing loaded, prints)."""

from __future__ import annotations

from dataclasses import dataclass
from html import escape


@dataclass(frozen=True)
class Interval:
    label: str
    estimate: float | None
    low: float | None
    high: float | None
    text: str  # the value as shown (formatted by the caller)


def interval_svg(rows: list[Interval], *, title: str, shared_scale: bool = False) -> str:
    """One row per estimate: a dot and its interval around a zero line. Each row has its own
    scale (different units) unless ``shared_scale``; an interval crossing zero is grey."""
    rows = [r for r in rows if r.estimate is not None and r.low is not None and r.high is not None]
    if not rows:
        return ""
    width, label_w, row_h, pad = 640, 200, 34, 12
    plot_w = width - label_w - 2 * pad
    centre = label_w + pad + plot_w / 2

    def reach(r: Interval) -> float:
        return max(abs(r.low or 0), abs(r.high or 0), abs(r.estimate or 0)) or 1.0

    common = max(reach(r) for r in rows)
    height = pad * 2 + row_h * len(rows)
    parts = [
        f'<svg viewBox="0 0 {width} {height}" role="img" class="chart interval-chart" '
        'style="max-width:760px">'
        f"<title>{escape(title)}</title>",
        f'<line x1="{centre:.1f}" y1="{pad}" x2="{centre:.1f}" y2="{height - pad}" '
        'stroke="#888" stroke-dasharray="3 3"/>',
    ]
    for i, r in enumerate(rows):
        scale = (plot_w / 2 - 6) / (common if shared_scale else reach(r))
        y = pad + row_h * i + row_h / 2
        x_low = centre + (r.low or 0) * scale
        x_high = centre + (r.high or 0) * scale
        x_est = centre + (r.estimate or 0) * scale
        clear = (r.low or 0) > 0 or (r.high or 0) < 0
        colour = "#1d4e89" if clear else "#8a8f98"
        parts.append(
            f'<text x="{pad}" y="{y + 4:.1f}" font-size="13" fill="currentColor">'
            f"{escape(r.label)}</text>"
            f'<line x1="{x_low:.1f}" y1="{y:.1f}" x2="{x_high:.1f}" y2="{y:.1f}" '
            f'stroke="{colour}" stroke-width="3"/>'
            f'<circle cx="{x_est:.1f}" cy="{y:.1f}" r="5" fill="{colour}">'
            f"<title>{escape(r.label)}: {escape(r.text)}</title></circle>"
            f'<text x="{x_est:.1f}" y="{y - 8:.1f}" font-size="11" text-anchor="middle">'
            f"{escape(r.text)}</text>"
        )
    parts.append("</svg>")
    return "".join(parts)
