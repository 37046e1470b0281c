"""token, createuser, manage."""

from __future__ import annotations

from typing import Annotated

import typer

from patron.cli.common import JsonOption, console, err_console, print_json, run_with_django

token_app = typer.Typer(help="API tokens.", no_args_is_help=True)


@token_app.command("create")
def token_create(
    user: Annotated[str, typer.Option("--user", help="User the token acts as.")],
    name: Annotated[str, typer.Option("--name", help="What the token is for.")] = "",
    as_json: JsonOption = False,
) -> None:
    """Create an API token; it is shown once (only its hash is stored)."""

    def run() -> None:
        from patron.core.services import token_create as create

        record, token = create(username=user, name=name)
        if as_json:
            print_json({"user": user, "token": token, "prefix": record.prefix})
        else:
            console.print(f"Token for {user} (shown only now):\n{token}")
            console.print("Use it as: Authorization: Bearer <token>")

    run_with_django(run)


def createuser(
    username: Annotated[str, typer.Argument(help="Sign-in name.")],
    email: Annotated[str, typer.Option("--email", help="E-mail address (optional).")] = "",
    password: Annotated[
        str | None,
        typer.Option("--password", help="Default: asked for (or $PATRON_PASSWORD)."),
    ] = None,
    superuser: Annotated[bool, typer.Option("--superuser", help="Administrator.")] = False,
    role: Annotated[
        str | None,
        typer.Option("--role", help="admin, marketing, service or analyst."),
    ] = None,
) -> None:
    """Create a user who can sign in."""
    import os

    def run() -> None:
        from django.contrib.auth import get_user_model
        from django.contrib.auth.password_validation import validate_password

        if role is not None:  # before asking for a password that would be typed for nothing
            from patron.accounts.roles import ROLE_NAMES

            if role not in ROLE_NAMES:
                err_console.print(
                    f"[red]Error:[/red] Unknown role {role!r}; choose one of: "
                    f"{', '.join(ROLE_NAMES)}.",
                    highlight=False,
                )
                raise typer.Exit(1)
        secret = password or os.environ.get("PATRON_PASSWORD")
        if not secret:
            secret = typer.prompt("Password", hide_input=True, confirmation_prompt=True)
        model = get_user_model()
        user = model(username=username, email=email)
        validate_password(secret, user)
        user.set_password(secret)
        user.is_staff = user.is_superuser = superuser
        user.full_clean()
        user.save()
        if role is not None:
            from patron.accounts.services import user_role_set

            user_role_set(user=user, role=role)
        console.print(f"[green]User {username} created{f' ({role})' if role else ''}.[/green]")

    run_with_django(run)


def manage(ctx: typer.Context) -> None:
    """Run a Django management command: patron manage migrate, patron manage shell, ..."""

    def run() -> None:
        from django.core.management import execute_from_command_line

        execute_from_command_line(["patron manage", *ctx.args])

    run_with_django(run, creates=True)
