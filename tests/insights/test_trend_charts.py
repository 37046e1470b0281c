"""The SVG charts of the KPI trends, the cohort heatmap and the lift bars."""

from __future__ import annotations

import math
import re

from patron.insights.trend_charts import _ticks, cohort_heatmap_svg, lift_bars_svg, line_chart_svg


def test_ticks_are_round_and_cover_the_peak() -> None:
    assert _ticks(3612) == [0, 1000, 2000, 3000, 4000]
    assert _ticks(0.83) == [0, 0.25, 0.5, 0.75, 1.0]
    assert _ticks(0) == [0.0, 1.0]


def test_a_missing_value_breaks_the_line_and_every_point_carries_its_value() -> None:
    # given a series with a gap (no retention rate in the first month, a month without data)
    svg = line_chart_svg(
        ["Jan", "Feb", "Mar", "Apr", "May"],
        [("retention_rate", "Retention", [None, 0.5, 0.25, None, 0.4])],
        title="Rates",
        shown=lambda v: f"{100 * v:.0f}%",
    )
    # then two points before the gap make one line; the lone point after it makes none
    assert svg.count("<polyline") == 1
    points = re.findall(r'data-month="([^"]+)" data-value="([^"]+)"', svg)
    assert points == [("Feb", "0.5"), ("Mar", "0.25"), ("May", "0.4")]
    assert "Retention, Mar: 25%" in svg and "<title>Rates</title>" in svg
    # a higher value is drawn higher (smaller y)
    ys = [float(y) for y in re.findall(r'<circle cx="[^"]+" cy="([^"]+)"', svg)]
    assert ys[0] < ys[1] and ys[2] < ys[1]


def test_cohort_cells_after_the_run_are_not_drawn() -> None:
    svg = cohort_heatmap_svg(
        ["Jan 2024", "Feb 2024"], ["10", "4"], [[1.0, 0.3, 0.2], [1.0, 0.25, None]], title="C"
    )
    cells = re.findall(r'data-cohort="([^"]+)" data-since="(\d+)" data-share="([^"]+)"', svg)
    assert cells == [
        ("Jan 2024", "0", "1.0"),
        ("Jan 2024", "1", "0.3"),
        ("Jan 2024", "2", "0.2"),
        ("Feb 2024", "0", "1.0"),
        ("Feb 2024", "1", "0.25"),
    ]
    assert "Feb 2024 · 4" in svg


def test_lift_bars_go_right_when_over_and_left_when_under() -> None:
    svg = lift_bars_svg(
        [
            ("学生", 2.0, "×2.00", True),
            ("白领", 0.5, "×0.50", True),
            ("only", math.inf, "∞", False),
        ],
        title="Lift",
    )
    bars = re.findall(r'<rect x="([^"]+)" y="[^"]+" width="([^"]+)"[^>]*data-lift="([^"]+)"', svg)
    (x_over, w_over, _), (x_under, w_under, _), (x_inf, _w, lift_inf) = bars
    centre = float(x_over)
    assert float(x_under) + float(w_under) == centre  # ends at the centre line
    assert float(w_over) == float(w_under)  # ×2 and ×0.5 are equally far from 1 on a log scale
    assert float(x_inf) == centre and lift_inf == "inf"
    assert 'fill-opacity="0.35"' in svg  # not significant: pale
