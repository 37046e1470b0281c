"""The importer's fields as a person reads them, in English and Chinese."""

from __future__ import annotations

from typing import Any

from django.utils.translation import gettext_lazy as _

# What each importer field is called on the page (the field's own name is the fallback).
FIELD_LABELS: dict[str, Any] = {
    "customer_id": _("Customer id"),
    "external_id": _("Customer id"),
    "order_id": _("Order id"),
    "ordered_at": _("Order date and time"),
    "amount": _("Amount"),
    "cost": _("Cost"),
    "store": _("Store"),
    "channel": _("Sales channel"),
    "status": _("Order status"),
    "original_order_id": _("Original order (for a return)"),
    "sku": _("Product code (SKU)"),
    "product_name": _("Product name"),
    "category": _("Category"),
    "quantity": _("Quantity"),
    "unit_price": _("Unit price"),
    "unit_cost": _("Unit cost"),
    "for_sale": _("For sale"),
    "in_stock": _("In stock"),
    "refund": _("Refund"),
    "paid_at": _("Paid at"),
    "cancelled_at": _("Cancelled at"),
    "buyer_phone": _("Buyer's phone"),
    "refund_id": _("Refund id"),
    "after_sale_status": _("After-sale status"),
    "name": _("Name"),
    "phone": _("Phone"),
    "email": _("Email"),
    "gender": _("Gender"),
    "birth_date": _("Birth date"),
    "region": _("Region"),
    "city": _("City"),
    "occupation": _("Occupation"),
    "acquisition_channel": _("Acquisition channel"),
    "acquired_on": _("Acquired on"),
    "acquisition_cost": _("Acquisition cost"),
    "company": _("Company"),
    "credit_rating": _("Credit rating"),
    "credit_limit": _("Credit limit"),
    "consent_email": _("Email consent"),
    "consent_sms": _("SMS consent"),
    "consent_phone": _("Phone consent"),
    "tags": _("Tags"),
}


def field_label(name: str) -> str:
    """The field's label in the active language; its own name for a field without one."""
    return str(FIELD_LABELS.get(name, name))
