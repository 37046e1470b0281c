"""Small things a shop owner met on day one, each checked where it shows: tags in the change
history as text, dates in import errors as an example (not %-codes), the rejects file's header in
the import's language, "1 order", and the dashboard's translate tags with a % in Chinese."""

from __future__ import annotations

import re
from datetime import date
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from django.template import Context, Template
from django.test import Client
from django.utils import translation

from patron.customers.models import Customer
from patron.customers.services import customer_update
from patron.ingest.mapping import ValueKind
from patron.ingest.messages import expected_message
from patron.insights.models import AnalysisRun, CustomerScore, RunStatus

TEMPLATES = Path(__file__).resolve().parents[2] / "src/patron/web/templates/web"


@pytest.mark.django_db
def test_the_change_history_shows_tags_as_text_and_the_value_panel_says_1_order(
    make_user: Any,
) -> None:
    customer = Customer.objects.create(external_id="T1", name="张三")
    customer_update(customer=customer, tags=["VIP测试", "老客户"])
    run = AnalysisRun.objects.create(
        as_of=date(2024, 6, 30), code_version="t", status=RunStatus.COMPLETED
    )
    CustomerScore.objects.create(
        run=run, customer=customer, recency_days=30, frequency=1, monetary=Decimal("9"),
        r_score=3, f_score=1, m_score=1, segment="new", value_tier="low",
        revenue=Decimal("9"), cost_to_serve=Decimal("0"),
    )  # fmt: skip
    client = Client(headers={"accept-language": "en"})
    client.force_login(make_user("ada", "admin"))
    page = client.get("/customers/T1/").content.decode()
    assert "VIP测试" in page and "\\u6d4b" not in page and '["' not in page
    assert "1 order." in page and "1 orders" not in page


def test_import_errors_show_an_example_date_not_the_format_codes() -> None:
    with translation.override("en"):
        message = expected_message(ValueKind.DATETIME, "%Y-%m-%d %H:%M:%S")
    assert message == "expected a date such as 2024-01-31 14:30:00"
    with translation.override("zh-hans"):
        message = expected_message(ValueKind.DATETIME, "%d/%m/%Y")
    assert message == "应为日期，例如 31/01/2024" and "%" not in message


def test_the_rejects_header_follows_the_import_language(tmp_path: Path) -> None:
    from patron.ingest.importer import _RejectsWriter

    for language, header in (("zh-hans", "行号,列,原因,客户"), ("en", "line,column,reason,客户")):
        with translation.override(language):
            writer = _RejectsWriter(tmp_path / f"{language}.csv", ("客户",))
            writer.close()
        first = (tmp_path / f"{language}.csv").read_text(encoding="utf-8-sig").splitlines()[0]
        assert first == header


def test_every_translate_tag_with_a_percent_in_the_dashboard_is_in_chinese() -> None:
    found = []
    for path in sorted((TEMPLATES / "dashboard").glob("*.html")):
        found += re.findall(r'{% translate "([^"]*%[^"]*)" %}', path.read_text(encoding="utf-8"))
    assert found, "the profit-groups hints have a % in them"
    with translation.override("zh-hans"):
        for text in found:
            shown = Template('{% load i18n %}{% translate "' + text + '" %}').render(Context())
            assert shown != text and re.search(r"[\u4e00-\u9fff]", shown), text
            assert "%%" not in shown
