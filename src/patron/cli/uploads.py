"""patron uploads clean: delete files uploaded for import in the browser once they are old."""

from __future__ import annotations

import datetime as dt
from typing import Annotated

import typer

from patron.cli.common import JsonOption, console, print_json, run_with_django

uploads_app = typer.Typer(
    help="Files uploaded for import in the browser (kept under PATRON_UPLOAD_DIR).",
    no_args_is_help=True,
)


@uploads_app.command("clean")
def clean(
    older_than: Annotated[
        int,
        typer.Option("--older-than", min=0, help="Delete uploads older than this many days."),
    ] = 30,
    as_json: JsonOption = False,
) -> None:
    """Delete old uploads: the stored file, its rejected rows and the upload's record (the
    check and import jobs, with their results, stay). Uploads being checked or imported are
    kept. Safe to repeat; suits a daily cron."""

    def run() -> None:
        from patron.jobs.imports import uploads_clean

        result = uploads_clean(older_than=dt.timedelta(days=older_than))
        if as_json:
            print_json(result.as_dict())
            return
        console.print(
            f"Removed {result.removed} upload(s) older than {older_than} days "
            f"({result.bytes / 1e6:.1f} MB); kept {result.kept_busy} still being checked or "
            "imported."
        )

    run_with_django(run)
