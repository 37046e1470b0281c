"""Evaluate a campaign from files, without a database (``patron campaigns evaluate``).

Two files: the contacts (who was targeted, in which group, when) and the orders, read and
validated exactly as ``patron analyze --source`` reads them
(:func:`patron.insights.sources.read_transactions_file`). :func:`per_customer` joins them by a
hash lookup of the customer id and makes one row
per targeted customer; :func:`patron.analytics.uplift.campaign_uplift` does the statistics.

Windows, in business dates (the orders file carries dates, not times of day):

- outcome: orders dated from the contact day for ``window_days`` days
  (``contact day <= date < contact day + window_days``); the same rule for both groups, so a
  purchase on the day of the contact counts for a control too;
- pre-period (for CUPED): the ``pre_days`` days before the contact day.

A response is at least one order (not a return) in the outcome window; revenue is the net
amount there (returns in the window count against it); margin is revenue less cost (when the
orders file has a cost column) or revenue times ``margin_rate``, less ``cost_per_order`` per
order. A control row without a contact time takes the campaign's first contact day.
No Django import.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from patron.analytics.uplift import CampaignCosts, UpliftResult, campaign_uplift
from patron.core.errors import PatronError
from patron.ingest import cleaning
from patron.ingest.date_columns import second_formats
from patron.ingest.reading import open_table

__all__ = [
    "CONTACT_COLUMNS",
    "CampaignContacts",
    "ContactsFileError",
    "contacts_of_campaign",
    "evaluate_campaign_files",
    "read_contacts_file",
]

#: Field -> header names recognised (folded with :func:`cleaning.normalise_header`).
CONTACT_COLUMNS: dict[str, tuple[str, ...]] = {
    "customer_id": (
        "customer_id", "customer", "customer id", "member_id", "客户编号", "客户id",
        "会员编号", "会员id", "顾客编号",
    ),
    "group": ("group", "arm", "variant", "分组", "组别", "实验分组"),
    "contacted_at": (
        "contacted_at", "contacted", "contact_time", "sent_at", "触达时间", "发送时间",
        "联系时间",
    ),
    "campaign": ("campaign", "campaign_id", "活动", "活动编号", "活动名称"),
}  # fmt: skip
TREATMENT_WORDS = frozenset({"treatment", "test", "t", "实验组", "实验", "处理组", "1", "true"})
CONTROL_WORDS = frozenset({"control", "holdout", "c", "对照组", "对照", "控制组", "0", "false"})

MISSING_COLUMN = "{name} has no {field} column; expected one of: {names} (or --map {field}=COLUMN)"
BAD_GROUP = "group must be treatment or control (实验组/对照组)"
BAD_ID = "expected a customer id"
BAD_TIME = "expected a date such as 2024-01-31 or 2024-01-31 09:30"
MISSING_TIME = "a treatment row needs the time the customer was contacted"
DUPLICATE = (
    "customer {customer} appears {count} times in one campaign; one row per targeted customer"
)
INVALID_ROWS = "{count:,} {rows} of {name} not valid contacts; nothing was read"
NO_CONTACTS = "{name} has no contact rows"
SEVERAL_CAMPAIGNS = "the file holds several campaigns ({names}); choose one with --campaign"
UNKNOWN_CAMPAIGN = "no campaign {name!r} in the file; it holds: {names}"
BAD_WINDOW = "{option} must be a whole number of days of at least 1, got {value!r}"


class ContactsFileError(PatronError):
    """The contacts file lacks a column or has invalid rows."""

    default_code = "insights.invalid_contacts"


@dataclass(frozen=True)
class CampaignContacts:
    """Targeted customers, one row each: ``customer_id``, ``treated`` (bool), ``contacted_on``
    (business date), ``contacted_at`` (UTC timestamp, null where the file had none),
    ``campaign`` (null without that column) and ``line`` (the file line); and the file's
    column names."""

    table: pa.Table
    columns: dict[str, str]
    campaigns: list[str]


def _fold(names: Mapping[str, tuple[str, ...]]) -> dict[str, str]:
    return {cleaning.normalise_header(n): field for field, ns in names.items() for n in ns}


def _pick_columns(
    header: list[str], mapping: Mapping[str, str] | None, name: str, required: tuple[str, ...]
) -> dict[str, str]:
    chosen: dict[str, str] = dict(mapping or {})
    unknown = set(chosen) - set(CONTACT_COLUMNS)
    if unknown:
        raise ContactsFileError(
            f"--map names unknown fields {sorted(unknown)}; use {', '.join(CONTACT_COLUMNS)}"
        )
    folded = _fold(CONTACT_COLUMNS)
    for column in header:
        field = folded.get(cleaning.normalise_header(column))
        if field and field not in chosen:
            chosen[field] = column
    for field in required:
        if field not in chosen:
            raise ContactsFileError(
                MISSING_COLUMN.format(
                    name=name, field=field, names=", ".join(CONTACT_COLUMNS[field])
                )
            )
    return chosen


def _parse_contact_times(raw: pa.Array, tz: str) -> cleaning.Parsed:
    """Contact times, each distinct text parsed once (a campaign's contacts share few times);
    a cell in an unambiguous format of its own is read in it."""

    def parse(values: pa.Array) -> cleaning.Parsed:
        parsed: cleaning.Parsed = cleaning.parse_datetime(values, fmt=None, tz=tz)
        if parsed.invalid.any():
            parsed = second_formats(
                parsed, values, parse=lambda v, fmt: cleaning.parse_datetime(v, fmt=fmt, tz=tz)
            )
        return parsed

    encoded = pc.dictionary_encode(raw)
    if len(encoded.dictionary) * 4 > len(raw):
        return parse(raw)
    distinct = parse(encoded.dictionary)
    indices = encoded.indices
    present = np.asarray(pc.is_valid(indices).to_numpy(zero_copy_only=False), bool)
    at = np.asarray(pc.fill_null(indices, 0).to_numpy(), np.int64)
    return cleaning.Parsed(
        values=distinct.values.take(indices), invalid=distinct.invalid[at] & present
    )


def read_contacts_file(
    path: str | Path,
    *,
    mapping: Mapping[str, str] | None = None,
    encoding: str | None = None,
    delimiter: str | None = None,
    sheet: str | None = None,
    tz: str = "Asia/Shanghai",
    required: tuple[str, ...] = ("customer_id", "group"),
) -> CampaignContacts:
    """Read and check a contacts file: every row valid or nothing is returned.

    ``required`` names the columns the caller needs (an import into the store also needs
    ``campaign`` and ``contacted_at``); a control row may leave ``contacted_at`` empty.

    Raises
    ------
    ContactsFileError
        A required column is missing, rows are invalid (each named by line and column), or a
        customer appears twice.
    """
    path = Path(path)
    reader = open_table(
        path,
        encoding=encoding,
        delimiter=delimiter,
        sheet=sheet,
        known_columns=frozenset(_fold(CONTACT_COLUMNS)),
    )
    columns = _pick_columns(list(reader.info.header), mapping, path.name, required)
    lines: list[np.ndarray] = []
    cells: dict[str, list[pa.Array]] = {field: [] for field in columns}
    for batch in reader.batches():
        lines.append(batch.lines)
        for field, column in columns.items():
            cells[field].append(batch.columns[column])
    if not lines or not sum(len(x) for x in lines):
        raise ContactsFileError(NO_CONTACTS.format(name=path.name))
    line = np.concatenate(lines)
    text = {field: pa.concat_arrays(arrays) for field, arrays in cells.items()}
    errors: list[dict[str, Any]] = []

    def reject(mask: np.ndarray, field: str, message: str) -> None:
        for i in np.flatnonzero(mask)[:20]:  # the first 20 of each kind are named
            value = text[field][int(i)].as_py() if field in text else None
            errors.append(
                {"line": int(line[i]), "column": columns.get(field, field),
                 "value": value, "message": message}
            )  # fmt: skip

    ids = cleaning.parse_identifier(text["customer_id"])
    bad_id = ids.invalid | ~np.asarray(pc.is_valid(ids.values))
    groups = pc.utf8_lower(cleaning.clean_text(text["group"]))

    def among(words: Any) -> np.ndarray:
        found = pc.is_in(groups, value_set=pa.array(sorted(words), pa.string()))
        return np.asarray(pc.fill_null(found, False).to_numpy(zero_copy_only=False), bool)

    treated = among(TREATMENT_WORDS)
    bad_group = ~treated & ~among(CONTROL_WORDS)
    if "contacted_at" in columns:
        parsed = _parse_contact_times(text["contacted_at"], tz)
        stamps = parsed.values
        days = cleaning.local_dates(stamps, tz)
        bad_time = parsed.invalid
        missing_time = treated & ~np.asarray(pc.is_valid(days)) & ~bad_time
    else:
        days = pa.nulls(len(line), pa.date32())
        stamps = pa.nulls(len(line), pa.timestamp("us", tz="UTC"))
        bad_time = np.zeros(len(line), bool)
        missing_time = treated
    reject(bad_id, "customer_id", BAD_ID)
    reject(bad_group, "group", BAD_GROUP)
    reject(bad_time, "contacted_at", BAD_TIME)
    reject(missing_time & ~bad_group, "contacted_at", MISSING_TIME)
    count = int((bad_id | bad_group | bad_time | (missing_time & ~bad_group)).sum())
    if count:
        raise ContactsFileError(
            INVALID_ROWS.format(
                count=count, rows="row is" if count == 1 else "rows are", name=path.name
            ),
            extra={"errors": sorted(errors, key=lambda e: e["line"])[:20]},
        )
    campaign = (
        cleaning.clean_text(text["campaign"])
        if "campaign" in text
        else pa.nulls(len(line), pa.string())
    )
    table = pa.table(
        {
            "customer_id": ids.values,
            "treated": treated,
            "contacted_on": days,
            "contacted_at": stamps,
            "campaign": campaign,
            "line": pa.array(line, pa.int64()),
        }
    )
    first_day = pc.min(table["contacted_on"])
    if first_day.is_valid:
        table = table.set_column(2, "contacted_on", pc.fill_null(table["contacted_on"], first_day))
    counts = (  # only when some id is there twice (counting distinct ids is cheaper)
        table.group_by(["campaign", "customer_id"])
        .aggregate([("line", "count")])
        .filter(pc.field("line_count") > 1)
        if _distinct(table["customer_id"]) < table.num_rows
        else None
    )
    if counts is not None and counts.num_rows:
        raise ContactsFileError(
            DUPLICATE.format(
                customer=counts["customer_id"][0].as_py(), count=counts["line_count"][0].as_py()
            )
        )
    campaigns = sorted(c for c in pc.unique(campaign).to_pylist() if c)
    return CampaignContacts(table=table, columns=columns, campaigns=campaigns)


def _distinct(values: pa.Array | pa.ChunkedArray) -> int:
    """How many distinct values (nulls aside): ``pc.unique`` is faster than
    ``pc.count_distinct`` on strings."""
    found = pc.unique(values)
    return len(found) - found.null_count


def _days(column: Any) -> np.ndarray:
    """Days since the epoch of a date32 column, ``-2**30`` (before any window) where there
    is no date."""
    return np.asarray(pc.fill_null(pc.cast(column, pa.int32()), -(2**30)).to_numpy(), np.int64)


def _window_rows(
    contacts: pa.Table, transactions: Any, *, window_days: int, pre_days: int
) -> tuple[pa.Table, bool]:
    """The order rows inside their customer's pre-period or outcome window, and whether the
    file has order ids (decided on all its rows).

    Each row has ``slot``: the contact's row for the outcome window, the contact's row plus
    the number of contacts for the pre-period (so one ``bincount`` sums both); ``amount``
    and ``cost`` in cents (0 where missing); and ``order_id`` where the order count reads
    it (in the outcome window, not a return), or without order ids ``counted``. One DuckDB
    hash join of the orders with the contacts by customer id, the orders first cut to the
    days from the first pre-period to the last window: on a file read set-based the rows
    never leave DuckDB before the join, and only those in a window come out."""
    import duckdb

    n = contacts.num_rows
    contact_day = _days(contacts["contacted_on"])
    dated = contact_day[contact_day > -(2**30)]
    session = getattr(transactions, "duckdb", None)
    if session is None:
        table = transactions if isinstance(transactions, pa.Table) else transactions.table
        has_ids = table["order_id"].null_count < table.num_rows
        con = duckdb.connect()
        con.register("patron_transactions", table)
        id_type = table["customer_id"].type
    else:
        con = session.con
        has_ids = bool(transactions.has_order_id) and bool(
            con.execute(
                "SELECT EXISTS (SELECT 1 FROM patron_transactions WHERE order_id IS NOT NULL)"
            ).fetchall()[0][0]
        )
        id_type = pa.string()
    ids = contacts["customer_id"]
    if ids.type != id_type:
        ids = pc.cast(ids, id_type)
    con.register(
        "patron_contacts",
        pa.table(
            {
                "customer_id": ids,
                "patron_row": pa.array(np.arange(n, dtype=np.int64)),
                "contacted_on": contacts["contacted_on"],
            }
        ),
    )
    if dated.size:  # only orders from the first pre-period to the last window can count
        epoch = dt.date(1970, 1, 1)
        first = epoch + dt.timedelta(days=int(dated.min()) - pre_days)
        last = epoch + dt.timedelta(days=int(dated.max()) + window_days)
        near = (
            f"t.order_date >= DATE '{first.isoformat()}' "
            f"AND t.order_date < DATE '{last.isoformat()}'"
        )
    else:  # no contact day: no order is in a window
        near = "FALSE"
    offset = "(t.order_date - c.contacted_on)"
    counted = f"({offset} >= 0 AND NOT coalesce(t.is_return, FALSE))"
    orders = (
        f"CASE WHEN {counted} THEN t.order_id END AS order_id"
        if has_ids
        else (f"{counted} AS counted")
    )
    try:
        rows = con.sql(
            f"SELECT c.patron_row + CASE WHEN {offset} < 0 THEN {n} ELSE 0 END AS slot, "
            "CAST(coalesce(t.amount_cents, 0) AS DOUBLE) AS amount, "
            f"CAST(coalesce(t.cost_cents, 0) AS DOUBLE) AS cost, {orders} "
            "FROM patron_transactions t JOIN patron_contacts c ON t.customer_id = c.customer_id "
            f"WHERE {near} AND {offset} >= {-int(pre_days)} AND {offset} < {int(window_days)}"
        ).to_arrow_table()
    finally:
        con.unregister("patron_contacts")
    return rows, has_ids


def per_customer(
    contacts: pa.Table, transactions: Any, *, window_days: int, pre_days: int
) -> dict[str, np.ndarray]:
    """One row per contact (in the contacts' order): outcome spend, cost and orders in the
    window, and pre-period spend, in cents.

    ``transactions`` is :class:`~patron.insights.file_rows.FileTransactions` or its Arrow
    ``table``. The rows in a window come from :func:`_window_rows` (a hash join in DuckDB),
    then the sums are ``bincount`` over contacts; orders are distinct order ids (rows
    without one are not counted), or rows when the file has no order ids. Returns are left
    out of the order count, not of the sums. Customer ids are unique in ``contacts``
    (:func:`read_contacts_file` refuses duplicates per campaign).
    """
    n = contacts.num_rows
    rows, has_ids = _window_rows(contacts, transactions, window_days=window_days, pre_days=pre_days)
    slot = np.asarray(rows["slot"].to_numpy(), np.int64)

    def summed(name: str) -> np.ndarray:  # [outcome window per contact, pre-period per contact]
        weights = np.asarray(rows[name].to_numpy(), np.float64)
        return np.bincount(slot, weights=weights, minlength=2 * n)

    amount = summed("amount")
    if has_ids:  # distinct order ids in the window
        order_ids = rows["order_id"]
        valid = np.asarray(pc.is_valid(order_ids).to_numpy(zero_copy_only=False), bool)
        named = slot[valid]
        if _distinct(order_ids) < len(named):  # an order on several rows
            pairs = pa.table({"who": named, "order": order_ids.filter(pa.array(valid))})
            named = pairs.group_by(["who", "order"]).aggregate([])["who"].to_numpy()
        orders = np.bincount(named, minlength=n)
    else:  # without order ids every row is an order, as in the value analysis
        counted = np.asarray(rows["counted"].to_numpy(zero_copy_only=False), bool)
        orders = np.bincount(slot[counted], minlength=n)
    return {
        "treated": np.asarray(contacts["treated"].to_numpy(zero_copy_only=False), bool),
        "spend_cents": amount[:n],
        "cost_cents": summed("cost")[:n],
        "orders": orders.astype(np.float64),
        "pre_cents": amount[n:],
    }


def _check_days(value: int, option: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise ValueError(BAD_WINDOW.format(option=option, value=value))
    return value


def contacts_of_campaign(contacts: CampaignContacts, campaign: str | None) -> CampaignContacts:
    """The rows of one campaign of a file that holds several (``campaign`` None: the only one).

    Raises
    ------
    ContactsFileError
        The file holds several campaigns and none (or an unknown one) was chosen.
    """
    if campaign is None:
        if len(contacts.campaigns) > 1:
            raise ContactsFileError(SEVERAL_CAMPAIGNS.format(names=", ".join(contacts.campaigns)))
        return contacts
    if campaign not in contacts.campaigns:
        raise ContactsFileError(
            UNKNOWN_CAMPAIGN.format(name=campaign, names=", ".join(contacts.campaigns) or "-")
        )
    table = contacts.table.filter(pc.equal(contacts.table["campaign"], campaign))
    return CampaignContacts(table=table, columns=contacts.columns, campaigns=[campaign])


def evaluate_campaign_files(
    contacts: CampaignContacts,
    transactions: Any,
    *,
    window_days: int,
    pre_days: int = 90,
    has_cost: bool = False,
    margin_rate: float | None = None,
    cost_per_order: float = 0.0,
    control_share: float | None = None,
    costs: CampaignCosts | None = None,
    confidence: float = 0.95,
) -> tuple[UpliftResult, dict[str, Any]]:
    """The uplift of a campaign, and what the evaluation used (windows, margin basis).

    ``transactions`` is :class:`~patron.insights.file_rows.FileTransactions` or its Arrow
    ``table`` (``customer_id``, ``order_date``, ``order_id``, ``amount_cents``,
    ``cost_cents``, ``is_return``).
    """
    _check_days(window_days, "--window")
    _check_days(pre_days, "--pre-days")
    rows = per_customer(
        contacts.table, transactions, window_days=int(window_days), pre_days=int(pre_days)
    )
    spend = rows["spend_cents"] / 100
    orders = rows["orders"]
    margin = None
    basis = None
    if has_cost:
        margin = spend - rows["cost_cents"] / 100
        basis = "revenue less cost"
    elif margin_rate is not None:
        margin = spend * margin_rate
        basis = f"revenue x {margin_rate:g}"
    if margin is not None and cost_per_order:
        margin = margin - cost_per_order * orders
        basis += f" less {cost_per_order:g} per order"
    result = campaign_uplift(
        treated=rows["treated"],
        outcome_spend=spend,
        outcome_orders=orders,
        outcome_margin=margin,
        pre_spend=rows["pre_cents"] / 100,
        control_share=control_share,
        costs=costs,
        confidence=confidence,
    )
    first = pc.min(contacts.table["contacted_on"]).as_py()
    last = pc.max(contacts.table["contacted_on"]).as_py()
    used = {
        "window_days": window_days,
        "pre_days": pre_days,
        "first_contact": first.isoformat() if isinstance(first, dt.date) else None,
        "last_contact": last.isoformat() if isinstance(last, dt.date) else None,
        "margin_basis": basis,
        "campaigns": contacts.campaigns,
    }
    return result, used
