"""segments count|rebuild-purchases, campaigns list|launch|status|report|evaluate, import
campaign-contacts."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from patron.cli.campaign_evaluate import evaluate
from patron.cli.common import JsonOption, console, print_json, run_with_django

segments_app = typer.Typer(help="Segments: customers chosen by rules.", no_args_is_help=True)
campaigns_app = typer.Typer(
    help="Campaigns: offers to a segment, measured against a control group.",
    no_args_is_help=True,
)

RulesFile = Annotated[
    Path,
    typer.Argument(exists=True, dir_okay=False, help='A JSON file of rules, e.g. {"all": [...]}.'),
]
campaigns_app.command("evaluate")(evaluate)

CampaignId = Annotated[int, typer.Argument(help="The campaign's number.")]


@segments_app.command("count")
def segments_count(rules_file: RulesFile, as_json: JsonOption = False) -> None:
    """Count the customers meeting the rules (evaluated in the database)."""

    def run() -> None:
        from patron.campaigns.rules import segment_count

        text = rules_file.read_text(encoding="utf-8-sig")
        count = segment_count(rules=text)
        if as_json:
            print_json({"count": count})
        else:
            console.print(f"{count:,} customers")

    run_with_django(run)


@segments_app.command("rebuild-purchases")
def segments_rebuild_purchases() -> None:
    """Rebuild every customer's purchase summary (last and first purchase, orders, spend)
    from the orders. Every write of orders keeps it; this repairs it after writes made
    around Patron (SQL by hand, a restored backup)."""

    def run() -> None:
        from patron.sales.purchases import purchase_summary_rebuild

        purchase_summary_rebuild()
        console.print("[green]Purchase summary rebuilt from the orders.[/green]")

    run_with_django(run)


@campaigns_app.command("list")
def campaigns_list(as_json: JsonOption = False) -> None:
    """The campaigns, newest first, with their status."""

    def run() -> None:
        from patron.campaigns.selectors import campaign_list

        rows = [
            {
                "id": c.pk,
                "name": c.name,
                "channel": c.channel,
                "status": c.status,
                "launched_at": c.launched_at,
            }
            for c in campaign_list()[:500]
        ]
        if as_json:
            print_json(rows)
            return
        if not rows:
            console.print("No campaigns yet.")
        for row in rows:
            console.print(
                f"{row['id']:>5}  {row['status']:<10} {row['channel']:<7} {row['name']}",
                highlight=False,
            )

    run_with_django(run)


@campaigns_app.command("launch")
def campaigns_launch(campaign_id: CampaignId, as_json: JsonOption = False) -> None:
    """Launch a draft campaign (now, at its time, or as its recurring programme); the worker
    freezes the audience and sends."""

    def run() -> None:
        from patron.campaigns.services import campaign_launch

        campaign = campaign_launch(campaign_id=campaign_id)
        campaign.refresh_from_db()
        if as_json:
            print_json({"id": campaign.pk, "status": campaign.status})
        else:
            console.print(f"[green]Campaign {campaign.pk} launched[/green]: {campaign.status}.")

    run_with_django(run)


@campaigns_app.command("status")
def campaigns_status(campaign_id: CampaignId, as_json: JsonOption = False) -> None:
    """Where a campaign stands: targeted, sent, held out, skipped by reason, failed."""

    def run() -> None:
        from patron.campaigns.errors import CampaignError, CampaignErrorCode
        from patron.campaigns.selectors import campaign_account, campaign_get

        campaign = campaign_get(campaign_id=campaign_id)
        if campaign is None:
            raise CampaignError(
                f"There is no campaign {campaign_id}.", code=CampaignErrorCode.NOT_FOUND
            )
        account = campaign_account(campaign=campaign)
        if as_json:
            print_json({**account.api(), "in_doubt": account.in_doubt, "pending": account.pending})
            return
        skipped = ", ".join(f"{k} {v:,}" for k, v in sorted(account.skipped.items())) or "none"
        console.print(
            f"{campaign.name} ({account.status}): {account.targeted:,} targeted, "
            f"{account.sent:,} sent, {account.held_out:,} held out, skipped: {skipped}, "
            f"{account.failed:,} failed ({account.in_doubt:,} in doubt), "
            f"{account.pending:,} waiting.",
            highlight=False,
        )

    run_with_django(run)


@campaigns_app.command("report")
def campaigns_report(campaign_id: CampaignId, as_json: JsonOption = False) -> None:
    """What a campaign changed against its control group: uplift with 95% intervals,
    incremental revenue and margin, cost, ROI, by value tier and RFM segment."""

    def run() -> None:
        from patron.campaigns.errors import CampaignError, CampaignErrorCode
        from patron.campaigns.measure import campaign_report
        from patron.campaigns.selectors import campaign_get

        campaign = campaign_get(campaign_id=campaign_id)
        if campaign is None:
            raise CampaignError(
                f"There is no campaign {campaign_id}.", code=CampaignErrorCode.NOT_FOUND
            )
        report = campaign_report(campaign=campaign)
        if as_json:
            print_json(report)
            return
        if not report["available"]:
            console.print(f"{campaign.name}: nothing to measure yet ({report['reason']}).")
            return
        console.print(report["summary"]["en"], highlight=False)
        roi = report["roi"]
        console.print(
            f"Cost {report['cost']:,.2f}; ROI "
            + (
                "unknown"
                if roi is None
                else f"{roi['estimate']:.2f} ({roi['ci_low']:.2f} to {roi['ci_high']:.2f})"
            ),
            highlight=False,
        )

    run_with_django(run)


def import_contacts(
    file: Annotated[Path, typer.Argument(exists=True, dir_okay=False, help="CSV or Excel file.")],
    as_json: JsonOption = False,
) -> None:
    """Import who was contacted or held out in a campaign run outside Patron.

    Columns: customer_id/客户编号, campaign/活动, group/分组, contacted_at/触达时间.

    Nothing is imported when a row is bad.
    """

    def run() -> None:
        from patron.campaigns.contacts import contacts_import
        from patron.cli.campaign_evaluate import print_row_errors
        from patron.core.errors import PatronError

        try:
            result = contacts_import(path=file)
        except PatronError as error:
            print_row_errors(error)
            raise
        if as_json:
            print_json({"rows": result.rows, "added": result.added, "campaigns": result.campaigns})
        else:
            console.print(
                f"[green]Imported[/green] {result.rows:,} contacts "
                f"({result.added:,} new) into {len(result.campaigns)} campaign(s)."
            )

    run_with_django(run)
