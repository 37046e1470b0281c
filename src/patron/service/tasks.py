"""The daily service work (Huey tasks): scheduled NPS invitations and service recovery."""

from __future__ import annotations

from patron.service.invitations import survey_send


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
