"""Member self-service writes: sign-in codes and sessions, redemptions, preferences, consents,
erasure requests. Every write is for the signed-in member passed in, never for an id read
from the request."""

from __future__ import annotations

import datetime as dt
import hmac
import secrets
from typing import Any

from django.conf import settings
from django.db import transaction
from django.db.models import F
from django.utils import timezone

from patron.accounts.throttle import (
    signin_failure_record,
    signin_failures_clear,
    signin_is_throttled,
)
from patron.customers.models import Channel, Consent, Customer
from patron.loyalty import services as loyalty
from patron.loyalty.models import Member, Redemption
from patron.members import errors
from patron.members.auth import address_normalise, secret_hash, token_new
from patron.members.errors import MemberError, MemberErrorCode
from patron.members.models import (
    ErasureRequest,
    ErasureStatus,
    MemberSession,
    Profile,
    SignInCode,
)
from patron.messaging.models import Unsubscribe

CODE_MINUTES = 10
MAX_WRONG_TRIES = 5


def codes_per_hour() -> int:
    return int(settings.PATRON_MEMBER_CODES_PER_HOUR)


def session_days() -> int:
    return int(settings.PATRON_MEMBER_SESSION_DAYS)


def member_for_address(address: str) -> Member | None:
    """The member whose customer has this e-mail address (stored lower-cased by the
    importer); the oldest membership if several. One indexed query, member or not."""
    return (
        Member.objects.select_related("customer", "portal_profile")
        .filter(customer__email=address)
        .order_by("pk")
        .first()
    )


def _code_hash(address_hash: str, code: str) -> str:
    return secret_hash(f"code:{address_hash}:{code}")


def code_request(*, email: object, now: dt.datetime | None = None) -> None:
    """Write a sign-in code for ``email`` and, when it is a member's, queue it by e-mail
    (and SMS where a gateway is set). Strangers get the same row and the same answer; past
    the hourly limit of codes per address nothing is written. Returns nothing on purpose."""
    from patron.members.notify import template_get, template_render

    now = now or timezone.now()
    address = address_normalise(email)
    if not address:
        return
    address_hash = secret_hash(f"address:{address}")
    recent = SignInCode.objects.filter(
        address_hash=address_hash, created_at__gte=now - dt.timedelta(hours=1)
    ).count()
    if recent >= codes_per_hour():
        return
    member = member_for_address(address)
    code = f"{secrets.randbelow(1_000_000):06d}"
    # The message is written for members and strangers alike (the same reads, the same
    # work); only a member's is queued.
    from patron.members.selectors import member_language

    language = member_language(member=member)
    subject, body, sms = template_render(
        template_get("code"), language=language, context={"code": code}
    )
    with transaction.atomic():
        row = SignInCode.objects.create(
            address_hash=address_hash,
            member=member,
            code_hash=_code_hash(address_hash, code),
            created_at=now,
            expires_at=now + dt.timedelta(minutes=CODE_MINUTES),
        )
        if member is not None:
            _code_send(member=member, row=row, address=address, language=language,
                       texts=(subject, body, sms))  # fmt: skip


def _code_send(
    *, member: Member, row: SignInCode, address: str, language: str, texts: tuple[str, str, str]
) -> None:
    from patron.messaging.services import message_enqueue

    subject, body, sms = texts
    customer = member.customer
    message_enqueue(
        key=f"member.code:{member.pk}:{row.pk}",
        channel="email",
        recipient=address,
        subject=subject,
        body_text=body,
        customer_id=customer.pk,
        language=language,
    )
    if settings.PATRON_SMS_URL and customer.phone and not customer.phone_is_masked:
        message_enqueue(
            key=f"member.code:{member.pk}:{row.pk}:sms",
            channel="sms",
            recipient=customer.phone,
            subject="",
            body_text=sms,
            customer_id=customer.pk,
            language=language,
        )


def session_create(
    *, email: object, code: object, kind: str = "api", ip: str = ""
) -> tuple[str, MemberSession]:
    """Exchange the newest code of ``email`` for a session token (returned once, stored
    hashed). Raises ``code_invalid`` (401) for a wrong, expired or used code, and
    ``too_many_tries`` (429) once 5 wrong codes were tried (for the code, or from this
    address for this e-mail in the sign-in limiter's window)."""
    now = timezone.now()
    address = address_normalise(email)
    if not address or not str(code or "").strip():
        raise MemberError(errors.CODE_MISSING, code=MemberErrorCode.CODE_MISSING)
    address_hash = secret_hash(f"address:{address}")
    throttle_name = f"member:{address}"
    if signin_is_throttled(username=throttle_name, ip=ip):
        raise MemberError(errors.TOO_MANY_TRIES, code=MemberErrorCode.TOO_MANY_TRIES)
    row = (
        SignInCode.objects.filter(address_hash=address_hash).order_by("-created_at", "-pk").first()
    )
    if row is None or row.used_at is not None or row.expires_at <= now:
        raise MemberError(errors.CODE_INVALID, code=MemberErrorCode.CODE_INVALID)
    if row.wrong_tries >= MAX_WRONG_TRIES:
        raise MemberError(errors.TOO_MANY_TRIES, code=MemberErrorCode.TOO_MANY_TRIES)
    given = str(code or "").strip()
    right = hmac.compare_digest(row.code_hash, _code_hash(address_hash, given))
    if not right or row.member_id is None:
        SignInCode.objects.filter(pk=row.pk).update(wrong_tries=F("wrong_tries") + 1)
        signin_failure_record(username=throttle_name, ip=ip)
        raise MemberError(errors.CODE_INVALID, code=MemberErrorCode.CODE_INVALID)
    with transaction.atomic():
        took = SignInCode.objects.filter(pk=row.pk, used_at__isnull=True).update(used_at=now)
        if not took:  # replayed at the same moment: the guarded UPDATE let one through
            raise MemberError(errors.CODE_INVALID, code=MemberErrorCode.CODE_INVALID)
        token = token_new()
        session = MemberSession.objects.create(
            member_id=row.member_id,
            token_hash=secret_hash(token),
            kind=kind,
            created_at=now,
            expires_at=now + dt.timedelta(days=session_days()),
        )
        profile, _ = Profile.objects.get_or_create(member_id=row.member_id)
        Profile.objects.filter(pk=profile.pk).update(
            last_sign_in_at=now, sign_ins=F("sign_ins") + 1
        )
        Profile.objects.filter(pk=profile.pk, first_sign_in_at__isnull=True).update(
            first_sign_in_at=now
        )
    signin_failures_clear(username=throttle_name, ip=ip)
    return token, session


def session_end(*, token: str) -> None:
    MemberSession.objects.filter(token_hash=secret_hash(token), ended_at__isnull=True).update(
        ended_at=timezone.now()
    )


def member_redeem(
    *, member: Member, reward_id: object, idempotency_key: object
) -> tuple[Redemption, bool]:
    """Redeem one reward for the signed-in member. The key is the member's own (it is stored
    under the member's id, so two members' keys never meet). Loyalty's checks hold: balance,
    stock, tier, dates, per-member limit."""
    from patron.loyalty.errors import REWARD_UNKNOWN, LoyaltyError, LoyaltyErrorCode

    try:
        reward = int(str(reward_id))
    except (TypeError, ValueError):
        raise LoyaltyError(
            REWARD_UNKNOWN, code=LoyaltyErrorCode.REWARD_UNKNOWN, field="reward_id", value=reward_id
        ) from None
    key = idempotency_key
    if isinstance(key, str) and 1 <= len(key.strip()) <= 80:
        key = f"m{member.pk}:{key.strip()}"
    redemption, created = loyalty.points_redeem(
        member=member, idempotency_key=key, rewards=[loyalty.RewardLine(reward, 1)]
    )
    if created:
        transaction.on_commit(lambda: _notify_redeemed(redemption.pk))
    return redemption, created


def _notify_redeemed(redemption_id: int) -> None:
    from patron.members.notify import notify, redeemed_context

    r = Redemption.objects.select_related("member__customer").get(pk=redemption_id)
    notify(member=r.member, kind="redeemed", event=str(r.pk), context=redeemed_context(r))


@transaction.atomic
def preferences_update(
    *,
    member: Member,
    language: object = None,
    notifications: dict[str, Any] | None = None,
    answers: dict[str, Any] | None = None,
) -> None:
    """Change the member's language, notification kinds (topic -> on/off) and questionnaire
    answers (checked like at enrolment). Raises ``preference_invalid``."""
    from patron.members.notify import MEMBER_TOPICS

    if language is not None:
        if language not in ("en", "zh-hans"):
            raise MemberError(
                errors.LANGUAGE_INVALID,
                code=MemberErrorCode.PREFERENCE_INVALID,
                field="language",
                value=language,
            )
        Profile.objects.update_or_create(member=member, defaults={"language": language})
        member._state.fields_cache.pop("portal_profile", None)  # read anew from now on
    for topic, on in (notifications or {}).items():
        if topic not in MEMBER_TOPICS or not isinstance(on, bool):
            raise MemberError(
                errors.NOTIFICATION_INVALID,
                code=MemberErrorCode.PREFERENCE_INVALID,
                field=f"notifications.{topic}",
                value=topic,
                expected=", ".join(MEMBER_TOPICS) + " (true or false)",
            )
        _opt(member.customer_id, topic, on, channel="")
    if answers:
        from patron.loyalty.services.members import answers_check

        clean = answers_check(answers)
        customer = Customer.objects.select_for_update().get(pk=member.customer_id)
        customer.attributes = {**(customer.attributes or {}), **clean}
        customer.save(update_fields=["attributes", "updated_at"])
        member.customer = customer  # what the caller reads next is the saved answer


def _opt(customer_id: int, topic: str, on: bool, *, channel: str) -> None:
    """On: remove the opt-out; off: record it (the outbox's ``Unsubscribe``)."""
    from patron.messaging.services import unsubscribe_record

    if on:
        Unsubscribe.objects.filter(customer_id=customer_id, channel=channel, topic=topic).delete()
    else:
        unsubscribe_record(customer_id=customer_id, channel=channel, topic=topic, source="member")


CONSENT_CHANNELS = tuple(Channel.values)


@transaction.atomic
def consents_update(
    *, member: Member, channels: dict[str, Any] | None = None, topics: dict[str, Any] | None = None
) -> None:
    """Marketing consent per channel (``Consent``) and per topic (an opt-out of the topic on
    every channel). Raises ``consent_invalid``."""
    from patron.members.selectors import marketing_topics

    now = timezone.now()
    for channel, granted in (channels or {}).items():
        if channel not in CONSENT_CHANNELS:
            raise MemberError(
                errors.CHANNEL_INVALID,
                code=MemberErrorCode.CONSENT_INVALID,
                field=f"channels.{channel}",
                value=channel,
                expected=", ".join(CONSENT_CHANNELS),
            )
        if not isinstance(granted, bool):
            raise MemberError(
                errors.CONSENT_VALUE_INVALID,
                code=MemberErrorCode.CONSENT_INVALID,
                field=f"channels.{channel}",
                value=channel,
            )
        Consent.objects.update_or_create(
            customer_id=member.customer_id,
            channel=channel,
            defaults={"granted": granted, "recorded_at": now, "source": "member portal"},
        )
    known = marketing_topics()
    for topic, on in (topics or {}).items():
        if topic not in known:
            raise MemberError(
                errors.TOPIC_INVALID,
                code=MemberErrorCode.CONSENT_INVALID,
                field=f"topics.{topic}",
                value=topic,
                expected=", ".join(known),
            )
        if not isinstance(on, bool):
            raise MemberError(
                errors.CONSENT_VALUE_INVALID,
                code=MemberErrorCode.CONSENT_INVALID,
                field=f"topics.{topic}",
                value=topic,
            )
        _opt(member.customer_id, topic, on, channel="")


def erasure_request(*, member: Member) -> ErasureRequest:
    """Ask for erasure; an admin carries it out. One pending request per member."""
    from django.db import IntegrityError

    try:
        with transaction.atomic():
            return ErasureRequest.objects.create(
                member=member,
                customer_ref=member.customer.external_id,
                card_number=member.card_number,
                requested_at=timezone.now(),
            )
    except IntegrityError:
        raise MemberError(errors.ERASURE_PENDING, code=MemberErrorCode.ERASURE_PENDING) from None


def _audit_forget(*, customer: Customer, consents: list[int], notes: list[int]) -> None:
    """The audit trail keeps old values (names, addresses): an erasure removes the person's
    entries too, the erasure's own included. The erasure request records who and when."""
    from auditlog.models import LogEntry
    from django.contrib.contenttypes.models import ContentType

    from patron.customers.models import Interaction

    for model, pks in ((Customer, [customer.pk]), (Consent, consents), (Interaction, notes)):
        LogEntry.objects.filter(
            content_type=ContentType.objects.get_for_model(model),
            object_pk__in=[str(pk) for pk in pks],
        ).delete()


@transaction.atomic
def erasure_carry_out(*, request_id: int, by: str) -> ErasureRequest:
    """Erase the member's personal data: the customer keeps its orders (so revenue, points
    liability and analyses stay right) but loses name, contacts, birth date, answers, tags,
    consents, notes and opt-outs, and gets an anonymous id; sessions end, the profile goes."""
    request = ErasureRequest.objects.select_for_update().get(pk=request_id)
    if request.status != ErasureStatus.PENDING:
        return request
    member = Member.objects.select_related("customer").filter(pk=request.member_id).first()
    if member is not None:
        customer = member.customer
        for name in ("name", "phone", "email", "region", "city", "occupation", "company"):
            setattr(customer, name, "")
        customer.birth_date = None
        customer.gender = "u"
        customer.attributes, customer.tags = {}, []
        customer.external_id = f"erased-{customer.pk}"
        customer.save()
        consents = list(customer.consents.values_list("pk", flat=True))
        notes = list(customer.interactions.values_list("pk", flat=True))
        customer.consents.all().delete()
        customer.interactions.all().delete()
        _audit_forget(customer=customer, consents=consents, notes=notes)
        Unsubscribe.objects.filter(customer=customer).delete()
        MemberSession.objects.filter(member=member).update(ended_at=timezone.now())
        Profile.objects.filter(member=member).delete()
        member.id_document_type = member.id_document_masked = ""
        member.save(update_fields=["id_document_type", "id_document_masked"])
    request.status, request.handled_at, request.handled_by = (
        ErasureStatus.DONE,
        timezone.now(),
        by[:150],
    )
    request.save()
    return request
