"""/api/v1/member: the member API for an app or a mini-program. Signing in takes a one-time
code (POST /code, then POST /session); everything else is the signed-in member's own data
under /me, with ``Authorization: Bearer pm_...``. Staff tokens are not accepted here, and
member tokens are accepted nowhere else."""

from __future__ import annotations

from django.http import HttpRequest
from django.utils.translation import get_language
from ninja import Router, Status

from patron.accounts.throttle import client_address
from patron.core.api_support import ErrorOut
from patron.members import errors, selectors, services
from patron.members.auth import Anyone, MemberBearer
from patron.members.schemas import (
    CodeIn,
    CodeOut,
    ConsentsIn,
    ConsentsOut,
    MeOut,
    PreferencesIn,
    PreferencesOut,
    RedemptionMeIn,
    RedemptionOut,
    RewardsOut,
    SessionIn,
    SessionOut,
    StatementOut,
)

router = Router(tags=["member"])
ANYONE = Anyone()
MEMBER = MemberBearer()


def _lang() -> str:
    return "zh-hans" if (get_language() or "").startswith("zh") else "en"


@router.post("/code", response={202: CodeOut}, auth=ANYONE)
def member_code_send(request: HttpRequest, payload: CodeIn):  # type: ignore[no-untyped-def]
    services.code_request(email=payload.email)
    return Status(202, {"message": str(errors.CODE_SENT)})


@router.post("/session", response={200: SessionOut, 429: ErrorOut}, auth=ANYONE)
def member_session_create(request: HttpRequest, payload: SessionIn):  # type: ignore[no-untyped-def]
    _token, session = services.session_create(
        email=payload.email, code=payload.code, kind="api", ip=client_address(request)
    )
    return {"token": _token, "expires_at": session.expires_at}


@router.get("/me", response=MeOut, auth=MEMBER)
def me_get(request: HttpRequest):  # type: ignore[no-untyped-def]
    return selectors.member_me(member=request.auth, language=_lang())


@router.delete("/me/session", response={204: None}, auth=MEMBER)
def me_session_end(request: HttpRequest):  # type: ignore[no-untyped-def]
    services.session_end(token=request.headers.get("Authorization", "")[7:].strip())
    return Status(204, None)


@router.get("/me/statement", response=StatementOut, auth=MEMBER)
def me_statement(request: HttpRequest):  # type: ignore[no-untyped-def]
    return selectors.member_statement(member=request.auth)


@router.get("/me/rewards", response=RewardsOut, auth=MEMBER)
def me_rewards(request: HttpRequest):  # type: ignore[no-untyped-def]
    return selectors.member_rewards(member=request.auth, language=_lang())


@router.post("/me/redemptions", response={200: RedemptionOut, 201: RedemptionOut}, auth=MEMBER)
def me_redemption_create(request: HttpRequest, payload: RedemptionMeIn):  # type: ignore[no-untyped-def]
    redemption, created = services.member_redeem(
        member=request.auth, reward_id=payload.reward_id, idempotency_key=payload.idempotency_key
    )
    return Status(201 if created else 200, redemption.response)


@router.get("/me/preferences", response=PreferencesOut, auth=MEMBER)
def me_preferences_get(request: HttpRequest):  # type: ignore[no-untyped-def]
    return selectors.member_preferences(member=request.auth)


@router.put("/me/preferences", response=PreferencesOut, auth=MEMBER)
def me_preferences_put(request: HttpRequest, payload: PreferencesIn):  # type: ignore[no-untyped-def]
    services.preferences_update(member=request.auth, **payload.dict())
    return selectors.member_preferences(member=request.auth)


@router.get("/me/consents", response=ConsentsOut, auth=MEMBER)
def me_consents_get(request: HttpRequest):  # type: ignore[no-untyped-def]
    return selectors.member_consents(member=request.auth)


@router.put("/me/consents", response=ConsentsOut, auth=MEMBER)
def me_consents_put(request: HttpRequest, payload: ConsentsIn):  # type: ignore[no-untyped-def]
    services.consents_update(member=request.auth, **payload.dict())
    return selectors.member_consents(member=request.auth)
