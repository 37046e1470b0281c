"""customers duplicates, customers merge."""

from __future__ import annotations

from typing import Annotated

import typer
from rich.markup import escape

from patron.cli.common import JsonOption, console, print_json, run_with_django

customers_app = typer.Typer(
    help="Customer records: find and merge duplicates.", no_args_is_help=True
)


@customers_app.command("duplicates")
def duplicates(
    limit: Annotated[int, typer.Option("--limit", help="At most this many pairs.")] = 200,
    as_json: JsonOption = False,
) -> None:
    """List likely duplicate customers: same phone, same email, or same name and birthday."""

    def run() -> None:
        from rich.table import Table

        from patron.customers.selectors import customer_duplicate_candidates

        pairs = customer_duplicate_candidates(limit=limit)
        if as_json:
            print_json([p.as_dict() for p in pairs])
            return
        table = Table("keep", "other", "why", "shared value", "name similarity")
        for p in pairs:
            cells = (p.keep, p.other, p.reason, p.value)  # the shop's text, never markup
            table.add_row(*(escape(str(c)) for c in cells), f"{p.name_similarity:.2f}")
        console.print(table)
        console.print(f"{len(pairs)} pairs. Merge one with: patron customers merge KEEP OTHER")

    run_with_django(run)


@customers_app.command("merge")
def merge(
    keep: Annotated[str, typer.Argument(help="Customer id to keep.")],
    other: Annotated[str, typer.Argument(help="Customer id folded into KEEP, then removed.")],
    as_json: JsonOption = False,
) -> None:
    """Move OTHER's orders, interactions and consents to KEEP; an audit record is kept."""

    def run() -> None:
        import getpass

        from patron.customers.services import customer_merge

        record = customer_merge(keep=keep, other=other, merged_by=f"cli:{getpass.getuser()}")
        result = {
            "kept": keep,
            "merged": other,
            "orders_moved": record.orders_moved,
            "interactions_moved": record.interactions_moved,
        }
        if as_json:
            print_json(result)
        else:
            console.print(
                f"[green]Merged {escape(other)} into {escape(keep)}[/green]: "
                f"{record.orders_moved} orders and "
                f"{record.interactions_moved} interactions moved."
            )

    run_with_django(run)
