from __future__ import annotations

from typing import Annotated

import typer

from patron import __version__
from patron.cli import (
    admin,
    analyze,
    campaigns,
    clv,
    customers,
    data,
    demo,
    loyalty,
    recommend,
    retention,
    runs,
    service,
    uploads,
    worker,
)

app = typer.Typer(
    name="patron",
    help="Patron: know your valuable customers, keep them, and grow the rest.",
    rich_markup_mode="rich",
    no_args_is_help=True,
)


def _version(value: bool) -> None:
    if value:
        typer.echo(f"patron {__version__}")
        raise typer.Exit()


@app.callback()
def _root(
    version: Annotated[
        bool | None,
        typer.Option("--version", callback=_version, is_eager=True, help="Show the version."),
    ] = None,
) -> None:
    """Patron command line."""


app.command("init")(data.init)
app.add_typer(data.import_app, name="import")
app.command("stats")(data.stats)
app.command("demo")(demo.demo)
app.command("serve")(demo.serve)
app.command("worker")(worker.worker)
app.add_typer(admin.token_app, name="token")
app.command("createuser")(admin.createuser)
app.command(
    "manage",
    context_settings={"allow_extra_args": True, "ignore_unknown_options": True},
)(admin.manage)
app.add_typer(customers.customers_app, name="customers")
app.add_typer(clv.clv_app, name="clv")
app.command("analyze")(analyze.analyze)
app.add_typer(retention.warnings_app, name="warnings")
app.add_typer(uploads.uploads_app, name="uploads")
app.add_typer(runs.runs_app, name="runs")
app.add_typer(campaigns.segments_app, name="segments")
app.add_typer(campaigns.campaigns_app, name="campaigns")
data.import_app.command("campaign-contacts")(campaigns.import_contacts)
app.add_typer(service.service_app, name="service")
app.add_typer(service.surveys_app, name="surveys")
app.add_typer(loyalty.loyalty_app, name="loyalty")
app.add_typer(recommend.recommend_app, name="recommend")
