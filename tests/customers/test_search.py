"""Search that finds people: any part of a phone, a name, an email or an id, through the
trigram index (pg_trgm on PostgreSQL, FTS5 on SQLite), checked against a plain substring
search in Python over the same records, and kept in step with every kind of write."""

from __future__ import annotations

import random

import pytest
from django.db import connection

from patron.customers.models import Customer
from patron.customers.search import search_condition, search_index_ensure
from patron.customers.selectors import customer_filter

pytestmark = pytest.mark.django_db

SURNAMES = "王李张刘陈杨黄赵吴周"
GIVEN = "婉娟伟芳娜敏静丽强磊军洋勇艳杰娟涛明超秀霞"


def _found(search: str) -> list[str]:
    return sorted(customer_filter(search=search).values_list("external_id", flat=True))


def _reference(search: str, customers: list[tuple[str, str, str, str]]) -> list[str]:
    """The definition, in Python: a part of the id, name, phone or email (any case); one or
    two characters: the start or the end of a field (the index cannot see inside)."""
    term = search.strip().lower()
    digits = term.replace(" ", "").replace("-", "")
    if digits.isdigit() and len(digits) >= 3:
        term = digits
    whole = [i for i, _, phone, _ in customers if search.strip() == i or digits == phone]
    if whole:  # a whole id or phone finds that customer alone
        return sorted(whole)
    found = []
    for external_id, name, phone, email in customers:
        fields = [external_id.lower(), name.lower(), phone, email.lower()]
        if len(term) >= 3:
            hit = any(term in field for field in fields)
        elif len(term) == 2:
            hit = any(f.startswith(term) or f.endswith(term) for f in fields)
        else:
            hit = name.startswith(search.strip()) or external_id == search.strip()
        if hit or external_id == search.strip():
            found.append(external_id)
    return sorted(found)


@pytest.fixture
def people() -> list[tuple[str, str, str, str]]:
    rng = random.Random(16)
    rows = []
    for n in range(300):
        name = rng.choice(SURNAMES) + "".join(rng.choices(GIVEN, k=rng.choice([1, 2])))
        phone = f"1{rng.choice('3589')}{rng.randrange(10**9):09d}" if n % 7 else ""
        email = f"user{n}.{rng.choice(['qq', 'Mail'])}@Example.com" if n % 3 == 0 else ""
        rows.append((f"C{n:05d}", name, phone, email))
    Customer.objects.bulk_create(
        [Customer(external_id=i, name=nm, phone=p, email=e) for i, nm, p, e in rows]
    )
    return rows


def test_parts_of_phones_names_emails_and_ids_match_a_plain_substring_search(
    people: list[tuple[str, str, str, str]],
) -> None:
    # given 300 customers (bulk-created, as an import writes them)
    phones = [p for _, _, p, _ in people if p]
    queries = [
        phones[0][-4:],  # the last four digits
        phones[1][3:7],
        f"{phones[2][:3]} {phones[2][3:7]} {phones[2][7:]}",  # typed with spaces
        "婉娟",  # a given name: the end of a name
        people[5][1][:2],  # surname and first given character: the start of a name
        people[9][1],  # a whole name
        "user12",  # part of an email
        "mail@example",  # any case
        "00042",  # part of an id
        "C00007",  # a whole id
        phones[3],  # a whole phone
        "王",  # one character: the start of a name
        "娟",
        "%",  # LIKE's wildcards are plain characters
        "_a_",
        '"quoted"',
    ]
    for query in queries:
        # when searched, then the same customers as the definition in Python
        assert _found(query) == _reference(query, people), query
    assert _found("婉娟"), "the demo's example given name is found"


def test_the_index_follows_updates_deletes_and_raw_inserts() -> None:
    # given a customer found by the end of her phone
    ada = Customer.objects.create(external_id="A1", name="欧阳婉娟", phone="13812345678")
    assert _found("5678") == ["A1"] and _found("婉娟") == ["A1"]
    # when her phone and name change, then the old ones no longer find her
    ada.phone, ada.name = "13900009876", "欧阳丽"
    ada.save()
    assert _found("5678") == [] and _found("婉娟") == [] and _found("9876") == ["A1"]
    # a tag change leaves her findable
    Customer.objects.filter(pk=ada.pk).update(tags=["vip"])
    assert _found("9876") == ["A1"]
    # when a row arrives by raw SQL (the importer's path), then it is found
    with connection.cursor() as cursor:
        cursor.execute(
            "INSERT INTO customers_customer (external_id, name, phone, phone_is_masked, email, "
            "gender, region, city, occupation, acquisition_channel, company, credit_rating, "
            "tags, attributes, created_at, updated_at) VALUES ('R1', '李婉娟', '', %s, "
            "'Li@Shop.CN', 'f', '', '', '', '', '', '', '[]', '{}', %s, %s)",
            [False, "2024-01-01 00:00:00+00:00", "2024-01-01 00:00:00+00:00"],
        )
    assert _found("婉娟") == ["R1"] and _found("li@shop") == ["R1"]
    # when deleted, then gone from the index too
    Customer.objects.filter(external_id="A1").delete()
    assert _found("9876") == []


@pytest.mark.skipif(connection.vendor != "sqlite", reason="SQLite keeps its index by triggers")
def test_lost_triggers_are_put_back_and_the_index_rebuilt() -> None:
    # given a table rebuild that lost the triggers (Django copies a SQLite table to alter it)
    Customer.objects.create(external_id="B1", name="张婉娟", phone="13800001234")
    with connection.cursor() as cursor:
        cursor.execute("DROP TRIGGER customer_search_insert")
    Customer.objects.create(external_id="B2", name="赵婉娟")
    assert _found("婉娟") == ["B1"]
    # when ensured again (after every migrate), then the triggers and every row are back
    assert search_index_ensure() is True
    assert _found("婉娟") == ["B1", "B2"]
    assert search_index_ensure() is False  # nothing left to do


def test_the_search_uses_the_trigram_index() -> None:
    Customer.objects.create(external_id="X1", name="王婉娟", phone="13812345678")
    with connection.cursor() as cursor:
        inner = Customer.objects.filter(search_condition("5678")).values("pk")
        compiled, params = inner.query.sql_with_params()
        if connection.vendor == "postgresql":
            # a handful of rows: forbid the plans that read everything, to see the index used
            cursor.execute("SET enable_seqscan = off; SET enable_indexscan = off")
            cursor.execute("EXPLAIN " + compiled, params)
            plan = " ".join(row[0] for row in cursor.fetchall())
            cursor.execute("RESET enable_seqscan; RESET enable_indexscan")
            assert "customer_search_trgm_idx" in plan, plan
        else:
            cursor.execute("EXPLAIN QUERY PLAN " + compiled, params)
            plan = " ".join(str(row[-1]) for row in cursor.fetchall())
            assert "VIRTUAL TABLE INDEX" in plan and "customers_customer_search" in plan
