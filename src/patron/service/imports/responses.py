"""Import survey answers (Wenjuanxing/问卷星, SurveyMonkey, Typeform exports; Chinese or
English headers): all or nothing unless skip_bad."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext_noop

from patron.ingest import cleaning
from patron.service.imports.base import (
    CUSTOMER_ID_NAMES,
    RowError,
    ServiceImportReport,
    Table,
    customers_column,
    finish,
    read_table,
    require_columns,
    row_error,
    text_column,
    times_column,
)
from patron.service.models import ResponseSource, SurveyResponse

NPS_EXPECTED = gettext_noop("expected a whole number from 0 to 10")
CSAT_EXPECTED = gettext_noop("expected a whole number from 1 to 5")
NO_SCORE = gettext_noop("neither a recommendation score (NPS) nor a satisfaction score (CSAT)")
DUPLICATE_IN_FILE = gettext_noop("the same customer answered at the same time on line %(line)s")
ALREADY_IMPORTED = gettext_noop("this answer (customer and time) was imported before")
NUMBER_EXPECTED = gettext_noop("expected a number")

RESPONSE_COLUMNS: dict[str, tuple[str, ...]] = {
    "customer_id": CUSTOMER_ID_NAMES,
    "answered_at": (
        "answered_at",
        "answered at",
        "submitted at",
        "submit date",
        "date",
        "答题时间",
        "提交答卷时间",
        "提交时间",
        "填写时间",
        "答卷时间",
    ),
    "nps": ("nps", "推荐意愿", "推荐度", "推荐可能性", "likely to recommend"),
    "csat": ("csat", "满意度", "总体满意度", "satisfaction"),
    "comment": ("comment", "comments", "意见", "评论", "建议", "留言", "备注"),
}
# Columns of survey tools that are numbers but no rating (row numbers, durations).
NOT_DRIVERS = frozenset(
    {
        "序号",
        "id",
        "respondent id",
        "collector id",
        "所用时间",
        "答题时长",
        "来源",
        "来源详情",
        "来自ip",
        "ip",
        "ip address",
        "network id",
        "response id",
        "总分",
    }
)
# Answers this recent raise the churn warning when a detractor's; older ones are history.
RECENT_DAYS = 90


def _scores(
    table: Table, field_name: str, low: int, high: int, message: str, errors: list[RowError]
) -> list[int | None]:
    column = table.names.get(field_name)
    if column is None:
        return [None] * len(table.lines)
    raw = table.columns[column]
    parsed = cleaning.parse_integer(raw)
    values = parsed.values.to_pylist()
    invalid = np.asarray(parsed.invalid)
    out: list[int | None] = []
    for i, (line, cell) in enumerate(zip(table.lines, raw.to_pylist(), strict=True)):
        value = values[i]
        if invalid[i] or (value is not None and not low <= value <= high):
            row_error(errors, line, column, cell, message)
            out.append(None)
        else:
            out.append(value)
    return out


def _driver_columns(table: Table) -> dict[str, tuple[pa.Array, np.ndarray]]:
    """Further columns that hold numbers (most filled cells read as numbers): the drivers."""
    used = set(table.names.values())
    drivers = {}
    for name, values in table.columns.items():
        if name in used or cleaning.normalise_header(name) in NOT_DRIVERS:
            continue
        text = cleaning.clean_text(values)
        filled = int(pc.sum(pc.is_valid(text)).as_py() or 0)
        if filled == 0:
            continue
        numbers = pc.cast(
            pc.if_else(pc.match_substring_regex(text, r"^[+-]?\d+(\.\d+)?$"), text, None),
            pa.float64(),
        )
        ok = int(pc.sum(pc.is_valid(numbers)).as_py() or 0)
        if ok >= 0.8 * filled:
            bad = np.asarray(pc.and_(pc.is_valid(text), pc.is_null(numbers)).fill_null(False))
            drivers[name] = (numbers, bad)
    return drivers


def responses_import(
    *, path: str | Path, skip_bad: bool = False, source: str = "import"
) -> ServiceImportReport:
    """Import survey answers: ``customer_id``, ``answered_at``, ``nps`` (0-10) and/or ``csat``
    (1-5), any further numeric columns as driver ratings, and ``comment``.

    Raises
    ------
    ServiceError
        A required column is missing, or rows are wrong and ``skip_bad`` is off (nothing is
        written; ``extra`` holds every error with its line and column).
    IngestError
        The file cannot be read.
    """
    path = Path(path)
    table = read_table(path, RESPONSE_COLUMNS)
    require_columns(table, path, ("customer_id", "answered_at"), RESPONSE_COLUMNS)
    if "nps" not in table.names and "csat" not in table.names:
        require_columns(table, path, ("nps",), RESPONSE_COLUMNS)
    errors = list(table.errors)
    customers = customers_column(table, errors)
    times = times_column(table, "answered_at", errors, required=True)
    nps = _scores(table, "nps", 0, 10, NPS_EXPECTED, errors)
    csat = _scores(table, "csat", 1, 5, CSAT_EXPECTED, errors)
    comments = text_column(table, "comment")
    drivers = _driver_columns(table)
    for name, (_numbers, bad) in drivers.items():
        for line, cell, is_bad in zip(
            table.lines, table.columns[name].to_pylist(), bad, strict=True
        ):
            if is_bad:
                row_error(errors, line, name, cell, NUMBER_EXPECTED)
    driver_values = {name: numbers.to_pylist() for name, (numbers, _bad) in drivers.items()}
    seen: dict[tuple[int, Any], int] = {}
    keys = [
        (c.pk, t) for c, t in zip(customers, times, strict=True) if c is not None and t is not None
    ]
    existing = set(
        SurveyResponse.objects.filter(
            source=ResponseSource.IMPORT, customer_id__in={k[0] for k in keys}
        ).values_list("customer_id", "answered_at")
    )
    rows = []
    bad_lines = {e.line for e in errors}
    for i, line in enumerate(table.lines.tolist()):
        customer, when = customers[i], times[i]
        if nps[i] is None and csat[i] is None and line not in bad_lines:
            column = table.names.get("nps") or table.names.get("csat") or ""
            row_error(errors, line, column, None, NO_SCORE, "row.missing_value")
            continue
        if customer is None or when is None:
            continue
        key = (customer.pk, when)
        if key in seen:
            row_error(
                errors, line, table.names["answered_at"], when, DUPLICATE_IN_FILE, line=seen[key]
            )
            continue
        seen[key] = line
        if key in existing:
            row_error(errors, line, table.names["answered_at"], when, ALREADY_IMPORTED)
            continue
        if line in bad_lines:
            continue
        ratings = {
            name: values[i] for name, values in driver_values.items() if values[i] is not None
        }
        rows.append(
            SurveyResponse(
                customer=customer,
                answered_at=when,
                nps=nps[i],
                csat=csat[i],
                drivers=ratings,
                comment=(comments[i] or "")[:2000],
                source=ResponseSource.IMPORT,
                import_source=source,
            )
        )
    report = ServiceImportReport(
        file=path.name, rows=len(table.lines), errors=errors, drivers=tuple(driver_values)
    )
    finish(report, path, skip_bad)
    with transaction.atomic():
        SurveyResponse.objects.bulk_create(rows, batch_size=2000)
        _link_detractors(rows)
    report.imported = len(rows)
    return report


def _link_detractors(rows: list[SurveyResponse]) -> None:
    from patron.service.churn import answer_received

    recent = timezone.now() - dt.timedelta(days=RECENT_DAYS)
    latest: dict[int, SurveyResponse] = {}
    for row in rows:
        if row.answered_at >= recent:
            held = latest.get(row.customer_id)
            if held is None or row.answered_at > held.answered_at:
                latest[row.customer_id] = row
    for row in latest.values():
        answer_received(
            customer=row.customer,
            nps=row.nps,
            csat=row.csat,
            day=timezone.localdate(row.answered_at),
        )
