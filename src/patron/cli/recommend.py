"""patron recommend: "buy again" and "try new" lists, in the store or from a file, and their
evaluation on held-out days."""

from __future__ import annotations

from datetime import date
from pathlib import Path
from typing import Annotated, Any

import typer

from patron.cli.common import JsonOption, console, err_console, print_json, run_with_django

recommend_app = typer.Typer(
    help='Personalised recommendations: "buy again" and "try new" lists, explained.',
    invoke_without_command=True,
)

AsOfOption = Annotated[
    str | None,
    typer.Option("--as-of", help="Recommend as of this date (YYYY-MM-DD); lines before it count."),
]
SourceOption = Annotated[
    Path | None,
    typer.Option(
        "--source",
        exists=True,
        dir_okay=False,
        help="A CSV of item lines (customer_id, sku, date, quantity): no database needed.",
    ),
]
NOption = Annotated[int, typer.Option("--n", min=1, max=50, help="Items per list.")]
LangOption = Annotated[
    str, typer.Option("--lang", help="Language of the reason column: en or zh-hans.")
]


def _as_of(value: str | None) -> date:
    if value is None:
        raise typer.BadParameter("give the date as YYYY-MM-DD", param_hint="--as-of")
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise typer.BadParameter(
            f"{value!r} is not a date (YYYY-MM-DD)", param_hint="--as-of"
        ) from None


def _file_errors(func: Any) -> Any:
    from patron.core.errors import PatronError

    try:
        return func()
    except PatronError as error:
        err_console.print(f"[red]Error:[/red] {error.message}", highlight=False, soft_wrap=True)
        raise typer.Exit(1) from None


def _file_setup() -> None:
    """File mode needs Django's translation machinery only (no database)."""
    import os

    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "patron.settings")
    os.environ.setdefault("PATRON_ALLOW_INSECURE_KEY", "1")
    import django

    django.setup()


@recommend_app.callback()
def recommend(
    ctx: typer.Context,
    as_of: AsOfOption = None,
    source: SourceOption = None,
    out: Annotated[
        Path | None,
        typer.Option(
            "--out", file_okay=False, help="With --source: write DIR/recommendations.csv."
        ),
    ] = None,
    n: NOption = 10,
    lang: LangOption = "en",
    evaluate_days: Annotated[
        int,
        typer.Option(
            "--evaluate-days",
            min=0,
            help="In the store: evaluate on this many held-out days (0: skip).",
        ),
    ] = 30,
    as_json: JsonOption = False,
) -> None:
    """Compute both lists for every customer: in the store (kept as a run, shown on the 360
    page and the API) or, with --source, from a file into --out."""
    if ctx.invoked_subcommand is not None:
        return
    day = _as_of(as_of)
    if lang not in ("en", "zh-hans"):
        raise typer.BadParameter("choose en or zh-hans", param_hint="--lang")
    if source is not None:
        if out is None:
            raise typer.BadParameter(
                "with --source, say where to write: --out DIR", param_hint="--out"
            )
        _file_setup()

        def run_file() -> None:
            from patron.analytics.recommend import Lines, Recommender, Rules, day_number
            from patron.recommend.files import lines_read_csv, recommendations_write_csv

            data = lines_read_csv(source)
            lines = Lines.from_columns(data.columns)
            rec = Recommender(tune=True).fit(lines, as_of=day_number(day))
            table = rec.recommend(None, n, rules=Rules(returned=data.returned))
            path = recommendations_write_csv(table, out, language=lang)
            if as_json:
                print_json(
                    {
                        "file": str(path),
                        "rows": len(table),
                        "customers": int(table["customer_id"].nunique()),
                    }
                )
            else:
                console.print(
                    f"Wrote {len(table):,} rows for {table['customer_id'].nunique():,} "
                    f"customers to {path}"
                )

        _file_errors(run_file)
        return

    def run_store() -> None:
        from patron.recommend.services import recommendation_run_create

        run = recommendation_run_create(as_of=day, per_list=n, evaluate_days=evaluate_days or None)
        if as_json:
            print_json(
                {
                    "run": run.pk,
                    "as_of": run.as_of,
                    "customers": run.customers,
                    "evaluation": run.evaluation,
                }
            )
            return
        console.print(
            f"Recommendation run {run.pk} as of {run.as_of}: {run.customers:,} customers."
        )
        if run.evaluation:
            _print_evaluation(run.evaluation)

    run_with_django(run_store)


@recommend_app.command("evaluate")
def recommend_evaluate(
    as_of: AsOfOption = None,
    days: Annotated[
        int, typer.Option("--days", min=1, help="Hold out the last N days before --as-of.")
    ] = 30,
    source: SourceOption = None,
    k: Annotated[int, typer.Option("--k", min=1, max=50, help="The cut-off of the metrics.")] = 10,
    as_json: JsonOption = False,
) -> None:
    """Hold out the last N days, fit on the rest, and report recall, NDCG and hit rate at k
    for "buy again" and "try new", beside top popular, own top items and item-kNN."""
    day = _as_of(as_of)

    def run() -> None:
        from patron.analytics.recommend import Lines, Recommender, day_number, evaluate
        from patron.recommend.errors import RecommendError, RecommendErrorCode

        if source is not None:
            from patron.recommend.files import lines_read_csv

            columns = lines_read_csv(source).columns
            lines = Lines.from_columns(columns)
        else:
            from patron.recommend.services import store_lines

            data = store_lines(before=day)
            if not data.columns["customer"]:
                raise RecommendError(
                    f"no item lines before {day}", code=RecommendErrorCode.NO_LINES
                )
            lines = Lines.from_columns(data.columns)
        cut = day_number(day)
        if int(lines.day.min()) >= cut - days:
            raise RecommendError(
                f"no lines before the held-out window ({days} days before {day})",
                code=RecommendErrorCode.BAD_WINDOW,
            )
        result = evaluate(
            lines, as_of=cut, days=days, k=k, recommender=Recommender(tune=True)
        ).as_dict()
        if as_json:
            print_json(result)
        else:
            _print_evaluation(result)

    if source is not None:
        _file_setup()
        _file_errors(run)
    else:
        run_with_django(run)


LABELS = {
    "patron": "Patron",
    "own_top_frequency": "own top frequency",
    "top_popular": "top popular",
    "item_knn": "item-kNN",
}


def _print_evaluation(result: dict[str, Any]) -> None:
    from rich.table import Table

    k = result["k"]
    table = Table(
        "list",
        "method",
        f"recall@{k}",
        f"NDCG@{k}",
        f"hit rate@{k}",
        "customers",
        title=f"Held out the {result['days']} days before {result['as_of']}",
    )
    for lst, by in result["scores"].items():
        for method, s in by.items():
            if s is None:
                table.add_row(lst, LABELS.get(method, method), "—", "—", "—", "")
                continue
            table.add_row(
                lst,
                LABELS.get(method, method),
                f"{s['recall']:.4f}",
                f"{s['ndcg']:.4f}",
                f"{s['hit_rate']:.4f}",
                f"{s['customers']:,}",
            )
    console.print(table)
