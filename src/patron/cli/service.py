"""patron service ... and patron surveys ...: ticket and survey imports and reports."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import typer

from patron.cli.common import JsonOption, console, err_console, print_json, run_with_django

service_app = typer.Typer(
    help="Service: tickets, complaints and their service levels.", no_args_is_help=True
)
surveys_app = typer.Typer(
    help="Satisfaction surveys: NPS and CSAT answers, what drives them.", no_args_is_help=True
)

FileArgument = Annotated[
    Path, typer.Argument(help="CSV or Excel file (Chinese or English headers).")
]
SkipBad = Annotated[
    bool, typer.Option("--skip-bad", help="Import the good rows and list the bad ones.")
]
Source = Annotated[str, typer.Option("--source", help="Name of the tool the file comes from.")]


def _print_import(report: Any, *, as_json: bool, what: str) -> None:
    if as_json:
        print_json(report.as_dict())
        return
    console.print(
        f"[green]Imported {report.imported:,} {what}[/green] of {report.rows:,} rows in "
        f"{report.file}" + (f"; {report.rejected:,} rejected:" if report.errors else ".")
    )
    for error in report.errors:
        console.print(f"  line {error.line}, {error.column}: {error.message}", highlight=False)


def _run_import(importer: str, file: Path, skip_bad: bool, source: str, as_json: bool,
                what: str) -> None:  # fmt: skip
    def run() -> None:
        from patron.service import imports
        from patron.service.errors import ServiceError, ServiceErrorCode

        try:
            report = getattr(imports, importer)(path=file, skip_bad=skip_bad, source=source)
        except ServiceError as error:
            if error.code != ServiceErrorCode.IMPORT_ROWS_REJECTED:
                raise
            if as_json:
                print_json({"error": error.message, **error.extra})
            else:
                err_console.print(f"[red]Error:[/red] {error.message}", highlight=False)
                for row in error.extra["errors"]:
                    err_console.print(
                        f"  line {row['line']}, {row['column']}: {row['message']}"
                        + (f" ({row['value']!r})" if row["value"] is not None else ""),
                        highlight=False,
                    )
            raise typer.Exit(1) from None
        _print_import(report, as_json=as_json, what=what)

    run_with_django(run)


@service_app.command("import")
def tickets_import(
    file: FileArgument, skip_bad: SkipBad = False, source: Source = "import",
    as_json: JsonOption = False,
) -> None:  # fmt: skip
    """Import tickets from another helpdesk: 工单号, 客户编号, 类型, 分类, 渠道, 标题, 内容,
    订单号, 创建时间, 状态, 解决时间, 处理结果 (or the English names). All or nothing unless
    --skip-bad."""
    _run_import("tickets_import", file, skip_bad, source, as_json, "tickets")


@service_app.command("report")
def service_report(as_json: JsonOption = False) -> None:
    """Ticket volume, backlog, response and resolution times against the SLA, reopen rate,
    complaints per 1,000 orders and the recovery rate (last 365 days), with the survey
    figures (NPS, CSAT)."""

    def run() -> None:
        from patron.analytics.satisfaction import csat_score, nps_score
        from patron.service.reports import survey_data
        from patron.service.selectors import ticket_report

        tickets = ticket_report()
        report = tickets.as_dict()
        data = survey_data(since=tickets.since, until=tickets.until)
        report["nps"] = _nan_free(nps_score(data.nps).as_dict())
        report["csat"] = _nan_free(csat_score(data.csat).as_dict())
        if as_json:
            print_json(report)
            return
        for key, value in report.items():
            if not isinstance(value, list | dict):
                console.print(f"{key}: {value}")
        console.print(f"nps: {report['nps']}")
        console.print(f"csat: {report['csat']}")

    run_with_django(run)


def _nan_free(data: dict[str, Any]) -> dict[str, Any]:
    return {k: (None if isinstance(v, float) and v != v else v) for k, v in data.items()}


@surveys_app.command("import")
def surveys_import(
    file: FileArgument, skip_bad: SkipBad = False, source: Source = "import",
    as_json: JsonOption = False,
) -> None:  # fmt: skip
    """Import survey answers (问卷星, SurveyMonkey, Typeform exports): customer_id (客户编号),
    answered_at (答题时间), nps 0-10 (推荐意愿), csat 1-5 (满意度), comment (意见); any further
    numeric column is a driver rating. All or nothing unless --skip-bad."""
    _run_import("responses_import", file, skip_bad, source, as_json, "answers")


@surveys_app.command("report")
def surveys_report(as_json: JsonOption = False) -> None:
    """NPS (−100…100) and CSAT with 95% intervals, by month, value tier, segment, store and
    category; key drivers; comment themes; retention of promoters, passives and detractors."""

    def run() -> None:
        from patron.service.reports import survey_report

        report = survey_report()
        if as_json:
            print_json(report)
            return
        nps, csat = report["nps"], report["csat"]
        console.print(
            f"NPS {nps['score']} (95% {nps['ci_low']} to {nps['ci_high']}, "
            f"{nps['responses']:,} answers); CSAT {csat['mean']} (95% {csat['ci_low']} to "
            f"{csat['ci_high']}, {csat['responses']:,} answers)"
        )
        for item in report["drivers"]["items"]:
            console.print(f"  driver {item['driver']}: {100 * item['share']:.0f}%")
        for theme in report["themes"][:10]:
            console.print(f"  theme {theme['term']}: z={theme['z']}")

    run_with_django(run)


@surveys_app.command("send")
def surveys_send(as_json: JsonOption = False) -> None:
    """The daily survey work: invite customers whose order was a few days ago to the NPS
    survey (through the outbox) and record service recoveries. Safe to repeat."""

    def run() -> None:
        from patron.service.tasks import surveys_daily

        result = surveys_daily()
        if as_json:
            print_json(result)
        else:
            console.print(
                f"{result['invited']:,} invited, {result['sent']:,} queued for sending, "
                f"{result['recovered']:,} complaints recovered."
            )

    run_with_django(run)
