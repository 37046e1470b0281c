"""The dashboard shows stored analysis runs (pyramid, heatmap, Lorenz, migration, segments); the
customer 360 page shows the customer's value panel."""

from __future__ import annotations

import math
import re
from typing import Any

import pytest
from django.test import Client
from django.utils.html import escape

from patron.analytics.migration import LOST, NEW
from patron.analytics.segments import SEGMENT_CODES, SEGMENTS
from patron.analytics.tiers import TIER_CODES, TIERS
from patron.demo.loader import demo_load
from patron.insights.models import AnalysisRun, CustomerScore
from patron.insights.selectors import (
    analysis_run_latest,
    analysis_run_migration,
    analysis_run_previous,
)

# The analysis reads the store on its own connection, so the data must be committed.
pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def demo_with_runs() -> dict[str, Any]:
    """A small demo business, loaded with its two analysis runs (as the demo command does)."""
    state = demo_load(customers=400, seed=5)
    assert len(state["runs"]) == 2
    return state


@pytest.fixture
def admin_client(make_user: Any) -> Client:
    client = Client()
    client.force_login(make_user("ada", "admin"))
    return client


def _matrix(page: str) -> dict[tuple[str, str], int]:
    """The migration table's cells, read back from the HTML."""
    cells: dict[tuple[str, str], int] = {}
    for before, row in re.findall(r'<tr data-before="([^"]+)">(.*?)</tr>', page, re.S):
        for after, count in re.findall(r'data-after="([^"]+)" data-count="(\d+)"', row):
            cells[(before, after)] = int(count)
    return cells


def test_dashboard_shows_the_migration_of_the_latest_two_runs(
    demo_with_runs: dict[str, Any], admin_client: Client
) -> None:
    # given the demo's two runs, the later one the latest
    latest = analysis_run_latest()
    assert latest is not None and latest.pk == demo_with_runs["runs"][1]
    previous = analysis_run_previous(run=latest)
    assert previous is not None and previous.as_of < latest.as_of

    # when the dashboard opens
    response = admin_client.get("/", headers={"accept-language": "en"})

    # then its migration matrix has the counts of analysis_run_migration, cell by cell
    page = response.content.decode()
    assert response.status_code == 200
    expected = analysis_run_migration(before=previous, after=latest).counts
    shown = _matrix(page)
    assert len(shown) == (len(TIER_CODES) + 1) ** 2
    for before in [*TIER_CODES, NEW]:
        for after in [*TIER_CODES, LOST]:
            assert shown[(before, after)] == int(expected.loc[before, after]), (before, after)
    assert sum(shown.values()) > 0 and shown[(NEW, "very_low")] >= 0
    # and the charts, tiles and segment actions are there, drawn inline (no script, no CDN)
    for anchor in ('id="pyramid"', 'id="heatmap"', 'id="lorenz"', 'id="migration"'):
        assert anchor in page
    # pyramid, heatmap, Lorenz; the three KPI trend charts and the cohort heatmap
    assert page.count("<svg") == 7
    # nothing from another host (a bare "cdn" also turns up in random CSRF tokens)
    assert not re.search(r'(?:src|href)\s*=\s*"(?:https?:)?//', page)
    assert 'id="trends"' in page and 'id="cohorts"' in page
    assert 'id="kpi-customers"' in page and 'class="delta' in page
    assert SEGMENTS[0].action["en"].split(";")[0] in page
    assert f"{latest.figures['customers']:,}" in page


def test_dashboard_reads_stored_runs_only(
    demo_with_runs: dict[str, Any], admin_client: Client, django_assert_max_num_queries: Any
) -> None:
    admin_client.get("/")  # warm the session and the migration cache
    with django_assert_max_num_queries(8):
        assert admin_client.get("/").status_code == 200


def test_dashboard_without_runs_shows_the_store_and_a_hint(admin_client: Client) -> None:
    demo_load(customers=60, seed=2, runs=False)
    assert not AnalysisRun.objects.exists()

    page = admin_client.get("/", headers={"accept-language": "en"}).content.decode()
    assert "No value analysis yet" in page and "patron analyze" in page
    assert "60" in page and 'id="migration"' not in page

    page_zh = admin_client.get("/", headers={"accept-language": "zh-hans"}).content.decode()
    assert "尚无客户价值分析" in page_zh and "patron analyze" in page_zh


def test_dashboard_in_chinese(demo_with_runs: dict[str, Any], admin_client: Client) -> None:
    page = admin_client.get("/", headers={"accept-language": "zh-hans"}).content.decode()
    for label in ("客户金字塔", "层级迁移", "客户细分与建议行动", "冠军客户", "很高", "新客户"):
        assert label in page, label
    assert SEGMENTS[0].action["zh-hans"] in page
    assert "Value pyramid" not in page and "Recommended action" not in page


def test_value_panel_shows_the_latest_scores(
    demo_with_runs: dict[str, Any], admin_client: Client
) -> None:
    latest = analysis_run_latest()
    previous = analysis_run_previous(run=latest)
    score = (
        CustomerScore.objects.filter(run=latest, customer__scores__run=previous)
        .select_related("customer")
        .first()
    )
    assert score is not None
    before = CustomerScore.objects.get(run=previous, customer=score.customer)
    segment = next(s for s in SEGMENTS if s.code == score.segment)

    page = admin_client.get(
        f"/customers/{score.customer.external_id}/", headers={"accept-language": "en"}
    ).content.decode()
    panel = page[page.index('id="value"') :]
    panel = panel[: panel.index("</section>")]
    assert f'data-segment="{score.segment}"' in panel and escape(segment.label["en"]) in panel
    assert f'data-tier="{score.value_tier}"' in panel
    assert f"{score.r_score} / {score.f_score} / {score.m_score}" in panel
    tier_before = next(t for t in TIERS if t.code == before.value_tier)
    assert tier_before.label["en"] in panel.split("tier-before", 1)[1].split("</span>", 1)[0]

    page_zh = admin_client.get(
        f"/customers/{score.customer.external_id}/", headers={"accept-language": "zh-hans"}
    ).content.decode()
    assert escape(segment.label["zh-hans"]) in page_zh and "客户价值" in page_zh


def test_customer_list_filters_by_tier_segment_and_risk_of_the_latest_run(
    client: Any, make_user: Any
) -> None:
    from patron.customers.selectors import customer_filter
    from patron.insights.models import CustomerScore
    from patron.insights.selectors import analysis_run_latest

    demo_load(customers=300, seed=5)
    run = analysis_run_latest()
    assert run is not None
    score = CustomerScore.objects.filter(run=run).exclude(risk_level=None).first()
    assert score is not None
    # when
    picked = customer_filter(
        value_tier=score.value_tier, segment=score.segment, risk_level=score.risk_level
    )
    # then exactly the customers with those scores in the latest run
    expected = set(
        CustomerScore.objects.filter(
            run=run, value_tier=score.value_tier, segment=score.segment, risk_level=score.risk_level
        ).values_list("customer__external_id", flat=True)
    )
    assert set(picked.values_list("external_id", flat=True)) == expected
    assert score.customer.external_id in expected
    # and the web list offers the same filter: its first page starts with the first match
    client.force_login(make_user("viewer", role="analyst"))
    response = client.get("/customers/", {"segment": score.segment, "sort": "id"})
    assert response.status_code == 200
    segment_ids = set(
        CustomerScore.objects.filter(run=run, segment=score.segment).values_list(
            "customer__external_id", flat=True
        )
    )
    first_outside = min(
        set(CustomerScore.objects.filter(run=run).values_list("customer__external_id", flat=True))
        - segment_ids
    )
    page = response.content.decode()
    assert min(segment_ids) in page
    assert first_outside not in page or first_outside > max(segment_ids)


def test_dashboard_tiles_show_predicted_value_and_value_at_risk(
    demo_with_runs: dict[str, Any], admin_client: Client
) -> None:
    from patron.web.templatetags.patron import money

    latest = analysis_run_latest()
    assert latest is not None
    predictive = latest.figures["predictive"]
    page = admin_client.get("/").content.decode()
    for key in ("predicted_value", "value_at_risk"):
        tile = re.search(rf'id="kpi-{key}">(.*?)</div>', page, re.S)
        assert tile is not None, key
        assert escape(money(predictive[key])) in tile.group(1)
        assert 'class="delta' in tile.group(1)  # the change since the previous run


@pytest.mark.parametrize(
    ("language", "heading", "button"),
    [("en", "No orders yet", "Import a file"), ("zh-hans", "还没有订单", "导入文件")],
)
def test_an_empty_store_points_to_the_import_page_not_to_an_analysis(
    admin_client: Client, make_user: Any, language: str, heading: str, button: str
) -> None:
    # given a fresh installation: no orders, no runs
    # when an administrator opens the dashboard
    page = admin_client.get("/", headers={"accept-language": language}).content.decode()
    # then it asks for an import, with a link to the import page, and offers no analysis
    # (which could only fail) and no customer search (there is nobody to find)
    assert heading in page and button in page and 'href="/imports/"' in page
    assert 'id="run-analysis-link"' not in page and 'id="no-analysis"' not in page
    assert "/customers/" not in page.split("</header>", 1)[1]
    # an analyst cannot import: the page says who can
    analyst = Client(headers={"accept-language": "en"})
    analyst.force_login(make_user("ann", "analyst"))
    seen = analyst.get("/").content.decode()
    assert "Ask an administrator or someone in marketing" in seen
    assert 'id="import-first"' not in seen


def test_predictions_without_a_run_point_to_the_run_analysis_button(admin_client: Client) -> None:
    page = admin_client.get(
        "/reports/predictions/", headers={"accept-language": "zh-hans"}
    ).content.decode()
    assert "尚无客户价值分析" in page and "运行分析" in page


def test_dashboard_compares_any_two_runs_by_segment(
    demo_with_runs: dict[str, Any], admin_client: Client
) -> None:
    # given the demo's two runs, chosen the other way round (the later one as "against")
    earlier, later = demo_with_runs["runs"]
    before, after = AnalysisRun.objects.get(pk=later), AnalysisRun.objects.get(pk=earlier)

    # when the dashboard is asked for the segment migration between them
    response = admin_client.get(f"/?run={earlier}&against={later}&by=segment")

    # then the matrix is the segment migration from the later run to the earlier, cell by cell
    page = response.content.decode()
    assert response.status_code == 200
    expected = analysis_run_migration(before=before, after=after, column="segment").counts
    shown = _matrix(page)
    assert len(shown) == (len(SEGMENT_CODES) + 1) ** 2
    for b in [*SEGMENT_CODES, NEW]:
        for a in [*SEGMENT_CODES, LOST]:
            assert shown[(b, a)] == int(expected.loc[b, a]), (b, a)
    # and customers absent from a run are not confused with the segments "new" and "lost"
    assert "Not in the earlier run" in page and "Not in the later run" in page
    assert "Same segment" in page
    # and both runs are offered in the chooser, with the chosen ones selected
    assert f'<option value="{earlier}" selected>' in page
    assert f'<option value="{later}" selected>' in page


def test_dashboard_names_a_run_that_does_not_exist(
    demo_with_runs: dict[str, Any], admin_client: Client
) -> None:
    huge = "9" * 30  # past any database integer
    chinese = {"accept-language": "zh-hans"}
    response = admin_client.get(f"/?run=99999&against={huge}", headers=chinese)
    page = response.content.decode()
    assert response.status_code == 200
    assert "没有已完成的分析 99999" in page and f"没有已完成的分析 {huge[:20]}" in page
    # and the latest run is shown against the one before it, as without the query
    latest = analysis_run_latest()
    assert latest is not None and f'<option value="{latest.pk}" selected>' in page
    previous = analysis_run_previous(run=latest)
    assert previous is not None and f'<option value="{previous.pk}" selected>' in page
    assert len(_matrix(page)) == (len(TIER_CODES) + 1) ** 2


def test_dashboard_shows_the_four_profit_groups_of_the_run(
    demo_with_runs: dict[str, Any], admin_client: Client
) -> None:
    # given the latest run's stored scores, counted here by the rule (top 20/30/50 % of the
    # customers with a positive value; the others no profit), on the pyramid's value
    latest = analysis_run_latest()
    assert latest is not None
    basis = latest.figures["value_basis"]
    values = sorted(
        (float(v), c)
        for c, v in CustomerScore.objects.filter(run=latest).values_list(
            "customer__external_id", basis
        )
    )
    positive = sum(1 for v, _ in values if v > 0)
    high, medium = math.ceil(0.2 * positive), math.ceil(0.5 * positive) - math.ceil(0.2 * positive)
    expected = {"high": high, "medium": medium, "low": positive - high - medium}
    expected["no_profit"] = len(values) - positive

    # when the dashboard opens, in Chinese
    page = admin_client.get("/", headers={"accept-language": "zh-hans"}).content.decode()

    # then the profit-group card counts the same customers
    assert "利润分组" in page
    shown = dict(
        re.findall(r'<tr data-group="([a-z_]+)"><td>[^<]+</td><td class="num">([\d,]+)', page)
    )
    assert {k: int(v.replace(",", "")) for k, v in shown.items()} == expected
