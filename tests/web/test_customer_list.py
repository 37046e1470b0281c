"""Customer list: search, filters, sorting, keyset pages, masked phones, CSV and Excel exports."""

from __future__ import annotations

import csv
import io
from datetime import UTC, datetime
from typing import Any

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext

from patron.customers.models import Consent, Customer
from patron.customers.selectors import customer_filter, customer_page

pytestmark = pytest.mark.django_db


@pytest.fixture
def shop() -> None:
    rows = [
        ("C001", "张三", "13812345678", "zhang@example.com", "广东", "门店", ["vip"]),
        ("C002", "张小花", "13900001111", "hua@example.com", "广东", "线上", ["学生"]),
        ("C003", "李四", "13700002222", "", "浙江", "门店", []),
        ("C004", "Wang Wu", "", "WANG@example.com", "北京", "线上", ["vip", "学生"]),
    ]
    for external_id, name, phone, email, region, channel, tags in rows:
        Customer.objects.create(
            external_id=external_id,
            name=name,
            phone=phone,
            email=email,
            region=region,
            acquisition_channel=channel,
            tags=tags,
        )
    now = datetime(2024, 1, 1, tzinfo=UTC)
    for external_id, granted in (("C001", True), ("C002", False), ("C003", True)):
        Consent.objects.create(
            customer=Customer.objects.get(external_id=external_id),
            channel="sms",
            granted=granted,
            recorded_at=now,
        )


def _ids(**filters: str) -> list[str]:
    return sorted(customer_filter(**filters).values_list("external_id", flat=True))


def test_search_by_id_name_phone_and_email(shop: None) -> None:
    assert _ids(search="C003") == ["C003"]
    assert _ids(search="张") == ["C001", "C002"]  # the start of a name
    assert _ids(search="张三") == ["C001"]
    assert _ids(search="+86 138-1234-5678") == ["C001"]  # any spelling of the number
    assert _ids(search="wang@example.com") == ["C004"]  # any case (customers/search.py)
    assert _ids(search="WANG@example.com") == ["C004"]
    assert _ids(search="nobody") == []


def test_filters_combine(shop: None) -> None:
    assert _ids(region="广东") == ["C001", "C002"]
    assert _ids(acquisition_channel="线上") == ["C002", "C004"]
    assert _ids(tag="vip") == ["C001", "C004"]
    assert _ids(tag="学生", region="北京") == ["C004"]
    assert _ids(consent="sms") == ["C001", "C003"]  # granted only
    assert _ids(consent="sms", region="浙江") == ["C003"]


@pytest.mark.parametrize("sort", ["id", "-id", "name", "-name", "newest"])
def test_keyset_pages_walk_forward_and_back_without_gaps(sort: str) -> None:
    for n in range(23):
        Customer.objects.create(external_id=f"K{n:03d}", name=f"N{n % 5}")
    queryset = customer_filter()
    expected = [
        c.external_id for c in customer_page(queryset=queryset, sort=sort, size=100).customers
    ]
    assert len(expected) == 23
    seen, pages, cursor = [], [], ""
    while True:
        page = customer_page(queryset=queryset, sort=sort, after=cursor, size=5)
        pages.append(page)
        seen += [c.external_id for c in page.customers]
        if not page.next_cursor:
            break
        cursor = page.next_cursor
    assert seen == expected and len(pages) == 5
    back = customer_page(queryset=queryset, sort=sort, before=pages[2].previous_cursor, size=5)
    assert [c.external_id for c in back.customers] == expected[5:10]
    assert pages[0].previous_cursor is None and pages[0].total == 23


def test_the_count_is_capped_and_a_page_costs_few_queries(monkeypatch: Any) -> None:
    from patron.customers import selectors

    monkeypatch.setattr(selectors, "LIST_COUNT_CAP", 10)
    for n in range(12):
        Customer.objects.create(external_id=f"K{n:03d}")
    with CaptureQueriesContext(connection) as queries:
        page = customer_page(queryset=customer_filter(), size=5)
    assert (page.total, page.total_capped) == (10, True)
    assert len(queries) == 2  # the page, and a count that stops at the cap
    assert "LIMIT" in queries[1]["sql"].upper()


def test_list_page_shows_filters_and_masks_phones_for_analysts(shop: None, make_user: Any) -> None:
    analyst, service = Client(), Client()
    analyst.force_login(make_user("ann", "analyst"))
    service.force_login(make_user("sam", "service"))
    page = analyst.get("/customers/", {"region": "广东", "sort": "-id"}).content.decode()
    assert "138****5678" in page and "13812345678" not in page
    assert page.index("C002") < page.index("C001") and "C003" not in page
    assert "Export CSV" in page
    full = service.get("/customers/", {"q": "张三"}).content.decode()
    assert "13812345678" in full and "Export CSV" not in full


def test_csv_export_is_utf8_with_bom_filtered_and_masked_for_analysts(
    shop: None, make_user: Any
) -> None:
    client = Client()
    client.force_login(make_user("ann", "analyst"))
    response = client.get("/customers/export/csv/", {"region": "广东"})
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/csv")
    assert "attachment" in response["Content-Disposition"]
    body = b"".join(response.streaming_content)
    assert body.startswith(b"\xef\xbb\xbf")  # Excel on Chinese Windows reads it as UTF-8
    rows = list(csv.reader(io.StringIO(body.decode("utf-8-sig"))))
    assert rows[0][:3] == ["Customer id", "Name", "Phone number"]
    assert [r[0] for r in rows[1:]] == ["C001", "C002"]
    assert rows[1][1] == "张三" and rows[1][2] == "138****5678" and rows[1][11] == "vip"


def test_csv_headers_follow_the_language_and_marketing_sees_full_phones(
    shop: None, make_user: Any
) -> None:
    client = Client(headers={"accept-language": "zh-hans"})
    client.force_login(make_user("mia", "marketing"))
    body = b"".join(client.get("/customers/export/csv/", {"q": "C001"}).streaming_content)
    rows = list(csv.reader(io.StringIO(body.decode("utf-8-sig"))))
    assert rows[0][:3] == ["客户编号", "姓名", "手机号"]
    assert rows[1][2] == "13812345678"


def test_excel_export(shop: None, make_user: Any) -> None:
    from openpyxl import load_workbook

    client = Client()
    client.force_login(make_user("ann", "analyst"))
    response = client.get("/customers/export/xlsx/", {"tag": "vip"})
    assert response.status_code == 200
    workbook = load_workbook(io.BytesIO(b"".join(response.streaming_content)))
    values = list(workbook.active.values)
    assert values[0][0] == "Customer id"
    assert [row[0] for row in values[1:]] == ["C001", "C004"]


def test_service_role_is_refused_exports(shop: None, make_user: Any) -> None:
    client = Client()
    client.force_login(make_user("sam", "service"))
    for fmt in ("csv", "xlsx"):
        response = client.get(f"/customers/export/{fmt}/")
        assert response.status_code == 403
        assert "Your role does not allow" in response.content.decode()


@pytest.mark.parametrize(
    ("language", "message", "unknown"),
    [
        ("en", "Some filters were not understood", "Select a valid choice."),
        ("zh-hans", "部分筛选条件无法识别", "选择一个有效的选项"),
    ],
)
def test_an_unknown_filter_value_says_so_and_keeps_the_other_filters(
    shop: None, make_user: Any, language: str, message: str, unknown: str
) -> None:
    # given a link with an unknown region (a bookmark from before a merge, a typo)
    client = Client(headers={"accept-language": language})
    client.force_login(make_user("alice", "admin"))
    # when the list opens with it beside a valid search
    response = client.get("/customers/", {"q": "张", "region": "火星", "sort": "evil"})
    page = response.content.decode()
    # then the page says which filter it did not understand, and the search still applies
    assert response.status_code == 200
    assert message in page and unknown in page
    assert "C001" in page and "C002" in page and "C003" not in page and "C004" not in page


def test_a_search_longer_than_the_field_is_an_error_not_every_customer(
    shop: None, make_user: Any
) -> None:
    client = Client(headers={"accept-language": "zh-hans"})
    client.force_login(make_user("alice", "admin"))
    response = client.get("/customers/", {"q": "张" * 5000, "region": "浙江"})
    page = response.content.decode()
    assert response.status_code == 200
    assert "部分筛选条件无法识别" in page and "200" in page
    assert "C003" in page and "C001" not in page


@pytest.mark.parametrize(
    ("sort", "cursor"),
    [
        ("newest", ["abc"]),  # text where the sort is by an integer
        ("newest", [1.5e400]),  # json reads it as infinity
        ("id", [{"id": 1}]),
        ("id", [True]),
        ("name", ["a"]),  # one value where the sort has two
        ("name", ["a", None]),
        ("id", "%%%"),  # not base64
        ("id", "bm90IGpzb24"),  # base64 of "not json"
    ],
)
def test_a_damaged_page_link_shows_the_first_page_and_says_so(
    shop: None, make_user: Any, sort: str, cursor: list[object] | str
) -> None:
    # given a page link edited by hand (or cut short by a mail client)
    import base64
    import json

    if not isinstance(cursor, str):
        cursor = base64.urlsafe_b64encode(json.dumps(cursor).encode()).decode()
    client = Client()
    client.force_login(make_user("ann", "analyst"))
    first = client.get("/customers/", {"sort": sort})
    for key in ("after", "before"):
        # when
        response = client.get("/customers/", {"sort": sort, key: cursor})
        # then the first page, with a message in place of a server error
        assert response.status_code == 200, (sort, key, cursor)
        assert 'id="page-link-invalid"' in response.content.decode()
        rows = [c.external_id for c in response.context["page"].customers]
        assert rows == [c.external_id for c in first.context["page"].customers]
    assert 'id="page-link-invalid"' not in first.content.decode()


def test_a_page_link_past_the_integer_range_is_an_empty_page_not_an_error(
    shop: None, make_user: Any
) -> None:
    import base64
    import json

    client = Client()
    client.force_login(make_user("ann", "analyst"))
    cursor = base64.urlsafe_b64encode(json.dumps([2**70]).encode()).decode()
    response = client.get("/customers/", {"sort": "newest", "before": cursor})
    assert response.status_code == 200
    assert response.context["page"].customers == []
