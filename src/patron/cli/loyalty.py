"""patron loyalty: enrol, adjust, expire, reevaluate, statement, report."""

from __future__ import annotations

from typing import Annotated, Any

import typer

from patron.cli.common import JsonOption, console, print_json, run_with_django

loyalty_app = typer.Typer(
    help="The member programme: enrolment, points, tiers, statements.", no_args_is_help=True
)


@loyalty_app.command("enrol")
def enrol(
    customer: Annotated[str | None, typer.Option("--customer", help="A customer's id.")] = None,
    segment: Annotated[
        str | None,
        typer.Option(
            "--segment",
            help="Customers of the latest analysis run: tier:<codes> or segment:<codes>, "
            "e.g. tier:very_high,high.",
        ),
    ] = None,
    referral_code: Annotated[str | None, typer.Option("--referral-code")] = None,
    as_json: JsonOption = False,
) -> None:
    """Enrol one customer (--customer) or a whole segment (--segment)."""
    if (customer is None) == (segment is None):
        raise typer.BadParameter("give --customer or --segment (one of them)")

    def run() -> None:
        from patron.loyalty import selectors, services

        if segment is not None:
            result: dict[str, Any] = services.members_enrol_segment(segment=segment)
        else:
            member = services.member_enrol(customer_id=customer or "", referral_code=referral_code)
            result = selectors.member_figures(member=member)
        if as_json:
            print_json(result)
        elif segment is not None:
            console.print(
                f"[green]{result['enrolled']} enrolled[/green] of {result['segment_size']} in "
                f"{segment} ({result['already']} were members already)."
            )
        else:
            console.print(f"[green]Enrolled[/green] {customer}: card {result['card_number']}.")

    run_with_django(run)


@loyalty_app.command("adjust", context_settings={"ignore_unknown_options": True})
def adjust(
    card: Annotated[str, typer.Argument(help="Card number.")],
    points: Annotated[int, typer.Argument(help="Points to add (negative to deduct).")],
    reason: Annotated[str, typer.Option("--reason", help="Why (required; kept in the audit log).")],
    as_json: JsonOption = False,
) -> None:
    """Add or deduct points by hand, with a reason."""

    def run() -> None:
        from patron.loyalty import selectors, services

        member = selectors.member_by_card(card_number=card)
        entry = services.points_adjust(member=member, points=points, reason=reason)
        figures = selectors.member_figures(member=member)
        if as_json:
            print_json({**figures, "adjusted": entry.points})
        else:
            console.print(
                f"[green]Adjusted[/green] {entry.points:+d}: balance {figures['points_balance']}."
            )

    run_with_django(run)


@loyalty_app.command("expire")
def expire(as_json: JsonOption = False) -> None:
    """Expire points past their last day and release holds past their time (daily)."""

    def run() -> None:
        from patron.loyalty import services

        expired = services.points_expire()
        if as_json:
            print_json({"expired": expired})
        else:
            console.print(f"[green]{expired} points expired.[/green]")

    run_with_django(run)


@loyalty_app.command("reevaluate")
def reevaluate(as_json: JsonOption = False) -> None:
    """Re-evaluate every member's tier now (upgrades and due downgrades)."""

    def run() -> None:
        from patron.loyalty import services

        counts = services.tiers_reevaluate()
        if as_json:
            print_json(counts)
        else:
            console.print(
                f"[green]{counts['upgraded']} upgraded, {counts['downgraded']} downgraded.[/green]"
            )

    run_with_django(run)


@loyalty_app.command("statement")
def statement(
    card: Annotated[str, typer.Argument(help="Card number.")], as_json: JsonOption = False
) -> None:
    """A member's points statement, oldest first, with the balance after each line."""

    def run() -> None:
        from rich.table import Table

        from patron.loyalty import selectors

        member = selectors.member_by_card(card_number=card)
        lines = selectors.member_statement(member=member)
        if as_json:
            print_json({**selectors.member_figures(member=member), "entries": lines})
            return
        table = Table(title=f"{member.card_number} · {member.customer.external_id}")
        for column in ("date", "kind", "points", "reason", "balance"):
            table.add_column(column, justify="right" if column in ("points", "balance") else "left")
        for line in lines:
            kind = line["kind"] + (" (pending)" if line["pending"] else "")
            table.add_row(
                str(line["date"]), kind, str(line["points"]), line["reason"], str(line["balance"])
            )
        console.print(table)

    run_with_django(run)


@loyalty_app.command("report")
def report_cmd(as_json: JsonOption = False) -> None:
    """Programme figures: members, points earned, redeemed, expired, liability, tiers."""

    def run() -> None:
        from dataclasses import asdict

        from patron.loyalty import report

        totals = report.points_totals()
        data = {
            "members": totals["members"],
            **asdict(totals["rates"]),
            "cost_per_point": totals["cost_per_point"],
            "tiers": {
                (t["tier"].code if t["tier"] else ""): t["members"]
                for t in report.tier_distribution()
            },
            "members_against_others": {
                k: asdict(v) for k, v in report.members_against_others()["groups"].items()
            },
            "top_rewards": report.top_rewards(),
        }
        if as_json:
            print_json(data)
            return
        console.print(
            f"{data['members']} members; {data['earned']} points earned, "
            f"{data['spent']} redeemed, {data['expired']} expired; "
            f"{data['outstanding']} outstanding, liability {data['liability']}."
        )

    run_with_django(run)
