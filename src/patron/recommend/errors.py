"""Error codes of recommendations."""

from __future__ import annotations

from enum import StrEnum

from patron.core.errors import PatronError


class RecommendErrorCode(StrEnum):
    NO_LINES = "recommend.no_lines"
    BAD_LIST = "recommend.bad_list"
    BAD_FILE = "recommend.bad_file"
    BAD_WINDOW = "recommend.bad_window"


class RecommendError(PatronError):
    def __init__(self, message: str, *, code: RecommendErrorCode, extra: object = None) -> None:
        super().__init__(message, code=str(code), extra=extra)
