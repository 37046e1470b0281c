"""Rows of one order that name different customers: refused, never summed without a word.

Item lines of one order (JD writes a row per SKU) share the order id and its customer. If
two rows with one order id name two customers, the file is wrong (ids reused across shops,
columns shifted) and grouping them would credit one customer with the other's purchase.
"""

from __future__ import annotations

from typing import Any

from patron.ingest.errors import IngestError, IngestErrorCode
from patron.ingest.i18n import gettext, gettext_noop

ORDER_NAMES_TWO_CUSTOMERS = gettext_noop(
    "Order %(order)s names customer %(first)s%(first_line)s and customer %(second)s"
    "%(second_line)s: the rows of one order must name one customer. Nothing was imported; "
    "correct the file (are order ids reused across shops? use --source per shop)."
)
ON_LINE = gettext_noop(" (line %(line)s)")


def stage_conflicts_check(cursor: Any, stage: str) -> None:
    """Raise if two staged rows share an order key but not the customer.

    Raises
    ------
    IngestError
        ``ORDER_CONFLICT``, naming the order, both customers and their lines.
    """
    cursor.execute(
        f"SELECT order_key FROM {stage} WHERE order_key IS NOT NULL GROUP BY order_key "
        "HAVING COUNT(DISTINCT customer_ext) > 1 ORDER BY MIN(line) LIMIT 1"
    )
    found = cursor.fetchone()
    if found is None:
        return
    order = found[0]
    cursor.execute(
        f"SELECT line, customer_ext FROM {stage} WHERE order_key = %s ORDER BY line", [order]
    )
    rows = cursor.fetchall()
    first_line, first = rows[0]
    second_line, second = next((line, c) for line, c in rows if c != first)

    def where(line: int) -> str:  # streamed rows come back with negative lines: unknown
        return gettext(ON_LINE) % {"line": line} if line > 0 else ""

    raise IngestError(
        gettext(ORDER_NAMES_TWO_CUSTOMERS)
        % {
            "order": repr(order),
            "first": repr(first),
            "first_line": where(first_line),
            "second": repr(second),
            "second_line": where(second_line),
        },
        code=IngestErrorCode.ORDER_CONFLICT,
        extra={"order": order, "customers": [first, second], "lines": [first_line, second_line]},
    )
