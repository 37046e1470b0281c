"""Segment pages: the tiers and segments of the latest run, and a group's diagnosis checked
against an independent pandas and SciPy computation on the seeded demo business."""

from __future__ import annotations

import datetime as dt
import html
import math
import re
from typing import Any

import numpy as np
import pandas as pd
import pytest
from django.test import Client
from scipy import stats

from patron.analytics.segments import SEGMENT_CODES, SEGMENTS
from patron.analytics.tiers import TIER_CODES, TIERS
from patron.customers.models import Customer
from patron.demo.loader import demo_load
from patron.insights.models import CustomerScore
from patron.insights.selectors import analysis_run_latest
from patron.sales.models import OrderLine

# The analysis reads the store on its own connection, so the data must be committed.
pytestmark = pytest.mark.django_db(transaction=True)

AGE_EDGES = (0, 25, 35, 45, 55, 65, 1000)  # bands 0..5: under 25, 25-34, ..., 65 and over
MIN_COUNT = 5


@pytest.fixture
def demo() -> None:
    state = demo_load(customers=400, seed=5)
    assert len(state["runs"]) == 2


def _client(make_user: Any, role: str) -> Client:
    client = Client()
    client.force_login(make_user(f"user-{role}", role))
    return client


def _rows(page: str, table_id: str) -> dict[tuple[str, str], dict[str, str]]:
    """A diagnosis table's rows by (attribute, code), their data attributes as text."""
    table = page[page.index(f'id="{table_id}"') :]
    table = table[: table.index("</table>")]
    rows = {}
    for attrs in re.findall(r"<tr (data-attribute=[^>]*)>", table):
        data = {k: html.unescape(v) for k, v in re.findall(r'data-([a-z-]+)="([^"]*)"', attrs)}
        rows[(data["attribute"], data["code"])] = data
    return rows


# --- the independent reference ---------------------------------------------------------------


def _test(g: int, gs: int, r: int, rs: int) -> tuple[str, float]:
    """Fisher's exact test when an expected cell is below 5, else the chi-square test without
    continuity correction (for a 2×2 table the same p as the pooled two-proportion z-test)."""
    table = np.array([[g, gs - g], [r, rs - r]])
    expected = table.sum(1)[:, None] * table.sum(0)[None, :] / table.sum()
    if expected.min() < 5:
        return "fisher", float(stats.fisher_exact(table)[1])
    if table.sum(0).min() == 0:
        return "z", 1.0
    return "z", float(stats.chi2_contingency(table, correction=False)[1])


def _bh(p: list[float]) -> list[float]:
    """Benjamini-Hochberg q-values, by the textbook step-up rule."""
    m = len(p)
    order = sorted(range(m), key=lambda i: p[i])
    q = [0.0] * m
    running = 1.0
    for rank in range(m, 0, -1):
        i = order[rank - 1]
        running = min(running, p[i] * m / rank)
        q[i] = running
    return q


def _compare(frame: pd.DataFrame, in_group: pd.Series, column: str) -> list[dict[str, Any]]:
    rows = []
    known = frame[column].notna()
    gs, rs = int((in_group & known).sum()), int((~in_group & known).sum())
    for value in sorted(frame.loc[known, column].unique(), key=str):
        has = frame[column] == value
        g, r = int((has & in_group).sum()), int((has & ~in_group).sum())
        if g + r < MIN_COUNT:
            continue
        test, p = _test(g, gs, r, rs)
        lift = (g / gs) / (r / rs) if r else math.inf
        rows.append({"attribute": column, "code": str(value), "g": g, "gs": gs, "r": r,
                     "rs": rs, "lift": lift, "test": test, "p": p})  # fmt: skip
    return rows


def reference_diagnosis(kind: str, code: str) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    run = analysis_run_latest()
    assert run is not None
    scores = pd.DataFrame(
        list(CustomerScore.objects.filter(run=run).values("customer_id", "value_tier", "segment"))
    )
    people = pd.DataFrame(
        list(
            Customer.objects.values(
                "id", "gender", "birth_date", "region", "occupation", "acquisition_channel"
            )
        )
    ).rename(columns={"id": "customer_id"})
    frame = scores.merge(people, on="customer_id", how="left")
    in_group = frame["value_tier" if kind == "tier" else "segment"] == code
    frame["gender"] = frame["gender"].where(frame["gender"].isin(["f", "m"]))
    for column in ("region", "occupation", "acquisition_channel"):
        frame[column] = frame[column].replace("", np.nan)
    as_of = run.as_of
    ages = [
        np.nan
        if pd.isna(b)
        else as_of.year - b.year - ((as_of.month, as_of.day) < (b.month, b.day))
        for b in frame["birth_date"]
    ]
    frame["age_band"] = pd.cut(pd.Series(ages, dtype=float), AGE_EDGES, right=False, labels=False)
    attributes = []
    for column in ("gender", "age_band", "region", "occupation", "acquisition_channel"):
        values = frame[column]
        if column == "age_band":
            frame[column] = values.map(lambda v: np.nan if pd.isna(v) else str(int(v)))
        attributes.extend(_compare(frame, in_group, column))
    # categories: each customer's share of spend per category (pandas pivot), group mean
    # against rest mean, Welch's t-test (scipy), over customers with a positive spend
    lines = pd.DataFrame(
        list(
            OrderLine.objects.filter(product__isnull=False).values(
                "order__customer_id",
                "order__status",
                "order__ordered_on",
                "product__category",
                "amount",
            )
        )
    )
    kept = lines[
        lines["order__status"].isin(["completed", "open"])
        & (lines["order__ordered_on"] <= as_of)
        & (lines["product__category"] != "")
    ]
    spend = kept.assign(amount=kept["amount"].astype(float)).pivot_table(
        index="order__customer_id", columns="product__category", values="amount", aggfunc="sum"
    )
    spend = spend.reindex(frame["customer_id"]).fillna(0.0).clip(lower=0)
    totals = spend.sum(axis=1)
    positive = (totals > 0).to_numpy()
    shares = spend[positive].div(totals[positive], axis=0)
    group = in_group.to_numpy()[positive]
    categories = []
    for category in sorted(shares.columns):
        column = shares[category].to_numpy()
        g, r = int((column[group] > 0).sum()), int((column[~group] > 0).sum())
        if g + r < MIN_COUNT:
            continue
        gm, rm = column[group].mean(), column[~group].mean()
        p = float(stats.ttest_ind(column[group], column[~group], equal_var=False).pvalue)
        lift = gm / rm if rm else math.inf
        categories.append({"attribute": "category", "code": category, "g": g,
                           "gs": int(group.sum()), "r": r, "rs": int((~group).sum()),
                           "lift": lift, "test": "welch", "p": p})  # fmt: skip
    for table in (attributes, categories):
        for row, q in zip(table, _bh([row["p"] for row in table]), strict=True):
            row["significant"] = q < 0.05
    return attributes, categories


@pytest.mark.parametrize(("kind", "code"), [("tier", "very_low"), ("segment", "champions")])
def test_diagnosis_page_equals_a_pandas_reference(
    demo: None, make_user: Any, kind: str, code: str
) -> None:
    # given the demo's latest run and an independent computation of the group's diagnosis
    attributes, categories = reference_diagnosis(kind, code)
    assert attributes and categories

    # when an analyst opens the group's page
    response = _client(make_user, "analyst").get(
        f"/segments/{kind}/{code}/", headers={"accept-language": "en"}
    )

    # then both tables hold exactly the reference's rows, counts, lifts, tests and findings
    assert response.status_code == 200
    page = response.content.decode()
    for table_id, expected in (("attribute-table", attributes), ("category-table", categories)):
        shown = _rows(page, table_id)
        assert set(shown) == {(r["attribute"], r["code"]) for r in expected}, table_id
        for row in expected:
            got = shown[(row["attribute"], row["code"])]
            assert int(got["group-count"]) == row["g"] and int(got["group-size"]) == row["gs"]
            assert int(got["rest-count"]) == row["r"] and int(got["rest-size"]) == row["rs"]
            assert float(got["lift"]) == pytest.approx(row["lift"], rel=1e-12)
            assert got["test"] == row["test"], row
            assert float(got["p"]) == pytest.approx(row["p"], rel=1e-6, abs=1e-300), row
            assert got["significant"] == ("1" if row["significant"] else "0"), row
    # and the findings are sentences about significant rows, in English
    if any(r["significant"] for r in attributes + categories):
        section = page[page.index('id="findings"') :].split("</ul>")[0]
        findings = re.findall(r"<li>(.*?)</li>", section)
        assert findings and all(
            " as common in " in html.unescape(f) or " of the spend of " in html.unescape(f)
            for f in findings
        )
    else:  # champions buy more of everything, not something else: no category stands out
        assert "No attribute or product category differs significantly" in page
    # categories are compared by share of spend, and the page says so
    assert 'id="categories-by-spend"' in page
    # the diagnosis is the one the run stored (the page computed nothing)
    from patron.insights.models import RunDiagnosis

    run = analysis_run_latest()
    assert RunDiagnosis.objects.filter(run=run, kind=kind, code=code).exists()


def test_segment_list_and_pages_by_role(demo: None, make_user: Any) -> None:
    run = analysis_run_latest()
    assert run is not None
    analyst = _client(make_user, "analyst")

    # the list: every tier and segment with its count in the run and its links
    page = analyst.get("/segments/", headers={"accept-language": "en"}).content.decode()
    for column, codes, prefix in (
        ("value_tier", TIER_CODES, "tier"),
        ("segment", SEGMENT_CODES, "segment"),
    ):
        for code in codes:
            count = CustomerScore.objects.filter(run=run, **{column: code}).count()
            attr = "tier" if prefix == "tier" else "segment"
            assert f'data-{attr}="{code}" data-customers="{count}"' in page, code
            assert f'href="/segments/{prefix}/{code}/"' in page
            assert f'href="/customers/?{column}={code}"' in page
    assert TIERS[0].label["en"] in page and SEGMENTS[0].action["en"] in page

    # the customer list behind a link shows that tier's customers
    some = CustomerScore.objects.filter(run=run, value_tier="very_high").select_related("customer")
    listed = analyst.get("/customers/?value_tier=very_high&sort=id").content.decode()
    assert min(s.customer.external_id for s in some) in listed

    # who may open the pages (issue 4 and the roles of the permission matrix)
    for role, allowed in (("admin", True), ("marketing", True), ("analyst", True),
                          ("service", False)):  # fmt: skip
        client = _client(make_user, role) if role != "analyst" else analyst
        for url in ("/segments/", "/segments/tier/very_low/", "/segments/segment/lost/"):
            status = client.get(url).status_code
            assert status == (200 if allowed else 403), (role, url, status)
    visitor = Client().get("/segments/tier/very_low/")
    assert visitor.status_code == 302 and "/login/" in visitor["Location"]
    assert analyst.get("/segments/tier/champions/").status_code == 404  # a segment, not a tier
    assert analyst.get("/segments/cohort/very_low/").status_code == 404


def test_diagnosis_in_chinese_and_cached_for_the_run(
    demo: None, make_user: Any, django_assert_max_num_queries: Any
) -> None:
    client = _client(make_user, "marketing")
    page = client.get(
        "/segments/tier/very_low/", headers={"accept-language": "zh-hans"}
    ).content.decode()
    findings = re.findall(r"<li>(.*?)</li>", page[page.index('id="findings"') :].split("</ul>")[0])
    assert findings and all(
        "很低层级中的比例是其他客户的" in f or "占很低层级消费的" in f for f in findings
    ), findings
    for text in ("客户群分析", "商品类别", "职业", "提升度"):
        assert text in page, text
    assert "What sets this group apart" not in page

    # a second group of the same run reads what the run stored: no pass over order lines
    with django_assert_max_num_queries(7) as queries:  # + the stored diagnosis
        assert client.get("/segments/segment/at_risk/").status_code == 200
    assert not any("sales_orderline" in q["sql"] for q in queries.captured_queries)


def test_segment_pages_without_a_run(make_user: Any) -> None:
    client = _client(make_user, "admin")
    for url in ("/segments/", "/segments/tier/very_low/"):
        page = client.get(url, headers={"accept-language": "en"}).content.decode()
        assert "No value analysis yet" in page and "patron analyze" in page
    assert client.get("/segments/tier/nothing/").status_code == 404


def test_dates_are_ages_at_the_run() -> None:
    """The age bands of the page (patron.insights.diagnosis) against the reference's cut."""
    from patron.insights.diagnosis import _age_band

    as_of = dt.date(2024, 6, 30)
    born = [dt.date(1999, 7, 1), dt.date(1999, 6, 30), None, dt.date(1959, 6, 30),
            dt.date(1959, 7, 1), dt.date(2030, 1, 1)]  # fmt: skip
    bands = _age_band(born, as_of)
    # 24 (a day short of 25), 25, unknown, 65, 64, not born yet
    assert [None if pd.isna(b) else int(b) for b in bands] == [0, 1, None, 5, 4, None]
