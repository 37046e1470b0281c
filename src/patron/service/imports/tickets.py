"""Import tickets from another helpdesk (CSV or Excel, Chinese or English headers): all or
nothing unless skip_bad."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext_noop

from patron.service.imports.base import (
    CUSTOMER_ID_NAMES,
    MISSING,
    UNKNOWN_VALUE,
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
from patron.service.models import Ticket, TicketCategory

UNKNOWN_ORDER = gettext_noop("no order with this id for this customer")
DUPLICATE_TICKET = gettext_noop("ticket number already on line %(line)s")
TICKET_IMPORTED = gettext_noop("a ticket with this number was imported from this source before")

TICKET_COLUMNS: dict[str, tuple[str, ...]] = {
    "external_id": (
        "external_id",
        "ticket id",
        "ticket number",
        "ticket",
        "工单号",
        "工单编号",
        "单号",
    ),
    "customer_id": CUSTOMER_ID_NAMES,
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
}
TICKET_REQUIRED = (
    "external_id",
    "customer_id",
    "kind",
    "category",
    "channel",
    "subject",
    "opened_at",
)
VALUE_SYNONYMS: dict[str, dict[str, str]] = {
    "kind": {
        "complaint": "complaint",
        "投诉": "complaint",
        "question": "question",
        "咨询": "question",
        "问题": "question",
        "request": "request",
        "请求": "request",
        "需求": "request",
        "申请": "request",
        "praise": "praise",
        "表扬": "praise",
        "好评": "praise",
    },
    "channel": {
        "phone": "phone",
        "电话": "phone",
        "store": "store",
        "门店": "store",
        "email": "email",
        "邮件": "email",
        "邮箱": "email",
        "wechat": "wechat",
        "微信": "wechat",
        "app": "app",
        "小程序": "app",
        "web": "web",
        "网站": "web",
        "网页": "web",
        "在线": "web",
    },
    "status": {
        "new": "new",
        "新建": "new",
        "open": "open",
        "处理中": "open",
        "进行中": "open",
        "waiting": "waiting",
        "待客户回复": "waiting",
        "等待客户": "waiting",
        "resolved": "resolved",
        "已解决": "resolved",
        "closed": "closed",
        "已关闭": "closed",
        "关闭": "closed",
        "reopened": "reopened",
        "重新打开": "reopened",
    },
    "priority": {
        "low": "low",
        "低": "low",
        "normal": "normal",
        "普通": "normal",
        "中": "normal",
        "high": "high",
        "高": "high",
        "urgent": "urgent",
        "紧急": "urgent",
    },
}


def _mapped(
    table: Table,
    field_name: str,
    errors: list[RowError],
    *,
    required: bool,
    lookup: Callable[[str], str | None],
    choices: str,
) -> list[str | None]:
    column = table.names.get(field_name)
    values = text_column(table, field_name)
    out: list[str | None] = []
    for line, value in zip(table.lines, values, strict=True):
        if value is None:
            if required:
                row_error(errors, line, column or field_name, None, MISSING, "row.missing_value")
            out.append(None)
            continue
        found = lookup(value)
        if found is None:
            row_error(errors, line, column or field_name, value, UNKNOWN_VALUE, choices=choices)
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
    table = read_table(path, TICKET_COLUMNS)
    require_columns(table, path, TICKET_REQUIRED, TICKET_COLUMNS)
    errors = list(table.errors)
    customers = customers_column(table, errors)
    opened = times_column(table, "opened_at", errors, required=True)
    resolved = times_column(table, "resolved_at", errors, required=False)

    def synonym(field_name: str) -> Callable[[str], str | None]:
        table_ = {k.casefold(): v for k, v in VALUE_SYNONYMS[field_name].items()}
        return lambda value: table_.get(value.strip().casefold())

    def choices(field_name: str) -> str:
        return ", ".join(dict.fromkeys(VALUE_SYNONYMS[field_name].values()))

    kinds = _mapped(
        table, "kind", errors, required=True, lookup=synonym("kind"), choices=choices("kind")
    )
    channels = _mapped(
        table,
        "channel",
        errors,
        required=True,
        lookup=synonym("channel"),
        choices=choices("channel"),
    )
    statuses = _mapped(
        table, "status", errors, required=False, lookup=synonym("status"), choices=choices("status")
    )
    priorities = _mapped(
        table,
        "priority",
        errors,
        required=False,
        lookup=synonym("priority"),
        choices=choices("priority"),
    )
    categories: dict[str, TicketCategory] = {}
    for category in TicketCategory.objects.filter(active=True):
        for name in (category.code, category.name_en, category.name_zh):
            categories[name.strip().casefold()] = category
    found_categories = _mapped(
        table,
        "category",
        errors,
        required=True,
        lookup=lambda v: categories[v.casefold()].code if v.casefold() in categories else None,
        choices=", ".join(sorted({c.code for c in categories.values()})) or "—",
    )
    numbers = text_column(table, "external_id")
    subjects = text_column(table, "subject")
    texts = text_column(table, "text")
    resolutions = text_column(table, "resolution")
    order_ids = text_column(table, "order_id")
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
            row_error(errors, line, column["external_id"], None, MISSING, "row.missing_value")
        elif number in first_line:
            row_error(
                errors,
                line,
                column["external_id"],
                number,
                DUPLICATE_TICKET,
                line=first_line[number],
            )
        else:
            first_line[number] = line
            if number in taken:
                row_error(errors, line, column["external_id"], number, TICKET_IMPORTED)
        if subjects[i] is None:
            row_error(errors, line, column["subject"], None, MISSING, "row.missing_value")
        if (
            order_ids[i]
            and customers[i] is not None
            and (
                (customers[i].pk, order_ids[i]) not in orders  # type: ignore[union-attr]
            )
        ):
            row_error(errors, line, column["order_id"], order_ids[i], UNKNOWN_ORDER)
    report = ServiceImportReport(file=path.name, rows=len(table.lines), errors=errors)
    finish(report, path, skip_bad)
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
                        customer=customer,
                        kind=kinds[i] or "",
                        category=found_categories[i] or "",
                        channel=channels[i] or "",
                        subject=subjects[i] or "",
                        text=texts[i] or "",
                        priority=priorities[i],
                        order=orders.get((customer.pk, order_ids[i] or "")),
                        opened_at=opened[i],
                        source=source,
                        external_id=numbers[i] or "",
                        churn_link=not done,
                    )
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
                    row_error(errors, line, column.get(name, name), None, "; ".join(messages))
                if not skip_bad:
                    break
            else:
                imported += 1
        finish(report, path, skip_bad)  # a row the store refused: roll everything back
    report.imported = imported
    return report
