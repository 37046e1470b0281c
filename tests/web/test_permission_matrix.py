"""Every URL × every role, generated from the URL configuration.

A URL without a declared rule, or without a line in EXPECTED below, fails; so does a view whose
declared rule or real HTTP answer disagrees with what the issue says each role may do.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from django.test import Client
from django.urls import URLPattern, URLResolver, get_resolver, reverse
from ninja.operation import PathView

from patron.accounts.permissions import declared_rule
from patron.accounts.roles import ROLE_NAMES
from patron.core.services import token_create
from patron.customers.models import Customer

pytestmark = pytest.mark.django_db

ANONYMOUS = "anonymous"
ROLES = (ANONYMOUS, *ROLE_NAMES)
EVERYONE = frozenset(ROLES)
SIGNED_IN = frozenset(ROLE_NAMES)
ADMIN = frozenset({"admin"})

# What the issue says each role may do, written independently of the code's rules.
EXPECTED: dict[str, frozenset[str]] = {
    "login": EVERYONE,
    "logout": EVERYONE,
    "password_reset": EVERYONE,
    "password_reset_done": EVERYONE,
    "password_reset_confirm": EVERYONE,
    "password_reset_complete": EVERYONE,
    "set_language": EVERYONE,
    "web:healthz": EVERYONE,
    "api:api-root": EVERYONE,
    "api:openapi-json": SIGNED_IN,  # or an API token holder (tests/core/test_api.py)
    "api:openapi-view": SIGNED_IN,
    "admin:login": EVERYONE,
    "admin:logout": EVERYONE,
    "web:home": SIGNED_IN,
    "web:customer_list": SIGNED_IN,
    "web:customer_detail": SIGNED_IN,
    "web:users": ADMIN,  # Settings > Users (accounts.manage_users)
    "web:user_detail": ADMIN,
    "web:saved_view_save": SIGNED_IN,  # one's own views of the list
    "web:saved_view_delete": SIGNED_IN,
    "web:customer_export": frozenset({"admin", "marketing", "analyst"}),  # service: no exports
    "web:customer_edit": frozenset({"admin", "marketing", "service"}),  # analyst: read-only
    "web:interaction_add": frozenset({"admin", "marketing", "service"}),
    "web:segments": frozenset({"admin", "marketing", "analyst"}),
    "web:segment_detail": frozenset({"admin", "marketing", "analyst"}),
    "web:reports": frozenset({"admin", "marketing", "analyst"}),
    "web:settings": ADMIN,
    # import in the browser: admin and marketing; analysts read only, service imports nothing
    "web:import_start": frozenset({"admin", "marketing"}),
    "web:import_review": frozenset({"admin", "marketing"}),
    "web:import_check": frozenset({"admin", "marketing"}),
    "web:import_confirm": frozenset({"admin", "marketing"}),
    "web:import_rejects": frozenset({"admin", "marketing"}),
    # a job's page: anyone signed in, for the jobs they started (all jobs: admin, analyst)
    "web:job_detail": SIGNED_IN,
    "web:job_status": SIGNED_IN,
    # starting a run writes one: analysts are read-only
    "web:analysis_settings": ADMIN,
    "web:analysis_start": frozenset({"admin", "marketing"}),
    # churn warnings: service and marketing act, analysts read (issue 5)
    "web:predictions": frozenset({"admin", "marketing", "analyst"}),
    "retention:warning_list": SIGNED_IN,
    "retention:warning_detail": SIGNED_IN,
    "retention:warning_assign": frozenset({"admin", "marketing", "service"}),
    "retention:warning_respond": frozenset({"admin", "marketing", "service"}),
    "retention:warning_refresh": frozenset({"admin", "marketing", "service"}),
    "retention:warning_threshold": ADMIN,  # day1-insights: which customers get a warning
    "api:customer_list": SIGNED_IN,
    "api:customer_get": SIGNED_IN,
    "api:customer_create": frozenset({"admin", "marketing"}),
    "api:customer_update": frozenset({"admin", "marketing", "service"}),
    # loyalty (issue 17): marketing manages, service sees and adjusts with a reason, analysts read
    "loyalty:member_list": frozenset({"admin", "marketing", "service", "analyst"}),
    "loyalty:member_detail": frozenset({"admin", "marketing", "service", "analyst"}),
    "loyalty:statement_csv": frozenset({"admin", "marketing", "service", "analyst"}),
    "loyalty:member_adjust": frozenset({"admin", "marketing", "service"}),
    "loyalty:member_enrol": frozenset({"admin", "marketing"}),
    "loyalty:reward_list": frozenset({"admin", "marketing", "service", "analyst"}),
    "loyalty:settings": frozenset({"admin", "marketing", "service", "analyst"}),
    "loyalty:analytics": frozenset({"admin", "marketing", "service", "analyst"}),
    "api:member_create": frozenset({"admin", "marketing"}),
    "api:member_get": frozenset({"admin", "marketing", "service", "analyst"}),
    "api:member_statement": frozenset({"admin", "marketing", "service", "analyst"}),
    "api:accrual_create": frozenset({"admin", "marketing"}),
    "api:redemption_create": frozenset({"admin", "marketing"}),
    "api:hold_create": frozenset({"admin", "marketing"}),
    "api:hold_commit": frozenset({"admin", "marketing"}),
    "api:hold_void": frozenset({"admin", "marketing"}),
    "api:reward_code_get": frozenset({"admin", "marketing", "service", "analyst"}),
    "api:reward_code_use": frozenset({"admin", "marketing"}),
    "api:order_create": ADMIN,
    "api:order_batch": ADMIN,
    # service (issue 22): the service role works on tickets, analysts read, marketing neither
    "service:ticket_list": frozenset({"admin", "service", "analyst"}),
    "service:ticket_detail": frozenset({"admin", "service", "analyst"}),
    "service:report": frozenset({"admin", "service", "analyst"}),
    "service:survey_results": frozenset({"admin", "service", "analyst"}),
    "service:ticket_new": frozenset({"admin", "service"}),
    "service:ticket_act": frozenset({"admin", "service"}),
    "service:survey_settings": frozenset({"admin", "service"}),
    "service:survey_answer": EVERYONE,  # a signed link, no sign-in
    "api:ticket_create": frozenset({"admin", "service"}),
    # campaigns (issue 18): marketing builds and launches, analysts read; links in messages
    # (click redirect, unsubscribe) are public and signed
    **{
        f"campaigns:{n}": frozenset({"admin", "marketing", "analyst"})
        for n in (
            "campaign_list",
            "campaign_detail",
            "campaign_preview",
            "campaign_progress",
            "campaign_export",
            "segment_list",
            "segment_new",
            "segment_edit",
            "segment_count",
            "segment_export",
            "campaign_report_export",
            "holdout",
            "cadence",
            "cycle",
        )
    },
    **{
        f"campaigns:{n}": frozenset({"admin", "marketing"})
        for n in ("campaign_new", "campaign_edit", "campaign_launch", "campaign_test")
    },
    "campaigns:click": EVERYONE,
    "messaging:unsubscribe": EVERYONE,
    "api:segment_create": frozenset({"admin", "marketing"}),
    "api:segment_count": frozenset({"admin", "marketing", "analyst"}),
    "api:campaign_create": frozenset({"admin", "marketing"}),
    "api:campaign_launch": frozenset({"admin", "marketing"}),
    "api:campaign_status": frozenset({"admin", "marketing", "analyst"}),
    "api:coupon_redeem_api": frozenset({"admin", "marketing"}),
    # recommendations (issue 21): everyone who serves customers reads them; exports as above
    "api:customer_recommendation_list": SIGNED_IN,
    "recommend:export": frozenset({"admin", "marketing", "analyst"}),
    "recommend:rules": frozenset({"admin", "marketing"}),  # the shop's rules
    # member self-service (issue 20): members are not staff. The sign-in steps are open to
    # everyone; the portal pages and the member API take a member's session or token only, so
    # no staff role (and no visitor) gets in; staff see portal usage, admins erase.
    "members:login": EVERYONE,
    "members:login_code": EVERYONE,
    "members:logout": EVERYONE,
    **{
        f"members:{n}": frozenset()
        for n in (
            "home",
            "statement",
            "rewards",
            "reward_redeem",
            "friends",
            "orders",
            "preferences",
            "consents",
            "data",
            "data_download",
        )
    },
    "members:staff": frozenset({"admin", "marketing", "service", "analyst"}),
    "members:erasure_do": ADMIN,
    "api:member_code_send": EVERYONE,
    "api:member_session_create": EVERYONE,
    **{
        f"api:{n}": frozenset()
        for n in (
            "me_get",
            "me_session_end",
            "me_statement",
            "me_rewards",
            "me_redemption_create",
            "me_preferences_get",
            "me_preferences_put",
            "me_consents_get",
            "me_consents_put",
        )
    },
    "recommend:runs": SIGNED_IN,  # service reads the runs; analysts read every run
    "recommend:run_start": frozenset({"admin", "marketing"}),  # writes a run
}
ADMIN_SITE = ADMIN  # every other admin:* URL

SAMPLE_KWARGS = {
    "external_id": "C1",
    "fmt": "csv",
    "uidb64": "MQ",
    "token": "set-password",
    "object_id": "1",
    "id": "1",
    "app_label": "customers",
    "upload_id": "1",
    "job_id": "1",
    "kind": "tier",
    "name": "very_low",
    "campaign_id": "1",
    "segment_id": "1",
    "code": "NOCODE",
    "card_number": "8600000000000001",
    "hold_id": "1",
    "view_id": "1",
    "user_id": "1",
}


def _walk(patterns: list[Any], namespaces: tuple[str, ...] = ()) -> Iterator[tuple[str, Any]]:
    for pattern in patterns:
        if isinstance(pattern, URLResolver):
            inner = (*namespaces, pattern.namespace) if pattern.namespace else namespaces
            yield from _walk(pattern.url_patterns, inner)
        elif isinstance(pattern, URLPattern):
            name = (
                ":".join((*namespaces, pattern.name))
                if pattern.name
                else ":".join((*namespaces, f"<unnamed {pattern.pattern}>"))
            )
            yield name, pattern


URLS = dict(_walk(get_resolver().url_patterns))


def _api_operation(name: str, pattern: URLPattern) -> Any | None:
    """The django-ninja operation behind an API URL name (None for the schema and docs)."""
    closure = getattr(pattern.callback, "__closure__", None) or ()
    cells = [cell.cell_contents for cell in closure]
    views = [c for c in cells if isinstance(c, PathView)]
    if not views:
        return None
    short = name.split(":", 1)[1]
    matches = [op for op in views[0].operations if op.view_func.__name__ == short]
    assert matches, f"{name}: no API operation named {short}"
    return matches[0]


def _rule(name: str, pattern: URLPattern) -> Any:
    if name.startswith("api:") and (operation := _api_operation(name, pattern)) is not None:
        rules = [getattr(auth, "access_rule", None) for auth in operation.auth_callbacks]
        return rules[0] if len(rules) == 1 else None
    return declared_rule(callback=pattern.callback, url_name=name)


def _expected(name: str) -> frozenset[str] | None:
    if name in EXPECTED:
        return EXPECTED[name]
    if name.startswith("admin:") and "<unnamed" not in name:
        return ADMIN_SITE
    return None


def test_every_url_declares_a_rule_and_has_an_expectation() -> None:
    missing_rule = [n for n, p in URLS.items() if "<unnamed" not in n and _rule(n, p) is None]
    missing_expectation = [n for n in URLS if "<unnamed" not in n and _expected(n) is None]
    unnamed = [n for n in URLS if "<unnamed" in n and not n.startswith("admin:")]
    assert not missing_rule, f"URLs without a permission rule: {missing_rule}"
    assert not missing_expectation, f"URLs missing from the matrix: {missing_expectation}"
    assert not unnamed, f"URLs without a name (the matrix cannot see them): {unnamed}"
    assert not set(EXPECTED) - set(URLS), f"stale entries: {set(EXPECTED) - set(URLS)}"


@pytest.fixture
def people(make_user: Any) -> dict[str, Any]:
    Customer.objects.create(external_id="C1", name="张三", phone="13812345678")
    return {role: make_user(f"user-{role}", role) for role in ROLE_NAMES}


def _url(name: str, pattern: URLPattern) -> str:
    from django.contrib.contenttypes.models import ContentType

    samples = {**SAMPLE_KWARGS, "content_type_id": ContentType.objects.get_for_model(Customer).pk}
    wanted = set(pattern.pattern.converters) | set(pattern.pattern.regex.groupindex)
    return reverse(name, kwargs={k: samples[k] for k in wanted})


def _to_login(response: Any) -> bool:
    return response.status_code == 302 and "/login/" in response["Location"]


@pytest.mark.parametrize("name", sorted(n for n in URLS if "<unnamed" not in n))
def test_declared_rule_and_http_answer_match_the_matrix(name: str, people: dict[str, Any]) -> None:
    pattern = URLS[name]
    rule, allowed = _rule(name, pattern), _expected(name)
    assert rule is not None and allowed is not None
    url = _url(name, pattern)
    operation = _api_operation(name, pattern) if name.startswith("api:") else None
    wrong = []
    for role in ROLES:
        user = people.get(role)
        client = Client()
        headers: dict[str, str] = {}
        if user is not None and operation is not None:
            headers["Authorization"] = f"Bearer {token_create(username=user.username)[1]}"
        elif user is not None:
            client.force_login(user)
        # the declared rule
        from django.contrib.auth.models import AnonymousUser

        if rule.allows(user or AnonymousUser()) != (role in allowed):
            wrong.append(f"{role}: rule {rule} disagrees")
        # the real answer
        if operation is not None:
            method = operation.methods[0].lower()
            response = getattr(client, method)(
                url, {}, content_type="application/json", headers=headers
            )
        else:
            response = client.get(url)
            if response.status_code == 405:
                response = client.post(url, {})
        refused = response.status_code in (401, 403) or _to_login(response)
        if name.startswith("admin:") and name != "admin:login":
            refused = _to_login(response)  # the admin site sends outsiders to its sign-in
        if name in {"logout", "password_reset_complete"} or EXPECTED.get(name) is EVERYONE:
            refused = response.status_code in (401, 403)
        if refused == (role in allowed):
            wrong.append(f"{role}: HTTP {response.status_code} {response.get('Location', '')}")
    assert not wrong, f"{name} ({url}): " + "; ".join(wrong)
