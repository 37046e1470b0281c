"""Survey invitations by email: the message in the customer's language with one link per score,
put in the shared outbox (``patron.messaging``) under the invitation's key, so a retry never
sends twice; consent and caps are checked when the outbox dispatches. The scheduled NPS is
marketing (purpose ``marketing``, topic ``surveys``): a customer without marketing consent is
not asked. The CSAT after a ticket is service mail (``transactional``, topic ``surveys``) and
still respects an unsubscribe from surveys.
"""

from __future__ import annotations

import contextlib
import os
from typing import Any

from django.urls import reverse
from django.utils import translation

from patron.service.models import SurveyInvitation, SurveyKind, Ticket
from patron.service.surveys import survey_invite, survey_link_token, survey_settings_get

SUBJECTS = {
    (SurveyKind.CSAT, "en"): "How did we do?",
    (SurveyKind.CSAT, "zh-hans"): "请为我们的服务打分",
    (SurveyKind.NPS, "en"): "Would you recommend us?",
    (SurveyKind.NPS, "zh-hans"): "您愿意向朋友推荐我们吗？",
}
BODIES = {
    (SurveyKind.CSAT, "en"): "Your request #{ticket} is resolved. One click tells us how we did:",
    (SurveyKind.CSAT, "zh-hans"): "您的工单 #{ticket} 已处理完毕。点一下告诉我们您是否满意：",
    (SurveyKind.NPS, "en"): "How likely are you to recommend us to a friend? One click answers:",
    (SurveyKind.NPS, "zh-hans"): "您有多大可能向朋友推荐我们？点一下即可回答：",
}


def _base_url() -> str:
    from django.conf import settings

    return getattr(settings, "PATRON_BASE_URL", "") or os.environ.get(
        "PATRON_BASE_URL", "http://localhost:8000"
    )


def survey_message(invitation: SurveyInvitation) -> dict[str, Any]:
    """Subject, text and HTML of an invitation, in its language, with one link per score."""
    language = "zh-hans" if invitation.language.startswith("zh") else "en"
    kind = SurveyKind(invitation.kind)
    with translation.override(language):
        path = reverse("service:survey_answer", args=[survey_link_token(invitation)])
    link = _base_url().rstrip("/") + path
    scores = range(0, 11) if kind == SurveyKind.NPS else range(1, 6)
    intro = BODIES[(kind, language)].format(ticket=invitation.ticket_id or "")
    text = intro + "\n" + "\n".join(f"{s}: {link}?score={s}" for s in scores)
    buttons = " ".join(f'<a href="{link}?score={s}">{s}</a>' for s in scores)
    return {
        "subject": SUBJECTS[(kind, language)],
        "body_text": text,
        "body_html": f"<p>{intro}</p><p>{buttons}</p>",
        "language": language,
    }


def survey_send(invitation: SurveyInvitation) -> bool:
    """Put the invitation in the shared outbox (idempotent by its key); False when the
    customer has no email. Scheduled NPS is marketing, CSAT after a ticket transactional."""
    from patron.messaging.services import message_enqueue

    if not invitation.customer.email:
        return False
    message = survey_message(invitation)
    purpose = "transactional" if invitation.kind == SurveyKind.CSAT else "marketing"
    message_enqueue(
        key=f"survey:{invitation.key}",
        channel="email",
        recipient=invitation.customer.email,
        subject=message["subject"],
        body_text=message["body_text"],
        body_html=message["body_html"],
        customer_id=invitation.customer_id,
        purpose=purpose,
        topic="surveys",
        language=message["language"],
    )
    return True


def csat_invite_after_resolution(*, ticket_id: int) -> SurveyInvitation | None:
    """Invite the customer of a resolved ticket to a CSAT survey and send it (once per
    ticket resolution); None when the survey is off or the customer has no email."""
    ticket = Ticket.objects.select_related("customer").filter(pk=ticket_id).first()
    if ticket is None or ticket.resolved_at is None:
        return None
    settings = survey_settings_get(kind=SurveyKind.CSAT)
    if not settings.active or not ticket.customer.email:
        return None
    invitation = survey_invite(
        kind=SurveyKind.CSAT,
        customer=ticket.customer,
        ticket=ticket,
        key=f"csat:ticket:{ticket.pk}:{ticket.reopen_count}",
    )
    # Without the outbox (patron.messaging) in this installation, the invitation waits.
    with contextlib.suppress(ImportError):
        survey_send(invitation)
    return invitation
