from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from typing import Any

from ninja import Schema
from pydantic import ConfigDict, model_validator

from patron.accounts.privacy import phone_for, phone_mask

EXPORT_PERMISSION = "accounts.export_customers"


class CustomerOut(Schema):
    external_id: str
    name: str
    phone: str
    email: str
    gender: str
    birth_date: date | None
    region: str
    city: str
    occupation: str
    acquisition_channel: str
    acquired_on: date | None
    acquisition_cost: Decimal | None
    company: str
    credit_rating: str
    credit_limit: Decimal | None
    tags: list[str]
    attributes: dict[str, object]
    created_at: datetime
    updated_at: datetime

    @staticmethod
    def resolve_phone(obj: Any, context: dict[str, Any] | None) -> str:
        """Masked for a token whose user may not see full numbers, as on the web pages."""
        request = (context or {}).get("request")
        user = getattr(request, "user", None)
        if user is None or not getattr(user, "is_authenticated", False):
            return phone_mask(obj.phone)
        if getattr(request, "patron_bulk", False) and not user.has_perm(EXPORT_PERMISSION):
            return phone_mask(obj.phone)  # a list is an export: only for roles that export
        return phone_for(user=user, phone=obj.phone)


class CustomerIn(Schema):
    external_id: str
    name: str = ""
    phone: str = ""
    email: str = ""
    gender: str = "u"
    birth_date: date | None = None
    region: str = ""
    city: str = ""
    occupation: str = ""
    acquisition_channel: str = ""
    acquired_on: date | None = None
    acquisition_cost: Decimal | None = None
    company: str = ""
    credit_rating: str = ""
    credit_limit: Decimal | None = None
    tags: list[str] = []
    attributes: dict[str, object] = {}


# What a null sets each field to: a PATCH with {"city": null} clears the city.
CLEARED: dict[str, Any] = {
    "name": "",
    "phone": "",
    "email": "",
    "gender": "u",
    "birth_date": None,
    "region": "",
    "city": "",
    "occupation": "",
    "acquisition_channel": "",
    "company": "",
    "tags": [],
    "attributes": {},
}


class CustomerPatch(Schema):
    """The fields to change; a field set to null is cleared (text to empty, gender to
    unknown, tags and attributes to none)."""

    model_config = ConfigDict(extra="forbid")

    name: str | None = None
    phone: str | None = None
    email: str | None = None
    gender: str | None = None
    birth_date: date | None = None
    region: str | None = None
    city: str | None = None
    occupation: str | None = None
    acquisition_channel: str | None = None
    company: str | None = None
    tags: list[str] | None = None
    attributes: dict[str, object] | None = None

    @model_validator(mode="before")
    @classmethod
    def _an_object(cls, data: Any) -> Any:
        if not isinstance(data, dict) and not hasattr(data, "_obj"):
            raise ValueError("expected a JSON object of the fields to change")
        return data

    def changes(self) -> dict[str, Any]:
        """The fields sent, with nulls made the cleared value of :data:`CLEARED`."""
        sent = self.dict(exclude_unset=True)
        return {k: (CLEARED[k] if v is None else v) for k, v in sent.items()}


class CustomerFilters(Schema):
    search: str | None = None
    region: str | None = None
    city: str | None = None
    acquisition_channel: str | None = None
    tag: str | None = None
    consent: str | None = None
