"""Member self-service errors: one code per failure and its HTTP status. The messages never
say whether an address belongs to a member."""

from __future__ import annotations

from enum import StrEnum
from typing import Any

from django.utils.translation import gettext_lazy as _

from patron.core.errors import PatronError


class MemberErrorCode(StrEnum):
    CODE_MISSING = "members.code_missing"
    CODE_INVALID = "members.code_invalid"
    TOO_MANY_TRIES = "members.too_many_tries"
    SIGN_IN_NEEDED = "members.sign_in_needed"
    PREFERENCE_INVALID = "members.preference_invalid"
    CONSENT_INVALID = "members.consent_invalid"
    ERASURE_PENDING = "members.erasure_pending"


HTTP_STATUS = {
    MemberErrorCode.CODE_INVALID: 401,
    MemberErrorCode.SIGN_IN_NEEDED: 401,
    MemberErrorCode.TOO_MANY_TRIES: 429,
    MemberErrorCode.ERASURE_PENDING: 409,
}

# Messages as constants (tests import them); translated when raised.
CODE_MISSING = _("Send the e-mail address and the 6-digit code.")
CODE_INVALID = _("This code is wrong, has expired or was already used. Ask for a new code.")
TOO_MANY_TRIES = _("Too many wrong codes. Wait a while, then ask for a new code.")
SIGN_IN_NEEDED = _("Sign in first: send Authorization: Bearer <member token>.")
LANGUAGE_INVALID = _("Language must be en or zh-hans, not {value!r}.")
NOTIFICATION_INVALID = _("Unknown notification kind {value!r}; expected one of {expected}.")
CHANNEL_INVALID = _("Unknown channel {value!r}; expected one of {expected}.")
TOPIC_INVALID = _("Unknown topic {value!r}; expected one of {expected}.")
CONSENT_VALUE_INVALID = _("Consent for {value!r} must be true or false.")
ERASURE_PENDING = _("Your erasure request is already with us.")
CODE_SENT = _("If this address belongs to a member, a code is on its way. It works for 10 minutes.")


class MemberError(PatronError):
    """A member request that cannot go ahead; nothing is written when it is raised."""

    default_code = "members.error"

    def __init__(
        self, template: Any, *, code: MemberErrorCode, field: str = "", **values: Any
    ) -> None:
        message = str(template).format(**values) if values else str(template)
        super().__init__(message, code=code, extra={"field": field} if field else {})
        self.field = field
        self.http_status = HTTP_STATUS.get(code, 400)
