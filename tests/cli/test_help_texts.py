"""Every command's --help reads as prose: no sentence broken where the source line ended."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import typer.main

from patron.cli.app import app


def _commands(command: Any, path: str = "patron") -> Iterator[tuple[str, Any]]:
    yield path, command
    if hasattr(command, "commands"):  # a group
        for name, sub in command.commands.items():
            yield from _commands(sub, f"{path} {name}")


def test_no_help_paragraph_keeps_a_source_line_break() -> None:
    # Typer's rich help joins the lines of the first paragraph only; a later paragraph
    # wrapped in the source shows its line break ("... without it the app" / "database ...").
    broken = []
    for path, command in _commands(typer.main.get_command(app)):
        paragraphs = (command.help or "").split("\f")[0].strip().split("\n\n")[1:]
        for paragraph in paragraphs:
            text = paragraph.strip()
            if "\n" in text and not text.startswith("\b"):
                broken.append(f"{path}: {text!r}")
    assert not broken, "\n".join(broken)
