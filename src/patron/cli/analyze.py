"""patron analyze: the value analysis of a file (no database) or of the store (kept as a run)."""

from __future__ import annotations

import datetime as dt
import os
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.markup import escape

from patron.cli.common import (
    JsonOption,
    console,
    err_console,
    first_errors_from,
    patron_errors,
    print_json,
    run_with_django,
)
from patron.cli.data import (
    DateFormatOption,
    DelimiterOption,
    EncodingOption,
    MapOption,
    SheetOption,
)

SourceFileOption = Annotated[
    str | None,
    typer.Option(
        "--source",
        help="Analyse this transactions file (CSV, text, .xlsx, .parquet) without the "
        "database; same reading and validation as `patron import transactions`. Also a "
        "directory of Parquet files (a data lake's folder; with --engine spark, or CSV). "
        "With --engine spark also a URI that Spark's file systems serve (s3a://, hdfs://, "
        "abfss://, gs://, file://).",
    ),
]
AsOfOption = Annotated[
    str | None,
    typer.Option(
        "--as-of",
        help="Analysis date, YYYY-MM-DD (default: the day after the last purchase in the data).",
    ),
]
OutOption = Annotated[
    Path | None,
    typer.Option("--out", file_okay=False, help="Write customers.csv and summary.json here."),
]
ReportOption = Annotated[
    Path | None, typer.Option("--report", dir_okay=False, help="Write a one-file HTML report.")
]
LangOption = Annotated[str, typer.Option("--lang", help="Report language: both, en or zh-hans.")]
XlsxOption = Annotated[
    Path | None, typer.Option("--xlsx", dir_okay=False, help="Write an Excel workbook.")
]
SkipBadOption = Annotated[
    bool, typer.Option("--skip-bad", help="Analyse the good rows of a file with invalid rows.")
]
MarginRateOption = Annotated[
    float | None,
    typer.Option(
        "--margin-rate",
        help="Margin as a share of revenue where the cost is "
        "unknown, e.g. 0.3 (default: unknown; the pyramid then ranks by revenue).",
    ),
]
PerOrderOption = Annotated[
    float | None,
    typer.Option("--cost-per-order", help="Cost to serve one order (default: the settings')."),
]
SettingsOption = Annotated[
    Path | None,
    typer.Option(
        "--settings",
        exists=True,
        dir_okay=False,
        readable=True,
        help="A JSON file of analysis settings (RFM method and variant, tier cuts, cost to "
        "serve, lost window; docs/analytics/runs.md). Its keys replace those of the saved "
        "settings (a stored run) or of the defaults (--source).",
    ),
]
KpisOption = Annotated[
    bool | None,
    typer.Option(
        "--kpis/--no-kpis",
        help="Monthly KPIs and cohorts (default: on for a stored "
        "run, a report or a workbook; off for --out alone).",
    ),
]

EngineOption = Annotated[
    str | None,
    typer.Option(
        "--engine",
        help="Where the analysis runs: duckdb (this machine, the default) or spark "
        "(local Spark, a cluster or Spark Connect; needs pip install 'patron[spark]'), for "
        "--source and for a stored run (its orders copied to Parquet; no --out, --report "
        "or --xlsx). Default: PATRON_ANALYSIS_ENGINE when it is spark, else duckdb.",
    ),
]
SparkMasterOption = Annotated[
    str | None,
    typer.Option(
        "--spark-master",
        help="Spark master URL: local[*] (default), spark://host:7077, yarn, k8s://..., or "
        "a Spark Connect server sc://host:15002 (default: PATRON_SPARK_MASTER).",
    ),
]

LANGS = ("both", "en", "zh-hans")


def _parse_date(value: str | None) -> dt.date | None:
    if value is None:
        return None
    try:
        return dt.date.fromisoformat(value)
    except ValueError:
        raise typer.BadParameter(
            f"{value!r} is not a date like 2024-12-31", param_hint="--as-of"
        ) from None


@contextmanager
def _progress(enabled: bool) -> Iterator[tuple[Callable[[str], None], Callable[[int], None]]]:
    """A spinner on stderr naming the step under way (and rows read while reading)."""
    from rich.progress import Progress, SpinnerColumn, TextColumn, TimeElapsedColumn

    with Progress(
        SpinnerColumn(),
        TextColumn("[progress.description]{task.description}"),
        TextColumn("{task.fields[rows]}"),
        TimeElapsedColumn(),
        console=err_console,
        transient=True,
        disable=not enabled,
    ) as progress:
        task = progress.add_task("Starting", total=None, rows="")

        def step(name: str) -> None:
            progress.update(task, description=name, rows="")

        def rows(count: int) -> None:
            progress.update(task, rows=f"{count:,} rows")

        yield step, rows


def _write(
    analysis: Any, *, out: Path | None, report: Path | None, lang: str, xlsx: Path | None
) -> list[str]:
    written: list[str] = []
    if out is not None:
        from patron.insights.outputs import write_outputs

        written += [str(p) for p in write_outputs(analysis, out)]
    if report is not None:
        from patron.insights.report_html import write_report

        written.append(str(write_report(analysis, report, lang=lang)))  # type: ignore[arg-type]
    if xlsx is not None:
        from patron.insights.outputs import write_xlsx

        written.append(str(write_xlsx(analysis, xlsx)))
    return written


def _print(result: dict[str, Any]) -> None:
    summary = result["summary"]
    if "run" in result:
        console.print(f"[green]Stored run {result['run']}[/green] as of {summary['as_of']}.")
    else:
        console.print(f"Analysed {result['source']['rows']:,} rows as of {summary['as_of']}.")
    console.print(
        f"{summary['customers']:,} customers, {summary['orders']:,} orders (returns not "
        f"counted), revenue "
        f"{summary['revenue']:,.2f}; top 20% give "
        f"{100 * (summary['top20_revenue_share'] or 0):.1f}% of revenue, Gini "
        f"{summary['gini'] or 0:.3f}.",
        highlight=False,
    )
    statement = summary.get("concentration_statement") or {}
    if statement:  # the command line speaks English (the report and the web app both)
        console.print(f"{statement['en'][:1].upper()}{statement['en'][1:]}.", highlight=False)
    from patron.analytics.tiers import TIERS

    label = {t.code: t.label["en"] for t in TIERS}
    tiers = ", ".join(f"{label.get(k, k)} {v:,}" for k, v in summary["tiers"].items())
    console.print(f"Tiers: {tiers}", highlight=False)
    for path in result["written"]:
        console.print(f"Wrote {path}", highlight=False)


def analyze(
    source: SourceFileOption = None,
    as_of: AsOfOption = None,
    out: OutOption = None,
    report: ReportOption = None,
    lang: LangOption = "both",
    xlsx: XlsxOption = None,
    mapping: MapOption = None,
    encoding: EncodingOption = None,
    date_format: DateFormatOption = None,
    delimiter: DelimiterOption = None,
    sheet: SheetOption = None,
    skip_bad: SkipBadOption = False,
    margin_rate: MarginRateOption = None,
    cost_per_order: PerOrderOption = None,
    settings_file: SettingsOption = None,
    kpis: KpisOption = None,
    engine: EngineOption = None,
    spark_master: SparkMasterOption = None,
    as_json: JsonOption = False,
) -> None:
    """RFM, segments, value pyramid, 80/20, profit and KPIs, as of a date.

    With --source the file is analysed in memory and nothing is stored.

    Without it the app database is analysed and the run is kept with every customer's scores.
    """
    if lang not in LANGS:
        raise typer.BadParameter(f"choose one of {', '.join(LANGS)}", param_hint="--lang")
    day = _parse_date(as_of)
    with_kpis = (
        kpis if kpis is not None else (source is None or report is not None or xlsx is not None)
    )

    def settings(base: Any = None) -> Any:
        """``base`` (saved settings, or the defaults) with --settings and the flags on top."""
        return settings_with(
            base,
            settings_file,
            margin_rate=margin_rate,
            cost_per_order=cost_per_order,
            kpis=bool(with_kpis),
        )

    chosen_engine = engine or (
        "spark" if os.environ.get("PATRON_ANALYSIS_ENGINE") == "spark" else "duckdb"
    )
    if chosen_engine not in ("duckdb", "spark"):
        raise typer.BadParameter("choose duckdb or spark", param_hint="--engine")
    if source is not None:
        _check_source(source, chosen_engine)
    if source is not None and chosen_engine == "spark":
        from patron.cli.analyze_spark import analyze_spark

        if report is not None or xlsx is not None:
            raise typer.BadParameter(
                "the Spark engine writes --out (customers as Parquet, summary.json); "
                "run --report or --xlsx on the DuckDB engine",
                param_hint="--engine",
            )
        with _progress(not as_json) as (step, _rows):
            output = analyze_spark(
                source,
                as_of=day,
                settings=settings(),
                mapping=mapping,
                skip_bad=skip_bad,
                out=out,
                master=spark_master,
                step=step,
            )
        print_json(output) if as_json else _print(output)
        return
    if source is not None:
        _analyze_file(
            Path(source),
            day,
            settings(),
            mapping,
            encoding,
            date_format,
            delimiter,
            sheet,
            skip_bad,
            out,
            report,
            lang,
            xlsx,
            as_json,
        )
        return

    if chosen_engine == "spark" and (out is not None or report is not None or xlsx is not None):
        raise typer.BadParameter(
            "a stored run on Spark keeps every customer's scores in the database and writes "
            "no files; run --out, --report or --xlsx on the DuckDB engine",
            param_hint="--engine",
        )
    if spark_master is not None:  # the session of a stored run on Spark reads it
        os.environ["PATRON_SPARK_MASTER"] = spark_master

    def run() -> None:
        from patron.insights.runs import run_summary
        from patron.insights.selectors import analysis_settings_get
        from patron.insights.services import analysis_run_create

        chosen = settings(analysis_settings_get())
        with _progress(not as_json) as (step, _rows):
            stored, analysis = analysis_run_create(
                as_of=day, settings=chosen, step=step, engine=engine
            )
            step("Writing files")
            written = _write(analysis, out=out, report=report, lang=lang, xlsx=xlsx)
        result = {
            "run": stored.pk,
            "summary": run_summary(analysis),
            "written": written,
            "duration": stored.duration,
        }
        print_json(result) if as_json else _print(result)

    run_with_django(run)


def settings_with(
    base: Any,
    path: Path | None,
    *,
    margin_rate: float | None,
    cost_per_order: float | None,
    kpis: bool,
) -> Any:
    """Analysis settings: ``base`` (None: the defaults), then the JSON file, then the flags."""
    import dataclasses
    import json

    from patron.analytics.report import AnalysisSettings

    values = (base or AnalysisSettings()).as_dict()
    try:
        if path is not None:
            try:
                given = json.loads(path.read_text(encoding="utf-8-sig"))
            except (UnicodeDecodeError, json.JSONDecodeError) as error:
                raise ValueError(f"{path.name} is not a JSON file: {error}") from None
            if not isinstance(given, dict):
                raise ValueError(f"{path.name} must hold one JSON object of settings")
            profit = given.pop("profit", None)
            if profit is not None:
                if not isinstance(profit, dict):
                    raise ValueError("profit must be an object of cost-to-serve settings")
                values["profit"] = {**values["profit"], **profit}
            values.update(given)
        if margin_rate is not None:
            values["profit"]["default_margin_rate"] = margin_rate
        if cost_per_order is not None:
            values["profit"]["per_order"] = cost_per_order
        chosen = AnalysisSettings.from_dict(values)
        return dataclasses.replace(chosen, kpis=kpis)
    except ValueError as error:
        raise typer.BadParameter(str(error)) from None


def _check_source(source: str, engine: str) -> None:
    """A local path must exist; a URI is for Spark's file systems."""
    from patron.insights.lake_paths import is_uri

    if is_uri(source):
        if engine != "spark":
            raise typer.BadParameter(
                "a URI (s3a://, hdfs://, ...) is read by the Spark engine only: add --engine "
                "spark, or give a local path",
                param_hint="--source",
            )
    elif not Path(source).exists():
        raise typer.BadParameter(f"'{source}' does not exist.", param_hint="--source")


def _analyze_file(
    source: Path,
    day: dt.date | None,
    settings: Any,
    mapping: list[str] | None,
    encoding: str | None,
    date_format: str | None,
    delimiter: str | None,
    sheet: str | None,
    skip_bad: bool,
    out: Path | None,
    report: Path | None,
    lang: str,
    xlsx: Path | None,
    as_json: bool,
) -> None:
    """The file path: no Django set-up, so a large file starts analysing at once."""
    from patron.ingest.mapping import parse_map_options
    from patron.insights.runs import analyze_file, run_summary
    from patron.insights.sources import AnalysisSourceError

    with patron_errors():
        try:
            with _progress(not as_json) as (step, rows):
                result = analyze_file(
                    source,
                    as_of=day,
                    settings=settings,
                    mapping=parse_map_options(mapping or []),
                    encoding=encoding,
                    delimiter=delimiter,
                    sheet=sheet,
                    date_format=date_format,
                    skip_bad=skip_bad,
                    step=step,
                    progress=rows,
                )
                step("Writing files")
                written = _write(result.analysis, out=out, report=report, lang=lang, xlsx=xlsx)
        except AnalysisSourceError as error:
            for line in first_errors_from(error):
                err_console.print(f"[red]{escape(line)}[/red]", highlight=False)
            raise
        except ValueError as error:
            err_console.print(f"[red]Error:[/red] {escape(str(error))}", highlight=False)
            raise typer.Exit(1) from None
    output = {
        "source": result.source.as_dict(),
        "summary": run_summary(result.analysis),
        "written": written,
    }
    print_json(output) if as_json else _print(output)
