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

console = Console()
err_console = Console(stderr=True)

JsonOption = Annotated[bool, typer.Option("--json", help="Print the result as JSON.")]


def setup_django(*, serving: bool = False) -> None:
    """Configure Django. Only serving the web app insists on a real secret key."""
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "patron.settings")
    if not serving:
        os.environ.setdefault("PATRON_ALLOW_INSECURE_KEY", "1")
    import django

    django.setup()


def _default(value: Any) -> Any:
    if isinstance(value, Decimal):
        return str(value)
    if hasattr(value, "isoformat"):
        return value.isoformat()
    raise TypeError(f"not JSON serialisable: {type(value).__name__}")


def print_json(data: Any) -> None:
    sys.stdout.write(json.dumps(data, ensure_ascii=False, indent=2, default=_default) + "\n")


@contextmanager
def patron_errors() -> Iterator[None]:
    """PatronError and Django's ValidationError -> a red message and exit code 1."""
    from django.core.exceptions import ValidationError

    from patron.core.errors import PatronError

    try:
        yield
    except PatronError as error:
        err_console.print(f"[red]Error:[/red] {error.message}", highlight=False, soft_wrap=True)
        raise typer.Exit(1) from None
    except ValidationError as error:
        err_console.print(f"[red]Invalid:[/red] {'; '.join(error.messages)}", highlight=False)
        raise typer.Exit(1) from None


def run_with_django(func: Callable[[], Any], *, serving: bool = False) -> Any:
    setup_django(serving=serving)
    with patron_errors():
        return func()
