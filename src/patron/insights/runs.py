"""Analysis runs end to end: from a file (no database) or from the store (kept as a run).

``analyze_file`` is what ``patron analyze --source`` calls: the importer's reading and
validation, DuckDB in memory, :func:`patron.analytics.report.analyze_transactions`. It never
touches Django. ``analyze_store`` reads the app database through Ibis and stores the run
(:func:`patron.insights.services.analysis_run_create`); it needs Django set up.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from patron.analytics.report import AnalysisSettings, ValueAnalysis, analyze_transactions

if TYPE_CHECKING:
    from patron.insights.models import AnalysisRun
    from patron.insights.sources import FileTransactions

Step = Callable[[str], None]


@dataclass(frozen=True)
class FileAnalysis:
    source: FileTransactions
    analysis: ValueAnalysis


def analyze_file(
    path: str | Path,
    *,
    as_of: dt.date | None = None,
    settings: AnalysisSettings | None = None,
    mapping: Mapping[str, str] | None = None,
    encoding: str | None = None,
    delimiter: str | None = None,
    sheet: str | None = None,
    date_format: str | None = None,
    skip_bad: bool = False,
    step: Step | None = None,
    progress: Callable[[int], None] | None = None,
) -> FileAnalysis:
    """Read, validate and analyse a transaction file; nothing is stored.

    Raises
    ------
    IngestError, AnalysisSourceError
        The file cannot be read or has invalid rows (see :mod:`patron.insights.sources`).
    ValueError
        No transaction on or before ``as_of``.
    """
    from patron.insights.sources import read_transactions_file

    if step is not None:
        step("Reading and validating")
    source = read_transactions_file(
        path,
        mapping=mapping,
        encoding=encoding,
        delimiter=delimiter,
        sheet=sheet,
        date_format=date_format,
        skip_bad=skip_bad,
        progress=progress,
    )
    analysis = analyze_transactions(source.ibis_table(), as_of=as_of, settings=settings, step=step)
    return FileAnalysis(source=source, analysis=analysis)


def analyze_store(
    *,
    as_of: dt.date | None = None,
    settings: AnalysisSettings | None = None,
    step: Step | None = None,
) -> tuple[AnalysisRun, ValueAnalysis]:
    """Analyse the app database and keep the run with its scores (Django must be set up)."""
    from patron.insights.services import analysis_run_create

    return analysis_run_create(as_of=as_of, settings=settings, step=step)


def run_summary(analysis: ValueAnalysis) -> dict[str, Any]:
    """The headline figures for ``--json`` output and the console."""
    f = analysis.figures
    keys = (
        "as_of",
        "customers",
        "orders",
        "revenue",
        "profit",
        "value_basis",
        "top20_revenue_share",
        "gini",
        "concentration_statement",
        "tiers",
        "segments",
    )
    return {k: f.get(k) for k in keys}
