"""Value in the customer list: the latest run's figures as sorts (keyset pages that neither skip
nor repeat, checked against a sort in Python), as filters, and in the exports with readable
values (男/女, tier and segment names) in the user's language."""

from __future__ import annotations

import csv
import io
import random
from datetime import date, timedelta
from decimal import Decimal
from typing import Any

import pytest
from django.test import Client

from patron.customers.models import Customer, SavedView
from patron.customers.selectors import customer_filter, customer_page
from patron.customers.values import SCORE_SORT_KEYS, TIER_RANK
from patron.insights.models import AnalysisRun, CustomerScore, RunStatus

pytestmark = pytest.mark.django_db

AS_OF = date(2024, 6, 30)
TIERS = ("very_high", "high", "moderate", "low", "very_low")
SEGMENTS = ("champions", "loyal", "at_risk", "lost")
FIGURE = {
    "tier": lambda s: TIER_RANK[s.value_tier],
    "segment": lambda s: -SEGMENTS.index(s.segment),  # the test's segments are in rank order
    "revenue": lambda s: s.revenue,
    "profit": lambda s: s.profit,
    "last_purchase": lambda s: -s.recency_days,
    "orders": lambda s: s.frequency,
    "clv": lambda s: s.clv,
    "p_alive": lambda s: s.p_alive,
    "risk": lambda s: {"high": 3, "medium": 2, "low": 1}[s.risk_level],
}


@pytest.fixture
def scored() -> dict[str, CustomerScore]:
    rng = random.Random(16)
    old = AnalysisRun.objects.create(
        as_of=AS_OF - timedelta(days=30), code_version="t", status=RunStatus.COMPLETED
    )
    run = AnalysisRun.objects.create(as_of=AS_OF, code_version="t", status=RunStatus.COMPLETED)
    scores = {}
    for n in range(23):
        customer = Customer.objects.create(
            external_id=f"V{n:03d}", name=f"客户{n}", gender="mf"[n % 2]
        )
        for each in (old, run):
            score = CustomerScore.objects.create(
                run=each,
                customer=customer,
                recency_days=rng.choice([3, 40, 40, 400]),
                frequency=rng.choice([1, 2, 2, 9]),
                monetary=Decimal("1"),
                r_score=1,
                f_score=1,
                m_score=1,
                segment=rng.choice(SEGMENTS),
                value_tier=rng.choice(TIERS),
                revenue=Decimal(rng.choice(["10.00", "99.50", "99.50", "1200.00"])),
                cost_to_serve=Decimal("0"),
                profit=Decimal(rng.choice(["-5.00", "20.00", "20.00"])),
                p_alive=rng.choice([0.1, 0.5, 0.5, 0.95]),
                clv=Decimal(rng.choice(["0.00", "35.10", "35.10", "880.00"])),
                risk_level=rng.choice(["high", "medium", "low"]),
            )
        scores[customer.external_id] = score  # the latest run's
    Customer.objects.create(external_id="V999", name="新客户")  # not in any run yet
    return scores


@pytest.mark.parametrize("key", [*SCORE_SORT_KEYS, "-clv", "-last_purchase"])
def test_sorting_by_a_figure_pages_through_every_customer_once_in_order(
    scored: dict[str, CustomerScore], key: str
) -> None:
    # given the expected order: by the latest run's figure, then by id, unscored last
    name, descending = key.removeprefix("-"), not key.startswith("-")
    ranked = sorted(
        scored.values(),
        key=lambda s: (FIGURE[name](s), s.customer_id),
        reverse=descending,
    )
    expected = [s.customer.external_id for s in ranked]
    expected = [*expected, "V999"] if descending else ["V999", *expected]
    # when walked five at a time, forwards
    seen, cursor, pages = [], "", []
    while True:
        page = customer_page(queryset=customer_filter(), sort=key, after=cursor, size=5)
        pages.append(page)
        seen += [c.external_id for c in page.customers]
        if not page.next_cursor:
            break
        cursor = page.next_cursor
    # then every customer once, in the order of the figure
    assert seen == expected
    # and back from the third page, the second page again
    back = customer_page(
        queryset=customer_filter(), sort=key, before=pages[2].previous_cursor, size=5
    )
    assert [c.external_id for c in back.customers] == expected[5:10]


def test_range_filters_read_the_latest_run(scored: dict[str, CustomerScore]) -> None:
    def ids(**ranges: Any) -> list[str]:
        found = customer_filter(ranges=ranges).values_list("external_id", flat=True)
        return sorted(found)

    def expect(test: Any) -> list[str]:
        return sorted(i for i, s in scored.items() if test(s))

    assert ids(revenue_min=Decimal("100")) == expect(lambda s: s.revenue >= 100)
    assert ids(clv_max=Decimal("35.10")) == expect(lambda s: s.clv <= Decimal("35.10"))
    assert ids(orders_min=2, orders_max=2) == expect(lambda s: s.frequency == 2)
    assert ids(p_alive_max=50) == expect(lambda s: s.p_alive <= 0.5)
    assert ids(profit_max=Decimal("0")) == expect(lambda s: s.profit <= 0)
    since = AS_OF - timedelta(days=40)
    assert ids(last_purchase_from=since) == expect(lambda s: s.recency_days <= 40)
    assert ids(last_purchase_to=since) == expect(lambda s: s.recency_days >= 40)
    assert ids(revenue_min=None) == sorted([*scored, "V999"])  # an empty filter is no filter


def test_the_list_shows_the_figures_and_saves_views(
    scored: dict[str, CustomerScore], make_user: Any
) -> None:
    client = Client(headers={"accept-language": "zh-hans"})
    client.force_login(make_user("mia", "marketing"))
    page = client.get("/customers/", {"sort": "clv", "q": "V003"}).content.decode()
    score = scored["V003"]
    assert f"¥{score.clv:,.2f}" in page and f"¥{score.revenue:,.2f}" in page
    assert (AS_OF - timedelta(days=score.recency_days)).isoformat() in page
    assert 'aria-sort="descending"' in page  # the CLV header shows the sort
    response = client.post(
        "/customers/views/", {"name": "高价值", "query": "sort=clv&after=abc&value_tier=high"}
    )
    view = SavedView.objects.get(name="高价值")
    assert view.query == "sort=clv&value_tier=high"  # a page link is not part of the view
    assert response.headers["Location"] == "/customers/?sort=clv&value_tier=high"
    assert "高价值" in client.get("/customers/").content.decode()
    # another user cannot remove it
    other = Client()
    other.force_login(make_user("max", "marketing"))
    other.post(f"/customers/views/{view.pk}/delete/")
    assert SavedView.objects.filter(pk=view.pk).exists()
    client.post(f"/customers/views/{view.pk}/delete/")
    assert not SavedView.objects.filter(pk=view.pk).exists()


def test_the_export_carries_the_figures_with_readable_values(
    scored: dict[str, CustomerScore], make_user: Any
) -> None:
    client = Client(headers={"accept-language": "zh-hans"})
    client.force_login(make_user("mia", "marketing"))
    body = b"".join(client.get("/customers/export/csv/").streaming_content)
    rows = list(csv.reader(io.StringIO(body.decode("utf-8-sig"))))
    header, by_id = rows[0], {r[0]: dict(zip(rows[0], r, strict=True)) for r in rows[1:]}
    assert header[12:] == [
        "价值层级", "细分", "收入", "利润", "最近购买", "订单", "客户终身价值",
        "存活概率 P(alive)", "流失风险",
    ]  # fmt: skip
    row, score = by_id["V000"], scored["V000"]
    assert row["性别"] == "男" and by_id["V001"]["性别"] == "女"
    tier = {"very_high": "很高", "high": "高", "moderate": "适度", "low": "低", "very_low": "很低"}
    assert row["价值层级"] == tier[score.value_tier]
    assert row["收入"] == str(score.revenue) and row["客户终身价值"] == str(score.clv)
    assert row["最近购买"] == (AS_OF - timedelta(days=score.recency_days)).isoformat()
    assert row["存活概率 P(alive)"] == f"{score.p_alive * 100:.0f}%"
    assert row["流失风险"] == {"high": "高", "medium": "中", "low": "低"}[score.risk_level]
    assert by_id["V999"]["价值层级"] == ""  # not in the run: empty, not made up
