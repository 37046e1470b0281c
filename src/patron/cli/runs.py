"""patron runs: the stored analysis runs, and migration between any two of them."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import typer

from patron.cli.common import JsonOption, console, print_json, run_with_django

runs_app = typer.Typer(
    help="Stored analysis runs (made by `patron analyze` or the Run analysis button).",
    no_args_is_help=True,
)

ByOption = Annotated[
    str, typer.Option("--by", help="Compare value tiers (tier) or RFM segments (segment).")
]
MovesOption = Annotated[
    Path | None,
    typer.Option(
        "--moves",
        dir_okay=False,
        help="Also write each customer's move (customer_id, before, after, change) to this CSV.",
    ),
]
BY_COLUMN = {"tier": "value_tier", "segment": "segment"}


@runs_app.command("list")
def runs_list(as_json: JsonOption = False) -> None:
    """The runs, newest first, with their as-of date, status and number of customers."""

    def run() -> None:
        from django.utils import timezone

        from patron.insights.selectors import analysis_run_list
        from patron.insights.services import run_stale_fail

        run_stale_fail()  # a run whose process was killed is failed, not "running" for ever
        # in the business time zone (PATRON_TIME_ZONE), as the web shows it, with its offset
        rows = [
            {
                "run": r.pk,
                "as_of": r.as_of.isoformat(),
                "status": r.status,
                "customers": r.customers,
                "created": timezone.localtime(r.created_at).isoformat(timespec="seconds"),
                "code_version": r.code_version,
                "error": r.error,
            }
            for r in analysis_run_list(status=None)
        ]
        if as_json:
            print_json(rows)
            return
        if not rows:
            console.print("No analysis run yet: run `patron analyze`.")
            return
        from rich.table import Table

        table = Table("run", "as of", "status", "customers", "created")
        for row in rows:
            customers = f"{row['customers']:,}"
            table.add_row(str(row["run"]), row["as_of"], row["status"], customers, row["created"])
        console.print(table)
        for row in rows[:10]:
            if row["status"] == "failed" and row["error"]:
                console.print(f"Run {row['run']} failed: {row['error']}", markup=False)

    run_with_django(run)


def _run(pk: int, which: str) -> Any:
    from patron.insights.selectors import analysis_run_completed

    found = analysis_run_completed(pk)
    if found is None:
        raise typer.BadParameter(
            f"no completed analysis run {pk} (see `patron runs list`)", param_hint=which
        )
    return found


@runs_app.command("migration")
def runs_migration(
    before: Annotated[int, typer.Argument(help="The earlier run's number.")],
    after: Annotated[int, typer.Argument(help="The later run's number.")],
    by: ByOption = "tier",
    moves: MovesOption = None,
    as_json: JsonOption = False,
) -> None:
    """How customers moved between two runs: the transition matrix (counts and row shares),
    upgrades, downgrades, new and lost customers."""
    if by not in BY_COLUMN:
        raise typer.BadParameter("choose tier or segment", param_hint="--by")

    def run() -> None:
        from patron.insights.selectors import analysis_run_migration

        earlier, later = _run(before, "BEFORE"), _run(after, "AFTER")
        migration = analysis_run_migration(before=earlier, after=later, column=BY_COLUMN[by])
        if moves is not None:
            from patron.core.cells import neutralise_frame

            neutralise_frame(migration.moves).to_csv(
                moves, index=False, encoding="utf-8-sig", lineterminator="\r\n"
            )  # CRLF rows: a CR inside a cell is quoted
        result = {
            "before": {"run": earlier.pk, "as_of": earlier.as_of.isoformat()},
            "after": {"run": later.pk, "as_of": later.as_of.isoformat()},
            "by": by,
            "upgrades": migration.upgrades,
            "downgrades": migration.downgrades,
            "same": migration.same,
            "new": migration.new,
            "lost": migration.lost,
            "counts": {
                str(b): {str(a): int(n) for a, n in row.items()}
                for b, row in migration.counts.iterrows()
            },
            "shares": {
                str(b): {str(a): round(float(s), 4) for a, s in row.items()}
                for b, row in migration.shares.iterrows()
            },
        }
        if as_json:
            print_json(result)
            return
        _print(result, moves)

    run_with_django(run)


def _print(result: dict[str, Any], moves: Path | None) -> None:
    from rich.table import Table

    before, after = result["before"], result["after"]
    table = Table(
        f"run {before['run']} ({before['as_of']}) ↓ / run {after['run']} ({after['as_of']}) →",
        *result["counts"][next(iter(result["counts"]))],
        title=f"Migration by {result['by']}: count (share of the row)",
    )
    for level, row in result["counts"].items():
        shares = result["shares"][level]
        table.add_row(level, *(f"{n:,} ({shares[a]:.0%})" for a, n in row.items()))
    console.print(table)
    console.print(
        f"Upgrades {result['upgrades']:,}, downgrades {result['downgrades']:,}, "
        f"same {result['same']:,}, new {result['new']:,}, lost {result['lost']:,}.",
        highlight=False,
    )
    if moves is not None:
        console.print(f"Wrote {moves}", highlight=False)
