from __future__ import annotations

import json
from datetime import UTC, date, datetime
from decimal import Decimal

import pytest
from typer.testing import CliRunner

from patron.cli import app
from patron.core.errors import PatronError
from patron.customers.models import Customer, CustomerMerge, Interaction
from patron.customers.selectors import customer_duplicate_candidates
from patron.customers.services import customer_merge
from patron.sales.models import Order

pytestmark = pytest.mark.django_db
runner = CliRunner()


def _order(customer: Customer, external_id: str, amount: str) -> Order:
    when = datetime(2024, 5, 1, 4, tzinfo=UTC)
    return Order.objects.create(
        customer=customer,
        external_id=external_id,
        ordered_at=when,
        ordered_on=when.date(),
        amount=Decimal(amount),
    )


def test_duplicates_by_phone_email_and_name_but_never_masked_phones_or_names() -> None:
    # given
    a = Customer.objects.create(external_id="A", name="张伟", phone="13812345678")
    Customer.objects.create(external_id="B", name="张 伟", phone="13812345678")
    Customer.objects.create(external_id="C", name="Li Na", email="li.na@example.com")
    Customer.objects.create(external_id="D", name="Li Na", email="LI.NA@example.com")
    Customer.objects.create(external_id="E", name="王芳", birth_date=date(1990, 1, 1))
    Customer.objects.create(external_id="F", name="王芳", birth_date=date(1990, 1, 1))
    Customer.objects.create(external_id="G", phone="186******05", phone_is_masked=True)
    Customer.objects.create(external_id="H", phone="186******05", phone_is_masked=True)
    Customer.objects.create(external_id="I", name="张*", birth_date=date(1985, 5, 5))
    Customer.objects.create(external_id="J", name="张*", birth_date=date(1985, 5, 5))
    # when
    pairs = {(p.keep, p.other): p for p in customer_duplicate_candidates()}
    # then
    assert set(pairs) == {("A", "B"), ("C", "D"), ("E", "F")}
    assert pairs[("A", "B")].reason == "phone" and pairs[("A", "B")].name_similarity == 1.0
    assert pairs[("C", "D")].reason == "email"
    assert a.external_id == "A"


def test_merge_moves_orders_and_interactions_and_keeps_an_audit_record() -> None:
    keep = Customer.objects.create(external_id="K", name="", phone="13800000000")
    other = Customer.objects.create(external_id="O", name="李雷", email="lei@example.com")
    _order(keep, "1", "10.00")
    _order(other, "2", "20.00")
    _order(other, "3", "30.00")
    Interaction.objects.create(customer=other, kind="note", occurred_at=datetime.now(tz=UTC))

    result = runner.invoke(app, ["customers", "merge", "K", "O", "--json"])

    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout)["orders_moved"] == 2
    keep.refresh_from_db()
    assert keep.orders.count() == 3 and keep.interactions.count() == 1
    assert (keep.name, keep.email) == ("李雷", "lei@example.com")  # blanks filled from the other
    assert not Customer.objects.filter(external_id="O").exists()
    audit = CustomerMerge.objects.get()
    assert audit.merged_external_id == "O" and audit.merged_record["name"] == "李雷"


def test_merge_refuses_unknown_or_same_ids() -> None:
    Customer.objects.create(external_id="K")
    with pytest.raises(PatronError, match="No customer"):
        customer_merge(keep="K", other="nobody")
    with pytest.raises(PatronError, match="itself"):
        customer_merge(keep="K", other="K")
    result = runner.invoke(app, ["customers", "merge", "K", "nobody"])
    assert result.exit_code == 1 and "No customer" in result.output
