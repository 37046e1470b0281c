"""patron campaigns: evaluate campaigns (run here or elsewhere)."""

from __future__ import annotations

import typer

from patron.cli.campaign_evaluate import evaluate

campaigns_app = typer.Typer(
    help="Campaigns: evaluate what a campaign changed.", no_args_is_help=True
)
campaigns_app.command("evaluate")(evaluate)
