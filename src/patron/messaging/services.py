"""Writes of the messaging app: queue a message, record an opt-out, suppress an address.

Every message Patron sends (campaigns, notifications, surveys, sign-in codes) is queued here
with :func:`message_enqueue` and sent by the outbox dispatcher
(:mod:`patron.messaging.dispatch`, run by the jobs in :mod:`patron.messaging.tasks`).
"""

from __future__ import annotations

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils.translation import gettext as _

from patron.core.queue import task_on_commit
from patron.messaging.errors import MessagingError, MessagingErrorCode
from patron.messaging.models import (
    MessageChannel,
    OutboxMessage,
    Purpose,
    Suppression,
    Unsubscribe,
)

KEY_MAX = 200


def message_enqueue(
    *,
    key: str,
    channel: str,
    recipient: str,
    subject: str,
    body_text: str,
    body_html: str = "",
    customer_id: int | None = None,
    purpose: str = "transactional",
    topic: str = "",
    language: str = "en",
) -> OutboxMessage:
    """Queue one message in the outbox and return its row; idempotent by ``key``.

    The outbox is the only way Patron sends anything. Sending happens later, in the
    background jobs of :mod:`patron.messaging.tasks` (``patron worker``), in batches.

    Parameters
    ----------
    key
        Your unique name for this message (e.g. ``"survey:123:invite"``), up to 200
        characters. A unique index holds it: queuing the same key again returns the row
        already there, unchanged, and the message is never sent twice.
    channel
        ``"email"`` or ``"sms"``.
    recipient
        The e-mail address or mobile number. Empty is allowed: the message is then skipped
        at dispatch with reason ``no_address``.
    subject, body_text, body_html
        The content, already rendered in ``language`` (an SMS uses ``body_text`` only).
    customer_id
        The customer it is for, when there is one: consent, opt-outs and caps are looked up
        by customer.
    purpose
        ``"marketing"``: sent only with the customer's consent for the channel, never after
        an unsubscribe (globally or from ``topic``), within the frequency cap (deferred, not
        dropped, when over it) and outside quiet hours. ``"transactional"`` (the default):
        exempt from caps and quiet hours, but still not sent when the customer opted out of
        this ``topic`` (a per-kind opt-out, e.g. ``"survey"``).
    topic
        The kind of message, for opt-outs (``"survey"``, ``"points"``, ...).
    language
        ``"en"`` or ``"zh-hans"``: the language the content is written in.

    Raises
    ------
    MessagingError
        An unknown channel or purpose, a missing key or body (``messaging.invalid_message``).
    """
    if not key or len(key) > KEY_MAX:
        raise MessagingError(
            _("A message needs a key of 1 to %(max)s characters.") % {"max": KEY_MAX},
            code=MessagingErrorCode.INVALID_MESSAGE,
        )
    existing = OutboxMessage.objects.filter(key=key).first()
    if existing is not None:
        return existing
    message = OutboxMessage(
        key=key,
        channel=channel,
        recipient=recipient.strip(),
        subject=subject,
        body_text=body_text,
        body_html=body_html,
        customer_id=customer_id,
        purpose=purpose,
        topic=topic,
        language=language,
    )
    try:
        message.full_clean(validate_unique=False)
    except ValidationError as error:
        fields = ", ".join(sorted(error.message_dict))
        raise MessagingError(
            _(
                "The message is invalid (%(fields)s): expected channel email or sms, purpose "
                "marketing or transactional, and a text."
            )
            % {"fields": fields},
            code=MessagingErrorCode.INVALID_MESSAGE,
            extra={"fields": error.message_dict},
        ) from None
    try:
        with transaction.atomic():
            message.save()
    except IntegrityError:  # queued by someone else meanwhile: the unique key decides
        return OutboxMessage.objects.get(key=key)
    # wake the worker; with jobs run immediately (tests) nothing is sent until asked
    task_on_commit("patron.messaging.tasks.outbox_dispatch_task", unless_immediate=True)
    return message


CHANNELS = tuple(MessageChannel.values)
PURPOSES = tuple(Purpose.values)


@transaction.atomic
def unsubscribe_record(
    *, customer_id: int, channel: str = "", topic: str = "", source: str = "link"
) -> Unsubscribe:
    """Record an opt-out (of ``topic`` on ``channel``; empty means all); repeating is a no-op."""
    unsubscribe, _ = Unsubscribe.objects.get_or_create(
        customer_id=customer_id, channel=channel, topic=topic, defaults={"source": source}
    )
    return unsubscribe


def suppression_add(*, channel: str, address: str, reason: str) -> Suppression:
    """Never send to ``address`` on ``channel`` again (a hard bounce); repeating is a no-op."""
    suppression, _ = Suppression.objects.get_or_create(
        channel=channel, address=address, defaults={"reason": reason[:2000]}
    )
    return suppression
