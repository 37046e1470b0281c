"""patron analyze --source PATH --engine spark: the file mode on Spark (no Django)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from pathlib import Path
from typing import Any

from rich.markup import escape

from patron.cli.common import err_console, first_errors_from, patron_errors


def analyze_spark(
    source: str | Path,
    *,
    as_of: dt.date | None,
    settings: Any,
    mapping: list[str] | None,
    skip_bad: bool,
    out: Path | None,
    master: str | None,
    step: Callable[[str], None],
) -> dict[str, Any]:
    """Run the analysis on Spark and write ``out`` (customers/ as Parquet, summary.json);
    the result printed or given as JSON."""
    import typer

    from patron.ingest.mapping import parse_map_options
    from patron.insights.outputs import write_summary_json
    from patron.insights.runs import run_summary
    from patron.insights.sources import AnalysisSourceError
    from patron.insights.spark_run import analyze_on_spark
    from patron.insights.spark_session import SparkMissing

    with patron_errors():
        try:
            result = analyze_on_spark(
                source,
                as_of=as_of,
                settings=settings,
                mapping=parse_map_options(mapping or []),
                skip_bad=skip_bad,
                out=out,
                master=master,
                step=step,
            )
        except AnalysisSourceError as error:
            for line in first_errors_from(error):
                err_console.print(f"[red]{escape(line)}[/red]", highlight=False)
            raise
        except (ValueError, SparkMissing) as error:
            err_console.print(f"[red]Error:[/red] {escape(str(error))}", highlight=False)
            raise typer.Exit(1) from None
    written = []
    if out is not None:
        step("Writing files")
        written = [
            str(result.customers_path),
            str(write_summary_json(result.analysis, out / "summary.json")),
        ]
    return {
        "source": result.source.as_dict(),
        "engine": "spark",
        "summary": run_summary(result.analysis),
        "written": written,
    }
