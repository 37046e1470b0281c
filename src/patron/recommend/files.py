"""File mode without a database: read item lines from CSV, write the lists as CSV.

Input columns (header names, case-insensitive; English or Chinese): customer id
(``customer_id``, ``customer``, 客户编号, 会员ID), SKU (``sku``, ``product``, 商品编码), date
(``date``, ``day``, ``ordered_on``, 日期, 下单日期) and, optionally, ``quantity`` (数量; 1 when
missing). A line with a negative quantity is a return: the item is never recommended to that
customer. The output ``recommendations.csv`` has the columns ``customer_id, list, rank, sku,
score, reason`` and is UTF-8 with a BOM, like the other exports.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from django.utils.translation import gettext as _

from patron.recommend.errors import RecommendError, RecommendErrorCode

SYNONYMS = {
    "customer": ("customer_id", "customer", "客户编号", "客户id", "会员id", "会员卡号"),
    "product": ("sku", "product", "product_id", "商品编码", "商品id", "货号"),
    "day": ("date", "day", "ordered_on", "order_date", "日期", "下单日期", "订单日期"),
    "quantity": ("quantity", "qty", "数量", "购买数量"),
}
OUT_COLUMNS = ("customer_id", "list", "rank", "sku", "score", "reason")
FILE_NAME = "recommendations.csv"

MISSING_COLUMN = "%(file)s: no column for %(field)s (expected one of: %(names)s)."
BAD_DATE = (
    "%(file)s, line %(line)s: %(value)r in column %(column)s is not a date (expected YYYY-MM-DD)."
)
BAD_QUANTITY = "%(file)s, line %(line)s: %(value)r in column %(column)s is not a number."
EMPTY = "%(file)s: no purchase lines (with a positive quantity) to recommend from."


@dataclass(frozen=True)
class FileLines:
    columns: dict[str, Any]
    returned: dict[str, frozenset[str]]


def lines_read_csv(path: Path) -> FileLines:
    """Read and validate a lines CSV (UTF-8 with or without a BOM). Raises RecommendError."""
    import numpy as np
    import pandas as pd

    try:
        frame = pd.read_csv(path, dtype=str, encoding="utf-8-sig", keep_default_na=False)
    except (OSError, UnicodeDecodeError, pd.errors.ParserError) as error:
        raise RecommendError(f"{path}: {error}", code=RecommendErrorCode.BAD_FILE) from None
    lower = {c.strip().lower(): c for c in frame.columns}
    chosen: dict[str, str] = {}
    for field, names in SYNONYMS.items():
        found = next((lower[n] for n in names if n in lower), None)
        if found is None and field != "quantity":
            raise RecommendError(
                _(MISSING_COLUMN) % {"file": path.name, "field": field, "names": ", ".join(names)},
                code=RecommendErrorCode.BAD_FILE,
            )
        if found is not None:
            chosen[field] = found
    day_cells = frame[chosen["day"]]
    days = pd.to_datetime(day_cells.str.strip(), format="%Y-%m-%d", errors="coerce")
    _reject_first(path, day_cells, days.isna().to_numpy(), BAD_DATE)
    if "quantity" in chosen:
        cells = frame[chosen["quantity"]]
        qty = pd.to_numeric(cells.str.strip(), errors="coerce")
        _reject_first(path, cells, qty.isna().to_numpy(), BAD_QUANTITY)
        quantity = qty.to_numpy(dtype=float)
    else:
        quantity = np.ones(len(frame))
    customer = frame[chosen["customer"]].str.strip().to_numpy()
    product = frame[chosen["product"]].str.strip().to_numpy()
    bought = quantity > 0
    returned: dict[str, set[str]] = {}
    for c, p in zip(customer[quantity < 0], product[quantity < 0], strict=True):
        returned.setdefault(str(c), set()).add(str(p))
    if not bought.any():
        raise RecommendError(_(EMPTY) % {"file": path.name}, code=RecommendErrorCode.NO_LINES)
    return FileLines(
        columns={
            "customer": customer[bought],
            "product": product[bought],
            "day": days.to_numpy()[bought].astype("datetime64[D]"),
            "quantity": quantity[bought],
        },
        returned={k: frozenset(v) for k, v in returned.items()},
    )


def _reject_first(path: Path, cells: Any, bad: Any, message: str) -> None:
    """Raise naming the file line, column and value of the first bad cell, if any."""
    import numpy as np

    rows = np.flatnonzero(bad)
    if not rows.size:
        return
    i = int(rows[0])
    line, column = i + 2, str(cells.name)  # line 1 is the header
    raise RecommendError(
        _(message) % {"file": path.name, "line": line, "value": cells.iloc[i], "column": column},
        code=RecommendErrorCode.BAD_FILE,
        extra={"line": line, "column": column},
    )


def recommendations_write_csv(table: Any, out_dir: Path, *, language: str = "en") -> Path:
    """Write ``DIR/recommendations.csv`` (UTF-8 with a BOM); written whole or not at all."""
    import os
    import tempfile

    out_dir.mkdir(parents=True, exist_ok=True)
    from patron.core.cells import neutralise_frame

    frame = table.assign(
        reason=table["reason_zh"] if language.startswith("zh") else table["reason_en"]
    )[list(OUT_COLUMNS)]
    frame = neutralise_frame(frame)  # customer ids and SKUs are the shop's text
    target = out_dir / FILE_NAME
    fd, tmp = tempfile.mkstemp(dir=out_dir, suffix=".part")
    os.close(fd)
    try:
        frame.to_csv(
            tmp, index=False, encoding="utf-8-sig", float_format="%.6f", lineterminator="\r\n"
        )  # CRLF rows: a CR inside a cell is quoted
        os.replace(tmp, target)
    finally:
        if os.path.exists(tmp):
            os.unlink(tmp)
    return target
