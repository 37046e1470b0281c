"""The staff side and the rest of the member notifications: order status for shops that
switch it on, template previews in both languages, erasure that keeps orders anonymised,
portal usage and the 360 panel's notification log."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

import pytest
from django.test import Client
from django.utils import timezone

from patron.members import services
from patron.members.models import ErasureRequest, NotificationTemplate, Profile
from patron.members.notify import notifications_scan, template_get, template_preview
from patron.messaging.models import OutboxMessage
from patron.sales.models import Order

pytestmark = pytest.mark.django_db


def test_order_status_messages_only_when_switched_on(member_with: Any) -> None:
    # given a member's paid order, with order messages off (the default)
    member = member_with("S1")
    for kind in ("order_paid", "order_shipped", "order_refunded"):
        assert template_get(kind).enabled is False

    def send(status: str) -> None:  # as a platform export moves an order along
        Order.objects.update_or_create(
            source="shop",
            external_id="SO-1",
            defaults={"customer": member.customer, "status": status, "amount": Decimal("88.00"),
                      "ordered_at": timezone.now(), "ordered_on": timezone.localdate()},
        )  # fmt: skip

    send("open")
    notifications_scan()
    assert not OutboxMessage.objects.filter(key__startswith="member.order").exists()
    # when the shop switches them on and the order moves on
    NotificationTemplate.objects.filter(kind__startswith="order_").update(
        enabled=True, enabled_since="2000-01-01T00:00:00Z"
    )
    notifications_scan()
    send("completed")
    notifications_scan()
    notifications_scan()
    # then one message per status, each once
    keys = sorted(
        OutboxMessage.objects.filter(key__startswith="member.order").values_list("key", flat=True)
    )
    order = Order.objects.get(external_id="SO-1")
    assert keys == [
        f"member.order_paid:{member.pk}:{order.pk}:open",
        f"member.order_shipped:{member.pk}:{order.pk}:completed",
    ]


def test_a_template_preview_shows_both_languages_and_survives_a_typo() -> None:
    template = template_get("tier_up")
    rows = template_preview(template)
    assert [r["language"] for r in rows] == ["en", "zh-hans"]
    assert "Gold" in rows[0]["subject"] and "Gold" in rows[1]["subject"]
    assert "Turn these messages off" in rows[0]["body"] and "不想再收到" in rows[1]["body"]
    template.subject_en = "{% if %}"
    assert template_preview(template)[0]["subject"] == "!"


def test_erasure_keeps_orders_and_removes_the_person(member_with: Any, make_user: Any) -> None:
    # given a member with an order who asked for erasure
    member = member_with("S2")
    from patron.sales.services import order_batch_import

    order_batch_import(
        orders=[{"order_id": "SO-2", "customer_id": "S2", "status": "completed",
                 "ordered_at": "2026-11-01T10:00:00+00:00", "amount": "120.00"}],
        source="shop",
    )  # fmt: skip
    Profile.objects.create(member=member, language="zh-hans")
    from auditlog.models import LogEntry

    assert [e for e in LogEntry.objects.all() if "Name S2" in str(e.changes)]  # before: kept
    request = services.erasure_request(member=member)
    with pytest.raises(services.MemberError):
        services.erasure_request(member=member)
    # when an admin carries it out from the staff page
    admin = Client()
    admin.force_login(make_user("root", "admin"))
    page = admin.get("/member/staff/")
    assert member.card_number in page.content.decode()
    assert admin.post(f"/member/staff/erasures/{request.pk}/").status_code == 302
    # then the person is gone, the order and its amount stay
    customer = member.customer
    customer.refresh_from_db()
    assert (customer.name, customer.email, customer.external_id) == (
        "",
        "",
        f"erased-{customer.pk}",
    )
    assert Order.objects.get(external_id="SO-2").amount == Decimal("120.00")
    assert Order.objects.get(external_id="SO-2").customer_id == customer.pk
    assert ErasureRequest.objects.get().status == "done"
    # and the audit trail keeps no old value of the person
    from auditlog.models import LogEntry

    assert not [e for e in LogEntry.objects.all() if "Name S2" in str(e.changes)]
    assert not Profile.objects.exists()
    # marketing sees usage but cannot erase
    staff = Client()
    staff.force_login(make_user("mia", "marketing"))
    assert staff.get("/member/staff/").status_code == 200
    assert staff.post(f"/member/staff/erasures/{request.pk}/").status_code == 403


def test_the_360_panel_shows_sign_ins_and_notifications(
    member_with: Any, sign_in: Any, make_user: Any
) -> None:
    member = member_with("S3")
    template_get("welcome")
    NotificationTemplate.objects.filter(kind="welcome").update(enabled_since="2000-01-01T00:00:00Z")
    member.enrolled_at = timezone.now() - dt.timedelta(days=1)
    member.save()
    sign_in("s3@example.com")
    notifications_scan()
    client = Client()
    client.force_login(make_user("sam", "service"))
    page = client.get(f"/customers/{member.customer.external_id}/").content.decode()
    assert "Member portal and notifications" in page
    assert "Welcome to" in page and "Your sign-in code" in page


def test_admin_edits_a_template_with_a_preview_and_refuses_a_broken_one(make_user: Any) -> None:
    # given the admin's template page
    template = template_get("expiring")
    admin = Client()
    admin.force_login(make_user("root", "admin"))
    url = f"/admin/members/notificationtemplate/{template.pk}/change/"
    page = admin.get(url).content.decode()
    # then it shows the preview in both languages
    assert "120 points expire on 2026-12-31" in page and "120 积分将于 2026-12-31 过期" in page
    # and a broken text is refused on its field, the saved one kept
    form = {f: getattr(template, f) for f in ("kind", "subject_en", "body_en", "sms_en",
            "subject_zh", "body_zh", "sms_zh")}  # fmt: skip
    form.update({"enabled": "on", "enabled_since_0": "2026-01-01", "enabled_since_1": "00:00:00"})
    answer = admin.post(url, {**form, "subject_zh": "{% if %}"})
    assert answer.status_code == 200 and "errorlist" in answer.content.decode()
    template.refresh_from_db()
    assert template.subject_zh.startswith("您有")
    assert admin.post(url, {**form, "subject_zh": "积分提醒 {{ points }}"}).status_code == 302
    template.refresh_from_db()
    assert template.subject_zh == "积分提醒 {{ points }}"
