"""Validate one batch of raw text columns into typed columns, column by column (no row loop).

Every rejected row gets a ``RowError`` naming its file line, the column as written in
the file, the value and what was expected. Only the rejected rows ever become Python
objects; good rows stay in Arrow arrays.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from zoneinfo import ZoneInfo

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from patron.ingest import cleaning
from patron.ingest.cleaning.dates import DATE_OUTSIDE_WINDOW, order_date_window, outside_window
from patron.ingest.date_columns import (
    detect_column_date_format,
    no_such_day,
    parse_dates,
    second_formats,
)
from patron.ingest.errors import RowErrorCode
from patron.ingest.i18n import gettext
from patron.ingest.mapping import FIELDS, ColumnMapping, EntityKind, Field, ValueKind
from patron.ingest.messages import (
    MASKED_ID,
    MISSING,
    NO_CUSTOMER,
    NO_SUCH_DAY,
    SCIENTIFIC_ID,
    TOO_LONG,
    expected_message,
)
from patron.ingest.reading import RawBatch
from patron.ingest.rows import content_keys

ATTRIBUTE_PREFIX = "attribute:"

# Raw status text (after normalise_header) -> stored status.
STATUS_VALUES = {
    "completed": "completed",
    "complete": "completed",
    "paid": "completed",
    "done": "completed",
    "success": "completed",
    "sale": "completed",
    "完成": "completed",
    "已完成": "completed",
    "交易成功": "completed",
    "成功": "completed",
    "已支付": "completed",
    "已付款": "completed",
    "returned": "returned",
    "return": "returned",
    "refund": "returned",
    "refunded": "returned",
    "退货": "returned",
    "已退货": "returned",
    "退款": "returned",
    "已退款": "returned",
    "退款成功": "returned",
    "cancelled": "cancelled",
    "canceled": "cancelled",
    "void": "cancelled",
    "voided": "cancelled",
    "取消": "cancelled",
    "已取消": "cancelled",
    "交易关闭": "cancelled",
    "作废": "cancelled",
}


@dataclass(frozen=True)
class RowError:
    line: int
    column: str
    value: str | None
    message: str
    code: str = RowErrorCode.INVALID_VALUE

    def as_dict(self) -> dict[str, object]:
        return {
            "line": self.line,
            "column": self.column,
            "value": self.value,
            "message": self.message,
            "code": str(self.code),
        }


@dataclass
class ValidatedBatch:
    """Typed columns of the good rows (``good`` mask over the batch) and the errors."""

    lines: np.ndarray
    columns: dict[str, pa.Array]
    good: np.ndarray
    errors: list[RowError] = field(default_factory=list)

    def good_columns(self) -> dict[str, pa.Array]:
        mask = pa.array(self.good)
        return {name: array.filter(mask) for name, array in self.columns.items()}


@dataclass
class DateFormatHolder:
    """The date format of a file, detected once from its first batch and then kept.

    ``prefer`` settles dates that read both ways (``5/3/2016``): ``"month_first"`` or
    ``"day_first"``, from a preset whose platform writes one order (WooCommerce, US style).
    """

    fmt: str | None
    explicit: bool = False
    prefer: str | None = None


def _record(
    batch: RawBatch,
    errors: list[RowError],
    good: np.ndarray,
    mask: np.ndarray,
    column: str,
    message: str,
    code: str = RowErrorCode.INVALID_VALUE,
) -> None:
    idx = np.flatnonzero(mask & good)
    if not len(idx):
        return
    raw = batch.columns.get(column)
    for i in idx:
        value = raw[int(i)].as_py() if raw is not None else None
        errors.append(RowError(int(batch.lines[i]), column, value, message, code))
    good[idx] = False


StatusOf = Callable[[str], str | None]


def generic_status(raw: str) -> str | None:
    """A status written in a generic file; None when it is none Patron knows."""
    return STATUS_VALUES.get(cleaning.normalise_header(raw))


def parse_status(values: pa.Array, status_of: StatusOf) -> cleaning.Parsed:
    """Map status text through ``status_of`` once per distinct value (exports repeat a few)."""
    text = cleaning.clean_text(values)
    distinct = pc.unique(text).to_pylist()
    lookup = {v: (None if v is None else (status_of(v) or "?")) for v in distinct}
    mapped = pa.array([lookup[v] for v in text.to_pylist()], pa.string())
    invalid = np.asarray(pc.fill_null(pc.equal(mapped, "?"), False))
    return cleaning.Parsed(values=pc.if_else(pa.array(invalid), None, mapped), invalid=invalid)


def _tags(values: pa.Array) -> cleaning.Parsed:
    text = cleaning.clean_text(values)
    return cleaning.Parsed(values=text, invalid=np.zeros(len(text), dtype=bool))


def parse_column(
    field_spec: Field,
    values: pa.Array,
    *,
    tz: str,
    date_format: DateFormatHolder,
    status_of: StatusOf = generic_status,
) -> cleaning.Parsed:
    kind = field_spec.kind
    parsers: dict[ValueKind, Callable[[pa.Array], cleaning.Parsed]] = {
        ValueKind.IDENTIFIER: cleaning.parse_identifier,
        ValueKind.AMOUNT: cleaning.parse_amount,
        ValueKind.QUANTITY: cleaning.parse_integer,
        ValueKind.PHONE: cleaning.normalise_phone,
        ValueKind.EMAIL: cleaning.normalise_email,
        ValueKind.GENDER: cleaning.parse_gender,
        ValueKind.BOOLEAN: cleaning.parse_bool,
        ValueKind.STATUS: lambda v: parse_status(v, status_of),
        ValueKind.TAGS: _tags,
        ValueKind.DATE: parse_dates,
    }
    if kind is ValueKind.DATETIME:
        if date_format.fmt is None and not date_format.explicit:
            date_format.fmt = detect_column_date_format(values, date_format.prefer)
        parsed = cleaning.parse_datetime(values, fmt=date_format.fmt, tz=tz)
        if not parsed.invalid.any():
            return parsed
        return second_formats(
            parsed, values, parse=lambda v, fmt: cleaning.parse_datetime(v, fmt=fmt, tz=tz)
        )
    if kind is ValueKind.TEXT:
        text = cleaning.clean_text(values)
        return cleaning.Parsed(values=text, invalid=np.zeros(len(text), dtype=bool))
    return parsers[kind](values)


def validate_batch(
    batch: RawBatch,
    mapping: ColumnMapping,
    *,
    tz: str,
    date_format: DateFormatHolder,
    status_of: StatusOf = generic_status,
) -> ValidatedBatch:
    """Parse every mapped column of ``batch``; rows with any bad required/typed cell fail.

    ``status_of`` maps status text to a stored status (a platform preset's table, or the
    generic words); the text as written is kept as ``raw_status``.
    """
    n = len(batch.lines)
    good = np.ones(n, dtype=bool)
    errors: list[RowError] = []
    out: dict[str, pa.Array] = {}
    for spec in FIELDS[mapping.kind]:
        column = mapping.columns.get(spec.name)
        if column is None:
            continue
        values = _cells(batch, mapping, spec.name, column)
        parsed = parse_column(spec, values, tz=tz, date_format=date_format, status_of=status_of)
        if spec.kind is ValueKind.STATUS:
            out["raw_status"] = cleaning.clean_text(values)
        if spec.lenient:  # an unreadable cell is only left out
            parsed = dataclasses.replace(
                parsed,
                values=pc.if_else(
                    pa.array(parsed.invalid), pa.scalar(None, parsed.values.type), parsed.values
                ),
                invalid=np.zeros(n, dtype=bool),
            )
        if spec.kind is ValueKind.IDENTIFIER:  # only Excel's scientific notation spoils an id
            _record(
                batch,
                errors,
                good,
                parsed.invalid,
                column,
                gettext(SCIENTIFIC_ID),
                RowErrorCode.SCIENTIFIC_ID,
            )
        elif parsed.invalid.any():
            if spec.kind in (ValueKind.DATETIME, ValueKind.DATE):
                no_day = no_such_day(batch.columns.get(column), parsed.invalid)
                _record(batch, errors, good, no_day, column, gettext(NO_SUCH_DAY))
            expected = expected_message(spec.kind, date_format.fmt)
            _record(batch, errors, good, parsed.invalid, column, expected)
        if spec.kind is ValueKind.DATETIME:  # 9999-12-31 or 0001-01-01 would poison the store
            first, last = order_date_window(tz)
            zone = ZoneInfo(tz)  # the window's days as the business counts them
            message = gettext(DATE_OUTSIDE_WINDOW) % {
                "earliest": first.astimezone(zone).date().isoformat(),
                "latest": last.astimezone(zone).date().isoformat(),
            }
            outside = outside_window(parsed.values, tz=tz) & ~parsed.invalid
            _record(batch, errors, good, outside, column, message, RowErrorCode.DATE_OUT_OF_RANGE)
        if spec.max_length is not None:
            text = out["raw_status"] if spec.kind is ValueKind.STATUS else parsed.values
            if pa.types.is_string(text.type):
                longer = pc.greater(pc.utf8_length(text), spec.max_length)
                too_long = np.asarray(pc.fill_null(longer, False)) & ~parsed.invalid
                message = gettext(TOO_LONG) % {"limit": spec.max_length}
                _record(batch, errors, good, too_long, column, message, RowErrorCode.TOO_LONG)
        if mapping.is_required(spec):
            missing = np.asarray(pc.is_null(parsed.values).to_numpy(zero_copy_only=False))
            missing &= ~parsed.invalid
            message = gettext(MISSING)
            _record(batch, errors, good, missing, column, message, RowErrorCode.MISSING_VALUE)
        out[spec.name] = parsed.values
        if spec.kind is ValueKind.PHONE:
            masked = getattr(parsed, "masked", None)
            out[f"{spec.name}_is_masked"] = pa.array(
                masked if masked is not None else np.zeros(n, dtype=bool)
            )
    if mapping.kind is not EntityKind.PRODUCTS:
        _customer_ids(batch, mapping, out, errors, good)
    if mapping.kind is EntityKind.CUSTOMERS:
        # Columns no field takes are the shop's own: questionnaire answers, preferences...
        for column in mapping.unmapped:
            out[ATTRIBUTE_PREFIX + column] = cleaning.clean_text(batch.columns[column])
    errors.sort(key=lambda e: e.line)
    return ValidatedBatch(lines=batch.lines, columns=out, good=good, errors=errors)


def _cells(batch: RawBatch, mapping: ColumnMapping, name: str, column: str) -> pa.Array:
    """A field's cells: its column, or its columns joined by a space (First + Last Name)."""
    parts = [c for c in mapping.combined.get(name, ()) if c in batch.columns]
    if len(parts) < 2:
        return batch.columns[column]
    texts = [pc.fill_null(cleaning.clean_text(batch.columns[c]), "") for c in parts]
    joined = pc.utf8_trim_whitespace(pc.binary_join_element_wise(*texts, " "))
    return pc.if_else(pc.equal(joined, ""), pa.scalar(None, pa.string()), joined)


def _customer_ids(
    batch: RawBatch,
    mapping: ColumnMapping,
    out: dict[str, pa.Array],
    errors: list[RowError],
    good: np.ndarray,
) -> None:
    """Make sure no row names its customer by a masked value, and fill the customer of an
    export without a buyer id from its ``customer_key`` (see :class:`CustomerKey`)."""
    target = "customer_id" if mapping.kind is EntityKind.TRANSACTIONS else "external_id"
    key = mapping.customer_key
    if key is None:
        column = mapping.columns.get(target)
        if column is not None and target in out:
            masked = cleaning.is_masked(out[target])
            message = gettext(MASKED_ID) % {"field": target}
            _record(batch, errors, good, masked, column, message, RowErrorCode.MASKED_ID)
        return
    kinds = {f.name: f.kind for f in FIELDS[mapping.kind]}
    n = len(batch.lines)
    derived: pa.Array = pa.nulls(n, pa.string())
    for source in key.sources:
        values = out.get(source)
        if values is None:
            continue
        none = pa.scalar(None, pa.string())
        if kinds[source] is ValueKind.PHONE:
            ids = cleaning.phone_keys(pc.if_else(out[f"{source}_is_masked"], none, values))
        else:
            ids = pc.if_else(pa.array(cleaning.is_masked(values)), none, values)
        derived = pc.coalesce(derived, ids)
    if key.otherwise == "order" and "order_id" in out:
        prefixed = pc.binary_join_element_wise(key.order_prefix, out["order_id"], "")
        derived = pc.coalesce(derived, prefixed)
    nobody = np.asarray(pc.is_null(derived).to_numpy(zero_copy_only=False), dtype=bool)
    columns = [mapping.columns[s] for s in key.sources if s in mapping.columns]
    message = gettext(NO_CUSTOMER) % {"sources": " / ".join(columns) or target, "field": target}
    where = columns[0] if columns else target
    _record(batch, errors, good, nobody, where, message, RowErrorCode.NO_CUSTOMER)
    out[target] = derived


def row_keys(columns: dict[str, pa.Array], names: Sequence[str]) -> list[str]:
    """A stable content hash per row: the identity of a purchase that has no order id.

    Identical rows get identical keys; the writer numbers repeats (key-1, key-2, ...) so two
    identical purchases stay two, and a re-import of the same file matches them again.
    """
    return content_keys([columns[name] for name in names if name in columns])


def kind_fields(kind: EntityKind) -> tuple[Field, ...]:
    return FIELDS[kind]
