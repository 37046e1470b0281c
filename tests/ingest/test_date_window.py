"""Order dates outside the plausible window (before 1970 in the business time zone, or more
than a day after now; both settable) are row errors naming the line, never stored."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pyarrow as pa
import pytest

from patron.ingest.cleaning.dates import order_date_window, outside_window
from patron.ingest.importer import ImportOptions, import_file
from patron.ingest.mapping import EntityKind

NOW = datetime(2026, 12, 6, 10, 0, tzinfo=UTC)


def test_the_window_against_a_reference() -> None:
    tz = "Asia/Shanghai"
    first, last = order_date_window(tz, now=NOW)
    assert first == datetime(1970, 1, 1, tzinfo=ZoneInfo(tz))
    assert last == NOW + timedelta(days=1)
    instants = [
        datetime(1, 1, 1, tzinfo=UTC),
        datetime(1969, 12, 31, 15, 59, 59, tzinfo=UTC),  # 23:59:59 on 1969-12-31 in Shanghai
        datetime(1969, 12, 31, 16, 0, tzinfo=UTC),  # midnight 1970-01-01 in Shanghai
        datetime(2024, 5, 1, tzinfo=UTC),
        NOW + timedelta(days=1),
        NOW + timedelta(days=1, microseconds=1),
        datetime(9999, 12, 31, tzinfo=UTC),
        None,
    ]
    array = pa.array(instants, pa.timestamp("us", tz="UTC"))
    expected = [t is not None and not (first <= t <= last) for t in instants]
    assert outside_window(array, tz=tz, now=NOW).tolist() == expected


@pytest.mark.django_db(transaction=True)
def test_a_file_with_poisoned_dates_keeps_its_good_rows_only(tmp_path: Path, settings: Any) -> None:
    # given a window set from the settings: 2020-01-01 to 30 days after now
    settings.PATRON_ORDER_DATES_FROM = "2020-01-01"
    settings.PATRON_ORDER_DATES_FUTURE_DAYS = 30
    soon = (datetime.now(UTC) + timedelta(days=10)).date().isoformat()
    late = (datetime.now(UTC) + timedelta(days=40)).date().isoformat()
    path = tmp_path / "orders.csv"
    path.write_text(
        "order_id,customer_id,ordered_at,amount\n"
        f"1,c1,2024-01-02,10\n2,c2,9999-12-31,11\n3,c3,0001-01-01,5\n4,c4,2019-12-31,5\n"
        f"5,c5,{soon},5\n6,c6,{late},5\n",
        encoding="utf-8",
    )
    # when
    report = import_file(path, kind=EntityKind.TRANSACTIONS, options=ImportOptions(skip_bad=True))
    # then each bad date is a row error on its line, in the ordered_at column
    assert [(e.line, e.column, e.code) for e in report.errors] == [
        (3, "ordered_at", "row.date_out_of_range"),
        (4, "ordered_at", "row.date_out_of_range"),
        (5, "ordered_at", "row.date_out_of_range"),
        (7, "ordered_at", "row.date_out_of_range"),
    ]
    assert "2020-01-01" in report.errors[0].message
    assert (report.inserted, report.rejected) == (2, 4)
