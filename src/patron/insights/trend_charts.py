"""SVG charts of the dashboard's KPI trends and cohorts, and of the segment diagnosis.

Inline SVG like :mod:`patron.insights.charts` (no script, works offline). Labels and numbers
arrive already in the page's language: ``shown`` formats a value the way the page does.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from html import escape

from patron.insights.charts import heat_shade

SERIES_COLOURS = ("#1d4e89", "#c0392b", "#1f7a4d", "#b7791f")


def _ticks(peak: float, count: int = 4) -> list[float]:
    """Round grid values from 0 to at least ``peak``."""
    if peak <= 0:
        return [0.0, 1.0]
    raw = peak / count
    magnitude = 10 ** math.floor(math.log10(raw))
    step = next(m * magnitude for m in (1, 2, 2.5, 5, 10) if m * magnitude >= raw)
    return [i * step for i in range(count + 2) if i * step < peak + step]


def line_chart_svg(
    months: list[str],
    series: list[tuple[str, str, list[float | None]]],
    *,
    title: str,
    shown: Callable[[float], str],
) -> str:
    """Monthly lines: ``series`` is (key, label, values); a missing value breaks its line.

    Every point is a circle carrying ``data-series``, ``data-month`` and ``data-value`` and a
    tooltip.
    """
    if not months or not series:
        return ""
    width, height, left, top, bottom = 640, 190, 64, 28, 26
    values = [v for _k, _l, vs in series for v in vs if v is not None]
    grid = _ticks(max(values, default=0.0))
    peak = grid[-1] or 1.0
    step_x = width / max(len(months) - 1, 1)

    def xy(i: int, v: float) -> tuple[float, float]:
        return left + i * step_x, top + height - max(v, 0) / peak * height

    parts = [
        f'<svg viewBox="0 0 {left + width + 16} {top + height + bottom + 8}" role="img" '
        f'class="chart line-chart"><title>{escape(title)}</title>'
    ]
    for g in grid:
        y = top + height - g / peak * height
        parts.append(
            f'<line x1="{left}" y1="{y:.1f}" x2="{left + width}" y2="{y:.1f}" stroke="#e3e6ea"/>'
            f'<text x="{left - 6}" y="{y + 4:.1f}" text-anchor="end" class="axis">'
            f"{escape(shown(g))}</text>"
        )
    every = max(1, math.ceil(len(months) / 8))
    for i in range(0, len(months), every):
        parts.append(
            f'<text x="{left + i * step_x:.1f}" y="{top + height + 18}" text-anchor="middle" '
            f'class="axis">{escape(months[i])}</text>'
        )
    for n, (key, label, vs) in enumerate(series):
        colour = SERIES_COLOURS[n % len(SERIES_COLOURS)]
        runs: list[list[str]] = [[]]
        for i, v in enumerate(vs):
            if v is None:
                runs.append([])
                continue
            x, y = xy(i, v)
            runs[-1].append(f"{x:.1f},{y:.1f}")
        for points in runs:
            if len(points) > 1:
                parts.append(
                    f'<polyline points="{" ".join(points)}" fill="none" stroke="{colour}" '
                    f'stroke-width="2" data-series="{escape(key)}"/>'
                )
        for i, v in enumerate(vs):
            if v is None:
                continue
            x, y = xy(i, v)
            parts.append(
                f'<circle cx="{x:.1f}" cy="{y:.1f}" r="{3 if len(vs) < 40 else 2}" '
                f'fill="{colour}" '
                f'data-series="{escape(key)}" data-month="{escape(months[i])}" '
                f'data-value="{v!r}"><title>{escape(label)}, {escape(months[i])}: '
                f"{escape(shown(v))}</title></circle>"
            )
        lx = left + n * 180
        parts.append(
            f'<rect x="{lx}" y="6" width="14" height="4" fill="{colour}"/>'
            f'<text x="{lx + 20}" y="12" class="axis">{escape(label)}</text>'
        )
    parts.append("</svg>")
    return "".join(parts)


def cohort_heatmap_svg(
    cohorts: list[str], sizes: list[str], shares: list[list[float | None]], *, title: str
) -> str:
    """Cohort (rows, oldest first) by months since the first purchase (columns), shaded by
    the share of the cohort that bought again; past the as-of month cells are empty."""
    if not cohorts:
        return ""
    width = max((len(row) for row in shares), default=0)
    cell, left, top = 30, 118, 22
    parts = [
        f'<svg viewBox="0 0 {left + width * cell + 8} {top + len(cohorts) * 22 + 8}" '
        f'role="img" class="chart cohort-chart" style="max-height:none">'
        f"<title>{escape(title)}</title>"
    ]
    for k in range(width):
        parts.append(
            f'<text x="{left + k * cell + cell / 2:.1f}" y="14" text-anchor="middle" '
            f'class="axis">{k}</text>'
        )
    for r, (cohort, size, row) in enumerate(zip(cohorts, sizes, shares, strict=True)):
        y = top + r * 22
        parts.append(
            f'<text x="{left - 6}" y="{y + 15}" text-anchor="end" class="axis">'
            f"{escape(cohort)} · {escape(size)}</text>"
        )
        for k, share in enumerate(row):
            if share is None:
                continue
            x = left + k * cell
            shade, ink = heat_shade(share, floor=0.06)
            parts.append(
                f'<rect x="{x}" y="{y}" width="{cell - 2}" height="20" fill="#1d4e89" '
                f'fill-opacity="{shade:.3f}" data-cohort="{escape(cohort)}" data-since="{k}" '
                f'data-share="{share!r}"><title>{escape(cohort)} +{k}: {100 * share:.1f}%'
                f'</title></rect><text x="{x + cell / 2 - 1}" y="{y + 14}" text-anchor="middle" '
                f'class="val" fill="{ink}">{round(100 * share)}</text>'
            )
    parts.append("</svg>")
    return "".join(parts)


def lift_bars_svg(rows: list[tuple[str, float, str, bool]], *, title: str) -> str:
    """Horizontal bars of lifts on a log scale around 1: (label, lift, shown, significant).

    Over-represented values go right of the centre line, under-represented ones left; an
    infinite lift (only in the group) is drawn at the edge. Not significant: a paler bar.
    """
    if not rows:
        return ""
    finite = [abs(math.log2(lift)) for _l, lift, _s, _g in rows if 0 < lift < math.inf]
    reach = max(finite, default=1.0) or 1.0
    half, left, row_h = 220, 230, 24
    centre = left + half
    parts = [
        f'<svg viewBox="0 0 {left + 2 * half + 70} {len(rows) * row_h + 12}" role="img" '
        f'class="chart lift-chart" style="max-height:none"><title>{escape(title)}</title>'
        f'<line x1="{centre}" y1="0" x2="{centre}" y2="{len(rows) * row_h + 6}" stroke="#99a"/>'
    ]
    for i, (label, lift, shown, significant) in enumerate(rows):
        y = 4 + i * row_h
        size = 1.0 if not 0 < lift < math.inf else abs(math.log2(lift)) / reach
        length = max(size * half, 1.5)
        over = lift > 1
        x = centre if over else centre - length
        colour = "#c0392b" if over else "#2f6fb0"
        opacity = "1" if significant else "0.35"
        end = centre + length + 6 if over else centre + 6
        parts.append(
            f'<text x="{left - 8}" y="{y + 15}" text-anchor="end" class="axis">'
            f"{escape(label)}</text>"
            f'<rect x="{x:.1f}" y="{y}" width="{length:.1f}" height="{row_h - 6}" '
            f'fill="{colour}" fill-opacity="{opacity}" data-lift="{lift!r}"/>'
            f'<text x="{end:.1f}" y="{y + 15}" class="val">{escape(shown)}</text>'
        )
    parts.append("</svg>")
    return "".join(parts)
