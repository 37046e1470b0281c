"""The one-click answer page: a signed link, no sign-in, both languages; answered twice keeps
the last answer; a forged, damaged or expired link is refused."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from django.core import signing
from django.test import Client
from django.utils import timezone

from patron.service.invitations import csat_invite_after_resolution
from patron.service.models import SurveyResponse
from patron.service.services import ticket_create, ticket_resolve
from patron.service.surveys import (
    LINK_SALT,
    survey_invite,
    survey_link_token,
    survey_settings_update,
)

pytestmark = pytest.mark.django_db


def _url(invitation: Any) -> str:
    return f"/service/s/{survey_link_token(invitation)}/"


def test_one_click_then_more_then_again_keeps_the_last_answer(make_customer: Any) -> None:
    # given
    invitation = survey_invite(
        kind="nps", customer=make_customer("C1"), key="nps:1", language="zh-hans"
    )
    client = Client()
    # when: the score clicked in the email
    page = client.get(_url(invitation) + "?score=4")
    # then: recorded at once, the page in the invitation's language (Chinese)
    assert page.status_code == 200
    html = page.content.decode()
    assert "您有多大可能向朋友推荐我们" in html and 'lang="zh-hans"' in html
    assert SurveyResponse.objects.get().nps == 4
    # more: ratings and a comment, then a change of mind
    client.post(_url(invitation), {"score": "8", "driver_delivery": "2", "comment": "物流太慢"})
    page = client.post(_url(invitation), {"score": "9", "driver_price": "5", "lang": "en"})
    assert "How likely are you to recommend us" in page.content.decode()
    answer = SurveyResponse.objects.get()  # still one answer: the last
    assert (answer.nps, answer.drivers, answer.comment) == (9, {"price": 5}, "")
    assert answer.source == "link"


def test_english_page_and_out_of_range_scores(make_customer: Any) -> None:
    invitation = survey_invite(
        kind="csat", customer=make_customer("C1"), key="csat:1", language="en"
    )
    client = Client()
    page = client.get(_url(invitation))
    assert "How satisfied are you" in page.content.decode()
    assert not SurveyResponse.objects.exists()  # opening the page records nothing
    for bad in ("0", "6", "11"):
        page = client.post(_url(invitation), {"score": bad})
        assert page.status_code == 400
        assert "Choose a score from 1 to 5." in page.content.decode()
    page = client.get(_url(invitation) + "?score=3&lang=zh-hans")
    assert "您对我们处理您的请求满意吗" in page.content.decode()
    assert SurveyResponse.objects.get().csat == 3


def test_forged_damaged_and_expired_links_are_refused(make_customer: Any) -> None:
    customer = make_customer("C1")
    invitation = survey_invite(kind="nps", customer=customer, key="nps:1")
    token = survey_link_token(invitation)
    client = Client()
    forged = signing.dumps(invitation.pk, salt="someone-else")
    tampered = token[:-2] + ("AA" if not token.endswith("AA") else "BB")
    other_number = signing.dumps(invitation.pk + 1000, salt=LINK_SALT)  # signed, but no such
    for bad in (forged, tampered, "nonsense", other_number):
        page = client.get(f"/service/s/{bad}/?score=10")
        assert page.status_code == 400, bad
        assert "This survey link is not valid" in page.content.decode()
    invitation.expires_at = timezone.now() - dt.timedelta(seconds=1)
    invitation.save()
    page = client.get(f"/service/s/{token}/?score=10")
    assert page.status_code == 410
    assert not SurveyResponse.objects.exists()


def test_resolving_a_ticket_invites_to_csat_once(
    make_customer: Any, agent: Any, django_capture_on_commit_callbacks: Any
) -> None:
    customer = make_customer("C1", email="c1@example.com")
    ticket = ticket_create(
        customer=customer, kind="question", category="other", channel="email", subject="Invoice"
    )
    with django_capture_on_commit_callbacks(execute=True):
        ticket_resolve(ticket=ticket, by=agent, resolution="Sent it")
    invitation = ticket.invitations.get()
    assert (invitation.kind, invitation.key) == ("csat", f"csat:ticket:{ticket.pk}:0")
    assert csat_invite_after_resolution(ticket_id=ticket.pk) == invitation  # idempotent
    survey_settings_update(
        kind="csat",
        active=False,
        every_days=90,
        after_order_days=0,
        link_valid_days=30,
        drivers=["speed"],
        ask_comment=True,
    )
    assert csat_invite_after_resolution(ticket_id=ticket.pk) is None


def test_survey_invitation_goes_through_the_outbox(make_customer: Any) -> None:
    pytest.importorskip("patron.messaging")
    from patron.service.invitations import survey_send

    customer = make_customer("C1", email="c1@example.com")
    nps = survey_invite(kind="nps", customer=customer, key="nps:order:1", language="zh-hans")
    calls: list[dict[str, Any]] = []
    import patron.messaging.services as outbox

    original = outbox.message_enqueue
    try:
        outbox.message_enqueue = lambda **kwargs: calls.append(kwargs)  # type: ignore[assignment]
        assert survey_send(nps)
    finally:
        outbox.message_enqueue = original
    (call,) = calls
    assert (call["purpose"], call["topic"], call["channel"]) == ("marketing", "surveys", "email")
    assert call["key"] == "survey:nps:order:1" and call["customer_id"] == customer.pk
    assert survey_link_token(nps) in call["body_text"] and call["language"] == "zh-hans"
    # and for real: queued once however often it is sent
    assert survey_send(nps) and survey_send(nps)


def test_scheduled_nps_invites_after_an_order_once_per_period(
    make_customer: Any, make_order: Any
) -> None:
    from patron.service.surveys import nps_invites_due

    today = dt.date(2024, 7, 10)
    asked = make_customer("C1", email="c1@example.com")
    no_email = make_customer("C2")
    early = make_customer("C3", email="c3@example.com")
    for customer in (asked, no_email):
        make_order(customer, today - dt.timedelta(days=7))  # a week ago: the default
    make_order(early, today - dt.timedelta(days=2))
    invitations = nps_invites_due(today=today)
    assert [(i.customer, i.kind) for i in invitations] == [(asked, "nps")]
    assert nps_invites_due(today=today) == []  # asked within the period: not again
    make_order(asked, today - dt.timedelta(days=7))  # a second order that day changes nothing
    assert nps_invites_due(today=today) == []


def test_the_links_in_the_message_answer_with_one_click(make_customer: Any) -> None:
    from patron.service.invitations import survey_message

    invitation = survey_invite(kind="csat", customer=make_customer("C1"), key="csat:9",
                               language="zh-hans")  # fmt: skip
    message = survey_message(invitation)
    assert message["subject"] == "请为我们的服务打分" and message["language"] == "zh-hans"
    links = [line.split(": ", 1)[1] for line in message["body_text"].splitlines()[1:]]
    assert len(links) == 5 and message["body_html"].count("<a href=") == 5
    path = links[1].removeprefix("http://localhost:8000")  # the score 2
    assert Client().get(path).status_code == 200
    assert SurveyResponse.objects.get().csat == 2


def test_scheduled_relationship_nps_once_per_period(make_customer: Any, make_order: Any) -> None:
    from patron.service.surveys import nps_invites_due

    survey_settings_update(kind="nps", active=True, every_days=90, after_order_days=0,
                           link_valid_days=30, drivers=["delivery"], ask_comment=True)  # fmt: skip
    today = dt.date(2024, 7, 10)
    active = make_customer("C1", email="c1@example.com")
    lapsed = make_customer("C2", email="c2@example.com")
    make_order(active, today - dt.timedelta(days=40))
    make_order(active, today - dt.timedelta(days=3))
    make_order(lapsed, today - dt.timedelta(days=200))
    invitations = nps_invites_due(today=today)
    assert [(i.customer, i.order) for i in invitations] == [(active, None)]
    assert invitations[0].key.startswith(f"nps:schedule:{active.pk}:")
    assert nps_invites_due(today=today + dt.timedelta(days=1)) == []
