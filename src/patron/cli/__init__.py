"""The ``patron`` command. Heavy imports (Django, pyarrow) happen inside the commands."""

from __future__ import annotations

from patron.cli.app import app


def main() -> None:
    app()


__all__ = ["app", "main"]
