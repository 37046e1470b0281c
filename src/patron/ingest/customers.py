"""Upsert customer and product files through the ORM's bulk operations.

Customer and product files are small next to transaction logs, so rows are compared in
Python against the stored records, one query per chunk, and written with bulk_create and
bulk_update. Columns no field takes are kept as the customer's attributes.
"""

from __future__ import annotations

from collections.abc import Iterable
from decimal import Decimal
from typing import Any

from django.utils import timezone

from patron.customers.models import Channel, Consent, Customer
from patron.ingest.mapping import ColumnMapping
from patron.ingest.validation import ATTRIBUTE_PREFIX
from patron.sales.models import Product

CHUNK = 900  # SQLite's default limit of bound parameters is 999
CONSENT_FIELDS = {
    "consent_email": Channel.EMAIL,
    "consent_sms": Channel.SMS,
    "consent_phone": Channel.PHONE,
}


def _chunks(items: list[Any], size: int = CHUNK) -> Iterable[list[Any]]:
    for start in range(0, len(items), size):
        yield items[start : start + size]


def _py(value: Any) -> Any:
    if isinstance(value, Decimal):
        return value.quantize(Decimal("0.01"))
    return value


class _Upserter:
    model: type[Customer] | type[Product]
    key: str
    reading = "records"

    def __init__(self, mapping: ColumnMapping) -> None:
        self.mapping = mapping
        self.inserted = self.updated = self.unchanged = 0
        self.seen: set[str] = set()

    def _fields_of(self, row: dict[str, Any]) -> list[str]:
        return [f for f in row if f != self.key and hasattr(self.model, f)]

    def write(self, rows: list[dict[str, Any]]) -> None:
        if not rows:
            return
        fields = self._fields_of(rows[0])
        key_field = self.key
        for chunk in _chunks(rows):
            keys = [r[key_field] for r in chunk]
            existing = {
                getattr(o, key_field): o
                for o in self.model.objects.filter(**{f"{key_field}__in": keys})  # type: ignore[attr-defined]
            }
            new, changed = [], []
            for row in chunk:
                key = row[key_field]
                values = {f: self._value(f, row[f]) for f in fields}
                values.update(self._extra(row))
                obj = existing.get(key)
                if obj is None:
                    obj = self.model(**{key_field: key, **values})
                    existing[key] = obj
                    new.append(obj)
                    continue
                if obj.pk is None:  # the same key twice in one chunk: the last row wins
                    self._apply(obj, values)
                elif self._apply(obj, values) and obj not in changed:
                    changed.append(obj)
                elif key not in self.seen:
                    self.unchanged += 1
                self.seen.add(key)
            for obj in new:
                obj.full_clean(validate_unique=False, validate_constraints=False)
            self.model.objects.bulk_create(new, batch_size=500)  # type: ignore[attr-defined]
            self.inserted += len(new)
            if changed:
                update_fields = sorted({f for o in changed for f in o._patron_changed})  # type: ignore[attr-defined]
                self.model.objects.bulk_update(changed, update_fields, batch_size=500)  # type: ignore[attr-defined]
                self.updated += len(changed)
            self.seen.update(getattr(o, key_field) for o in new)
            self._after_chunk(chunk, existing)

    def _value(self, field: str, value: Any) -> Any:
        if value is None:
            model_field = self.model._meta.get_field(field)
            return None if model_field.null else model_field.get_default()
        return _py(value)

    def _extra(self, row: dict[str, Any]) -> dict[str, Any]:
        return {}

    def _apply(self, obj: Any, values: dict[str, Any]) -> bool:
        changed = [f for f, v in values.items() if _py(getattr(obj, f)) != v]
        for f in changed:
            setattr(obj, f, values[f])
        obj._patron_changed = changed
        return bool(changed)

    def _after_chunk(self, chunk: list[dict[str, Any]], objects: dict[str, Any]) -> None:
        pass

    def finish(self, report: Any) -> None:
        report.inserted, report.updated, report.unchanged = (
            self.inserted,
            self.updated,
            self.unchanged,
        )

    def close(self) -> None:
        pass


class CustomerUpserter(_Upserter):
    model = Customer
    key = "external_id"
    reading = "customers"

    def __init__(self, mapping: ColumnMapping, *, source: str) -> None:
        super().__init__(mapping)
        self.source = source

    def _fields_of(self, row: dict[str, Any]) -> list[str]:
        return [f for f in super()._fields_of(row) if f not in CONSENT_FIELDS]

    def _extra(self, row: dict[str, Any]) -> dict[str, Any]:
        answers = {
            k[len(ATTRIBUTE_PREFIX) :]: v
            for k, v in row.items()
            if k.startswith(ATTRIBUTE_PREFIX) and v is not None
        }
        return {"attributes": answers} if answers else {}

    def _apply(self, obj: Any, values: dict[str, Any]) -> bool:
        if "attributes" in values:  # new answers join the stored ones
            values = {**values, "attributes": {**obj.attributes, **values["attributes"]}}
        return super()._apply(obj, values)

    def _value(self, field: str, value: Any) -> Any:
        if field == "tags":
            return [t.strip() for t in str(value or "").replace("，", ",").split(",") if t.strip()]
        return super()._value(field, value)

    def _after_chunk(self, chunk: list[dict[str, Any]], objects: dict[str, Any]) -> None:
        consent_fields = [f for f in CONSENT_FIELDS if chunk and f in chunk[0]]
        if not consent_fields:
            return
        now = timezone.now()
        customers = [objects[row["external_id"]] for row in chunk]
        current = {
            (c.customer_id, c.channel): c
            for c in Consent.objects.filter(
                customer__in=customers, channel__in=[CONSENT_FIELDS[f] for f in consent_fields]
            )
        }
        create, update = [], []
        for row, customer in zip(chunk, customers, strict=True):
            for f in consent_fields:
                granted = row[f]
                if granted is None:
                    continue
                consent = current.get((customer.pk, CONSENT_FIELDS[f]))
                if consent is None:
                    create.append(
                        Consent(
                            customer=customer,
                            channel=CONSENT_FIELDS[f],
                            granted=granted,
                            recorded_at=now,
                            source=self.source,
                        )
                    )
                elif consent.granted != granted:
                    consent.granted, consent.recorded_at, consent.source = granted, now, self.source
                    update.append(consent)
        Consent.objects.bulk_create(create, batch_size=500)
        Consent.objects.bulk_update(update, ["granted", "recorded_at", "source"], batch_size=500)


class ProductUpserter(_Upserter):
    model = Product
    key = "sku"
    reading = "products"
