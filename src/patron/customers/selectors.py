"""Reads over customers."""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from difflib import SequenceMatcher
from itertools import combinations
from typing import Any

from django.db import connection
from django.db.models import CharField, Count, Exists, F, OuterRef, Q, QuerySet, Value
from django.db.models.functions import Cast, Concat, Lower

from patron.customers.models import Customer

MAX_GROUP = 20  # a phone shared by more records than this is a shop's own number, not a person


@dataclass(frozen=True)
class DuplicatePair:
    keep: str  # the older record (lower id), suggested to keep
    other: str
    reason: str  # "phone", "email" or "name"
    value: str
    name_similarity: float

    def as_dict(self) -> dict[str, object]:
        return {
            "keep": self.keep,
            "other": self.other,
            "reason": self.reason,
            "value": self.value,
            "name_similarity": round(self.name_similarity, 3),
        }


def _similarity(a: str, b: str) -> float:
    a, b = "".join(a.split()).casefold(), "".join(b.split()).casefold()
    if not a or not b:
        return 0.0
    return SequenceMatcher(None, a, b).ratio()


# (reason, which customers can match, the key they share). Masked phones never match:
# they hide the real number.
_DUPLICATE_RULES: tuple[tuple[str, Q, Any], ...] = (
    ("phone", ~Q(phone="") & Q(phone_is_masked=False), F("phone")),
    ("email", ~Q(email=""), Lower("email")),
    (
        "name",
        # A masked name (张*, 李**) hides who it was: it never matches anyone.
        ~Q(name="") & ~Q(name__contains="*") & Q(birth_date__isnull=False),
        Concat("name", Value(" "), Cast("birth_date", CharField())),
    ),
)


def customer_duplicate_candidates(*, limit: int = 1000) -> list[DuplicatePair]:
    """Likely duplicates: the same normalised phone, the same email (any case), or the same
    name with the same birth date; the older record (lower id) is suggested to keep.

    The database finds the shared keys; only the records that share one reach Python.
    """
    pairs: list[DuplicatePair] = []
    seen: set[tuple[str, str]] = set()
    for reason, can_match, key in _DUPLICATE_RULES:
        customers = Customer.objects.filter(can_match).annotate(duplicate_key=key)
        shared = list(
            customers.values("duplicate_key")
            .annotate(n=Count("id"))
            .filter(n__gt=1, n__lte=MAX_GROUP)
            .values_list("duplicate_key", flat=True)[: limit * 2]
        )
        for start in range(0, len(shared), 500):
            groups: dict[str, list[Customer]] = {}
            members = customers.filter(duplicate_key__in=shared[start : start + 500])
            for customer in members.order_by("pk").only("external_id", "name"):
                groups.setdefault(customer.duplicate_key, []).append(customer)
            for value, group in groups.items():
                for a, b in combinations(group, 2):
                    if (a.external_id, b.external_id) in seen:
                        continue
                    seen.add((a.external_id, b.external_id))
                    similarity = _similarity(a.name, b.name)
                    pairs.append(
                        DuplicatePair(a.external_id, b.external_id, reason, value, similarity)
                    )
                    if len(pairs) >= limit:
                        return pairs
    return pairs


def customer_list(
    *,
    search: str | None = None,
    region: str | None = None,
    city: str | None = None,
    acquisition_channel: str | None = None,
    tag: str | None = None,
    consent: str | None = None,
) -> QuerySet[Customer]:
    """The API's list: the web list's filters, ordered by customer id."""
    return customer_filter(
        search=search or "",
        region=region or "",
        city=city or "",
        acquisition_channel=acquisition_channel or "",
        tag=tag or "",
        consent=consent or "",
    ).order_by("external_id")


def customer_get(*, external_id: str) -> Customer:
    """Raises PatronError(code="customer_not_found") for an unknown id."""
    from patron.core.errors import PatronError

    customer = Customer.objects.filter(external_id=external_id).first()
    if customer is None:
        raise PatronError(f"No customer with id {external_id!r}.", code="customer_not_found")
    return customer


def saved_view_list(*, owner: Any) -> QuerySet[Any]:
    """The customer list views ``owner`` saved, by name."""
    from patron.customers.models import SavedView

    if not getattr(owner, "is_authenticated", False):
        return SavedView.objects.none()
    return SavedView.objects.filter(owner=owner).order_by("name")


# --- Web list, 360 page and exports -------------------------------------------------------

SEARCH_PHONE_MIN_DIGITS = 7
# The list counts matches up to here and then says "more than": an exact count of a rare
# filter on a million customers costs more than the page itself (one probe per match).
LIST_COUNT_CAP = 1_000
# Sort keys of the web list: (field, descending) pairs ending in a unique field, so that
# keyset pagination never skips or repeats a row.
CUSTOMER_SORTS: dict[str, tuple[tuple[str, bool], ...]] = {
    "id": (("external_id", False),),
    "-id": (("external_id", True),),
    "name": (("name", False), ("external_id", False)),
    "-name": (("name", True), ("external_id", True)),
    "newest": (("id", True),),
}


def _search_condition(search: str) -> Q:
    """Any part of a phone, a name, an email or an id, through an index (customers/search.py)."""
    from patron.customers.search import search_condition

    return search_condition(search)


def customer_filter(
    *,
    search: str = "",
    region: str = "",
    city: str = "",
    acquisition_channel: str = "",
    tag: str = "",
    consent: str = "",
    value_tier: str = "",
    segment: str = "",
    risk_level: str = "",
    saved_segment: int | None = None,
    ranges: dict[str, Any] | None = None,
) -> QuerySet[Customer]:
    """Customers matching the list's filters; unordered (see ``customer_page``).

    ``saved_segment`` keeps the members of a saved segment (patron.campaigns); an unknown one
    matches nobody.

    ``value_tier``, ``segment``, ``risk_level`` and ``ranges`` (revenue, profit, CLV, orders,
    P(alive), last purchase: see ``values.score_range_filters``) read the latest completed
    analysis run.
    """
    ranges = {k: v for k, v in (ranges or {}).items() if v is not None and v != ""}
    queryset = Customer.objects.all()
    scored = {
        key: value
        for key, value in (
            ("value_tier", value_tier),
            ("segment", segment),
            ("risk_level", risk_level),
        )
        if value
    }
    if scored or ranges:
        from patron.insights.models import CustomerScore
        from patron.insights.selectors import analysis_run_latest

        run = analysis_run_latest()
        if run is None:
            return queryset.none()
        from patron.customers.values import score_range_filters

        lookups = {**scored, **score_range_filters(run=run, ranges=ranges)}
        # correlated (a probe of the run's score per customer), not ``pk IN (the run's 170k
        # of a tier)``, which SQLite builds in full for the count and for every page
        scores = CustomerScore.objects.filter(run=run, customer_id=OuterRef("pk"), **lookups)
        queryset = queryset.filter(Exists(scores))
    if saved_segment:
        from patron.campaigns.models import Segment
        from patron.campaigns.rules import segment_queryset

        chosen = Segment.objects.filter(pk=saved_segment).first()
        if chosen is None:
            return queryset.none()
        queryset = queryset.filter(pk__in=segment_queryset(rules=chosen.rules).values("pk"))
    if city:
        queryset = queryset.filter(city=city)
    search = search.strip()
    if search:
        queryset = queryset.filter(_search_condition(search))
    if region:
        queryset = queryset.filter(region=region)
    if acquisition_channel:
        queryset = queryset.filter(acquisition_channel=acquisition_channel)
    if tag:
        tag = tag.strip()
        if connection.vendor == "postgresql":
            queryset = queryset.filter(tags__contains=[tag])
        else:  # the JSON text as stored (non-ASCII escaped), quoted so "vip" is not "vip2"
            queryset = queryset.filter(tags__icontains=json.dumps(tag))
    if consent:
        queryset = queryset.filter(consents__channel=consent, consents__granted=True)
    return queryset


@dataclass(frozen=True)
class CustomerPage:
    customers: list[Customer]
    next_cursor: str | None
    previous_cursor: str | None
    total: int  # capped at ``total_capped`` (counting a million rows on every page is waste)
    total_capped: bool
    #: The page link (``after`` / ``before``) could not be read: this is the first page.
    cursor_invalid: bool = False


def _cursor_encode(customer: Customer, fields: tuple[tuple[str, bool], ...]) -> str:
    import base64
    import json

    values = [getattr(customer, name) for name, _ in fields]
    values = [str(v) if isinstance(v, Decimal) else v for v in values]
    return base64.urlsafe_b64encode(json.dumps(values).encode()).decode().rstrip("=")


def _cursor_decode(
    cursor: str, fields: tuple[tuple[str, bool], ...], queryset: QuerySet[Customer]
) -> list[object] | None:
    """The sort values in a page link, or None when the link is damaged or was not made here
    (a value of the wrong type for its field would otherwise reach the database)."""
    import base64
    import binascii
    import json

    from django.core.exceptions import ValidationError

    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4))
        values = json.loads(raw)
    except (binascii.Error, ValueError):
        return None
    if not isinstance(values, list) or len(values) != len(fields):
        return None
    for value, (name, _) in zip(values, fields, strict=True):
        if not isinstance(value, str | int | float) or isinstance(value, bool):
            return None
        annotation = queryset.query.annotations.get(name)
        field = annotation.output_field if annotation is not None else None
        try:
            (field or queryset.model._meta.get_field(name)).get_prep_value(value)
        except (TypeError, ValueError, OverflowError, ValidationError):
            return None
    return values


def _beyond(fields: tuple[tuple[str, bool], ...], values: list[object], backward: bool) -> Q:
    """Rows after ``values`` in the sort order (before them when ``backward``).

    The OR of the lexicographic steps is led by an inclusive bound on the first sort field, so
    the database can start its index range there instead of walking the index from the top
    (deep pages sorted by name went from about 1 s to milliseconds on 1M customers).
    """
    condition = Q()
    for index, (name, descending) in enumerate(fields):
        lookup = "lt" if descending != backward else "gt"
        step = Q(**{f"{name}__{lookup}": values[index]})
        for earlier in range(index):
            step &= Q(**{fields[earlier][0]: values[earlier]})
        condition |= step
    if len(fields) > 1:
        first, descending = fields[0]
        inclusive = "lte" if descending != backward else "gte"
        condition = Q(**{f"{first}__{inclusive}": values[0]}) & condition
    return condition


# A list this long (more than LIST_COUNT_CAP customers) sorted by a run figure is read from the
# scores table's indexes (customers/score_pages.py); a shorter one is joined and sorted whole.
SCORE_PAGES_FROM = LIST_COUNT_CAP + 1


def _score_sorted_rows(
    queryset: QuerySet[Customer],
    sort: str,
    run_id: int | None,
    cursor: list[object] | None,
    backward: bool,
    need: int,
) -> list[Customer]:
    """``need`` customers of ``queryset`` in the order of a run figure, each with its
    ``sort_value``: the page's keys from the scores table, then only those customers."""
    from patron.customers.score_pages import score_sorted_keys

    keys = score_sorted_keys(
        queryset=queryset,
        run_id=run_id,
        key=sort,
        cursor=cursor,
        backward=backward,
        need=need,
    )
    found = Customer.objects.in_bulk([pk for _, pk in keys])
    rows = []
    for value, pk in keys:
        customer = found[pk]
        customer.sort_value = value  # type: ignore[attr-defined]
        rows.append(customer)
    return rows


def customer_page(
    *,
    queryset: QuerySet[Customer],
    sort: str = "id",
    after: str = "",
    before: str = "",
    size: int = 25,
) -> CustomerPage:
    """One page of ``queryset`` by keyset pagination: cost does not grow with the page number.

    A sort by a figure of the latest analysis run (``values.SCORE_SORT_KEYS``: ``clv``,
    ``-revenue``, ...) pages through (figure, customer pk)."""
    from patron.customers.values import score_sort, with_score_sort

    fields = CUSTOMER_SORTS.get(sort, CUSTOMER_SORTS["id"])
    sorted_query = queryset
    run_id = None
    if score_sort(sort) is not None:
        from patron.insights.selectors import analysis_run_latest

        run = analysis_run_latest()
        run_id = run.pk if run is not None else None
        sorted_query, fields = with_score_sort(queryset, run=run, key=sort)
    backward = bool(before) and not after
    cursor = before if backward else after
    cursor_values = _cursor_decode(cursor, fields, sorted_query) if cursor else None
    if cursor_values is None:
        backward = False  # no usable link: the first page
    total = queryset.order_by()[: LIST_COUNT_CAP + 1].count()
    if score_sort(sort) is not None and total >= SCORE_PAGES_FROM:
        rows = _score_sorted_rows(queryset, sort, run_id, cursor_values, backward, size + 1)
    else:
        ordering = [("-" if desc != backward else "") + name for name, desc in fields]
        page_query = sorted_query
        if cursor_values is not None:
            page_query = page_query.filter(_beyond(fields, cursor_values, backward))
        rows = list(page_query.order_by(*ordering)[: size + 1])
    more = len(rows) > size
    rows = rows[:size]
    if backward:
        rows.reverse()
    has_next = more if not backward else True
    has_previous = (cursor_values is not None) if not backward else more
    return CustomerPage(
        customers=rows,
        next_cursor=_cursor_encode(rows[-1], fields) if rows and has_next else None,
        previous_cursor=_cursor_encode(rows[0], fields) if rows and has_previous else None,
        total=min(total, LIST_COUNT_CAP),
        total_capped=total > LIST_COUNT_CAP,
        cursor_invalid=bool(cursor) and cursor_values is None,
    )


def customer_filter_choices() -> dict[str, list[str]]:
    """Regions and acquisition channels for the list's filters; cached for ten minutes."""
    from django.core.cache import cache

    def load() -> dict[str, list[str]]:
        regions = (
            Customer.objects.exclude(region="")
            .order_by("region")
            .values_list("region", flat=True)
            .distinct()
        )
        channels = (
            Customer.objects.exclude(acquisition_channel="")
            .order_by("acquisition_channel")
            .values_list("acquisition_channel", flat=True)
            .distinct()
        )
        return {"regions": list(regions[:500]), "channels": list(channels[:200])}

    return cache.get_or_set("patron:customer-filter-choices", load, timeout=600)


@dataclass(frozen=True)
class KeyFigures:
    total_spend: Decimal
    orders: int
    first_purchase: date | None
    last_purchase: date | None
    average_interval_days: Decimal | None  # between purchases; None below two purchases
    average_order_value: Decimal | None


def customer_key_figures(*, customer: Customer) -> KeyFigures:
    """Spend net of returns, purchases, first and last purchase date, mean days between
    purchases and mean net spend per purchase.

    Revenue orders are those of ``REVENUE_STATUSES`` (returns carry negative amounts, so they
    are subtracted); a purchase is a revenue order that is not a return. Cancelled and unpaid
    orders never count. One aggregate query over the customer's orders.
    """
    from django.db.models import Count, Max, Min, Sum

    from patron.sales.models import REVENUE_STATUSES, Order, OrderStatus

    revenue = Q(status__in=[str(status) for status in REVENUE_STATUSES])
    purchase = revenue & ~Q(status=OrderStatus.RETURNED)
    figures = Order.objects.filter(customer=customer).aggregate(
        total=Sum("amount", filter=revenue),
        orders=Count("id", filter=purchase),
        first=Min("ordered_on", filter=purchase),
        last=Max("ordered_on", filter=purchase),
    )
    total = Decimal(figures["total"] or 0).quantize(Decimal("0.01"))
    orders = int(figures["orders"] or 0)
    first, last = figures["first"], figures["last"]
    interval = None
    if orders > 1 and first is not None and last is not None:
        days = Decimal((last - first).days) / (orders - 1)
        interval = days.quantize(Decimal("0.1"))
    average = (total / orders).quantize(Decimal("0.01")) if orders else None
    return KeyFigures(total, orders, first, last, interval, average)


def customer_export_rows(
    *, queryset: QuerySet[Customer], chunk_size: int = 2000, run: Any = None
) -> tuple[tuple[str, ...], Iterator[tuple[Any, ...]]]:
    """The filtered customers as tuples, streamed in id order (no ORM objects); with ``run``
    (an AnalysisRun) each row goes on with that run's figures (``values.EXPORT_SCORE_FIELDS``,
    empty for a customer the run did not score)."""
    from patron.customers.values import EXPORT_SCORE_FIELDS, with_export_scores

    columns = EXPORT_COLUMNS
    scores = tuple(f"score_{name}" for name in EXPORT_SCORE_FIELDS) if run is not None else ()
    if scores:
        queryset = with_export_scores(queryset, run=run)
    return columns + scores, queryset.order_by("external_id").values_list(
        *columns, *scores
    ).iterator(chunk_size=chunk_size)


EXPORT_COLUMNS = (
    "external_id",
    "name",
    "phone",
    "email",
    "gender",
    "birth_date",
    "region",
    "city",
    "occupation",
    "acquisition_channel",
    "acquired_on",
    "tags",
)
