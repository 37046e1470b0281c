"""Errors of the outbox and its channels, each with a stable code."""

from __future__ import annotations

from enum import StrEnum
from typing import Any

from patron.core.errors import PatronError


class MessagingErrorCode(StrEnum):
    INVALID_MESSAGE = "messaging.invalid_message"
    BAD_UNSUBSCRIBE_LINK = "messaging.bad_unsubscribe_link"
    NO_SMS_GATEWAY = "messaging.no_sms_gateway"


class MessagingError(PatronError):
    """A message that cannot be queued or a link that cannot be read; ``message`` says why."""

    default_code = "messaging.error"

    def __init__(self, message: str, *, code: MessagingErrorCode, extra: Any = None) -> None:
        super().__init__(message, code=code, extra=extra)
