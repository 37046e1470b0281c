"""patron warnings refresh: bring the churn warning list up to date (for a daily cron)."""

from __future__ import annotations

import datetime as dt
from typing import Annotated

import typer

from patron.cli.common import JsonOption, console, print_json, run_with_django

warnings_app = typer.Typer(
    help="The churn early-warning list: customers at risk, to follow up.", no_args_is_help=True
)


@warnings_app.command("refresh")
def refresh(
    run_id: Annotated[
        int | None,
        typer.Option("--run", help="Use this analysis run (default: the latest completed one)."),
    ] = None,
    today: Annotated[
        str | None,
        typer.Option("--today", help="Date of the list, YYYY-MM-DD (default: today)."),
    ] = None,
    as_json: JsonOption = False,
) -> None:
    """Raise warnings for customers of high or medium churn risk in the latest analysis run,
    close those whose customer bought again, and update the rest. Safe to repeat."""
    day: dt.date | None = None
    if today is not None:
        try:
            day = dt.date.fromisoformat(today)
        except ValueError:
            raise typer.BadParameter(
                f"expected a date as YYYY-MM-DD, got {today!r}", param_hint="--today"
            ) from None

    def run() -> None:
        from patron.core.errors import PatronError
        from patron.insights.models import AnalysisRun
        from patron.retention.services import warning_list_refresh

        chosen = None
        if run_id is not None:
            chosen = AnalysisRun.objects.filter(pk=run_id).first()
            if chosen is None:
                raise PatronError(f"There is no analysis run {run_id}.", code="retention.no_run")
        result = warning_list_refresh(run=chosen, today=day)
        if as_json:
            print_json(result.as_dict())
            return
        console.print(
            f"[green]Warning list up to date[/green] with run {result.run} "
            f"(as of {result.as_of}): {result.raised} new, {result.updated} updated, "
            f"{result.won_back} won back and {result.recovered} came back by themselves "
            f"(they bought again); {result.open} open."
        )

    run_with_django(run)
