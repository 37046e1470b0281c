"""Load the generated demo business into the store, through the importer's bulk path."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
from django.conf import settings
from django.contrib.auth import get_user_model
from django.db import connection, transaction
from django.db.models import Max

from patron.core.errors import PatronError
from patron.core.models import SystemSetting
from patron.customers.models import Channel, Consent, Customer, Interaction
from patron.ingest import cleaning
from patron.ingest.rows import cents
from patron.ingest.writers import STAGE_COLUMN_NAMES, TransactionStage, utc_text
from patron.sales.models import Order, Product

DEMO_FLAG = "demo"
DEMO_SOURCE = "demo"
DEMO_USER = "demo"
DEMO_PASSWORD = "demo"  # created only in a database flagged as the demo
BATCH = 20_000
RUN_GAP_DAYS = 90  # the earlier demo run is this many days before the last order day

Step = Callable[[str], None]


def demo_state() -> dict[str, object] | None:
    setting = SystemSetting.objects.filter(key=DEMO_FLAG).first()
    return setting.value if setting else None


def _naive_utc(values: list[datetime | None]) -> list[datetime | None]:
    return [v if v is None or v.tzinfo else v.replace(tzinfo=UTC) for v in values]


def demo_load(
    *, customers: int, seed: int, step: Step | None = None, runs: bool = True
) -> dict[str, object]:
    """Generate the demo business and write it; refuses a database with non-demo data.

    With ``runs`` (the default) two analysis runs are stored once the data is committed, as
    of 90 days before the last order day and as of the day after it, so the dashboard opens
    with tier migration to show. The analysis reads the store on a connection of its own, so
    inside a transaction the caller holds (a test's) the data is not visible to it: the runs
    are then left out and ``state["runs"]`` is empty.

    Raises
    ------
    PatronError
        The database holds customers and is not a demo database.
    """
    say = step or (lambda message: None)
    state = _load_business(customers=customers, seed=seed, say=say)
    if runs and not connection.in_atomic_block:
        state["runs"] = demo_runs_create(step=say)
        SystemSetting.objects.update_or_create(key=DEMO_FLAG, defaults={"value": state})
    return state


def demo_runs_create(*, step: Step | None = None) -> list[int]:
    """Store two analysis runs of the demo data: 90 days before its last day, and after it.

    Returns the ids of the runs, oldest first (the later one is the dashboard's latest).
    """
    from patron.insights.services import analysis_run_create

    say = step or (lambda message: None)
    last = Order.objects.aggregate(last=Max("ordered_on"))["last"]
    if last is None:
        return []
    ids = []
    for as_of in (last - timedelta(days=RUN_GAP_DAYS), last + timedelta(days=1)):
        say(f"Analysing customer value as of {as_of.isoformat()}")
        run, _ = analysis_run_create(as_of=as_of)
        ids.append(run.pk)
    from patron.demo.warnings import demo_warnings_create

    say("Raising the churn warning list")
    demo_warnings_create(today=last + timedelta(days=1))
    from patron.demo.service import demo_service_create

    say("Writing tickets and survey answers")
    demo_service_create(today=last + timedelta(days=1))
    from patron.demo.loyalty import demo_loyalty_create

    say("Running the member programme")
    demo_loyalty_create(today=last + timedelta(days=1))
    from patron.demo.recommend import demo_recommendations_create

    say("Recommending: buy again and try new")
    demo_recommendations_create(as_of=last + timedelta(days=1))
    from patron.sales.purchases import purchase_summary_rebuild

    purchase_summary_rebuild()
    return ids


@transaction.atomic
def _load_business(*, customers: int, seed: int, say: Step) -> dict[str, object]:
    from patron.demo.generator import generate

    if Customer.objects.exists() and demo_state() is None:
        raise PatronError(
            "This database holds customers and is not a demo database; the demo will not "
            "write into it. Point PATRON_DATABASE_URL at a new database for the demo.",
            code="not_a_demo_database",
        )
    _clear()
    say(f"Generating {customers:,} customers (seed {seed})")
    business = generate(customers=customers, seed=seed)
    say("Writing customers")
    _write_customers(business.customers)
    say("Writing products")
    _write_products(business.products)
    say(f"Writing {business.orders.num_rows:,} orders")
    _write_orders(business.orders, business.order_lines, business.products)
    say("Writing interactions")
    _write_interactions(business.interactions)
    state = {"customers": customers, "seed": seed, "truth": business.truth.to_dict(),
             "orders": business.orders.num_rows}  # fmt: skip
    say("Writing past campaigns with their controls and responses")
    state["campaigns"] = _demo_campaigns()
    from patron.sales.purchases import purchase_summary_rebuild

    purchase_summary_rebuild()  # the orders were written in bulk
    SystemSetting.objects.update_or_create(key=DEMO_FLAG, defaults={"value": state})
    _demo_user()
    return state


def _demo_campaigns() -> dict[str, object]:
    from patron.demo.campaigns import demo_campaigns_create

    last = Order.objects.aggregate(last=Max("ordered_on"))["last"]
    return demo_campaigns_create(last_day=last) if last is not None else {}


def _clear() -> None:
    from patron.customers.models import CustomerMerge
    from patron.insights.models import AnalysisRun
    from patron.sales.models import OrderLine

    AnalysisRun.objects.all().delete()  # runs of the previous demo data, with their scores
    OrderLine.objects.all().delete()
    Order.objects.filter(original_order__isnull=False).delete()
    Order.objects.all().delete()
    for model in (Interaction, Consent, CustomerMerge, Customer, Product):
        model.objects.all().delete()


def _rows(table: pa.Table) -> list[dict[str, object]]:
    return table.to_pylist()


def _write_customers(table: pa.Table) -> None:
    now = datetime.now(tz=UTC)
    # Phones are stored as the importer stores them (+86 138 1234 5678 -> 13812345678), so the
    # duplicate finder sees what it would see after a real import; malformed ones stay as
    # written for the cleaning tools to find.
    parsed = cleaning.normalise_phone(table["phone"])
    phones = pc.coalesce(parsed.values, table["phone"].combine_chunks())
    table = table.set_column(table.schema.get_field_index("phone"), "phone", phones)
    for start in range(0, table.num_rows, BATCH):
        rows = _rows(table.slice(start, BATCH))
        objects = []
        for row in rows:
            tags = [t for t in (row.get("tags") or "").split(",") if t]
            objects.append(Customer(
                external_id=row["external_id"], name=row["name"] or "", phone=row["phone"] or "",
                email=row["email"] or "", gender=row["gender"] or "u",
                birth_date=row["birth_date"], region=row["region"] or "", city=row["city"] or "",
                occupation=row["occupation"] or "",
                acquisition_channel=row["acquisition_channel"] or "",
                acquired_on=row["acquired_on"], acquisition_cost=row["acquisition_cost"],
                company=row.get("company") or "", credit_limit=row.get("credit_limit"),
                tags=tags,
            ))  # fmt: skip
        created = Customer.objects.bulk_create(objects, batch_size=2000)
        ids = {c.external_id: c.pk for c in created}
        if any(c.pk is None for c in created):  # backends without RETURNING
            ids = dict(Customer.objects.filter(external_id__in=list(ids))
                       .values_list("external_id", "pk"))  # fmt: skip
        consents = [
            Consent(customer_id=ids[row["external_id"]], channel=channel,
                    granted=bool(row[f"consent_{channel}"]), recorded_at=now, source="demo")
            for row in rows for channel in (Channel.SMS, Channel.EMAIL, Channel.PHONE)
        ]  # fmt: skip
        Consent.objects.bulk_create(consents, batch_size=5000)


def _write_products(table: pa.Table) -> None:
    Product.objects.bulk_create(
        [Product(**{k: row[k] for k in ("sku", "name", "category", "unit_price", "unit_cost")})
         for row in _rows(table)],
        batch_size=1000,
    )  # fmt: skip


def _write_orders(orders: pa.Table, lines: pa.Table, products: pa.Table) -> None:
    """Orders go in as item lines through the importer's stage: one code path, one speed."""
    names = ["external_id", "customer_external_id", "ordered_at", "store", "channel", "cost",
             "status", "original_external_id"]  # fmt: skip
    order_cols = orders.select(names).rename_columns([*names[:5], "order_cost", *names[6:]])
    joined = lines.join(order_cols, keys="order_external_id", right_keys="external_id")
    joined = joined.sort_by([("order_external_id", "ascending")])
    all_ids = joined["order_external_id"].combine_chunks()
    previous = pa.concat_arrays([pa.array([None], pa.string()), all_ids.slice(0, len(all_ids) - 1)])
    # The order's cost sits on its first line, so the stage's SUM gives the order cost.
    first_of_order = pc.fill_null(pc.not_equal(all_ids, previous), True)
    stage = TransactionStage()
    stage.create()
    tz = settings.TIME_ZONE
    first_line = 0
    for start in range(0, joined.num_rows, 200_000):
        chunk = joined.slice(start, 200_000)
        n = chunk.num_rows
        order_ids = chunk["order_external_id"].combine_chunks()
        is_first = first_of_order.slice(start, n)
        ordered_at = chunk["ordered_at"].combine_chunks()
        cost = pc.if_else(
            is_first,
            chunk["order_cost"].combine_chunks(),
            pa.scalar(None, chunk["order_cost"].type),
        )
        data = {
            "line": pa.array(np.arange(first_line, first_line + n), pa.int64()),
            "order_key": order_ids,
            "row_key": pa.nulls(n, pa.string()),
            "customer_ext": chunk["customer_external_id"].combine_chunks(),
            "ordered_at": utc_text(ordered_at),
            "ordered_on": pc.cast(cleaning.local_dates(ordered_at, tz), pa.string()),
            "store": pc.fill_null(chunk["store"].combine_chunks(), ""),
            "channel": pc.fill_null(chunk["channel"].combine_chunks(), ""),
            "amount_cents": cents(chunk["amount"].combine_chunks()),
            "cost_cents": cents(cost),
            "status": chunk["status"].combine_chunks(),
            "raw_status": pa.array([""] * n, pa.string()),
            "line_amount_cents": pa.nulls(n, pa.int64()),
            "original_key": chunk["original_external_id"].combine_chunks(),
            "sku": chunk["sku"].combine_chunks(),
            "product_name": pa.nulls(n, pa.string()),
            "category": pa.nulls(n, pa.string()),
            "quantity": pc.cast(chunk["quantity"].combine_chunks(), pa.float64()),
        }
        stage.append(pa.table({name: data[name] for name in STAGE_COLUMN_NAMES}))
        first_line += n
    stage.merge(source=DEMO_SOURCE, item_lines=True)
    stage.drop()


def _write_interactions(table: pa.Table) -> None:
    ids = dict(Customer.objects.values_list("external_id", "pk"))
    rows = _rows(table)
    Interaction.objects.bulk_create(
        [Interaction(customer_id=ids[row["customer_external_id"]], kind=row["kind"],
                     channel=row["channel"] or "", text=row["text"] or "",
                     occurred_at=row["occurred_at"])
         for row in rows if row["customer_external_id"] in ids],
        batch_size=5000,
    )  # fmt: skip


def _demo_user() -> None:
    """The demo login; only ever created here, in a database flagged as the demo."""
    user_model = get_user_model()
    from patron.accounts.roles import ROLE_ADMIN
    from patron.accounts.services import user_role_set

    user, _ = user_model.objects.get_or_create(username=DEMO_USER)
    user.set_password(DEMO_PASSWORD)
    user.is_superuser = False  # the admin role gives every permission
    user.save()
    user_role_set(user=user, role=ROLE_ADMIN)
