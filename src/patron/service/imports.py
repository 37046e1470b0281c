"""Imports of survey answers (Wenjuanxing/问卷星, SurveyMonkey, Typeform exports) and of
tickets from another helpdesk: CSV or Excel, Chinese or English headers.

Files are read with the importer's readers and cleaned with its whole-column parsers
(:mod:`patron.ingest.reading`, :mod:`patron.ingest.cleaning`); a rejected row is reported by
its file line and column, in the reader's language. All or nothing: one bad row and nothing
is written, unless ``skip_bad``; then the good rows are written and the bad ones reported.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop

from patron.customers.models import Customer
from patron.ingest import cleaning
from patron.ingest.reading import open_table
from patron.service.errors import ServiceError, ServiceErrorCode
from patron.service.models import ResponseSource, SurveyResponse, Ticket, TicketCategory

MISSING = gettext_noop("a value is required here")
UNKNOWN_CUSTOMER = gettext_noop("no customer with this id: import the customers first")
NPS_EXPECTED = gettext_noop("expected a whole number from 0 to 10")
CSAT_EXPECTED = gettext_noop("expected a whole number from 1 to 5")
DATE_EXPECTED = gettext_noop("expected a date and time such as 2024-01-31 14:05")
NO_SCORE = gettext_noop("neither a recommendation score (NPS) nor a satisfaction score (CSAT)")
DUPLICATE_IN_FILE = gettext_noop("the same customer answered at the same time on line %(line)s")
ALREADY_IMPORTED = gettext_noop("this answer (customer and time) was imported before")
NUMBER_EXPECTED = gettext_noop("expected a number")
UNKNOWN_VALUE = gettext_noop("unknown value: expected one of %(choices)s")
UNKNOWN_ORDER = gettext_noop("no order with this id for this customer")
DUPLICATE_TICKET = gettext_noop("ticket number already on line %(line)s")
TICKET_IMPORTED = gettext_noop("a ticket with this number was imported from this source before")
MISSING_COLUMN = gettext_noop(
    "%(file)s has no column for %(field)s: expected one of %(names)s (or name it with --map)"
)
ROWS_REJECTED = gettext_noop(
    "%(count)s row(s) of %(file)s are wrong; nothing was imported. Correct them, or use "
    "--skip-bad to import the good rows."
)


@dataclass(frozen=True)
class RowError:
    """A rejected cell: its file line, column, value and what was expected (the importer's
    report shape: ``patron import`` prints the same fields)."""

    line: int
    column: str
    value: str | None
    message: str
    code: str = "row.invalid_value"

    def as_dict(self) -> dict[str, object]:
        return {"line": self.line, "column": self.column, "value": self.value,
                "message": self.message, "code": self.code}  # fmt: skip


RESPONSE_COLUMNS: dict[str, tuple[str, ...]] = {
    "customer_id": ("customer_id", "customer id", "customer", "客户编号", "客户id", "会员id",
                    "会员编号", "会员卡号", "用户id", "external data"),
    "answered_at": ("answered_at", "answered at", "submitted at", "submit date", "date",
                    "答题时间", "提交答卷时间", "提交时间", "填写时间", "答卷时间"),
    "nps": ("nps", "推荐意愿", "推荐度", "推荐可能性", "likely to recommend"),
    "csat": ("csat", "满意度", "总体满意度", "satisfaction"),
    "comment": ("comment", "comments", "意见", "评论", "建议", "留言", "备注"),
}  # fmt: skip
# Columns of survey tools that are numbers but no rating (row numbers, durations).
NOT_DRIVERS = frozenset(
    {"序号", "id", "respondent id", "collector id", "所用时间", "答题时长", "来源", "来源详情",
     "来自ip", "ip", "ip address", "network id", "response id", "总分"}
)  # fmt: skip
TICKET_COLUMNS: dict[str, tuple[str, ...]] = {
    "external_id": ("external_id", "ticket id", "ticket number", "ticket", "工单号", "工单编号",
                    "单号"),
    "customer_id": RESPONSE_COLUMNS["customer_id"],
    "kind": ("kind", "type", "类型", "工单类型"),
    "category": ("category", "分类", "问题分类", "类别"),
    "channel": ("channel", "渠道", "来源渠道"),
    "subject": ("subject", "title", "标题", "主题"),
    "text": ("text", "description", "内容", "描述", "问题描述"),
    "order_id": ("order_id", "order id", "订单号", "订单编号"),
    "opened_at": ("opened_at", "created at", "created", "创建时间", "提交时间", "开单时间"),
    "status": ("status", "状态"),
    "priority": ("priority", "优先级"),
    "resolved_at": ("resolved_at", "resolved at", "解决时间", "完成时间"),
    "resolution": ("resolution", "处理结果", "解决方案"),
}  # fmt: skip
TICKET_REQUIRED = ("external_id", "customer_id", "kind", "category", "channel", "subject",
                   "opened_at")  # fmt: skip
VALUE_SYNONYMS: dict[str, dict[str, str]] = {
    "kind": {"complaint": "complaint", "投诉": "complaint", "question": "question",
             "咨询": "question", "问题": "question", "request": "request", "请求": "request",
             "需求": "request", "申请": "request", "praise": "praise", "表扬": "praise",
             "好评": "praise"},
    "channel": {"phone": "phone", "电话": "phone", "store": "store", "门店": "store",
                "email": "email", "邮件": "email", "邮箱": "email", "wechat": "wechat",
                "微信": "wechat", "app": "app", "小程序": "app", "web": "web", "网站": "web",
                "网页": "web", "在线": "web"},
    "status": {"new": "new", "新建": "new", "open": "open", "处理中": "open",
               "进行中": "open", "waiting": "waiting", "待客户回复": "waiting",
               "等待客户": "waiting", "resolved": "resolved", "已解决": "resolved",
               "closed": "closed", "已关闭": "closed", "关闭": "closed",
               "reopened": "reopened", "重新打开": "reopened"},
    "priority": {"low": "low", "低": "low", "normal": "normal", "普通": "normal",
                 "中": "normal", "high": "high", "高": "high", "urgent": "urgent",
                 "紧急": "urgent"},
}  # fmt: skip
# Answers this recent raise the churn warning when a detractor's; older ones are history.
RECENT_DAYS = 90


@dataclass
class ServiceImportReport:
    file: str
    rows: int = 0
    imported: int = 0
    errors: list[RowError] = field(default_factory=list)
    drivers: tuple[str, ...] = ()

    @property
    def rejected(self) -> int:
        return len({e.line for e in self.errors})

    def as_dict(self) -> dict[str, Any]:
        return {
            "file": self.file,
            "rows": self.rows,
            "imported": self.imported,
            "rejected": self.rejected,
            "drivers": list(self.drivers),
            "errors": [e.as_dict() for e in self.errors],
        }


@dataclass
class _Table:
    lines: np.ndarray
    columns: dict[str, pa.Array]  # by the file's column names
    names: dict[str, str]  # field -> file column
    errors: list[RowError]


def _read(path: Path, wanted: dict[str, tuple[str, ...]]) -> _Table:
    known = [name for names in wanted.values() for name in names]
    reader = open_table(path, known_columns=known)
    lines, chunks = [], []
    for batch in reader.batches():
        lines.append(batch.lines)
        chunks.append(batch.columns)
    column_names = reader.info.column_names
    columns = {
        name: pa.concat_arrays([c[name] for c in chunks]) if chunks else pa.array([], pa.string())
        for name in column_names
    }
    folded = {cleaning.normalise_header(name): name for name in column_names}
    names = {}
    for field_name, synonyms in wanted.items():
        for synonym in synonyms:
            if cleaning.normalise_header(synonym) in folded:
                names[field_name] = folded[cleaning.normalise_header(synonym)]
                break
    errors = [RowError(p.line, "", None, p.message, "row.shape") for p in reader.problems]
    all_lines = np.concatenate(lines) if lines else np.zeros(0, dtype=np.int64)
    return _Table(all_lines, columns, names, errors)


def _require(table: _Table, path: Path, fields: Sequence[str], wanted: dict[str, Any]) -> None:
    for name in fields:
        if name not in table.names:
            raise ServiceError(
                _(MISSING_COLUMN)
                % {"file": path.name, "field": name, "names": ", ".join(wanted[name][:6])},
                code=ServiceErrorCode.IMPORT_MISSING_COLUMN,
                extra={"field": name},
            )


def _text(table: _Table, field_name: str) -> list[str | None]:
    column = table.names.get(field_name)
    if column is None:
        return [None] * len(table.lines)
    return cleaning.clean_text(table.columns[column]).to_pylist()


def _err(errors: list[RowError], at: int, column: str, value: Any, message: str,
         code: str = "row.invalid_value", **params: Any) -> None:  # fmt: skip
    text = _(message) % params if params else _(message)
    errors.append(RowError(int(at), column, None if value is None else str(value), text, code))


def _customers(table: _Table, errors: list[RowError]) -> list[Customer | None]:
    column = table.names["customer_id"]
    ids = cleaning.parse_identifier(table.columns[column])
    raw = table.columns[column].to_pylist()
    values = ids.values.to_pylist()
    found = {
        c.external_id: c for c in Customer.objects.filter(external_id__in=set(values) - {None})
    }
    out: list[Customer | None] = []
    for line, value, cell in zip(table.lines, values, raw, strict=True):
        if value is None:
            _err(errors, line, column, cell, MISSING, "row.missing_value")
            out.append(None)
        elif value not in found:
            _err(errors, line, column, value, UNKNOWN_CUSTOMER)
            out.append(None)
        else:
            out.append(found[value])
    return out


def _times(table: _Table, field_name: str, errors: list[RowError], *, required: bool) -> list[Any]:
    column = table.names.get(field_name)
    if column is None:
        return [None] * len(table.lines)
    raw = table.columns[column]
    parsed = cleaning.parse_datetime(raw, fmt=None, tz=settings.TIME_ZONE)
    values = parsed.values.to_pylist()
    invalid = np.asarray(parsed.invalid)
    for i, (line, cell) in enumerate(zip(table.lines, raw.to_pylist(), strict=True)):
        if invalid[i]:
            _err(errors, line, column, cell, DATE_EXPECTED)
            values[i] = None
        elif values[i] is None and required:
            _err(errors, line, column, cell, MISSING, "row.missing_value")
    return values


def _scores(table: _Table, field_name: str, low: int, high: int, message: str,
            errors: list[RowError]) -> list[int | None]:  # fmt: skip
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
            _err(errors, line, column, cell, message)
            out.append(None)
        else:
            out.append(value)
    return out


def _driver_columns(table: _Table) -> dict[str, tuple[pa.Array, np.ndarray]]:
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


def _finish(report: ServiceImportReport, path: Path, skip_bad: bool) -> None:
    report.errors.sort(key=lambda e: (e.line, e.column))
    if report.errors and not skip_bad:
        raise ServiceError(
            _(ROWS_REJECTED) % {"count": report.rejected, "file": path.name},
            code=ServiceErrorCode.IMPORT_ROWS_REJECTED,
            extra=report.as_dict(),
        )


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
    table = _read(path, RESPONSE_COLUMNS)
    _require(table, path, ("customer_id", "answered_at"), RESPONSE_COLUMNS)
    if "nps" not in table.names and "csat" not in table.names:
        _require(table, path, ("nps",), RESPONSE_COLUMNS)
    errors = list(table.errors)
    customers = _customers(table, errors)
    times = _times(table, "answered_at", errors, required=True)
    nps = _scores(table, "nps", 0, 10, NPS_EXPECTED, errors)
    csat = _scores(table, "csat", 1, 5, CSAT_EXPECTED, errors)
    comments = _text(table, "comment")
    drivers = _driver_columns(table)
    for name, (_numbers, bad) in drivers.items():
        for line, cell, is_bad in zip(
            table.lines, table.columns[name].to_pylist(), bad, strict=True
        ):
            if is_bad:
                _err(errors, line, name, cell, NUMBER_EXPECTED)
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
            _err(errors, line, column, None, NO_SCORE, "row.missing_value")
            continue
        if customer is None or when is None:
            continue
        key = (customer.pk, when)
        if key in seen:
            _err(errors, line, table.names["answered_at"], when, DUPLICATE_IN_FILE, line=seen[key])
            continue
        seen[key] = line
        if key in existing:
            _err(errors, line, table.names["answered_at"], when, ALREADY_IMPORTED)
            continue
        if line in bad_lines:
            continue
        ratings = {
            name: values[i] for name, values in driver_values.items() if values[i] is not None
        }
        rows.append(
            SurveyResponse(
                customer=customer, answered_at=when, nps=nps[i], csat=csat[i],
                drivers=ratings, comment=(comments[i] or "")[:2000],
                source=ResponseSource.IMPORT, import_source=source,
            )
        )  # fmt: skip
    report = ServiceImportReport(
        file=path.name, rows=len(table.lines), errors=errors, drivers=tuple(driver_values)
    )
    _finish(report, path, skip_bad)
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
            customer=row.customer, nps=row.nps, csat=row.csat,
            day=timezone.localdate(row.answered_at),
        )  # fmt: skip


def _mapped(
    table: _Table, field_name: str, errors: list[RowError], *, required: bool,
    lookup: Callable[[str], str | None], choices: str,
) -> list[str | None]:  # fmt: skip
    column = table.names.get(field_name)
    values = _text(table, field_name)
    out: list[str | None] = []
    for line, value in zip(table.lines, values, strict=True):
        if value is None:
            if required:
                _err(errors, line, column or field_name, None, MISSING, "row.missing_value")
            out.append(None)
            continue
        found = lookup(value)
        if found is None:
            _err(errors, line, column or field_name, value, UNKNOWN_VALUE, choices=choices)
        out.append(found)
    return out


def tickets_import(
    *, path: str | Path, skip_bad: bool = False, source: str = "import"
) -> ServiceImportReport:
    """Import tickets from another helpdesk (one row per ticket, numbered by the source);
    resolved and closed tickets keep their resolution time and do not raise churn warnings.

    Raises
    ------
    ServiceError
        A required column is missing, or rows are wrong and ``skip_bad`` is off (nothing is
        written).
    IngestError
        The file cannot be read.
    """
    from patron.sales.models import Order
    from patron.service.services import ticket_create

    path = Path(path)
    table = _read(path, TICKET_COLUMNS)
    _require(table, path, TICKET_REQUIRED, TICKET_COLUMNS)
    errors = list(table.errors)
    customers = _customers(table, errors)
    opened = _times(table, "opened_at", errors, required=True)
    resolved = _times(table, "resolved_at", errors, required=False)

    def synonym(field_name: str) -> Callable[[str], str | None]:
        table_ = {k.casefold(): v for k, v in VALUE_SYNONYMS[field_name].items()}
        return lambda value: table_.get(value.strip().casefold())

    def choices(field_name: str) -> str:
        return ", ".join(dict.fromkeys(VALUE_SYNONYMS[field_name].values()))

    kinds = _mapped(table, "kind", errors, required=True, lookup=synonym("kind"),
                    choices=choices("kind"))  # fmt: skip
    channels = _mapped(table, "channel", errors, required=True, lookup=synonym("channel"),
                       choices=choices("channel"))  # fmt: skip
    statuses = _mapped(table, "status", errors, required=False, lookup=synonym("status"),
                       choices=choices("status"))  # fmt: skip
    priorities = _mapped(table, "priority", errors, required=False, lookup=synonym("priority"),
                         choices=choices("priority"))  # fmt: skip
    categories: dict[str, TicketCategory] = {}
    for category in TicketCategory.objects.filter(active=True):
        for name in (category.code, category.name_en, category.name_zh):
            categories[name.strip().casefold()] = category
    found_categories = _mapped(
        table, "category", errors, required=True,
        lookup=lambda v: categories[v.casefold()].code if v.casefold() in categories else None,
        choices=", ".join(sorted({c.code for c in categories.values()})) or "—",
    )  # fmt: skip
    numbers = _text(table, "external_id")
    subjects = _text(table, "subject")
    texts = _text(table, "text")
    resolutions = _text(table, "resolution")
    order_ids = _text(table, "order_id")
    orders = {
        (o.customer_id, o.external_id): o
        for o in Order.objects.filter(external_id__in={v for v in order_ids if v})
    }
    taken = set(
        Ticket.objects.filter(source=source, external_id__in={n for n in numbers if n}).values_list(
            "external_id", flat=True
        )
    )
    first_line: dict[str, int] = {}
    column = table.names
    for i, line in enumerate(table.lines.tolist()):
        number = numbers[i]
        if number is None:
            _err(errors, line, column["external_id"], None, MISSING, "row.missing_value")
        elif number in first_line:
            _err(errors, line, column["external_id"], number, DUPLICATE_TICKET,
                 line=first_line[number])  # fmt: skip
        else:
            first_line[number] = line
            if number in taken:
                _err(errors, line, column["external_id"], number, TICKET_IMPORTED)
        if subjects[i] is None:
            _err(errors, line, column["subject"], None, MISSING, "row.missing_value")
        if (
            order_ids[i]
            and customers[i] is not None
            and (
                (customers[i].pk, order_ids[i]) not in orders  # type: ignore[union-attr]
            )
        ):
            _err(errors, line, column["order_id"], order_ids[i], UNKNOWN_ORDER)
    report = ServiceImportReport(file=path.name, rows=len(table.lines), errors=errors)
    _finish(report, path, skip_bad)
    bad_lines = {e.line for e in errors}
    now = timezone.now()
    imported = 0
    with transaction.atomic():
        for i, line in enumerate(table.lines.tolist()):
            if line in bad_lines:
                continue
            customer = customers[i]
            assert customer is not None and opened[i] is not None  # checked above
            status = statuses[i] or ("resolved" if resolved[i] else "new")
            done = status in ("resolved", "closed")
            try:
                with transaction.atomic():
                    ticket = ticket_create(
                        customer=customer, kind=kinds[i] or "", category=found_categories[i] or "",
                        channel=channels[i] or "", subject=subjects[i] or "",
                        text=texts[i] or "", priority=priorities[i],
                        order=orders.get((customer.pk, order_ids[i] or "")),
                        opened_at=opened[i], source=source, external_id=numbers[i] or "",
                        churn_link=not done,
                    )  # fmt: skip
                    if status != "new":
                        when = resolved[i] or now
                        Ticket.objects.filter(pk=ticket.pk).update(
                            status=status,
                            first_responded_at=when if done else None,
                            resolved_at=when if done else None,
                            closed_at=when if status == "closed" else None,
                            resolution=resolutions[i] or "",
                        )
            except ValidationError as error:
                for name, messages in error.message_dict.items():
                    _err(errors, line, column.get(name, name), None, "; ".join(messages))
                if not skip_bad:
                    break
            else:
                imported += 1
        _finish(report, path, skip_bad)  # a row the store refused: roll everything back
    report.imported = imported
    return report
