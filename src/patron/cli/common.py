"""What every command shares: Django set-up on demand, JSON output, error mapping."""

from __future__ import annotations

import json
import os
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from decimal import Decimal
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.markup import escape

console = Console()
err_console = Console(stderr=True)

JsonOption = Annotated[bool, typer.Option("--json", help="Print the result as JSON.")]


def setup_django(*, serving: bool = False) -> None:
    """Configure Django. Only serving the web app insists on a real secret key."""
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "patron.settings")
    if not serving:
        os.environ.setdefault("PATRON_ALLOW_INSECURE_KEY", "1")
    import django
    from django.core.exceptions import ImproperlyConfigured

    try:
        django.setup()
    except ImproperlyConfigured as error:  # a setting the environment got wrong: say which
        err_console.print(
            f"[red]Error:[/red] {escape(str(error))}", highlight=False, soft_wrap=True
        )
        raise typer.Exit(1) from None


def _default(value: Any) -> Any:
    if isinstance(value, Decimal):
        return str(value)
    if hasattr(value, "isoformat"):
        return value.isoformat()
    raise TypeError(f"not JSON serialisable: {type(value).__name__}")


def print_json(data: Any) -> None:
    sys.stdout.write(json.dumps(data, ensure_ascii=False, indent=2, default=_default) + "\n")


@contextmanager
def patron_errors(*, migrated: bool = True) -> Iterator[None]:
    """PatronError and Django's ValidationError -> a red message and exit code 1.

    A database error (raised, or the cause of a PatronError such as the importer's "the
    database refused the import") that comes from a database that cannot be opened or (with
    ``migrated``) is not migrated is told as such (`patron init`), not as a traceback; other
    database errors are raised as they are.
    """
    from django.core.exceptions import ValidationError
    from django.db.utils import DatabaseError

    from patron.core.errors import PatronError

    try:
        yield
    except PatronError as error:
        if isinstance(error.__cause__, DatabaseError):
            _database_problem_exit(migrated=migrated)
        err_console.print(
            f"[red]Error:[/red] {escape(error.message)}", highlight=False, soft_wrap=True
        )
        raise typer.Exit(1) from None
    except ValidationError as error:
        # Django's messages are sentences ("... at least 8 characters."): one after another
        err_console.print(
            f"[red]Invalid:[/red] {escape(' '.join(error.messages))}", highlight=False
        )
        raise typer.Exit(1) from None
    except DatabaseError:
        _database_problem_exit(migrated=migrated)
        raise


def _database_problem_exit(*, migrated: bool) -> None:
    """Exit 1 with the reason when the database cannot be opened or is not migrated."""
    from patron.core.errors import PatronError
    from patron.core.setup import database_check

    try:
        database_check(migrated=migrated)
    except PatronError as problem:
        err_console.print(
            f"[red]Error:[/red] {escape(problem.message)}", highlight=False, soft_wrap=True
        )
        raise typer.Exit(1) from None


def run_with_django(
    func: Callable[[], Any], *, serving: bool = False, migrated: bool = True
) -> Any:
    """Set Django up and run ``func`` with :func:`patron_errors` (``migrated=False`` for the
    command that migrates)."""
    setup_django(serving=serving)
    with patron_errors(migrated=migrated):
        return func()
