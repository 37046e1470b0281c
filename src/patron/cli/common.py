"""What every command shares: Django set-up on demand, JSON output, error mapping."""

from __future__ import annotations

import json
import os
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from decimal import Decimal
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.markup import escape

console = Console()
err_console = Console(stderr=True)

JsonOption = Annotated[bool, typer.Option("--json", help="Print the result as JSON.")]


NO_DATABASE = (
    "The database {path} is not set up yet: run `patron init`. For the demo, `make demo` "
    "builds var/demo.sqlite3 and the commands then use it by themselves; or point at any "
    "database with PATRON_DATABASE_URL, for example PATRON_DATABASE_URL=sqlite:///{demo}"
)
USING_DEMO = (
    "Using the demo database {demo} ({path} does not exist; set PATRON_DATABASE_URL to use "
    "another)."
)


def database_choose(*, creates: bool = False) -> bool:
    """Before Django is set up: with PATRON_DATABASE_URL unset and no var/patron.sqlite3, use
    the demo's database (``make demo``) when there is one, and say so on stderr. True when
    Django is still to be set up (the caller then checks with :func:`database_missing_exit`)."""
    from django.conf import settings

    if settings.configured:  # set up already (tests, or a command calling another)
        return False
    from patron.core.secret import var_dir

    default, demo = var_dir() / "patron.sqlite3", var_dir() / "demo.sqlite3"
    unset = not os.environ.get("PATRON_DATABASE_URL")
    if unset and not creates and not default.exists() and demo.exists():
        os.environ["PATRON_DATABASE_URL"] = f"sqlite:///{demo}"
        err_console.print(USING_DEMO.format(demo=demo, path=default), highlight=False)
    return True


def database_missing_exit() -> None:
    """A SQLite file that does not exist: stop with how to get one, before anything opens it
    (SQLite would create an empty file, left behind in var/)."""
    from django.conf import settings

    from patron.core.secret import var_dir

    config = settings.DATABASES["default"]
    name = str(config.get("NAME") or "")
    if "sqlite" not in str(config["ENGINE"]) or name in ("", ":memory:") or Path(name).exists():
        return
    message = NO_DATABASE.format(path=name, demo=var_dir() / "demo.sqlite3")
    err_console.print(f"[red]Error:[/red] {message}", highlight=False, soft_wrap=True)
    raise typer.Exit(1)


def setup_django(*, serving: bool = False, creates: bool = False) -> None:
    """Configure Django. Only serving the web app insists on a real secret key; ``creates``:
    the command may create the database (see :func:`database_choose`)."""
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "patron.settings")
    if not serving:
        os.environ.setdefault("PATRON_ALLOW_INSECURE_KEY", "1")
    first = database_choose(creates=creates)
    import django
    from django.core.exceptions import ImproperlyConfigured

    try:
        django.setup()
    except ImproperlyConfigured as error:  # a setting the environment got wrong: say which
        err_console.print(
            f"[red]Error:[/red] {escape(str(error))}", highlight=False, soft_wrap=True
        )
        raise typer.Exit(1) from None
    if first and not creates:
        database_missing_exit()


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
    from patron.core.errors import PatronError

    # Django's errors are looked for only where Django is loaded: the file commands never
    # import it, and without it none of its errors can be raised.
    try:
        yield
    except PatronError as error:
        utils = sys.modules.get("django.db.utils")
        if utils is not None and isinstance(error.__cause__, utils.DatabaseError):
            _database_problem_exit(migrated=migrated)
        err_console.print(
            f"[red]Error:[/red] {escape(error.message)}", highlight=False, soft_wrap=True
        )
        raise typer.Exit(1) from None
    except Exception as error:
        exceptions = sys.modules.get("django.core.exceptions")
        utils = sys.modules.get("django.db.utils")
        if exceptions is not None and isinstance(error, exceptions.ValidationError):
            # Django's messages are sentences ("... at least 8 characters."): one after another
            err_console.print(
                f"[red]Invalid:[/red] {escape(' '.join(error.messages))}", highlight=False
            )
            raise typer.Exit(1) from None
        if utils is not None and isinstance(error, utils.DatabaseError):
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
    func: Callable[[], Any], *, serving: bool = False, migrated: bool = True, creates: bool = False
) -> Any:
    """Set Django up and run ``func`` with :func:`patron_errors` (``migrated=False`` for the
    command that migrates, which also creates the database)."""
    setup_django(serving=serving, creates=creates or not migrated)
    with patron_errors(migrated=migrated):
        return func()


def first_errors_from(error: Any) -> list[str]:
    """The first rejected rows named in an :class:`AnalysisSourceError`."""
    rows = (error.extra or {}).get("errors", [])
    out = []
    for row in rows:
        value = "" if row.get("value") is None else f" {row['value']!r}"
        out.append(f"line {row['line']} {row['column']}{value}: {row['message']}")
    return out
