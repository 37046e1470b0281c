"""Database set-up shared by `patron init`, `patron demo` and the tests."""

from __future__ import annotations

from django.core.management import call_command

from patron.core.secret import secret_key_ensure


def database_init(*, verbose: bool = False) -> None:
    """Create or migrate the database; safe to run any number of times."""
    secret_key_ensure()
    call_command("migrate", interactive=False, verbosity=1 if verbose else 0)
