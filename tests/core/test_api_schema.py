"""The API against its own OpenAPI schema (schemathesis, a few examples per operation): no
input gives a 5xx, and every response matches what the schema declares (status, body)."""

from __future__ import annotations

from typing import Any

import pytest
import schemathesis
from django.contrib.auth import get_user_model
from hypothesis import HealthCheck, settings
from schemathesis.specs.openapi.checks import positive_data_acceptance

from patron.accounts.services import user_role_set
from patron.core.services import token_create
from patron.customers.models import Customer

pytestmark = [pytest.mark.django_db, pytest.mark.slow]


def _app() -> Any:
    from django.core.wsgi import get_wsgi_application

    return get_wsgi_application()


def _schema() -> Any:
    """The schema the API serves at /api/v1/openapi.json (which answers only signed-in users
    and token holders, and no token exists while tests are collected), called through the
    WSGI app."""
    import json

    from ninja.responses import NinjaJSONEncoder

    from patron.api import api

    document = json.loads(json.dumps(api.get_openapi_schema(), cls=NinjaJSONEncoder))
    loaded = schemathesis.openapi.from_dict(document)
    loaded.app = _app()
    loaded.location = "/api/v1/openapi.json"
    return loaded


schema = _schema()
# Valid and invalid inputs both: a malformed request must be a documented 4xx too.
schema.config.generation.update(
    modes=[schemathesis.GenerationMode.POSITIVE, schemathesis.GenerationMode.NEGATIVE]
)


@pytest.fixture(autouse=True)
def _keep_the_test_connection() -> Any:
    """As Django's test client does: a request must not close the test's database
    connection (its transaction holds the test data)."""
    from django.core.signals import request_finished, request_started
    from django.db import close_old_connections

    request_started.disconnect(close_old_connections)
    request_finished.disconnect(close_old_connections)
    yield
    request_started.connect(close_old_connections)
    request_finished.connect(close_old_connections)


@pytest.fixture
def token() -> str:
    user = get_user_model().objects.create_user("schema-user", password="x-long-password-1")
    user_role_set(user=user, role="admin")
    Customer.objects.create(external_id="C1", name="张三", phone="13812345678")
    _, value = token_create(username="schema-user")
    return value


@schema.parametrize()
@settings(
    max_examples=6,
    deadline=None,
    suppress_health_check=list(HealthCheck),
    derandomize=True,
)
def test_the_api_never_fails_and_matches_its_schema(case: Any, token: str) -> None:
    # Every check but one: a request the schema allows may still be refused by a business
    # rule the schema cannot state (a phone number's digits, a date in the plausible window,
    # an empty id): that is a documented 4xx with the error body, not a violation.
    case.call_and_validate(
        headers={"Authorization": f"Bearer {token}"},
        excluded_checks=[positive_data_acceptance],
    )
