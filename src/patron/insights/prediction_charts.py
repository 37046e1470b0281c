"""SVG charts of the churn warning list and the prediction page.

Inline SVG like :mod:`patron.insights.charts` (no script, works offline; the page styles the
classes ``chart``, ``axis`` and ``val``). Labels and numbers arrive already in the page's
language. Lines (calibration, tracking) use :func:`patron.insights.trend_charts.line_chart_svg`.
"""

from __future__ import annotations

from html import escape

from patron.insights.charts import heat_shade


def hbars_svg(rows: list[tuple[str, float, str]], *, title: str) -> str:
    """Horizontal bars from zero: (label, value, shown); the longest bar is the largest value.

    Every bar carries ``data-label`` and ``data-value``.
    """
    if not rows:
        return ""
    left, length, row_h = 220, 300, 26
    peak = max((v for _l, v, _s in rows), default=0.0) or 1.0
    parts = [
        f'<svg viewBox="0 0 {left + length + 120} {len(rows) * row_h + 8}" role="img" '
        f'class="chart bars-chart"><title>{escape(title)}</title>'
    ]
    for i, (label, value, shown) in enumerate(rows):
        y = 4 + i * row_h
        size = max(value, 0.0) / peak * length
        parts.append(
            f'<text x="{left - 8}" y="{y + 15}" text-anchor="end" class="axis">'
            f"{escape(label)}</text>"
            f'<rect x="{left}" y="{y}" width="{max(size, 1.0):.1f}" height="{row_h - 8}" '
            f'fill="#2f6fb0" data-label="{escape(label)}" data-value="{value!r}"/>'
            f'<text x="{left + size + 6:.1f}" y="{y + 14}" class="val">{escape(shown)}</text>'
        )
    parts.append("</svg>")
    return "".join(parts)


def grid_svg(
    rows: list[str],
    columns: list[str],
    values: list[list[float | None]],
    counts: list[list[int]],
    *,
    title: str,
    row_title: str,
    column_title: str,
) -> str:
    """A matrix of shares in [0, 1] (rows top to bottom, columns left to right), each cell
    shaded by its value and showing it as a percentage over its count; empty cells are
    blank. Every cell carries ``data-row``, ``data-column``, ``data-value`` and
    ``data-count``."""
    if not rows or not columns:
        return ""
    cell_w, cell_h, left, top = 78, 40, 96, 40
    parts = [
        f'<svg viewBox="0 0 {left + len(columns) * cell_w + 8} {top + len(rows) * cell_h + 30}" '
        f'role="img" class="chart grid-chart"><title>{escape(title)}</title>'
        f'<text x="{left + len(columns) * cell_w / 2:.1f}" y="12" text-anchor="middle" '
        f'class="axis">{escape(column_title)}</text>'
        f'<text x="4" y="{top - 8}" class="axis">{escape(row_title)}</text>'
    ]
    for c, label in enumerate(columns):
        parts.append(
            f'<text x="{left + c * cell_w + cell_w / 2:.1f}" y="{top - 8}" text-anchor="middle" '
            f'class="axis">{escape(label)}</text>'
        )
    for r, label in enumerate(rows):
        y = top + r * cell_h
        parts.append(
            f'<text x="{left - 8}" y="{y + cell_h / 2 + 4:.1f}" text-anchor="end" '
            f'class="axis">{escape(label)}</text>'
        )
        for c, column in enumerate(columns):
            value, n = values[r][c], counts[r][c]
            if value is None or n == 0:
                continue
            x = left + c * cell_w
            shade, ink = heat_shade(value)
            parts.append(
                f'<rect x="{x}" y="{y}" width="{cell_w - 2}" height="{cell_h - 2}" '
                f'fill="#1f7a4d" fill-opacity="{shade:.3f}" data-row="{escape(label)}" '
                f'data-column="{escape(column)}" data-value="{value!r}" data-count="{n}">'
                f"<title>{escape(label)} · {escape(column)}: {100 * value:.1f}% (n={n:,})</title>"
                f'</rect><text x="{x + cell_w / 2 - 1:.1f}" y="{y + 17}" text-anchor="middle" '
                f'class="val" fill="{ink}">{100 * value:.0f}%</text>'
                f'<text x="{x + cell_w / 2 - 1:.1f}" y="{y + 31}" text-anchor="middle" '
                f'class="val" style="font-size:9px" fill="{ink}">n={n:,}</text>'
            )
    parts.append("</svg>")
    return "".join(parts)
