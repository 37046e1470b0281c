"""Campaigns end to end against a real SMTP server (aiosmtpd): who receives nothing (no consent,
unsubscribed, controls, the global holdout), the frequency cap across two campaigns with
deferral, and the accounting (targeted = sent + held out + skipped + failed)."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from django.utils import timezone

from patron.campaigns.models import Campaign, Group, Target
from patron.campaigns.selectors import campaign_account
from patron.campaigns.services import campaign_create, campaign_launch, segment_create
from patron.customers.models import Consent, Customer
from patron.messaging.dispatch import outbox_dispatch
from patron.messaging.models import OutboxMessage
from patron.messaging.policy import contact_policy_get, in_global_holdout
from patron.messaging.services import unsubscribe_record

pytestmark = pytest.mark.django_db


def _policy(**values: Any) -> None:
    policy = contact_policy_get()
    policy.quiet_start = policy.quiet_end = 0
    for key, value in values.items():
        setattr(policy, key, value)
    policy.save()


def _customers(n: int) -> list[Customer]:
    now = timezone.now()
    customers = Customer.objects.bulk_create(
        [
            Customer(external_id=f"C{i:04d}", name=f"客户{i}", email=f"c{i}@shop.test")
            for i in range(n)
        ]
    )
    customers = list(Customer.objects.order_by("pk"))
    Consent.objects.bulk_create(
        [
            Consent(customer=c, channel="email", granted=i % 5 != 0, recorded_at=now)
            for i, c in enumerate(customers)
        ]
    )
    return customers


@pytest.fixture
def launch(django_capture_on_commit_callbacks: Any) -> Any:
    """Launch as the web and API do; the occurrence runs on commit (jobs run immediately)."""

    def run(campaign_id: int) -> None:
        with django_capture_on_commit_callbacks(execute=True):
            campaign_launch(campaign_id=campaign_id)

    return run


def _campaign(name: str, segment_id: int, share: float = 0.2) -> Campaign:
    return campaign_create(
        name=name,
        segment_id=segment_id,
        channel="email",
        subject="Hi {{ name }}",
        body_text="Hello {{ name }}, code {{ coupon }}",
        control_share=share,
        attribution_days=14,
        offer="coupon",
    )


def test_only_consenting_treatment_customers_receive_and_the_accounts_add_up(
    smtp_server: Any, launch: Any
) -> None:
    # given 200 customers (every fifth without consent), some unsubscribed, a 10% holdout
    _policy(holdout_share=0.1, email_cap=5)
    customers = _customers(200)
    for customer in customers[1:200:17]:
        unsubscribe_record(customer_id=customer.pk)
    segment = segment_create(name="everyone", rules={"all": []})
    campaign = _campaign("spring", segment.pk)
    # when it is launched (the audience freezes at once: jobs run immediately in tests)
    launch(campaign.pk)
    outbox_dispatch()
    # then nobody without consent, unsubscribed, in the control or in the holdout received it
    received = {m["to"][0] for m in smtp_server.messages}
    targets = {t.customer_id: t for t in Target.objects.filter(campaign=campaign)}
    assert len(targets) == 200
    by_email = {c.email: c.pk for c in customers}
    for email in received:
        target = targets[by_email[email]]
        assert target.group == Group.TREATMENT and target.reason == ""
    no_consent = {c.pk for i, c in enumerate(customers) if i % 5 == 0}
    unsubscribed = {c.pk for c in customers[1:200:17]}
    holdout = {c.pk for c in customers if in_global_holdout(contact_policy_get(), c.pk)}
    controls = {pk for pk, t in targets.items() if t.group == Group.CONTROL}
    assert holdout and controls
    for pk in no_consent | unsubscribed | holdout | controls:
        assert next(e for e, p in by_email.items() if p == pk) not in received
    expected_reached = set(targets) - no_consent - unsubscribed - holdout - controls
    assert {by_email[e] for e in received} == expected_reached
    # and each message carries its customer's name and own coupon
    codes = {t.coupon_code for t in targets.values() if t.coupon_code}
    assert len(codes) == len(expected_reached)
    for message in smtp_server.messages:
        body = message["message"].get_body(("plain",)).get_content()
        assert any(code in body for code in codes) and "客户" in body
    # and the accounts add up
    campaign.refresh_from_db()
    account = campaign_account(campaign=campaign)
    assert (
        account.targeted
        == 200
        == (account.sent + account.held_out + sum(account.skipped.values()) + account.failed)
    )
    assert account.sent == len(expected_reached)
    # (an opt-out is named before a missing consent)
    assert account.skipped == {
        "no_consent": len(no_consent - unsubscribed),
        "unsubscribed": len(unsubscribed),
    }
    assert account.held_out == len((holdout | controls) - no_consent - unsubscribed)
    assert account.api()["status"] == "done" and account.pending == 0


def test_the_cap_holds_across_two_campaigns_and_defers(smtp_server: Any, launch: Any) -> None:
    # given a cap of one marketing email per customer per 7 days, and two campaigns
    _policy(email_cap=1, window_days=7)
    customers = _customers(30)
    segment = segment_create(name="all", rules={"all": []})
    first = _campaign("first", segment.pk, share=0.0)
    second = _campaign("second", segment.pk, share=0.0)
    # when both are launched and the outbox is dispatched
    launch(first.pk)
    launch(second.pk)
    outbox_dispatch()
    # then each consenting customer got exactly one email; the second campaign's wait
    consenting = [c for i, c in enumerate(customers) if i % 5 != 0]
    recipients = [m["to"][0] for m in smtp_server.messages]
    assert sorted(recipients) == sorted(c.email for c in consenting)
    waiting = OutboxMessage.objects.filter(key__startswith=f"campaign:{second.pk}:")
    assert waiting.filter(status="queued").count() == len(consenting)
    first_sent = OutboxMessage.objects.filter(key__startswith=f"campaign:{first.pk}:")
    claimed = first_sent.order_by("claimed_at").first().claimed_at
    for message in waiting:
        assert message.not_before >= claimed + dt.timedelta(days=7) - dt.timedelta(seconds=5)
    assert campaign_account(campaign=second).pending == len(consenting)
    # when the window has passed (the first emails moved 8 days back) and dispatch runs again
    first_sent.update(claimed_at=timezone.now() - dt.timedelta(days=8))
    waiting.update(not_before=timezone.now())
    outbox_dispatch()
    # then the deferred emails go, once each, and nothing is sent twice
    recipients = [m["to"][0] for m in smtp_server.messages]
    assert len(recipients) == 2 * len(consenting) and len(set(smtp_server.keys())) == len(
        recipients
    )
    account = campaign_account(campaign=second)
    assert account.sent == len(consenting) and account.pending == 0


def test_deferred_past_the_campaign_validity_is_skipped_over_the_cap(
    smtp_server: Any, launch: Any
) -> None:
    # given a cap already used up and a campaign whose messages may wait one day only
    _policy(email_cap=1, window_days=7)
    _customers(10)
    segment = segment_create(name="all", rules={"all": []})
    first = _campaign("first", segment.pk, share=0.0)
    second = campaign_create(
        name="short",
        segment_id=segment.pk,
        channel="email",
        subject="s",
        body_text="t",
        control_share=0.0,
        valid_days=1,
    )
    launch(first.pk)
    outbox_dispatch()
    # when the second campaign goes out
    launch(second.pk)
    outbox_dispatch()
    # then its messages end skipped (over the cap and expired), accounted for
    account = campaign_account(campaign=second)
    assert account.skipped.get("over_cap") == 8 and account.pending == 0
    assert (
        account.targeted
        == account.sent + account.held_out + sum(account.skipped.values()) + account.failed
    )
