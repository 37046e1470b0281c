"""Reads over customers."""

from __future__ import annotations

from dataclasses import dataclass
from difflib import SequenceMatcher
from itertools import combinations

from django.db import connection
from django.db.models import Count, Q, QuerySet
from django.db.models.functions import Lower

from patron.customers.models import Customer

MAX_GROUP = 20  # a phone shared by more records than this is a shop's own number, not a person


@dataclass(frozen=True)
class DuplicatePair:
    keep: str  # the older record (lower id), suggested to keep
    other: str
    reason: str  # "phone", "email" or "name"
    value: str
    name_similarity: float

    def as_dict(self) -> dict[str, object]:
        return {"keep": self.keep, "other": self.other, "reason": self.reason,
                "value": self.value, "name_similarity": round(self.name_similarity, 3)}  # fmt: skip


def _similarity(a: str, b: str) -> float:
    a, b = "".join(a.split()).casefold(), "".join(b.split()).casefold()
    if not a or not b:
        return 0.0
    return SequenceMatcher(None, a, b).ratio()


def customer_duplicate_candidates(*, limit: int = 1000) -> list[DuplicatePair]:
    """Likely duplicates: the same normalised phone, the same email (any case), or the same
    name with the same birth date. Masked phones never match (they hide the real number).

    Grouping runs in the database; only records inside a shared group reach Python.
    """
    pairs: list[DuplicatePair] = []
    seen: set[tuple[str, str]] = set()

    def add_groups(reason: str, queryset: QuerySet[Customer], key: str) -> None:
        values = [row[key] for row in queryset]
        for start in range(0, len(values), 500):
            chunk = values[start : start + 500]
            members: dict[str, list[Customer]] = {}
            lookup = {"email_lower__in": chunk} if key == "email_lower" else {f"{key}__in": chunk}
            base = Customer.objects.annotate(email_lower=Lower("email")) if key == "email_lower" \
                else Customer.objects.all()  # fmt: skip
            for customer in base.filter(**lookup).order_by("pk").only("external_id", "name",
                                                                       "phone", "email",
                                                                       "birth_date"):  # fmt: skip
                group = getattr(customer, key) if key != "name_birth" else None
                members.setdefault(str(group), []).append(customer)
            for value, group in members.items():
                for a, b in combinations(group[:MAX_GROUP], 2):
                    ids = (a.external_id, b.external_id)
                    if ids in seen:
                        continue
                    seen.add(ids)
                    pairs.append(DuplicatePair(a.external_id, b.external_id, reason, value,
                                               _similarity(a.name, b.name)))  # fmt: skip
                    if len(pairs) >= limit:
                        return

    phones = (
        Customer.objects.exclude(phone="").filter(phone_is_masked=False)
        .values("phone").annotate(n=Count("id")).filter(n__gt=1, n__lte=MAX_GROUP)
    )  # fmt: skip
    add_groups("phone", phones, "phone")
    if len(pairs) < limit:
        emails = (
            Customer.objects.exclude(email="").annotate(email_lower=Lower("email"))
            .values("email_lower").annotate(n=Count("id")).filter(n__gt=1, n__lte=MAX_GROUP)
        )  # fmt: skip
        add_groups("email", emails, "email_lower")
    if len(pairs) < limit:
        names = (
            Customer.objects.exclude(name="").filter(birth_date__isnull=False)
            .values("name", "birth_date").annotate(n=Count("id")).filter(n__gt=1, n__lte=MAX_GROUP)
        )  # fmt: skip
        for row in names[: limit * 2]:
            group = list(Customer.objects.filter(name=row["name"], birth_date=row["birth_date"])
                         .order_by("pk"))  # fmt: skip
            for a, b in combinations(group, 2):
                if (a.external_id, b.external_id) not in seen:
                    seen.add((a.external_id, b.external_id))
                    pairs.append(DuplicatePair(a.external_id, b.external_id, "name",
                                               f"{row['name']} {row['birth_date']}", 1.0))  # fmt: skip
    return pairs[:limit]


def customer_list(
    *,
    search: str | None = None,
    region: str | None = None,
    city: str | None = None,
    acquisition_channel: str | None = None,
    tag: str | None = None,
    consent: str | None = None,
) -> QuerySet[Customer]:
    """Customers matching the filters; ``search`` is an id, phone, email or part of a name."""
    queryset = Customer.objects.all()
    if search:
        search = search.strip()
        queryset = queryset.filter(
            Q(external_id=search) | Q(phone=search) | Q(email__iexact=search)
            | Q(name__icontains=search)
        )  # fmt: skip
    if region:
        queryset = queryset.filter(region=region)
    if city:
        queryset = queryset.filter(city=city)
    if acquisition_channel:
        queryset = queryset.filter(acquisition_channel=acquisition_channel)
    if tag:
        queryset = queryset.filter(tags__contains=[tag]) if connection.vendor == "postgresql" \
            else queryset.filter(tags__icontains=f'"{tag}"')  # fmt: skip
    if consent:
        queryset = queryset.filter(consents__channel=consent, consents__granted=True)
    return queryset.order_by("external_id")


def customer_get(*, external_id: str) -> Customer:
    """Raises PatronError(code="customer_not_found") for an unknown id."""
    from patron.core.errors import PatronError

    customer = Customer.objects.filter(external_id=external_id).first()
    if customer is None:
        raise PatronError(f"No customer with id {external_id!r}.", code="customer_not_found")
    return customer
