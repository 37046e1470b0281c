"""What the importer says about a rejected row, as English msgids (see :mod:`.i18n`).

Each text is translated when a batch's errors are built, so that a row error reads in the
language of the person importing; the English is what the command line and scripts see.
"""

from __future__ import annotations

from patron.ingest.i18n import gettext, gettext_noop
from patron.ingest.mapping import ValueKind

__all__ = [
    "EXPECTED",
    "EXPECTED_DATE_IN_FORMAT",
    "EXPECTED_DATE_LIKE",
    "MASKED_ID",
    "MISSING",
    "NO_CUSTOMER",
    "NO_SUCH_DAY",
    "SCIENTIFIC_ID",
    "TOO_LONG",
    "date_example",
    "expected_message",
]

MISSING = gettext_noop("a value is required here")
MASKED_ID = gettext_noop(
    "a masked id hides who this is; Patron never matches or merges customers on masked "
    "values: export the file with full ids, or name another column with --map %(field)s=COLUMN"
)
NO_CUSTOMER = gettext_noop(
    "nothing on this row names the customer: %(sources)s is blank or masked, and Patron never "
    "matches customers on masked values; export the file with full numbers, or name an id "
    "column with --map %(field)s=COLUMN"
)
SCIENTIFIC_ID = gettext_noop(
    "this id was turned into scientific notation by Excel and its last digits are lost: "
    "import the file as downloaded, or format the column as text in Excel before saving"
)
TOO_LONG = gettext_noop("too long: expected at most %(limit)s characters")
# What a cell of each kind should have held (the message of an unreadable cell).
EXPECTED = {
    ValueKind.IDENTIFIER: gettext_noop(
        "expected an id as text (not in scientific notation such as 1.23E+15: "
        "format the column as text in Excel before saving)"
    ),
    ValueKind.AMOUNT: gettext_noop(
        "expected an amount such as 123.45 (¥, 元 and thousands separators are fine)"
    ),
    ValueKind.DATETIME: gettext_noop("expected a date such as 2024-01-31 or 20240131"),
    ValueKind.DATE: gettext_noop("expected a date such as 2024-01-31"),
    ValueKind.QUANTITY: gettext_noop("expected a whole number such as 2"),
    ValueKind.PHONE: gettext_noop(
        "expected a phone number such as 13812345678 or +86 138 1234 5678"
    ),
    ValueKind.EMAIL: gettext_noop("expected an email address such as name@example.com"),
    ValueKind.GENDER: gettext_noop("expected 男/女/保密 or male/female/unknown"),
    ValueKind.BOOLEAN: gettext_noop("expected yes/no (是/否, 1/0, true/false)"),
    ValueKind.STATUS: gettext_noop("expected completed, returned or cancelled (完成, 退货, 取消)"),
}
# A date written in the right shape for a day that does not exist (2024-02-30, 2023-04-31).
NO_SUCH_DAY = gettext_noop("no such day in the calendar: check the day of the month")
# A date cell of a file whose date format is known (detected, or given with --date-format).
EXPECTED_DATE_IN_FORMAT = gettext_noop("expected a date in the format %(format)s")
# The same, said to a shop owner with an example in that format instead of its %-codes.
EXPECTED_DATE_LIKE = gettext_noop("expected a date such as %(example)s")


def expected_message(kind: ValueKind, date_format: str | None = None) -> str:
    """What a cell of ``kind`` should have held, in the active language; a date in the
    file's ``date_format`` when it is known."""
    if kind is ValueKind.DATETIME and date_format:
        return gettext(EXPECTED_DATE_LIKE) % {"example": date_example(date_format)}
    return gettext(EXPECTED[kind])


def date_example(date_format: str) -> str:
    """31 January 2024, 14:30 written in ``date_format`` (``%Y-%m-%d %H:%M:%S`` gives
    2024-01-31 14:30:00): what a shop owner reads instead of the format's codes."""
    from datetime import UTC, datetime

    try:
        return datetime(2024, 1, 31, 14, 30, 0, tzinfo=UTC).strftime(date_format)
    except ValueError:
        return date_format
