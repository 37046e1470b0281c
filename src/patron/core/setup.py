"""Database set-up shared by `patron init`, `patron demo` and the tests."""

from __future__ import annotations

from django.core.management import call_command

from patron.core.errors import PatronError
from patron.core.secret import secret_key_ensure

DATABASE_UNREACHABLE = (
    "Cannot open the database {database}: {reason}. Check PATRON_DATABASE_URL (and that the "
    "database server is running)."
)
DATABASE_NOT_SET_UP = (
    "The database {database} is not set up yet: run `patron init` (it creates the tables)."
)
DATABASE_NOT_UP_TO_DATE = (
    "The database {database} is not up to date ({count} migration(s) of this version to "
    "apply): run `patron init`."
)


def database_init(*, verbose: bool = False) -> None:
    """Create or migrate the database; safe to run any number of times."""
    secret_key_ensure()
    call_command("migrate", interactive=False, verbosity=1 if verbose else 0)


def database_label() -> str:
    """Which database the settings name, for a message: a SQLite file, or user@host:port/name
    (never the password)."""
    from django.conf import settings

    config = settings.DATABASES["default"]
    if "sqlite" in config["ENGINE"]:
        return str(config["NAME"])
    user = f"{config['USER']}@" if config.get("USER") else ""
    port = f":{config['PORT']}" if config.get("PORT") else ""
    return f"{user}{config.get('HOST') or 'localhost'}{port}/{config['NAME']}"


def database_check(*, migrated: bool = True) -> None:
    """Check that the database can be opened and, with ``migrated``, has every migration.

    Raises
    ------
    PatronError
        ``database.unreachable``, ``database.not_set_up`` or ``database.not_up_to_date``.
    """
    from django.db import DatabaseError, connection
    from django.db.migrations.executor import MigrationExecutor

    try:
        connection.ensure_connection()
        if not migrated:
            return
        executor = MigrationExecutor(connection)
        plan = executor.migration_plan(executor.loader.graph.leaf_nodes())
        applied = bool(executor.loader.applied_migrations)
    except DatabaseError as error:
        lines = str(error).strip().splitlines()
        reason = lines[0].rstrip(".") if lines else type(error).__name__
        raise PatronError(
            DATABASE_UNREACHABLE.format(database=database_label(), reason=reason),
            code="database.unreachable",
        ) from error
    if plan and not applied:
        raise PatronError(
            DATABASE_NOT_SET_UP.format(database=database_label()), code="database.not_set_up"
        )
    if plan:
        raise PatronError(
            DATABASE_NOT_UP_TO_DATE.format(database=database_label(), count=len(plan)),
            code="database.not_up_to_date",
        )
