"""demo, serve."""

from __future__ import annotations

import os
from typing import Annotated

import typer

from patron.cli.common import console, patron_errors, setup_django

PortOption = Annotated[
    int, typer.Option("--port", envvar="PORT", help="Port to listen on (env PORT).")
]
HostOption = Annotated[str, typer.Option("--host", help="Address to listen on.")]


NoWorkerOption = Annotated[
    bool,
    typer.Option(
        "--no-worker",
        help="Do not start a background-job worker beside the server (run `patron worker` "
        "yourself). Also: PATRON_WORKER=external.",
    ),
]


def _serve(host: str, port: int, threads: int = 8, *, worker: bool = True) -> None:
    from waitress import serve as waitress_serve

    from patron.cli.worker import worker_process, worker_wanted
    from patron.wsgi import application

    with worker_process(worker and worker_wanted()):
        console.print(f"Serving Patron on [bold]http://{host}:{port}/[/bold] (Ctrl+C to stop)")
        waitress_serve(application, host=host, port=port, threads=threads, ident="patron")


def serve(
    port: PortOption = 8000, host: HostOption = "127.0.0.1", no_worker: NoWorkerOption = False
) -> None:
    """Serve the web app with a production WSGI server (waitress) and a background-job worker."""
    setup_django(serving=True)
    with patron_errors():
        from patron.core.setup import database_check

        database_check()  # refuse a database `patron init` has not set up, before serving it
    _serve(host, port, worker=not no_worker)


def demo(
    customers: Annotated[int, typer.Option("--customers", help="Customers to generate.")] = 20_000,
    seed: Annotated[int, typer.Option("--seed", help="Random seed (same seed, same data).")] = 7,
    port: PortOption = 8000,
    host: HostOption = "127.0.0.1",
    no_serve: Annotated[bool, typer.Option("--no-serve", help="Build the data only.")] = False,
) -> None:
    """Build a demo business (var/demo.sqlite3 unless PATRON_DATABASE_URL is set); serve it."""
    import time

    from patron.core.secret import secret_key_ensure, var_dir

    os.environ.setdefault("PATRON_DATABASE_URL", f"sqlite:///{var_dir() / 'demo.sqlite3'}")
    secret_key_ensure()
    setup_django(serving=True, creates=True)
    with patron_errors():
        from patron.core.setup import database_init
        from patron.demo.loader import (
            DEMO_PASSWORD,
            DEMO_USER,
            demo_load,
            demo_runs_create,
            demo_state,
        )
        from patron.insights.models import AnalysisRun

        database_init()
        state = demo_state()
        if state and state.get("customers") == customers and state.get("seed") == seed:
            console.print("Demo data already built; reusing it.")
            if not AnalysisRun.objects.exists():  # built before runs were part of the demo
                with console.status("Analysing the demo business") as status:
                    demo_runs_create(step=status.update)
        else:
            started = time.perf_counter()
            with console.status("Building the demo business") as status:
                state = demo_load(customers=customers, seed=seed, step=status.update)
            console.print(
                f"[green]Demo business ready[/green]: {customers:,} customers, "
                f"{state['orders']:,} orders ({time.perf_counter() - started:.0f} s)."
            )
    if no_serve:
        return
    console.print(
        f"Open http://{host}:{port}/ and sign in as user "
        f"[bold]{DEMO_USER}[/bold], password [bold]{DEMO_PASSWORD}[/bold]."
    )
    _serve(host, port)
