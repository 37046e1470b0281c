"""patron campaigns evaluate: what a campaign changed, from a contacts file and an orders file."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Annotated, Any, TypeVar

import typer

from patron.cli.common import JsonOption, console, err_console, patron_errors, print_json
from patron.cli.data import DelimiterOption, EncodingOption, MapOption, SheetOption

T = TypeVar("T")
U = TypeVar("U")

ContactsArgument = Annotated[
    Path,
    typer.Argument(
        exists=True,
        dir_okay=False,
        readable=True,
        help="Who was targeted: customer_id, group (treatment/control, 实验组/对照组), "
        "contacted_at (客户编号, 分组, 触达时间).",
    ),
]
OrdersOption = Annotated[
    Path,
    typer.Option(
        "--source",
        exists=True,
        dir_okay=False,
        readable=True,
        help="The orders file, read as `patron analyze --source` reads it.",
    ),
]
WindowOption = Annotated[
    int, typer.Option("--window", help="Attribution window: days from the contact day.")
]
PreDaysOption = Annotated[
    int, typer.Option("--pre-days", help="Days before the contact used for CUPED (pre-period).")
]
ControlShareOption = Annotated[
    float | None,
    typer.Option(
        "--control-share",
        help="The designed share of controls, e.g. 0.1, for the sample-ratio check.",
    ),
]
MarginRateOption = Annotated[
    float | None,
    typer.Option("--margin-rate", help="Margin as a share of revenue when the file has no cost."),
]


def evaluate(
    contacts: ContactsArgument,
    source: OrdersOption,
    window: WindowOption,
    pre_days: PreDaysOption = 90,
    control_share: ControlShareOption = None,
    margin_rate: MarginRateOption = None,
    cost_per_order: Annotated[
        float, typer.Option("--cost-per-order", help="Cost to serve one order.")
    ] = 0.0,
    cost_per_message: Annotated[
        float, typer.Option("--cost-per-message", help="Cost of one message sent.")
    ] = 0.0,
    cost_per_response: Annotated[
        float,
        typer.Option(
            "--cost-per-response", help="Cost of the offer per responding treated customer."
        ),
    ] = 0.0,
    points_cost: Annotated[
        float, typer.Option("--points-cost", help="Points given, at their liability value.")
    ] = 0.0,
    campaign: Annotated[
        str | None,
        typer.Option("--campaign", help="The campaign to evaluate, when the file holds several."),
    ] = None,
    mapping: MapOption = None,
    encoding: EncodingOption = None,
    delimiter: DelimiterOption = None,
    sheet: SheetOption = None,
    as_json: JsonOption = False,
) -> None:
    """Uplift of a campaign against its control group, from files (no database).

    A response is an order in the --window days from the contact day.

    Rates are fractions (0.031, not 3.1%); intervals are 95%.

    CUPED uses the spend in the --pre-days days before the contact.
    """
    _arrow_memory_pool()
    # What reading the orders needs, first: a Parquet file's reading starts on its thread
    # while this one imports the rest (the statistics' SciPy, ~0.3 s) and reads the contacts.
    from patron.ingest.mapping import parse_map_options
    from patron.ingest.reading.parquet import PARQUET_SUFFIXES
    from patron.insights.sources import AnalysisSourceError, read_transactions_file, time_zone

    def read_contacts(tz: str) -> Any:
        from patron.insights.campaign_files import contacts_of_campaign, read_contacts_file

        return contacts_of_campaign(read_contacts_file(contacts, tz=tz), campaign)

    with patron_errors():
        try:
            tz = time_zone()
            found, orders = read_both(
                lambda: read_contacts(tz),
                lambda workers: read_transactions_file(
                    source,
                    mapping=parse_map_options(mapping or []),
                    encoding=encoding,
                    delimiter=delimiter,
                    sheet=sheet,
                    tz=tz,
                    workers=workers,
                ),
                overlap=source.suffix.lower() in PARQUET_SUFFIXES,
            )
            from patron.analytics.uplift import CampaignCosts
            from patron.insights.campaign_files import evaluate_campaign_files

            result, used = evaluate_campaign_files(
                found,
                orders,
                window_days=window,
                pre_days=pre_days,
                has_cost="cost" in orders.columns,
                margin_rate=margin_rate,
                cost_per_order=cost_per_order,
                control_share=control_share,
                costs=CampaignCosts(
                    per_message=cost_per_message,
                    per_response=cost_per_response,
                    points_liability=points_cost,
                ),
            )
        except AnalysisSourceError as error:
            print_row_errors(error)
            raise
        except ValueError as error:
            err_console.print("Error: " + str(error), markup=False, highlight=False)
            raise typer.Exit(1) from None
        except Exception as error:  # the contacts file's row errors, then the usual handling
            if getattr(error, "extra", None):
                print_row_errors(error)
            raise
    output = {**result.as_dict(), "evaluation": used}
    if as_json:
        print_json(output)
    else:
        _print(output)


def _arrow_memory_pool() -> None:
    """jemalloc for Arrow's buffers, unless ARROW_DEFAULT_MEMORY_POOL says otherwise: with
    pyarrow's default (mimalloc) this command spent ~0.5 s more system time at 1M contacts
    and 10M orders (1.4-1.7 s against 0.9-1.1 s, /usr/bin/time, docs/analytics/uplift.md)."""
    import contextlib
    import os

    if os.environ.get("ARROW_DEFAULT_MEMORY_POOL"):
        return
    import pyarrow as pa

    with contextlib.suppress(NotImplementedError):  # a pyarrow built without jemalloc
        pa.set_memory_pool(pa.jemalloc_memory_pool())


def read_both(
    read_contacts: Callable[[], T],
    read_orders: Callable[[int | None], U],
    *,
    overlap: bool,
) -> tuple[T, U]:
    """The contacts and the orders, each read and checked as on its own; when both have
    errors, the contacts' are the ones told.

    A Parquet orders file (``overlap``) is read on a second thread while this one reads the
    contacts (DuckDB, which reads it, leaves Python's lock while it works), so the contacts
    no longer add their time. Rows of it that DuckDB cannot check are then checked in this
    process (``workers=1``): forking checking processes while another thread runs is not
    safe. Other files are read one after the other, as the reader chooses
    (``workers=None``)."""
    if not overlap:
        found = read_contacts()
        return found, read_orders(None)
    from concurrent.futures import ThreadPoolExecutor

    with ThreadPoolExecutor(max_workers=1) as pool:
        orders = pool.submit(read_orders, 1)
        try:
            found = read_contacts()
        except BaseException:
            orders.exception()  # the reader finishes; its error, if any, is not told
            raise
        return found, orders.result()


def print_row_errors(error: Any) -> None:
    """The rows an error names (``extra["errors"]``: dicts by line, or sentences), in red."""
    for row in (error.extra or {}).get("errors", []):
        if isinstance(row, str):
            err_console.print(row, markup=False, highlight=False, style="red")
            continue
        value = "" if row.get("value") is None else f" {row['value']!r}"
        err_console.print(
            f"line {row['line']} {row['column']}{value}: {row['message']}",
            markup=False,
            highlight=False,
            style="red",
        )


def _interval(e: dict[str, Any], scale: float = 1.0, unit: str = "") -> str:
    return (
        f"{e['estimate'] * scale:+,.2f}{unit} (95% CI {e['ci_low'] * scale:+,.2f} to "
        f"{e['ci_high'] * scale:+,.2f}{unit}, p = {e['p_value']:.3g})"
    )


def _print(out: dict[str, Any]) -> None:
    t, c, u = out["treatment"], out["control"], out["uplift"]
    say = lambda text: console.print(text, markup=False, highlight=False)  # noqa: E731
    say(f"Treatment {t['customers']:,} customers, control {c['customers']:,}.")
    say(
        f"Response rate {100 * t['response_rate']:.2f}% against {100 * c['response_rate']:.2f}%:"
        f" uplift {_interval(u['response_rate'], 100, ' pts')}."
    )
    say(f"Revenue per customer: uplift {_interval(u['revenue_per_customer'])}.")
    if out["cuped"]:
        say(
            f"With pre-period spend (CUPED): {_interval(out['cuped'])}; variance "
            f"{100 * out['cuped_variance_reduction']:.1f}% lower."
        )
    if out["srm_p_value"] is not None:
        say(f"Sample ratio check: p = {out['srm_p_value']:.3g}.")
    if out["roi"]:
        say(f"ROI: {_interval(out['roi'])}.")
    significant = (
        u["revenue_per_customer"]["ci_low"] > 0 or u["revenue_per_customer"]["ci_high"] < 0
    )
    if not significant:
        say("The effect on revenue is not distinguishable from zero at 95%.")
