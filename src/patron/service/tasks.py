"""Survey sending and the daily service work (Huey tasks).

Messages go through the shared outbox (``patron.messaging``): one row per invitation key, so
a retry never sends twice; consent and caps are checked when the outbox dispatches. The
scheduled NPS is marketing (purpose ``marketing``, topic ``surveys``): a customer without
marketing consent is not asked. The CSAT after a ticket is service mail (``transactional``,
topic ``surveys``) and still respects an unsubscribe from surveys.
"""

from __future__ import annotations

import os
from typing import Any

from django.urls import reverse
from django.utils import translation

from patron.service.models import SurveyInvitation, SurveyKind

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
    from patron.service.surveys import survey_link_token

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


def surveys_daily() -> dict[str, int]:
    """The daily work: scheduled NPS invitations (sent when the outbox is installed) and
    service recovery (resolved complaints followed by a purchase)."""
    from patron.service.churn import recovery_refresh
    from patron.service.surveys import nps_invites_due

    invitations = nps_invites_due()
    sent = 0
    try:
        import patron.messaging.services  # noqa: F401
    except ImportError:
        pass  # no outbox in this installation: invitations wait, links work when sent
    else:
        sent = sum(survey_send(invitation) for invitation in invitations)
    recovered = recovery_refresh().recovered
    return {"invited": len(invitations), "sent": sent, "recovered": recovered}


try:
    from huey import crontab
    from huey.contrib.djhuey import db_periodic_task

    @db_periodic_task(crontab(hour="6", minute="15"))
    def service_daily() -> None:
        surveys_daily()

except ImportError:  # pragma: no cover - huey is a dependency
    pass
