"""Reads: the store's transactions as an Ibis table, runs, scores and migration between runs."""

from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING, Any, Literal

from django.core.cache import cache
from django.db import connection
from django.db.models import Count, Q, QuerySet

from patron.analytics.migration import LOST, NEW
from patron.core.errors import PatronError
from patron.core.models import SystemSetting
from patron.customers.models import Interaction, InteractionKind
from patron.insights.models import AnalysisRun, CustomerScore, RunStatus
from patron.sales.models import REVENUE_STATUSES

if TYPE_CHECKING:
    import ibis.expr.types as ir
    import pandas as pd

    from patron.analytics.migration import Migration
    from patron.analytics.report import AnalysisSettings


class AnalysisSettingsError(PatronError):
    default_code = "insights.settings_invalid"


#: Where the analysis settings an administrator saved are kept (a SystemSetting key).
ANALYSIS_SETTINGS_KEY = "analysis_settings"
#: Interactions that cost a service contact, and those that cost a message (cost to serve).
SERVICE_CONTACT_KINDS = (
    InteractionKind.CALL,
    InteractionKind.EMAIL,
    InteractionKind.COMPLAINT,
    InteractionKind.VISIT,
)
MESSAGE_KINDS = (InteractionKind.MESSAGE, InteractionKind.SURVEY)

MigrationColumn = Literal["value_tier", "segment"]


def store_backend() -> Any:
    """An Ibis backend on a connection of its own to the app database.

    Not Django's connection: Ibis commits the transactions it runs in, which would commit (and
    break the atomicity of) whatever Django has open. The analysis therefore reads committed
    data, which is what a run should analyse.
    """
    import ibis

    config = connection.settings_dict
    if connection.vendor == "sqlite":
        return ibis.sqlite.connect(config["NAME"])
    if connection.vendor == "postgresql":
        return ibis.postgres.connect(
            host=config.get("HOST") or None,
            port=int(config["PORT"]) if config.get("PORT") else None,
            user=config.get("USER") or None,
            password=config.get("PASSWORD") or None,
            database=config["NAME"],
        )
    raise NotImplementedError(f"analysis runs do not support the {connection.vendor} database")


ANALYSABLE_DATES = (dt.date(1900, 1, 1), dt.date(2199, 12, 31))


def ordered_between(order: ir.Table, low: dt.date | None, high: dt.date) -> ir.BooleanValue:
    """``low <= order.ordered_on <= high`` (``low`` None: no lower bound), as a full scan.

    SQLite keeps dates as ISO text and, with no statistics, walks ``order_date_idx`` for a
    range holding nearly every order: one table lookup per order, 2.2 s instead of 0.26 s for
    1M orders. Compared as text (the same order for 4-digit years), no index serves it.
    """
    if connection.vendor != "sqlite":
        day = order.ordered_on
        return day <= high if low is None else day.between(low, high)
    text = order.ordered_on.cast("string")
    if low is None:
        return text <= high.isoformat()
    return text.between(low.isoformat(), high.isoformat())


def live_orders(backend: Any) -> ir.Table:
    """The rows of ``sales_order`` whose money counts (see :func:`store_transactions`)."""
    order = backend.table("sales_order")
    # A refunded order and the return that refunds it are no purchase at all: both leave,
    # so neither frequency nor monetary counts money that went back.
    refunded = order.filter(order.status == "refunded").id
    return order.filter(
        # A row stored before the importer's date window (9999-12-31, 0001-01-01) must not
        # make every analysis fail with "date value out of range": it is left out.
        ordered_between(order, *ANALYSABLE_DATES),
        order.status.isin([str(s) for s in REVENUE_STATUSES if s != "refunded"]),
        ~(order.status == "returned")
        | order.original_order_id.isnull()
        | ~order.original_order_id.isin(refunded),
    )


def store_transactions(backend: Any = None) -> ir.Table:
    """Orders of the store in the analytics input contract (:mod:`patron.analytics.summary`).

    One row per order: ``customer_id`` (the customer's external id), ``order_date`` (the
    business date ``ordered_on``), ``order_id`` (the order's primary key, unique across
    sources), ``amount``, ``cost`` and ``is_return`` (status "returned"). Only paid money
    that stayed counts: unpaid, cancelled and unknown orders are left out, and so are
    refunded orders together with their refunds; a partial refund is a return.
    """
    con = backend if backend is not None else store_backend()
    customer = con.table("customers_customer")
    live = live_orders(con)
    joined = live.join(customer, live.customer_id == customer.id)
    amount, cost = live.amount, live.cost
    if connection.vendor == "sqlite":  # no decimal type: REAL keeps cents exact enough
        amount, cost = amount.cast("float64"), cost.cast("float64")
    return joined.select(
        customer_id=customer.external_id,
        order_date=live.ordered_on,
        order_id=live.id.cast("string"),
        amount=amount,
        cost=cost,
        is_return=live.status == "returned",
    )


def analysis_run_list(*, status: str | None = RunStatus.COMPLETED) -> QuerySet[AnalysisRun]:
    """Runs, newest first (completed ones by default)."""
    runs = AnalysisRun.objects.all()
    return runs.filter(status=status) if status else runs


def analysis_run_completed(pk: int) -> AnalysisRun | None:
    """The completed run numbered ``pk``, or None (also for a number no database key holds)."""
    if not 0 < pk < 2**31:  # past PostgreSQL's integer key: a query would be refused
        return None
    return analysis_run_list().filter(pk=pk).first()


def analysis_run_latest() -> AnalysisRun | None:
    """The newest completed run, or None."""
    return analysis_run_list().first()


def analysis_run_repeating(*, as_of: dt.date | None) -> AnalysisRun | None:
    """The latest completed run when a new run as of ``as_of`` (None: the default, the day
    after the last order) would repeat it: the same date and no order written
    since it was made. None when the new run would show something new."""
    from django.db.models import Max

    from patron.sales.models import Order

    latest = analysis_run_latest()
    if latest is None:
        return None
    if as_of is None:
        last = Order.objects.aggregate(last=Max("ordered_on"))["last"]
        if last is None:
            return None
        as_of = last + dt.timedelta(days=1)
    if latest.as_of != as_of:
        return None
    if Order.objects.filter(created_at__gte=latest.created_at).exists():
        return None
    return latest


def customer_purchase_after(*, customer: Any, day: dt.date) -> dt.date | None:
    """The customer's first purchase (paid or completed order) dated after ``day``, read live:
    a run as of ``day`` did not see it."""
    from patron.sales.models import Order, OrderStatus

    return (
        Order.objects.filter(
            customer=customer,
            ordered_on__gt=day,
            status__in=[OrderStatus.COMPLETED, OrderStatus.OPEN],
        )
        .order_by("ordered_on")
        .values_list("ordered_on", flat=True)
        .first()
    )


def analysis_run_previous(*, run: AnalysisRun) -> AnalysisRun | None:
    """The completed run created just before ``run``, or None."""
    return analysis_run_list().filter(pk__lt=run.pk).order_by("-pk").first()


def customer_score_list(*, run: AnalysisRun) -> QuerySet[CustomerScore]:
    """The scores of a run, with the customer's external id at hand."""
    return CustomerScore.objects.filter(run=run).select_related("customer")


def _levels(*, run: AnalysisRun, column: MigrationColumn) -> Any:
    import pandas as pd

    rows = CustomerScore.objects.filter(run=run).values_list("customer__external_id", column)
    frame = pd.DataFrame.from_records(
        list(rows.iterator(chunk_size=20_000)), columns=["customer_id", column]
    )
    return frame


def analysis_run_migration(
    *, before: AnalysisRun, after: AnalysisRun, column: MigrationColumn = "value_tier"
) -> Migration:
    """Tier (or segment) transition matrix between two runs, counts and shares.

    Rows are the level in ``before`` plus ``"(new)"``; columns the level in ``after`` plus
    ``"(lost)"``; see :func:`patron.analytics.migration.customer_migration`.
    """
    from patron.analytics.migration import customer_migration
    from patron.analytics.segments import SEGMENT_CODES
    from patron.analytics.tiers import TIER_CODES

    levels = TIER_CODES if column == "value_tier" else SEGMENT_CODES
    return customer_migration(
        _levels(run=before, column=column),
        _levels(run=after, column=column),
        column=column,
        levels=levels,
    )


def analysis_settings_get() -> AnalysisSettings:
    """The settings every run of the store uses: those saved in Settings, else the defaults."""
    from patron.analytics.report import AnalysisSettings

    saved = SystemSetting.objects.filter(key=ANALYSIS_SETTINGS_KEY).first()
    if saved is None:
        return AnalysisSettings()
    try:
        return AnalysisSettings.from_dict(saved.value)
    except ValueError as error:  # saved by a version that had other settings
        raise AnalysisSettingsError(
            f"The saved analysis settings cannot be used ({error}); save them again on "
            "Settings → Analysis settings."
        ) from None


def contact_counts(*, as_of: dt.date) -> pd.DataFrame:
    """Per customer, service contacts and messages on or before ``as_of`` (cost to serve).

    Columns ``customer_id`` (external id), ``service_contacts`` and ``messages``; customers
    without any are not there. Days are the business time zone's.
    """
    import pandas as pd
    from django.utils import timezone

    end = timezone.make_aware(dt.datetime.combine(as_of + dt.timedelta(days=1), dt.time()))
    rows = (
        Interaction.objects.filter(occurred_at__lt=end)
        .values("customer__external_id")
        .annotate(
            service_contacts=Count("id", filter=Q(kind__in=SERVICE_CONTACT_KINDS)),
            messages=Count("id", filter=Q(kind__in=MESSAGE_KINDS)),
        )
        .values_list("customer__external_id", "service_contacts", "messages")
    )
    return pd.DataFrame.from_records(
        list(rows), columns=["customer_id", "service_contacts", "messages"]
    )


MIGRATION_CACHE_SECONDS = 600


def analysis_run_migration_counts(
    *, before: AnalysisRun, after: AnalysisRun, column: MigrationColumn = "value_tier"
) -> dict[tuple[str, str], int]:
    """Customers by (level in ``before``, level in ``after``); ``"(new)"`` / ``"(lost)"`` when
    absent. Levels are value tiers or segments (``column``).

    One query: each customer's level in either run (a conditional aggregate per customer), then
    the pairs counted. The same numbers as
    :func:`patron.insights.selectors.analysis_run_migration`, without loading every score.
    """
    if column not in ("value_tier", "segment"):
        raise ValueError(f"no migration by {column!r}")
    key = (
        f"insights:migration:{column}:{before.pk}:{before.created_at.timestamp()}:"
        f"{after.pk}:{after.created_at.timestamp()}"
    )
    cached = cache.get(key)
    if cached is not None:
        return {(b, a): n for b, a, n in cached}
    table = connection.ops.quote_name(CustomerScore._meta.db_table)
    sql = f"""
        SELECT level_before, level_after, COUNT(*) FROM (
            SELECT MAX(CASE WHEN run_id = %s THEN {column} END) AS level_before,
                   MAX(CASE WHEN run_id = %s THEN {column} END) AS level_after
            FROM {table} WHERE run_id IN (%s, %s) GROUP BY customer_id
        ) pairs GROUP BY level_before, level_after"""
    with connection.cursor() as cursor:
        cursor.execute(sql, [before.pk, after.pk, before.pk, after.pk])
        rows = [(b or NEW, a or LOST, int(n)) for b, a, n in cursor.fetchall()]
    cache.set(key, rows, MIGRATION_CACHE_SECONDS)
    return {(b, a): n for b, a, n in rows}
