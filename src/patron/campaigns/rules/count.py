"""Counting a segment fast: PostgreSQL settings for queries over a million ids, and a count
over one set's rows (a score, a purchase-summary range, a membership) instead of the
customers when the rules are an AND of such sets."""

from __future__ import annotations

import contextlib
import datetime as dt
from collections.abc import Iterator
from typing import Any

from django.db import connection, transaction
from django.db.models import Q, QuerySet
from django.utils import timezone

from patron.campaigns.rules.compile import Context, node_q, segment_queryset
from patron.campaigns.rules.validation import rules_parse


@contextlib.contextmanager
def large_query_settings() -> Iterator[None]:
    """Run the block's segment queries with room to hash a million ids (PostgreSQL).

    PostgreSQL turns ``id IN (subquery)`` under an OR into a hashed subplan only when the
    hash fits in ``work_mem``; past it (4 MB by default, about 300,000 ids) the subquery is
    scanned again for every customer and a count over a million customers takes minutes.
    Inside one transaction: ``work_mem`` of 256 MB, no JIT (its compile time is most of a
    sub-second count) and no parallel workers (each would build the same hashes again: three
    times the work for the same count). Nothing on SQLite.
    """
    if connection.vendor != "postgresql":
        yield
        return
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("SET LOCAL work_mem = '256MB'")
        cursor.execute("SET LOCAL jit = off")
        cursor.execute("SET LOCAL max_parallel_workers_per_gather = 0")
        yield


def segment_count(*, rules: Any, today: dt.date | None = None) -> int:
    """How many customers meet ``rules`` (raises like :func:`segment_queryset`)."""
    parsed = rules_parse(rules)
    with large_query_settings():
        fast = _count_within_a_set(parsed, today or timezone.localdate())
        if fast is not None:
            return fast
        return segment_queryset(rules=parsed, today=today).count()


# Sources whose id sets hold each customer at most once, all of them existing customers.
_ONE_ROW_PER_CUSTOMER = ("insights.customerscore", "sales.purchasesummary", "loyalty.member")


def _on_customer_id(q: Q) -> Q | None:
    """``q`` (conditions that are all ``pk IN (...)``) on a ``customer_id`` column instead;
    None when it holds any other kind of condition."""
    children: list[Any] = []
    for child in q.children:
        if isinstance(child, Q):
            moved = _on_customer_id(child)
            if moved is None:
                return None
            children.append(moved)
        elif isinstance(child, tuple) and child[0] in ("pk__in", "pk__isnull"):
            children.append((child[0].replace("pk__", "customer_id__"), child[1]))
        else:
            return None
    return Q(*children, _connector=q.connector, _negated=q.negated)


def _id_set(q: Q) -> QuerySet[Any] | None:
    """The id query of a condition that is ``pk IN (query)``, else None."""
    if q.negated or len(q.children) != 1 or not isinstance(q.children[0], tuple):
        return None
    lookup, value = q.children[0]
    return value if lookup == "pk__in" and isinstance(value, QuerySet) else None


def _count_within_a_set(rules: Any, today: dt.date) -> int | None:
    """The count of ``{"all": [...]}`` rules of which one is a set of customers (a score of
    the latest run, a purchase-summary range, a membership) and the others are sets too,
    counted over that set's rows without reading the customers (who would be a million rows
    probed against every set); None when the rules are of another shape. The result equals
    the customers' count because the set holds each customer once."""
    if not isinstance(rules, dict) or set(rules) != {"all"} or not isinstance(rules["all"], list):
        return None
    context = Context(today=today, run_id=None)
    parts = [node_q(f"rules.all[{i}]", c, context, 1) for i, c in enumerate(rules["all"])]
    if context.annotations:
        return None
    for i, part in enumerate(parts):
        ids = _id_set(part)
        if ids is None or ids.model._meta.label_lower not in _ONE_ROW_PER_CUSTOMER:
            continue
        rest = [_on_customer_id(q) for q in parts[:i] + parts[i + 1 :]]
        if any(q is None for q in rest):
            return None
        return ids.filter(*rest).count()
    return None
