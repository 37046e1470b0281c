"""One error type for everything Patron reports to a person, with a stable code."""

from __future__ import annotations

from typing import Any


class PatronError(Exception):
    """A failure the user can act on: a message, a stable code and structured details.

    The CLI prints ``message`` and exits 1; the API returns ``{"code", "message", "extra"}``.
    """

    default_code = "error"

    def __init__(self, message: str, *, code: str | None = None, extra: Any = None) -> None:
        super().__init__(message)
        self.message = message
        self.code = code or self.default_code
        self.extra = extra if extra is not None else {}

    def __str__(self) -> str:
        return self.message
