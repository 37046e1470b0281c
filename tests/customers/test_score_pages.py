"""The customer list sorted by a run figure, read from the scores table (customers/score_pages.py)
and by the joined sort it replaces on long lists: both give, page by page, exactly the order of an
independent pandas sort of the same figures (ties by customer pk; customers without the figure
last when descending, first when ascending), with and without filters, forwards, backwards and
from a deep page. Runs on SQLite and, with PATRON_DATABASE_URL, on PostgreSQL."""

from __future__ import annotations

import base64
import json
import random
from datetime import date
from decimal import Decimal
from typing import Any

import pandas as pd
import pytest

from patron.customers import selectors
from patron.customers.models import Customer
from patron.customers.selectors import customer_filter, customer_page
from patron.customers.values import _NONE, RISK_RANK, SCORE_SORT_KEYS, TIER_RANK, _segment_rank
from patron.insights.models import AnalysisRun, CustomerScore, RunStatus

pytestmark = pytest.mark.django_db

SEGMENTS = list(_segment_rank())
# "moderate" and "medium" share a rank; "odd" is a code the list does not rank (sorts as none)
TIER_CODES = ["very_high", "high", "moderate", "medium", "low", "very_low", "no_profit", "odd"]
COLUMNS = {
    "tier": "value_tier",
    "segment": "segment",
    "risk": "risk_level",
    "revenue": "revenue",
    "profit": "profit",
    "clv": "clv",
    "orders": "frequency",
    "p_alive": "p_alive",
    "last_purchase": "recency_days",
}


def _maybe(rng: random.Random, value: Any) -> Any:
    return None if rng.random() < 0.1 else value


@pytest.fixture
def store() -> pd.DataFrame:
    """240 customers, 200 scored by the latest run (an older run scores everyone otherwise),
    with many ties and some missing figures; the latest run's figures as a frame."""
    rng = random.Random(1606)
    customers = Customer.objects.bulk_create(
        Customer(external_id=f"S{n:04d}", name=f"客户{n}", region=rng.choice(["华东", "华南"]))
        for n in range(240)
    )
    rng.shuffle(customers)  # pk order is not score order
    old = AnalysisRun.objects.create(
        as_of=date(2024, 5, 31), code_version="t", status=RunStatus.COMPLETED
    )
    run = AnalysisRun.objects.create(
        as_of=date(2024, 6, 30), code_version="t", status=RunStatus.COMPLETED
    )
    scores = []
    for index, customer in enumerate(customers):
        for each in (old, run):
            if each is run and index >= 200:
                continue  # not scored by the latest run
            scores.append(
                CustomerScore(
                    run=each,
                    customer=customer,
                    recency_days=_maybe(rng, rng.choice([0, 3, 40, 40, 400])),
                    frequency=rng.choice([1, 2, 2, 9]),
                    monetary=Decimal("1"),
                    r_score=1,
                    f_score=1,
                    m_score=1,
                    segment=rng.choice([*SEGMENTS, "unknown"]),
                    value_tier=rng.choice(TIER_CODES),
                    revenue=Decimal(rng.choice(["0.00", "10.00", "99.50", "99.50", "1200.00"])),
                    cost_to_serve=Decimal("0"),
                    profit=_maybe(rng, Decimal(rng.choice(["-5.00", "0.00", "20.00", "20.00"]))),
                    p_alive=_maybe(rng, rng.choice([0.0, 0.1, 0.5, 0.5, 1.0])),
                    clv=_maybe(rng, Decimal(rng.choice(["0.00", "35.10", "35.10", "880.00"]))),
                    risk_level=_maybe(rng, rng.choice(["high", "medium", "low", "odd"])),
                )
            )
    CustomerScore.objects.bulk_create(scores)
    rows = CustomerScore.objects.filter(run=run).values("customer_id", *COLUMNS.values())
    scored = pd.DataFrame.from_records(list(rows))
    everyone = pd.DataFrame.from_records(list(Customer.objects.values("id", "region")))
    return everyone.merge(scored, how="left", left_on="id", right_on="customer_id")


def _expected(frame: pd.DataFrame, key: str) -> list[int]:
    """Customer pks in the order of ``key``, by pandas alone."""
    name, descending = key.removeprefix("-"), not key.startswith("-")
    column = frame[COLUMNS[name]]
    ranks = {"tier": TIER_RANK, "risk": RISK_RANK, "segment": _segment_rank()}.get(name)
    if ranks is not None:
        value = column.map(ranks)
    elif name == "last_purchase":
        value = -column.astype(float)
    else:
        value = column.astype(float)
    table = pd.DataFrame({"value": value.fillna(float(_NONE)), "pk": frame["id"]})
    table = table.sort_values(["value", "pk"], ascending=not descending, kind="stable")
    return table["pk"].tolist()


def _cursor(frame: pd.DataFrame, key: str, pk: int) -> str:
    """A page link after customer ``pk`` (the sort value as the list writes it)."""
    name = key.removeprefix("-")
    row = frame.loc[frame["id"] == pk].iloc[0]
    raw = row[COLUMNS[name]]
    ranks = {"tier": TIER_RANK, "risk": RISK_RANK, "segment": _segment_rank()}.get(name)
    if ranks is not None:
        value: Any = ranks.get(raw, _NONE) if isinstance(raw, str) else _NONE
    elif pd.isna(raw):
        value = str(Decimal(_NONE)) if name in ("revenue", "profit", "clv") else _NONE
    elif name == "last_purchase":
        value = -int(raw)
    elif name in ("revenue", "profit", "clv"):
        value = str(raw)
    else:
        value = raw.item() if hasattr(raw, "item") else raw
    text = json.dumps([value, pk]).encode()
    return base64.urlsafe_b64encode(text).decode().rstrip("=")


@pytest.fixture(params=["joined", "from scores"])
def path(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> str:
    if request.param == "from scores":  # the path of lists longer than the count cap
        monkeypatch.setattr(selectors, "SCORE_PAGES_FROM", 0)
    return str(request.param)


def _pks(page: Any) -> list[int]:
    return [c.pk for c in page.customers]


@pytest.mark.parametrize("key", [*SCORE_SORT_KEYS, *(f"-{k}" for k in SCORE_SORT_KEYS)])
def test_pages_follow_a_pandas_sort(store: pd.DataFrame, path: str, key: str) -> None:
    expected = _expected(store, key)
    # the first pages, forwards
    seen, cursor = [], ""
    for _ in range(3):
        page = customer_page(queryset=customer_filter(), sort=key, after=cursor, size=25)
        seen += _pks(page)
        cursor = page.next_cursor or ""
    assert seen == expected[:75]
    # a deep page, from a link after the 180th customer (past the scored ones when descending)
    for start in (37, 180, 205):
        link = _cursor(store, key, expected[start - 1])
        deep = customer_page(queryset=customer_filter(), sort=key, after=link, size=25)
        assert _pks(deep) == expected[start : start + 25], start
        # and back: the 25 before it
        back = customer_page(queryset=customer_filter(), sort=key, before=link, size=25)
        assert _pks(back) == expected[max(start - 1 - 25, 0) : start - 1], start
    # the last page says there is no next one
    last = customer_page(
        queryset=customer_filter(), sort=key, after=_cursor(store, key, expected[-11]), size=25
    )
    assert _pks(last) == expected[-10:] and last.next_cursor is None


@pytest.mark.parametrize("key", ["clv", "-p_alive", "tier", "last_purchase"])
@pytest.mark.parametrize(
    ("filters", "keep"),
    [
        ({"value_tier": "high"}, lambda f: f["value_tier"] == "high"),
        ({"region": "华南"}, lambda f: f["region"] == "华南"),
        (
            {"ranges": {"revenue_min": Decimal("99")}},
            lambda f: pd.notna(f["revenue"]) and f["revenue"] >= 99,
        ),
    ],
)
def test_filters_with_a_sort_follow_a_pandas_sort(
    store: pd.DataFrame, path: str, key: str, filters: dict[str, Any], keep: Any
) -> None:
    chosen = store[store.apply(lambda row: bool(keep(row)), axis=1)]
    expected = _expected(chosen, key)
    seen, cursor = [], ""
    while True:
        page = customer_page(queryset=customer_filter(**filters), sort=key, after=cursor, size=10)
        seen += _pks(page)
        if not page.next_cursor:
            break
        cursor = page.next_cursor
    assert seen == expected
