"""The dashboard's KPI trends and cohort heatmap show what a plain pandas computation finds.

A small seeded shop is written to the store, analysed (``analysis_run_create``, as
``patron analyze`` does), and the dashboard's figures, read back from its HTML, are compared
with an independent pandas reference written from the definitions in docs/analytics/value.md.
"""

from __future__ import annotations

import datetime as dt
import math
import re
from decimal import Decimal
from typing import Any

import numpy as np
import pandas as pd
import pytest
from django.test import Client

from patron.customers.models import Customer
from patron.insights.services import analysis_run_create
from patron.sales.models import Order

# The analysis reads the store on its own connection, so the data must be committed.
pytestmark = pytest.mark.django_db(transaction=True)

W = 90  # lost after this many days without a purchase (the default setting)
LAST_DAY = dt.date(2024, 9, 20)  # orders go on after the analysis dates: they must not count


def _month(day: dt.date) -> int:
    return day.year * 12 + day.month - 1


def _first_of(index: int) -> dt.date:
    return dt.date(index // 12, index % 12 + 1, 1)


def _orders(seed: int = 11, customers: int = 36) -> pd.DataFrame:
    """Seeded purchases with long gaps (so customers lapse and come back), same-day second
    orders, returns and cancelled orders."""
    rng = np.random.default_rng(seed)
    rows = []
    n = 0
    for c in range(customers):
        day = dt.date(2024, 1, 1) + dt.timedelta(days=int(rng.integers(0, 200)))
        while day <= LAST_DAY:
            n += 1
            amount = Decimal(int(rng.integers(500, 20_000))) / 100
            rows.append((f"C{c:02d}", f"O{n}", day, amount, "completed"))
            if rng.random() < 0.15:  # a second order the same day: one purchase day, two orders
                n += 1
                rows.append((f"C{c:02d}", f"O{n}", day, Decimal("12.30"), "completed"))
            if rng.random() < 0.1:  # a partial return a few days later
                n += 1
                back = day + dt.timedelta(days=int(rng.integers(1, 10)))
                rows.append((f"C{c:02d}", f"O{n}", back, -amount / 2, "returned"))
            if rng.random() < 0.1:  # a cancelled order never counts
                n += 1
                rows.append((f"C{c:02d}", f"O{n}", day, Decimal("99.00"), "cancelled"))
            day += dt.timedelta(days=int(rng.exponential(45)) + 1)
    frame = pd.DataFrame(rows, columns=["customer", "order", "day", "amount", "status"])
    return frame


def _store(frame: pd.DataFrame) -> None:
    ids = {}
    for code in sorted(frame["customer"].unique()):
        ids[code] = Customer.objects.create(external_id=code, name=code).pk
    Order.objects.bulk_create(
        Order(
            external_id=row.order,
            customer_id=ids[row.customer],
            ordered_at=dt.datetime(row.day.year, row.day.month, row.day.day, 4, tzinfo=dt.UTC),
            ordered_on=row.day,
            amount=row.amount,
            status=row.status,
        )
        for row in frame.itertuples()
    )


def reference_kpis(frame: pd.DataFrame, as_of: dt.date) -> pd.DataFrame:
    """Monthly KPIs from the definitions, customer by customer."""
    live = frame[(frame["status"] != "cancelled") & (frame["day"] <= as_of)]
    buys = live[live["status"] == "completed"]
    days = buys.groupby("customer")["day"].apply(lambda s: sorted(set(s))).to_dict()
    first_month = min(_month(d) for d in live["day"])
    months = range(first_month, _month(as_of) + 1)
    lost = dict.fromkeys(months, 0)
    for seq in days.values():
        for d, after in zip(seq, [*seq[1:], None], strict=True):
            if after is None or (after - d).days > W:
                lost_on = d + dt.timedelta(days=W + 1)
                if lost_on <= as_of:
                    lost[_month(lost_on)] += 1
    out = []
    previous: set[str] = set()
    for m in months:
        start, end = _first_of(m), _first_of(m + 1) - dt.timedelta(days=1)
        active = {c for c, seq in days.items() if any(_month(d) == m for d in seq)}
        new = sum(1 for seq in days.values() if _month(seq[0]) == m)
        at_start = 0
        for seq in days.values():
            before = [d for d in seq if d < start]
            if before and (start - before[-1]).days <= W + 1:
                at_start += 1
        orders_to_date = buys[buys["day"] <= end].groupby("customer")["order"].nunique()
        repeat = sum(1 for c in active if orders_to_date.get(c, 0) >= 2)
        cents = int((live[live["day"].map(_month) == m]["amount"] * 100).sum())
        out.append(
            {
                "month": start.isoformat(),
                "active_customers": len(active),
                "new_customers": new,
                "lost_customers": lost[m],
                "churn_rate": lost[m] / at_start if at_start else math.nan,
                "retention_rate": len(active & previous) / len(previous) if previous else math.nan,
                "repeat_purchase_rate": repeat / len(active) if active else math.nan,
                "revenue_per_customer": math.floor(cents / len(active) + 0.5) / 100
                if active
                else math.nan,
            }
        )
        previous = active
    return pd.DataFrame(out)


def reference_cohorts(frame: pd.DataFrame, as_of: dt.date) -> dict[str, tuple[int, list[float]]]:
    """Cohort month -> (size, share of the cohort buying k months after its first month)."""
    buys = frame[(frame["status"] == "completed") & (frame["day"] <= as_of)]
    months = buys.assign(m=buys["day"].map(_month))
    first = months.groupby("customer")["m"].min().rename("cohort")
    months = months.join(first, on="customer")
    out = {}
    for cohort, members in months.groupby("cohort"):
        size = members["customer"].nunique()
        shares = [
            members[members["m"] == cohort + k]["customer"].nunique() / size
            for k in range(_month(as_of) - int(cohort) + 1)
        ]
        out[_first_of(int(cohort)).isoformat()] = (size, shares)
    return out


def _kpi_table(page: str) -> dict[str, dict[str, float]]:
    table = page[page.index('id="kpi-table"') :]
    rows = {}
    for month, body in re.findall(r'<tr data-month="([^"]+)">(.*?)</tr>', table, re.S):
        cells = re.findall(r'data-key="([^"]+)" data-value="([^"]*)"', body)
        rows[month] = {k: float(v) if v else math.nan for k, v in cells}
    return rows


def _cohort_table(page: str) -> dict[str, tuple[int, dict[int, float]]]:
    table = page[page.index('id="cohort-table"') :]
    rows = {}
    pattern = r'<tr data-cohort="([^"]+)" data-size="(\d*)">(.*?)</tr>'
    for cohort, size, body in re.findall(pattern, table, re.S):
        cells = re.findall(r'data-since="(\d+)" data-share="([^"]*)"', body)
        rows[cohort] = (int(size), {int(k): float(v) for k, v in cells if v})
    return rows


@pytest.fixture
def shop() -> pd.DataFrame:
    frame = _orders()
    _store(frame)
    return frame


@pytest.fixture
def admin_client(make_user: Any) -> Client:
    client = Client()
    client.force_login(make_user("ada", "admin"))
    return client


def test_trends_and_cohorts_equal_a_pandas_reference(
    shop: pd.DataFrame, admin_client: Client
) -> None:
    # given a run as of the end of August (every month complete)
    as_of = dt.date(2024, 8, 31)
    analysis_run_create(as_of=as_of)
    expected = reference_kpis(shop, as_of)
    assert expected["lost_customers"].sum() > 0 and expected["churn_rate"].notna().any()

    # when the dashboard opens
    page = admin_client.get("/", headers={"accept-language": "en"}).content.decode()

    # then the KPI table has the reference's figures, month by month
    shown = _kpi_table(page)
    assert list(shown) == expected["month"].tolist()
    for row in expected.to_dict("records"):
        for key, value in row.items():
            if key == "month":
                continue
            got = shown[row["month"]][key]
            if math.isnan(value):
                assert math.isnan(got), (row["month"], key)
            else:
                assert got == pytest.approx(value, abs=1e-12), (row["month"], key)
    # and the charts draw the same numbers (all months complete, so all charted)
    points = re.findall(
        r'data-series="active_customers" data-month="([^"]+)" data-value="([^"]+)"', page
    )
    assert [float(v) for _m, v in points] == expected["active_customers"].tolist()
    assert points[0][0] == _label(expected["month"].iloc[0])

    # and the cohort heatmap has the reference's sizes and shares (stored to four decimals)
    cohorts = _cohort_table(page)
    reference = reference_cohorts(shop, as_of)
    assert list(cohorts) == list(reference)
    for cohort, (size, shares) in reference.items():
        assert cohorts[cohort][0] == size
        assert len(cohorts[cohort][1]) == len(shares)
        for k, share in enumerate(shares):
            assert cohorts[cohort][1][k] == pytest.approx(share, abs=5e-5), (cohort, k)
    cells = re.findall(r'<rect [^>]*data-cohort="[^"]+" data-since="\d+" data-share=', page)
    assert len(cells) == sum(len(shares) for _size, shares in reference.values())


def _label(month: str) -> str:
    day = dt.date.fromisoformat(month)
    return day.strftime("%b %Y")


def test_a_month_in_progress_is_in_the_table_only(shop: pd.DataFrame, admin_client: Client) -> None:
    # given a run in the middle of August
    as_of = dt.date(2024, 8, 14)
    analysis_run_create(as_of=as_of)
    expected = reference_kpis(shop, as_of)

    page = admin_client.get("/", headers={"accept-language": "en"}).content.decode()

    # then August is in the table (marked) with the reference's figures, but not charted
    shown = _kpi_table(page)
    assert shown["2024-08-01"]["active_customers"] == expected["active_customers"].iloc[-1]
    assert "Aug 2024 *" in page
    months = set(re.findall(r'data-series="[a-z_]+" data-month="([^"]+)"', page))
    assert "Jul 2024" in months and "Aug 2024" not in months
    # and no cohort shows a share for August
    for cohort, (_size, cells) in _cohort_table(page).items():
        since = _month(dt.date(2024, 8, 1)) - _month(dt.date.fromisoformat(cohort))
        assert since not in cells and all(k < since for k in cells), cohort


def test_trends_in_chinese(shop: pd.DataFrame, admin_client: Client) -> None:
    analysis_run_create(as_of=dt.date(2024, 8, 31))
    page = admin_client.get("/", headers={"accept-language": "zh-hans"}).content.decode()
    for text in ("关键指标趋势", "同期群留存", "2024年3月", "流失率", "留存率", "复购率"):
        assert text in page, text
    assert "KPI trends" not in page and "Cohort retention" not in page
