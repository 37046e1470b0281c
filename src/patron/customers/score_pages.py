"""Pages of the customer list sorted by a figure of the latest run, read from the scores table.

The list's order by a run figure (``values.with_score_sort``) is (figure, customer pk), with the
customers the run did not score, or scored without that figure, all sharing the lowest value
(``values._NONE``), so they come last when descending and first when ascending. Joining every
customer to its score and sorting them all costs ~10 s per page at 1M customers; here the same
order is walked in two parts, each through an index, and only a page's worth is read:

- the scored part, from CustomerScore's (run, figure, customer) indexes (a tier, segment or
  risk sort walks each code's (run, code, customer) range in rank order, merging codes of equal
  rank by customer pk);
- the rest, customers by pk without such a score (an anti-join probing (run, customer)).

A filtered list keeps its filter as ``customer IN (the filtered customers)``. The result is the
same sequence of (sort value, customer pk) as the joined query (tests compare both with pandas).
"""

from __future__ import annotations

import heapq
from decimal import Decimal
from typing import Any

from django.db.models import Exists, OuterRef, Q, QuerySet

from patron.customers.models import Customer
from patron.customers.values import _NONE, RISK_RANK, TIER_RANK, _segment_rank, score_sort

#: Sort key -> (score field, the sort value is minus the field). ``last_purchase`` is the
#: fewest days since the last purchase.
NUMERIC_FIGURES: dict[str, tuple[str, bool]] = {
    "revenue": ("revenue", False),
    "profit": ("profit", False),
    "clv": ("clv", False),
    "orders": ("frequency", False),
    "p_alive": ("p_alive", False),
    "last_purchase": ("recency_days", True),
}
RANKED_FIGURES = {"tier": "value_tier", "segment": "segment", "risk": "risk_level"}


def _ranks(key: str) -> dict[str, int]:
    if key == "tier":
        return TIER_RANK
    if key == "risk":
        return RISK_RANK
    return _segment_rank()


def _scores(run_id: int, queryset: QuerySet[Customer]) -> QuerySet[Any]:
    from patron.insights.models import CustomerScore

    scores = CustomerScore.objects.filter(run_id=run_id)
    if queryset.query.where:  # a filtered list: only its customers
        # a correlated EXISTS, so that the figure's index leads: with ``IN`` SQLite reads the
        # whole filtered set (170k of a tier at 1M) and sorts it
        scores = scores.filter(Exists(queryset.order_by().filter(pk=OuterRef("customer_id"))))
    return scores


def _after(name: str, value: Any, descending: bool) -> Q:
    return Q(**{f"{name}__{'lt' if descending else 'gt'}": value})


def _numeric_part(
    scores: QuerySet[Any], key: str, bound: tuple[Any, int] | None, descending: bool, need: int
) -> list[tuple[Any, int]]:
    """(sort value, customer pk) of scored customers in order, after ``bound``."""
    field, negated = NUMERIC_FIGURES[key]
    field_descending = descending != negated
    query = scores.filter(**{f"{field}__isnull": False})
    if bound is not None:
        value, pk = bound
        field_value = -int(value) if negated else value
        inclusive = "lte" if field_descending else "gte"
        query = query.filter(
            Q(**{f"{field}__{inclusive}": field_value})
            & (
                _after(field, field_value, field_descending)
                | (Q(**{field: field_value}) & _after("customer_id", pk, descending))
            )
        )
    order = [("-" if field_descending else "") + field, ("-" if descending else "") + "customer_id"]
    rows = query.order_by(*order).values_list(field, "customer_id")[:need]
    return [(-v if negated else v, pk) for v, pk in rows]


def _ranked_part(
    scores: QuerySet[Any], key: str, bound: tuple[Any, int] | None, descending: bool, need: int
) -> list[tuple[Any, int]]:
    field = RANKED_FIGURES[key]
    levels: dict[int, list[str]] = {}
    for code, rank in _ranks(key).items():
        levels.setdefault(rank, []).append(code)
    found: list[tuple[Any, int]] = []
    for rank in sorted(levels, reverse=descending):
        if bound is not None and (rank > bound[0] if descending else rank < bound[0]):
            continue  # before the page
        streams = []
        for code in levels[rank]:
            query = scores.filter(**{field: code})
            if bound is not None and rank == bound[0]:
                query = query.filter(_after("customer_id", bound[1], descending))
            order = ("-" if descending else "") + "customer_id"
            pks = list(query.order_by(order).values_list("customer_id", flat=True)[:need])
            streams.append(pks)
        merged = heapq.merge(*streams, reverse=descending)
        found.extend((rank, pk) for pk in merged)
        if len(found) >= need:
            return found[:need]
    return found


def _unscored_part(
    queryset: QuerySet[Customer],
    run_id: int,
    key: str,
    after_pk: int | None,
    descending: bool,
    need: int,
) -> list[tuple[Any, int]]:
    """Customers without the figure in the run, by pk: they share the lowest sort value."""
    from patron.insights.models import CustomerScore

    if key in NUMERIC_FIGURES:
        has = Q(**{f"{NUMERIC_FIGURES[key][0]}__isnull": False})
    else:
        has = Q(**{f"{RANKED_FIGURES[key]}__in": list(_ranks(key))})
    scored = CustomerScore.objects.filter(has, run_id=run_id, customer_id=OuterRef("pk"))
    query = queryset.filter(~Exists(scored))
    if after_pk is not None:
        query = query.filter(_after("pk", after_pk, descending))
    pks = query.order_by(("-" if descending else "") + "pk").values_list("pk", flat=True)[:need]
    none = Decimal(_NONE) if key in ("revenue", "profit", "clv") else _NONE
    return [(none, pk) for pk in pks]


def score_sorted_keys(
    *,
    queryset: QuerySet[Customer],
    run_id: int | None,
    key: str,
    cursor: list[Any] | None,
    backward: bool,
    need: int,
) -> list[tuple[Any, int]]:
    """Up to ``need`` (sort value, customer pk) of ``queryset`` sorted by ``key`` (``clv``,
    ``-revenue``, ...), after the (sort value, pk) ``cursor`` (before it when ``backward``,
    then nearest first), exactly as the joined sort orders them."""
    found_sort = score_sort(key)
    assert found_sort is not None
    name, descending = found_sort
    descending = descending != backward  # the direction walked
    run = run_id if run_id is not None else -1
    part = _numeric_part if name in NUMERIC_FIGURES else _ranked_part
    in_unscored = cursor is not None and float(cursor[0]) == float(_NONE)
    bound = (cursor[0], int(cursor[1])) if cursor is not None and not in_unscored else None
    rows: list[tuple[Any, int]] = []
    if descending:  # the scored first, then the rest
        if not in_unscored:
            rows = part(_scores(run, queryset), name, bound, descending, need)
        if len(rows) < need:
            after_pk = int(cursor[1]) if in_unscored and cursor is not None else None
            rows += _unscored_part(queryset, run, name, after_pk, descending, need - len(rows))
        return rows
    if cursor is None or in_unscored:
        after_pk = int(cursor[1]) if cursor is not None else None
        rows = _unscored_part(queryset, run, name, after_pk, descending, need)
    if len(rows) < need:
        rows += part(_scores(run, queryset), name, bound, descending, need - len(rows))
    return rows
