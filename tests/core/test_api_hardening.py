"""The inputs that used to answer 500 (issue 25), each now a documented 4xx or a 2xx."""

from __future__ import annotations

import pytest
from django.contrib.auth import get_user_model
from django.test import Client

from patron.accounts.services import user_role_set
from patron.core.services import token_create
from patron.customers.models import Customer
from patron.sales.models import Order

pytestmark = pytest.mark.django_db

FIELDS = ("name", "phone", "email", "gender", "birth_date", "region", "city", "occupation",
          "acquisition_channel", "company", "tags", "attributes")  # fmt: skip


def _client(role: str) -> Client:
    user = get_user_model().objects.create_user(f"api-{role}", password="x-long-password-1")
    user_role_set(user=user, role=role)
    _, token = token_create(username=f"api-{role}")
    return Client(headers={"Authorization": f"Bearer {token}"})


@pytest.fixture
def api() -> Client:
    return _client("admin")


@pytest.fixture
def customer() -> Customer:
    return Customer.objects.create(
        external_id="C1", name="张三", phone="13812345678", city="深圳市", tags=["vip"]
    )


@pytest.mark.parametrize("field", FIELDS)
def test_patch_with_a_null_clears_the_field(api: Client, customer: Customer, field: str) -> None:
    response = api.patch("/api/v1/customers/C1", {field: None}, content_type="application/json")
    assert response.status_code == 200, response.content
    customer.refresh_from_db()
    cleared = {"gender": "u", "birth_date": None, "tags": [], "attributes": {}}.get(field, "")
    assert getattr(customer, field) == cleared


@pytest.mark.parametrize("body", ["true", "[]", "1", '"x"', "null"])
def test_patch_with_a_body_that_is_not_an_object_is_refused(
    api: Client, customer: Customer, body: str
) -> None:
    response = api.patch("/api/v1/customers/C1", body, content_type="application/json")
    assert response.status_code == 422, response.content
    assert response.json()["code"] == "invalid"


@pytest.mark.parametrize(
    "query",
    [{"offset": 2**63}, {"limit": 2**63}, {"limit": 201}, {"limit": 0}, {"offset": -1}],
)
def test_pages_are_bounded(api: Client, customer: Customer, query: dict[str, int]) -> None:
    response = api.get("/api/v1/customers", query)
    assert response.status_code == 422
    assert set(response.json()) == {"code", "message", "extra"}


def test_the_largest_page_is_200(api: Client) -> None:
    Customer.objects.bulk_create(Customer(external_id=f"K{i:03}") for i in range(250))
    response = api.get("/api/v1/customers", {"limit": 200})
    assert response.status_code == 200
    body = response.json()
    assert (body["count"], len(body["items"])) == (250, 200)


@pytest.mark.parametrize(
    ("method", "path", "body"),
    [
        ("get", "/api/v1/customers?search=a%00b", None),
        ("get", "/api/v1/customers/C%001", None),
        ("patch", "/api/v1/customers/C1", '{"city": "a\\u0000b"}'),
        ("post", "/api/v1/orders", '{"order_id": "1\\u0000", "customer_id": "C1", '
         '"ordered_at": "2024-01-01", "amount": "1"}'),
    ],
)  # fmt: skip
def test_nul_characters_are_refused_at_the_door(
    api: Client, customer: Customer, method: str, path: str, body: str | None
) -> None:
    kwargs = {"content_type": "application/json", "data": body} if body else {}
    response = getattr(api, method)(path, **kwargs)
    assert response.status_code == 400
    assert response.json()["code"] == "nul_character"
    customer.refresh_from_db()
    assert customer.city == "深圳市"


@pytest.mark.parametrize("when", ["0001-01-01", "9999-12-31T00:00:00", "1969-12-31"])
def test_an_order_outside_the_date_window_is_a_row_error(api: Client, when: str) -> None:
    order = {"order_id": "O1", "customer_id": "C9", "ordered_at": when, "amount": "10"}
    response = api.post("/api/v1/orders", order, content_type="application/json")
    assert response.status_code == 422
    (error,) = response.json()["errors"]
    assert error["line"] == 1 and error["column"] == "ordered_at"
    assert "outside the plausible window" in error["message"]
    assert not Order.objects.exists()


def test_the_customer_list_masks_phones_for_roles_that_do_not_export(customer: Customer) -> None:
    service, marketing = _client("service"), _client("marketing")
    listed = service.get("/api/v1/customers").json()["items"]
    assert [c["phone"] for c in listed] == ["138****5678"]
    # one customer, to call: service sees the number, as on the customer page
    assert service.get("/api/v1/customers/C1").json()["phone"] == "13812345678"
    assert marketing.get("/api/v1/customers").json()["items"][0]["phone"] == "13812345678"


def test_errors_have_one_shape(api: Client) -> None:
    for response, status in (
        (Client().get("/api/v1/customers"), 401),
        (api.get("/api/v1/customers/nope"), 404),
        (api.post("/api/v1/customers", "{", content_type="application/json"), 400),
        (api.get("/api/v1/customers", {"limit": "x"}), 422),
    ):
        assert response.status_code == status
        assert set(response.json()) == {"code", "message", "extra"}, response.content
