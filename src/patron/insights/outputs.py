"""Files written by ``patron analyze``: customers.csv, summary.json and an Excel workbook.

No Django here. CSV files are UTF-8 with a BOM (``utf-8-sig``), so Excel on Chinese Windows
opens them correctly.
"""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Any

import pandas as pd

from patron.analytics.report import CUSTOMER_COLUMNS, ValueAnalysis
from patron.core.cells import neutralise_arrow, xlsx_row

#: Prediction columns of customers.csv (and the workbook) after the analysis columns, when the
#: analysis predicted: (column written, column of the analysis, decimals).
PREDICTION_OUTPUT: tuple[tuple[str, str, int | None], ...] = (
    ("p_alive", "p_alive", 6),
    ("expected_purchases", "expected_purchases", 6),
    ("clv", "clv", 2),
    ("churn_risk", "risk_level", None),
)

#: Keys of ``summary.json`` in the order written first; the other figures follow.
SUMMARY_KEYS = ("as_of", "customers", "revenue", "top20_revenue_share", "gini", "tiers", "segments")


def output_columns(customers: pd.DataFrame) -> pd.DataFrame:
    """The columns written per customer: :data:`~patron.analytics.report.CUSTOMER_COLUMNS`,
    then :data:`PREDICTION_OUTPUT` when ``customers`` has the predictions (``churn_risk`` is
    the risk level: high, medium or low)."""
    out = customers.loc[:, list(CUSTOMER_COLUMNS)]
    if all(source in customers.columns for _name, source, _d in PREDICTION_OUTPUT):
        out = out.copy(deep=False)
        for name, source, decimals in PREDICTION_OUTPUT:
            values = customers[source]
            out[name] = values.astype(float).round(decimals) if decimals is not None else values
    return out


def write_customers_csv(customers: pd.DataFrame, path: Path) -> Path:
    """One row per customer, the columns of :func:`output_columns`.

    Money has at most two decimals; an unknown value (recency of a customer with returns
    only, margin and profit without costs, the predictions of a customer with returns only
    or of a run whose prediction was skipped) is an empty cell.
    """
    import pyarrow as pa
    import pyarrow.csv as pacsv

    path.parent.mkdir(parents=True, exist_ok=True)
    table = pa.Table.from_pandas(output_columns(customers), preserve_index=False)
    table = neutralise_arrow(table)  # customer ids and names are the shop's text
    with path.open("wb") as handle:
        handle.write("\ufeff".encode())
        pacsv.write_csv(table, handle, write_options=pacsv.WriteOptions(quoting_style="needed"))
    return path


def _clean(value: Any) -> Any:
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if isinstance(value, dict):
        return {str(k): _clean(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_clean(v) for v in value]
    return value


def summary_document(analysis: ValueAnalysis) -> dict[str, Any]:
    """``summary.json``: the run's figures, the headline keys first."""
    figures = analysis.figures
    ordered = {key: figures[key] for key in SUMMARY_KEYS if key in figures}
    ordered.update({k: v for k, v in figures.items() if k not in ordered})
    return _clean(ordered)  # type: ignore[no-any-return]


def write_summary_json(analysis: ValueAnalysis, path: Path) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(
        json.dumps(summary_document(analysis), ensure_ascii=False, indent=2), encoding="utf-8"
    )
    return path


def write_outputs(analysis: ValueAnalysis, directory: Path) -> list[Path]:
    """``customers.csv`` and ``summary.json`` in ``directory`` (created if needed)."""
    return [
        write_customers_csv(analysis.customers, directory / "customers.csv"),
        write_summary_json(analysis, directory / "summary.json"),
    ]


def write_xlsx(analysis: ValueAnalysis, path: Path) -> Path:
    """A workbook: "summary" (headline figures), "tiers", "segments" and "customers"."""
    from openpyxl import Workbook

    figures = summary_document(analysis)
    book = Workbook(write_only=True)
    sheet = book.create_sheet("summary")
    sheet.append(["figure", "value"])
    for key in (
        "as_of",
        "customers",
        "orders",
        "revenue",
        "profit",
        "value_basis",
        "top20_revenue_share",
        "gini",
        "customers_for_80_revenue",
        "customers_for_80_profit",
        "loss_making_customers",
    ):
        sheet.append([key, figures.get(key)])
    statement = figures.get("concentration_statement") or {}
    for lang, text in statement.items():
        sheet.append(xlsx_row(sheet, [f"statement ({lang})", text]))
    for name, key in (("tiers", "tier_table"), ("segments", "segment_table")):
        rows = figures.get(key) or []
        sheet = book.create_sheet(name)
        if rows:
            sheet.append(xlsx_row(sheet, list(rows[0])))
            for row in rows:
                sheet.append(xlsx_row(sheet, list(row.values())))
    sheet = book.create_sheet("customers")
    customers = output_columns(analysis.customers)
    sheet.append(list(customers.columns))
    for row in customers.astype(object).itertuples(index=False, name=None):
        values = [
            None if (isinstance(v, float) and math.isnan(v)) or v is pd.NA else v for v in row
        ]
        sheet.append(xlsx_row(sheet, values))
    path.parent.mkdir(parents=True, exist_ok=True)
    book.save(path)
    return path
