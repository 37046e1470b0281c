"""Enrolment: one customer, a whole segment of the latest analysis run, or through the API."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal, InvalidOperation
from typing import Any

from django.db import IntegrityError, transaction
from django.utils import timezone

from patron.customers.models import Customer
from patron.loyalty import errors
from patron.loyalty.cards import card_new, referral_code_new
from patron.loyalty.errors import LoyaltyError, LoyaltyErrorCode
from patron.loyalty.models import Member, Question, QuestionKind, TierChange
from patron.loyalty.services.ledger import programme_get


def id_document_mask(number: str) -> str:
    """Keep the last four characters only: 110101199001011234 -> **************1234."""
    number = "".join(number.split())
    if len(number) <= 4:
        return "*" * len(number)
    return "*" * (len(number) - 4) + number[-4:]


def answers_check(answers: dict[str, Any]) -> dict[str, Any]:
    """Questionnaire answers by question key, checked against the questions' kinds."""
    questions = {q.key: q for q in Question.objects.filter(active=True)}
    clean: dict[str, Any] = {}
    for key, value in answers.items():
        question = questions.get(key)
        expected = ""
        if question is None:
            expected = "no such question"
        elif question.kind == QuestionKind.SINGLE and value not in question.choices:
            expected = "one of " + ", ".join(map(str, question.choices))
        elif question.kind == QuestionKind.MULTIPLE and (
            not isinstance(value, list) or any(v not in question.choices for v in value)
        ):
            expected = "a list of " + ", ".join(map(str, question.choices))
        elif question.kind == QuestionKind.NUMBER:
            try:
                value = float(Decimal(str(value)))
            except (InvalidOperation, ValueError):
                expected = "a number"
        elif question.kind == QuestionKind.TEXT and (
            not isinstance(value, str) or len(value) > 200
        ):
            expected = "text of at most 200 characters"
        if expected:
            raise LoyaltyError(
                errors.ANSWER_INVALID,
                code=LoyaltyErrorCode.ANSWER_INVALID,
                field=f"answers.{key}",
                value=key,
                expected=expected,
            )
        clean[key] = value
    return clean


@transaction.atomic
def member_enrol(
    *,
    customer_id: str,
    referral_code: str | None = None,
    id_document_type: str = "",
    id_document_number: str = "",
    answers: dict[str, Any] | None = None,
    enrolled_at: dt.datetime | None = None,
) -> Member:
    """Make the customer (by their id) a member with a new card. Back-fills points for past
    orders when the programme says so.

    Raises
    ------
    LoyaltyError
        ``customer_unknown`` (404), ``already_member`` (409, with the card number),
        ``referral_unknown``, ``answer_invalid``.
    """
    customer = Customer.objects.filter(external_id=str(customer_id)).first()
    if customer is None:
        raise LoyaltyError(
            errors.CUSTOMER_UNKNOWN,
            code=LoyaltyErrorCode.CUSTOMER_UNKNOWN,
            field="customer_id",
            value=customer_id,
        )
    existing = Member.objects.filter(customer=customer).first()
    if existing is not None:
        raise _already(customer, existing)
    referrer = None
    if referral_code:
        referrer = Member.objects.filter(referral_code=referral_code.strip().upper()).first()
        if referrer is None:
            raise LoyaltyError(
                errors.REFERRAL_UNKNOWN,
                code=LoyaltyErrorCode.REFERRAL_UNKNOWN,
                field="referral_code",
                value=referral_code,
            )
    clean = answers_check(answers or {})
    programme = programme_get()
    member = None
    for _attempt in range(5):  # a random card or code taken already: draw again
        try:
            with transaction.atomic():
                member = Member(
                    customer=customer,
                    card_number=card_new(),
                    referral_code=referral_code_new(),
                    referred_by=referrer,
                    enrolled_at=enrolled_at or timezone.now(),
                    backfill=programme.backfill_on_enrol,
                    id_document_type=id_document_type[:32],
                    id_document_masked=id_document_mask(id_document_number)[:40],
                )
                member.full_clean(exclude=["customer", "referred_by", "tier", "tier_floor"])
                member.save()
                break
        except IntegrityError:
            existing = Member.objects.filter(customer=customer).first()
            if existing is not None:  # enrolled concurrently
                raise _already(customer, existing) from None
    if member is None:
        raise RuntimeError("could not draw a free card number")
    if clean:
        customer.attributes = {**(customer.attributes or {}), **clean}
        customer.save(update_fields=["attributes", "updated_at"])
    TierChange.objects.create(
        member=member,
        from_tier=None,
        to_tier=None,
        changed_on=member.enrolled_at.date(),
        reason="enrolled",
    )
    from patron.loyalty.services.orders import order_points_sync

    order_points_sync(customer_ids=[customer.pk], changed=True)
    if programme.tiers_enabled:
        from patron.loyalty.services.tiers import tiers_reevaluate

        tiers_reevaluate(customer_ids=[customer.pk])
    member.refresh_from_db()
    return member


def _already(customer: Customer, member: Member) -> LoyaltyError:
    return LoyaltyError(
        errors.ALREADY_MEMBER,
        code=LoyaltyErrorCode.ALREADY_MEMBER,
        field="customer_id",
        extra={"card_number": member.card_number},
        value=customer.external_id,
        card=member.card_number,
    )


def segment_customers(segment: str) -> list[str]:
    """Customer ids of ``tier:<codes>`` or ``segment:<codes>`` in the latest completed run."""
    from patron.insights.models import CustomerScore
    from patron.insights.selectors import analysis_run_list

    kind, _, codes = segment.partition(":")
    names = [c.strip() for c in codes.split(",") if c.strip()]
    run = analysis_run_list().first()
    if kind not in ("tier", "segment") or not names or run is None:
        raise LoyaltyError(
            errors.SEGMENT_INVALID,
            code=LoyaltyErrorCode.SEGMENT_INVALID,
            field="segment",
            value=segment,
        )
    field = "value_tier" if kind == "tier" else "segment"
    return list(
        CustomerScore.objects.filter(run=run, **{f"{field}__in": names})
        .order_by("customer__external_id")
        .values_list("customer__external_id", flat=True)
    )


def members_enrol_segment(
    *, segment: str, enrolled_at: dt.datetime | None = None
) -> dict[str, int]:
    """Enrol every customer of the segment who is not a member yet."""
    ids = segment_customers(segment)
    members = set(
        Member.objects.filter(customer__external_id__in=ids).values_list(
            "customer__external_id", flat=True
        )
    )
    enrolled = 0
    for customer_id in ids:
        if customer_id not in members:
            member_enrol(customer_id=customer_id, enrolled_at=enrolled_at)
            enrolled += 1
    return {"enrolled": enrolled, "already": len(members), "segment_size": len(ids)}
