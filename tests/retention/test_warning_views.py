"""The warning pages: who may see and act, POST changes with CSRF, filters, pages, analysis."""

from __future__ import annotations

import datetime as dt
import re
from decimal import Decimal
from typing import Any

import pytest
from auditlog.models import LogEntry
from django.test import Client
from django.utils import timezone

from patron.retention.models import ChurnWarning, WarningStatus
from patron.retention.selectors import lost_analysis
from patron.retention.services import warning_list_refresh
from patron.web.templatetags.patron import money

pytestmark = pytest.mark.django_db

ACTING = ("admin", "marketing", "service")


@pytest.fixture
def listed(make_run: Any, make_score: Any) -> ChurnWarning:
    run = make_run()
    make_score(run, "H1", level="high", recency_days=90, risk_score=0.9, clv="120.50")
    make_score(run, "M1", level="medium", recency_days=30, risk_score=0.5)
    warning_list_refresh()
    return ChurnWarning.objects.get(customer__external_id="H1")


def _client(user: Any, *, csrf: bool = False) -> Client:
    client = Client(enforce_csrf_checks=csrf)
    client.force_login(user)
    return client


def _rows(page: str) -> list[str]:
    return re.findall(r'data-customer="([^"]+)"', page)


def test_every_role_reads_the_list_and_only_acting_roles_get_buttons(
    listed: ChurnWarning, staff: dict[str, Any]
) -> None:
    for role, user in staff.items():
        page = _client(user).get("/warnings/", headers={"accept-language": "en"})
        assert page.status_code == 200, role
        html = page.content.decode()
        assert _rows(html) == ["H1", "M1"], role  # highest risk first
        assert "reason of H1" in html
        assert ("Take it" in html) == (role in ACTING), role
        assert ('id="refresh"' in html) == (role in ACTING), role
        detail = _client(user).get(f"/warnings/{listed.pk}/").content.decode()
        assert ('id="respond"' in detail) == (role in ACTING), role
    assert Client().get("/warnings/").status_code == 302  # to the sign-in page


def test_the_analyst_may_not_change_anything(listed: ChurnWarning, staff: dict[str, Any]) -> None:
    client = _client(staff["analyst"])
    assert client.post(f"/warnings/{listed.pk}/assign/", {"to": "me"}).status_code == 403
    answer = client.post(f"/warnings/{listed.pk}/respond/", {"response": "called"})
    assert answer.status_code == 403
    assert client.post("/warnings/refresh/").status_code == 403
    listed.refresh_from_db()
    assert listed.owner is None and listed.response == ""


def test_take_a_warning_and_record_a_response_with_csrf(
    listed: ChurnWarning, staff: dict[str, Any]
) -> None:
    sam = staff["service"]
    client = _client(sam, csrf=True)
    # without the token the POST is refused
    assert client.post(f"/warnings/{listed.pk}/assign/", {"to": "me"}).status_code == 403
    # with the token of the list page it goes through and comes back to the list
    client.get("/warnings/")
    token = client.cookies["csrftoken"].value
    answer = client.post(
        f"/warnings/{listed.pk}/assign/",
        {"to": "me", "next": "/warnings/?level=high", "csrfmiddlewaretoken": token},
    )
    assert answer.status_code == 302 and answer["Location"] == "/warnings/?level=high"
    listed.refresh_from_db()
    assert listed.owner == sam
    # a follow-up date and a note
    follow_up = timezone.localdate() + dt.timedelta(days=3)
    answer = client.post(
        f"/warnings/{listed.pk}/respond/",
        {
            "response": "called",
            "follow_up_on": follow_up.isoformat(),
            "note": "说下周来",
            "csrfmiddlewaretoken": token,
        },
    )
    assert answer.status_code == 302
    listed.refresh_from_db()
    assert listed.status == WarningStatus.IN_PROGRESS and listed.follow_up_on == follow_up
    assert listed.notes.endswith("service-user: 说下周来")
    # the audit trail names the agent as the actor of both changes
    actors = {e.actor for e in LogEntry.objects.get_for_object(listed)}
    assert actors == {sam}


def test_next_must_stay_on_this_site(listed: ChurnWarning, staff: dict[str, Any]) -> None:
    answer = _client(staff["marketing"]).post(
        f"/warnings/{listed.pk}/assign/", {"to": "me", "next": "https://evil.example/"}
    )
    assert answer["Location"] == f"/warnings/{listed.pk}/"


def test_assign_to_someone_else_and_refuse_an_analyst_owner(
    listed: ChurnWarning, staff: dict[str, Any]
) -> None:
    client = _client(staff["admin"])
    answer = client.post(f"/warnings/{listed.pk}/assign/", {"owner": str(staff["marketing"].pk)})
    assert answer.status_code == 302
    listed.refresh_from_db()
    assert listed.owner == staff["marketing"]
    # the analyst is not among the choices: the form refuses it
    answer = client.post(f"/warnings/{listed.pk}/assign/", {"owner": str(staff["analyst"].pk)})
    assert answer.status_code == 400
    listed.refresh_from_db()
    assert listed.owner == staff["marketing"]


def test_a_wrong_response_shows_the_error_and_changes_nothing(
    listed: ChurnWarning, staff: dict[str, Any]
) -> None:
    client = _client(staff["marketing"])
    answer = client.post(
        f"/warnings/{listed.pk}/respond/",
        {"response": "lost", "lost_reason": ""},
        headers={"accept-language": "en"},
    )
    assert answer.status_code == 400
    assert "Choose why the customer was lost." in answer.content.decode()
    answer_zh = client.post(
        f"/warnings/{listed.pk}/respond/",
        {"response": "lost", "lost_reason": "other"},
        headers={"accept-language": "zh-hans"},
    )
    assert answer_zh.status_code == 400
    assert "请用文字说明客户流失的原因。" in answer_zh.content.decode()
    listed.refresh_from_db()
    assert listed.status == WarningStatus.OPEN
    # then lost with a reason closes it, and the lost-customer analysis counts it
    client.post(f"/warnings/{listed.pk}/respond/", {"response": "lost", "lost_reason": "price"})
    listed.refresh_from_db()
    assert listed.status == WarningStatus.LOST
    page = client.get("/warnings/", headers={"accept-language": "en"}).content.decode()
    assert _rows(page) == ["M1"]  # closed warnings leave the default list
    assert re.search(r'id="lost-count">.*?<span class="value">1</span>', page, re.S)
    assert money(Decimal("120.50")) in page.split('id="clv-lost"')[1].split("</div>")[0]
    assert 'data-reason="price"' in page and "<svg" in page.split('id="lost-analysis"')[1]
    assert _rows(client.get("/warnings/", {"status": "lost"}).content.decode()) == ["H1"]


def test_refresh_from_the_page(
    make_run: Any,
    make_score: Any,
    staff: dict[str, Any],
    django_capture_on_commit_callbacks: Any,
) -> None:
    client = _client(staff["service"])
    answer = client.post("/warnings/refresh/", follow=True, headers={"accept-language": "en"})
    assert "run `patron analyze` first" in answer.content.decode()
    run = make_run()
    make_score(run, "H1", level="high")
    with django_capture_on_commit_callbacks(execute=True):
        answer = client.post("/warnings/refresh/", headers={"accept-language": "en"})
    answer = client.get(answer["Location"], headers={"accept-language": "en"})
    # a background job (run at once in the tests) whose page says what it did
    assert "1 new, 0 closed" in answer.content.decode()
    assert ChurnWarning.objects.count() == 1
    again = client.get("/warnings/refresh/")  # a reload from the address bar: back to the list
    assert again.status_code == 302 and again["Location"] == "/warnings/"
    assert ChurnWarning.objects.count() == 1


def test_filters_and_pages(make_run: Any, make_score: Any, staff: dict[str, Any]) -> None:
    run = make_run()
    for n in range(30):
        make_score(
            run, f"C{n:02d}", level="high" if n < 27 else "medium", risk_score=0.99 - n / 100
        )
    warning_list_refresh()
    sam = staff["service"]
    mine = ChurnWarning.objects.get(customer__external_id="C05")
    mine.owner = sam
    mine.follow_up_on = timezone.localdate()
    mine.save()
    client = _client(sam)

    first = _rows(client.get("/warnings/").content.decode())
    second = _rows(client.get("/warnings/", {"page": 2}).content.decode())
    assert first == [f"C{n:02d}" for n in range(25)] and second == ["C25", "C26", "C27", "C28",
                                                                     "C29"]  # fmt: skip
    assert _rows(client.get("/warnings/", {"level": "medium"}).content.decode()) == [
        "C27", "C28", "C29",
    ]  # fmt: skip
    assert _rows(client.get("/warnings/", {"owner": "me"}).content.decode()) == ["C05"]
    assert len(_rows(client.get("/warnings/", {"owner": "none"}).content.decode())) == 25
    assert _rows(client.get("/warnings/", {"due": "on"}).content.decode()) == ["C05"]
    # the pager keeps the filters
    page = client.get("/warnings/", {"owner": "none"}).content.decode()
    assert "?owner=none&amp;page=2" in page


def test_the_list_in_chinese(listed: ChurnWarning, staff: dict[str, Any]) -> None:
    page = _client(staff["service"]).get("/warnings/", headers={"accept-language": "zh-hans"})
    html = page.content.decode()
    for text in ("流失预警", "H1的原因", "高", "接手", "流失客户", "挽回率"):
        assert text in html, text
    assert "reason of H1" not in html


def test_the_customer_page_lists_the_warnings(listed: ChurnWarning, staff: dict[str, Any]) -> None:
    page = _client(staff["service"]).get("/customers/H1/", headers={"accept-language": "en"})
    panel = page.content.decode().split('id="warnings"')[1].split("</section>")[0]
    assert f"/warnings/{listed.pk}/" in panel and "Open" in panel


def test_lost_analysis_on_the_page_matches_the_selector(
    listed: ChurnWarning, staff: dict[str, Any]
) -> None:
    m1 = ChurnWarning.objects.get(customer__external_id="M1")
    client = _client(staff["admin"])
    client.post(f"/warnings/{listed.pk}/respond/", {"response": "won_back"})
    client.post(
        f"/warnings/{m1.pk}/respond/",
        {"response": "lost", "lost_reason": "other", "lost_reason_text": "嫌贵"},
    )
    analysis = lost_analysis()
    page = client.get("/warnings/", headers={"accept-language": "en"}).content.decode()
    assert analysis.win_back_rate == 0.5
    assert re.search(r'id="win-back-rate">.*?50\.0%', page, re.S)
    assert "嫌贵" in page.split('id="lost-analysis"')[1]


def test_list_queries_do_not_grow_with_rows(
    make_run: Any, make_score: Any, staff: dict[str, Any]
) -> None:
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    run = make_run()
    for n in range(3):
        make_score(run, f"A{n}", level="high")
    warning_list_refresh()
    client = _client(staff["service"])
    client.get("/warnings/")  # warm the session and caches
    with CaptureQueriesContext(connection) as few:
        client.get("/warnings/")
    for n in range(30):
        make_score(run, f"B{n:02d}", level="medium")
    warning_list_refresh()
    with CaptureQueriesContext(connection) as many:
        page = client.get("/warnings/").content.decode()
    assert len(_rows(page)) == 25
    assert len(many.captured_queries) == len(few.captured_queries)
