"""Customer list exports: CSV as UTF-8 with a BOM (Excel on Chinese Windows), and .xlsx."""

from __future__ import annotations

import tempfile
from collections.abc import Iterator
from datetime import date
from typing import Any

from django.db.models import QuerySet
from django.http import FileResponse, StreamingHttpResponse
from django.utils import timezone
from django.utils.translation import gettext as _

from patron.accounts.privacy import phone_mask
from patron.core.cells import csv_download, xlsx_row
from patron.customers.models import Customer
from patron.customers.selectors import EXPORT_COLUMNS, customer_export_rows
from patron.customers.values import ExportValues, export_headers

XLSX_MAX_ROWS = 1_048_575  # Excel's limit, less the header


def _headers() -> list[str]:
    return [
        _("Customer id"),
        _("Name"),
        _("Phone number"),
        _("Email"),
        _("Gender"),
        _("Birth date"),
        _("Region"),
        _("City"),
        _("Occupation"),
        _("Acquisition channel"),
        _("Acquired on"),
        _("Tags"),
        *export_headers(),  # the latest run's figures (customers/values.py)
    ]


def _rows(queryset: QuerySet[Customer], full_phone: bool) -> Iterator[list[Any]]:
    from patron.insights.selectors import analysis_run_latest

    run = analysis_run_latest()
    readable = ExportValues(run)
    _columns, rows = customer_export_rows(queryset=queryset, run=run)
    for row in rows:
        values = list(row[: len(EXPORT_COLUMNS)])
        if not full_phone:
            values[2] = phone_mask(values[2])
        values[4] = readable.gender(values[4])  # 男/女 in Chinese, not m/f
        values[-1] = ",".join(values[-1] or [])
        yield values + readable.score_cells(row[len(EXPORT_COLUMNS) :] or (None,) * 9)


def _filename(extension: str) -> str:
    return f"customers-{timezone.localdate():%Y%m%d}.{extension}"


def customers_csv(*, queryset: QuerySet[Customer], full_phone: bool) -> StreamingHttpResponse:
    rows = (
        [v.isoformat() if isinstance(v, date) else v for v in values]
        for values in _rows(queryset, full_phone)
    )
    return csv_download(filename=_filename("csv"), header=_headers(), rows=rows)


def customers_xlsx(*, queryset: QuerySet[Customer], full_phone: bool) -> FileResponse:
    from openpyxl import Workbook

    workbook = Workbook(write_only=True)
    sheet = workbook.create_sheet(_("Customers"))
    sheet.append(_headers())
    for count, values in enumerate(_rows(queryset, full_phone)):
        if count >= XLSX_MAX_ROWS:
            break
        sheet.append(xlsx_row(sheet, values))
    spool = tempfile.SpooledTemporaryFile(max_size=16 * 1024 * 1024)  # noqa: SIM115
    workbook.save(spool)
    spool.seek(0)
    return FileResponse(
        spool,
        as_attachment=True,
        filename=_filename("xlsx"),
        content_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    )
