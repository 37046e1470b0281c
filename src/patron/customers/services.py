"""Writes over customers: create, update, merge duplicates (with an audit record)."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from django.db import transaction
from django.forms.models import model_to_dict
from django.utils.translation import gettext_lazy as _

from patron.core.errors import PatronError
from patron.customers.models import Consent, Customer, CustomerMerge, Interaction, SavedView
from patron.sales.models import Order
from patron.sales.purchases import purchase_summary_sync

CUSTOMER_NOT_FOUND = "No customer with id {external_id!r}."
MERGE_SAME = "A customer cannot be merged into itself."


def _get(external_id: str) -> Customer:
    try:
        return Customer.objects.get(external_id=external_id)
    except Customer.DoesNotExist:
        raise PatronError(
            CUSTOMER_NOT_FOUND.format(external_id=external_id), code="customer_not_found"
        ) from None


@transaction.atomic
def customer_create(*, external_id: str, **fields: Any) -> Customer:
    """Create a customer after full validation.

    Raises
    ------
    django.core.exceptions.ValidationError
        A field is invalid or the id is taken.
    """
    customer = Customer(external_id=external_id, **fields)
    customer.full_clean()
    customer.save()
    return customer


@transaction.atomic
def customer_update(*, customer: Customer, **fields: Any) -> Customer:
    """Change the given fields; validation as on create."""
    for name, value in fields.items():
        setattr(customer, name, value)
    customer.full_clean()
    customer.save()
    return customer


@transaction.atomic
def customer_merge(*, keep: str, other: str, merged_by: str = "") -> CustomerMerge:
    """Fold customer ``other`` into ``keep``: orders, interactions and consents move.

    Blank fields of the kept record are filled from the other; the other record is deleted
    and kept, as it was, in the audit record.

    Raises
    ------
    PatronError
        Either id is unknown, or both are the same.
    """
    if keep == other:
        raise PatronError(MERGE_SAME, code="merge_same")
    kept = Customer.objects.select_for_update().get(pk=_get(keep).pk)
    merged = Customer.objects.select_for_update().get(pk=_get(other).pk)
    snapshot = model_to_dict(merged)
    snapshot["external_id"] = merged.external_id
    snapshot = {k: (v if isinstance(v, (str, int, float, bool, list, dict, type(None))) else str(v))
                for k, v in snapshot.items()}  # fmt: skip
    orders_moved = Order.objects.filter(customer=merged).update(customer=kept)
    interactions_moved = merged.interactions.update(customer=kept)
    kept_channels = set(kept.consents.values_list("channel", flat=True))
    merged.consents.exclude(channel__in=kept_channels).update(customer=kept)
    Consent.objects.filter(customer=merged).delete()
    for field in ("name", "phone", "email", "region", "city", "occupation", "company"):
        if not getattr(kept, field) and getattr(merged, field):
            setattr(kept, field, getattr(merged, field))
    kept.tags = sorted(set(kept.tags) | set(merged.tags))
    kept.attributes = {**merged.attributes, **kept.attributes}
    kept.save()
    merged.delete()
    purchase_summary_sync(customer_ids=[kept.pk])  # the merged one's orders are kept's now
    return CustomerMerge.objects.create(
        kept=kept,
        merged_external_id=other,
        merged_record=snapshot,
        orders_moved=orders_moved,
        interactions_moved=interactions_moved,
        merged_by=merged_by,
    )


def phone_normalise_for_form(value: str) -> str:
    """One phone number, normalised as the importer does; '' stays ''.

    Raises
    ------
    django.core.exceptions.ValidationError
        Not a phone number.
    """
    import pyarrow as pa
    from django.core.exceptions import ValidationError

    from patron.ingest.cleaning import normalise_phone

    if not value or not value.strip():
        return ""
    parsed = normalise_phone(pa.array([value], pa.string()))
    if parsed.invalid[0]:
        raise ValidationError({"phone": f"{value!r} is not a phone number."})
    return str(parsed.values[0].as_py())


INTERACTION_TEXT_REQUIRED = _("Write what happened.")
INTERACTION_IN_FUTURE = _("The time cannot be in the future.")


@transaction.atomic
def interaction_create(
    *,
    customer: Customer,
    kind: str,
    text: str,
    channel: str = "",
    occurred_at: datetime | None = None,
    created_by: Any = None,
) -> Interaction:
    """Record a contact or a note on the customer's timeline.

    Raises
    ------
    django.core.exceptions.ValidationError
        No text, a time in the future, or an unknown kind.
    """
    from django.core.exceptions import ValidationError
    from django.utils import timezone

    now = timezone.now()
    occurred_at = occurred_at or now
    errors: dict[str, list[Any]] = {}
    if not text.strip():
        errors["text"] = [INTERACTION_TEXT_REQUIRED]
    if occurred_at > now + timedelta(minutes=5):
        errors["occurred_at"] = [INTERACTION_IN_FUTURE]
    if errors:
        raise ValidationError(errors)
    interaction = Interaction(
        customer=customer,
        kind=kind,
        text=text.strip(),
        channel=channel,
        occurred_at=occurred_at,
        created_by=created_by,
    )
    interaction.full_clean()
    interaction.save()
    return interaction


SAVED_VIEW_NAME_MISSING = _("Give the view a name.")
#: Page links are not part of a saved view: it opens on its first page.
_NOT_SAVED = ("after", "before", "csrfmiddlewaretoken")


@transaction.atomic
def saved_view_save(*, owner: Any, name: str, query: str) -> SavedView:
    """Save a customer list's query string under ``name`` for ``owner``; the same name
    replaces the earlier view.

    Raises
    ------
    django.core.exceptions.ValidationError
        The name is empty or too long.
    """
    from urllib.parse import parse_qsl, urlencode

    from django.core.exceptions import ValidationError

    name = name.strip()
    if not name:
        raise ValidationError(SAVED_VIEW_NAME_MISSING, code="required")
    pairs = [(k, v) for k, v in parse_qsl(query) if k not in _NOT_SAVED and v != ""]
    view = SavedView.objects.filter(owner=owner, name=name).first() or SavedView(
        owner=owner, name=name
    )
    view.query = urlencode(pairs)
    view.full_clean()
    view.save()
    return view


@transaction.atomic
def saved_view_delete(*, owner: Any, view_id: int) -> None:
    """Delete one of ``owner``'s saved views (another user's view is left alone)."""
    SavedView.objects.filter(owner=owner, pk=view_id).delete()
