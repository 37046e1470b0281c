"""The customer 360 page: panels, key figures, orders, timeline, notes, profile edits, audit."""

from __future__ import annotations

import re
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from typing import Any

import pytest
from auditlog.models import LogEntry
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from patron.customers.models import Consent, Customer, Interaction
from patron.customers.selectors import customer_key_figures
from patron.sales.models import Order, OrderLine, Product

pytestmark = pytest.mark.django_db


def _order(
    customer: Customer,
    external_id: str,
    day: date,
    amount: str,
    status: str = "completed",
    original: Order | None = None,
) -> Order:
    return Order.objects.create(
        customer=customer,
        external_id=external_id,
        ordered_on=day,
        amount=Decimal(amount),
        ordered_at=datetime(day.year, day.month, day.day, 12, tzinfo=UTC),
        status=status,
        original_order=original,
    )


@pytest.fixture
def zhang() -> Customer:
    customer = Customer.objects.create(
        external_id="C1",
        name="张三",
        phone="13812345678",
        email="zhang@example.com",
        region="广东",
        city="深圳市",
        tags=["vip"],
        attributes={"口味": "素食"},
    )
    Consent.objects.create(
        customer=customer, channel="sms", granted=True, recorded_at=datetime(2024, 1, 1, tzinfo=UTC)
    )
    tea = Product.objects.create(sku="TEA", name="龙井茶")
    o1 = _order(customer, "O1", date(2024, 1, 1), "100.00")
    OrderLine.objects.create(order=o1, line_no=1, product=tea, quantity=2, amount=Decimal("100"))
    o2 = _order(customer, "O2", date(2024, 1, 11), "50.50")
    _order(customer, "O3", date(2024, 1, 12), "-20.00", "returned", original=o2)
    _order(customer, "O4", date(2024, 1, 15), "999.00", "cancelled")
    _order(customer, "O5", date(2024, 1, 31), "30.00")
    other = Customer.objects.create(external_id="C2", name="李四")
    _order(other, "X1", date(2024, 2, 1), "5000.00")
    return customer


def test_key_figures_against_a_hand_computed_case(zhang: Customer) -> None:
    # when
    with CaptureQueriesContext(connection) as queries:
        figures = customer_key_figures(customer=zhang)
    # then: 100 + 50.50 - 20 (return) + 30; the cancelled 999 is left out
    assert len(queries) == 1
    assert figures.total_spend == Decimal("160.50")
    assert figures.orders == 3  # returns and cancellations are not purchases
    assert (figures.first_purchase, figures.last_purchase) == (date(2024, 1, 1), date(2024, 1, 31))
    assert figures.average_interval_days == Decimal("15.0")  # 30 days / 2 gaps
    assert figures.average_order_value == Decimal("53.50")  # 160.50 / 3


def test_key_figures_of_a_customer_without_orders() -> None:
    figures = customer_key_figures(customer=Customer.objects.create(external_id="N1"))
    assert (
        figures.total_spend,
        figures.orders,
        figures.average_order_value,
        figures.average_interval_days,
        figures.first_purchase,
    ) == (Decimal("0.00"), 0, None, None, None)


def test_the_page_shows_every_panel_in_english(zhang: Customer, make_user: Any) -> None:
    client = Client()
    client.force_login(make_user("alice", "admin"))
    page = client.get("/customers/C1/").content.decode()
    for text in (
        "Profile and contact",
        "Consent",
        "Tags and questionnaire",
        "Key figures",
        "Orders",
        "Timeline",
        "Change history",
        "¥160.50",
        "¥53.50",
        "15.0 days",
        "Jan. 31, 2024",
        "龙井茶",
        "素食",
        "vip",
        "13812345678",
    ):
        assert text in page, text


def test_the_page_in_chinese_with_chinese_dates(zhang: Customer, make_user: Any) -> None:
    client = Client(headers={"accept-language": "zh-hans"})
    client.force_login(make_user("alice", "admin"))
    page = client.get("/customers/C1/").content.decode()
    for text in (
        "客户资料",
        "关键指标",
        "消费总额",
        "¥160.50",
        "2024年1月31日",
        "15.0 天",
        "时间线",
    ):
        assert text in page, text


def test_analysts_see_masked_phones_and_no_edit_or_note_form(
    zhang: Customer, make_user: Any
) -> None:
    client = Client()
    client.force_login(make_user("ann", "analyst"))
    page = client.get("/customers/C1/").content.decode()
    assert "138****5678" in page and "13812345678" not in page
    assert "Edit profile" not in page and "Add to timeline" not in page


def test_orders_are_paginated(zhang: Customer, make_user: Any) -> None:
    for n in range(12):
        _order(zhang, f"P{n}", date(2023, 1, 1) + timedelta(days=n), "1.00")
    client = Client()
    client.force_login(make_user("alice", "admin"))
    first = client.get("/customers/C1/").content.decode()
    second = client.get("/customers/C1/", {"orders_page": 2}).content.decode()
    # whole words: a random CSRF token in the page may hold "P0"
    assert re.search(r"\bO5\b", first) and not re.search(r"\bP0\b", first)
    assert "Page 1 of 2" in first
    assert re.search(r"\bP0\b", second)


def test_adding_a_note(zhang: Customer, make_user: Any) -> None:
    user = make_user("sam", "service")
    client = Client()
    client.force_login(user)
    # when
    response = client.post("/customers/C1/interactions/", {"kind": "note", "text": "喜欢绿茶"})
    # then
    assert response.status_code == 302 and response["Location"] == "/customers/C1/#timeline"
    note = Interaction.objects.get(customer=zhang)
    assert (note.kind, note.text, note.created_by) == ("note", "喜欢绿茶", user)
    page = client.get("/customers/C1/").content.decode()
    assert "喜欢绿茶" in page and "by sam" in page


def test_a_note_needs_text_and_a_past_time(zhang: Customer, make_user: Any) -> None:
    client = Client()
    client.force_login(make_user("sam", "service"))
    empty = client.post("/customers/C1/interactions/", {"kind": "note", "text": "  "})
    assert empty.status_code == 400 and "This field is required." in empty.content.decode()
    future = (timezone.localtime() + timedelta(days=2)).strftime("%Y-%m-%dT%H:%M")
    late = client.post(
        "/customers/C1/interactions/", {"kind": "call", "text": "回访", "occurred_at": future}
    )
    assert late.status_code == 400
    assert "The time cannot be in the future." in late.content.decode()
    assert not Interaction.objects.exists()


def test_editing_the_profile_validates_and_is_audited(zhang: Customer, make_user: Any) -> None:
    client = Client()
    client.force_login(make_user("mia", "marketing"))
    form = client.get("/customers/C1/edit/")
    assert form.status_code == 200 and 'value="13812345678"' in form.content.decode()
    data = {
        "name": "张三丰",
        "phone": "abc",
        "email": "zhang@example.com",
        "gender": "m",
        "region": "广东",
        "city": "广州市",
        "tags": "vip，常客",
    }
    bad = client.post("/customers/C1/edit/", data)
    assert bad.status_code == 400 and "Enter a mobile number" in bad.content.decode()
    zhang.refresh_from_db()
    assert zhang.name == "张三"
    good = client.post("/customers/C1/edit/", {**data, "phone": "+86 139 0000 1111"})
    assert good.status_code == 302
    zhang.refresh_from_db()
    assert (zhang.name, zhang.phone, zhang.city, zhang.tags) == (
        "张三丰",
        "13900001111",
        "广州市",
        ["vip", "常客"],
    )
    entry = LogEntry.objects.get_for_object(zhang).get(action=LogEntry.Action.UPDATE)
    assert entry.actor.username == "mia"
    assert entry.changes_dict["city"] == ["深圳市", "广州市"]
    page = client.get("/customers/C1/").content.decode()
    assert "Change history" in page and "mia" in page and "深圳市" in page and "广州市" in page
    # an analyst sees the change, with the phone numbers masked
    analyst = Client()
    analyst.force_login(make_user("ann", "analyst"))
    seen = analyst.get("/customers/C1/").content.decode()
    assert "139****1111" in seen and "13900001111" not in seen


def test_api_changes_are_audited_under_the_token_user(zhang: Customer, make_user: Any) -> None:
    from patron.core.services import token_create

    make_user("pos", "marketing")
    _, token = token_create(username="pos")
    api = Client(headers={"Authorization": f"Bearer {token}"})
    response = api.patch(
        "/api/v1/customers/C1", {"city": "珠海市"}, content_type="application/json"
    )
    assert response.status_code == 200
    entry = LogEntry.objects.get_for_object(zhang).latest("timestamp")
    assert entry.actor.username == "pos" and entry.changes_dict["city"][1] == "珠海市"


def test_unknown_customer_is_404(make_user: Any) -> None:
    client = Client()
    client.force_login(make_user("alice", "admin"))
    assert client.get("/customers/NOPE/").status_code == 404


def test_editing_in_chinese_keeps_the_birth_date(zhang: Customer, make_user: Any) -> None:
    # given a customer with a birth date, and the edit page in Chinese
    zhang.birth_date = date(1989, 2, 26)
    zhang.save()
    client = Client(headers={"accept-language": "zh-hans"})
    client.force_login(make_user("mia", "marketing"))
    # when the form is shown
    form = client.get("/customers/C1/edit/").content.decode()
    # then the date input holds an ISO date, the only format a browser's date input takes
    assert 'type="date" name="birth_date" value="1989-02-26"' in form
    assert "1989/02/26" not in form


def test_switching_language_after_a_form_error_lands_on_the_page(
    zhang: Customer, make_user: Any
) -> None:
    # given a note refused: the page with the error is shown at the form's POST-only address
    client = Client(headers={"accept-language": "en"})
    client.force_login(make_user("sam", "service"))
    refused = client.post("/customers/C1/interactions/", {"kind": "note", "text": " "})
    assert refused.status_code == 400
    assert 'name="next" type="hidden" value="/customers/C1/interactions/"' in (
        refused.content.decode()
    )
    # when the language switcher sends the browser back to that address
    switched = client.post(
        "/i18n/setlang/", {"language": "zh-hans", "next": "/customers/C1/interactions/"}
    )
    landed = client.get(switched["Location"], follow=True)
    # then it lands on the customer's page in Chinese, not on a blank 405 page
    assert landed.redirect_chain == [("/customers/C1/", 302)]
    assert landed.status_code == 200 and "客户资料" in landed.content.decode()


@pytest.mark.parametrize(
    ("url", "back"),
    [
        ("/customers/C1/interactions/", "/customers/C1/"),
        ("/warnings/7/respond/", "/warnings/7/"),
        ("/warnings/7/assign/", "/warnings/7/"),
        ("/warnings/refresh/", "/warnings/"),
        ("/imports/3/check/", "/imports/3/"),
        ("/imports/3/confirm/", "/imports/3/"),
    ],
)
def test_a_form_address_opened_directly_goes_to_its_page(
    zhang: Customer, make_user: Any, url: str, back: str
) -> None:
    client = Client()
    client.force_login(make_user("ada", "admin"))
    response = client.get(url)
    assert response.status_code == 302 and response["Location"] == back
    assert client.put(url).status_code == 405
