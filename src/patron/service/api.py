"""``POST /api/v1/tickets``: open a ticket from another system (a shop, a chat tool)."""

from django.core.exceptions import ValidationError
from django.http import HttpRequest
from ninja import Router, Status

from patron.accounts.permissions import api_auth
from patron.customers.models import Customer
from patron.sales.models import Order
from patron.service import services
from patron.service.errors import ServiceError, ServiceErrorCode
from patron.service.schemas import TicketCreatedOut, TicketIn

router = Router(tags=["tickets"])


@router.post("", response={201: TicketCreatedOut}, auth=api_auth("accounts.manage_tickets"))
def ticket_create(request: HttpRequest, payload: TicketIn):  # type: ignore[no-untyped-def]
    customer = Customer.objects.filter(external_id=str(payload.customer_id)).first()
    if customer is None:
        raise ServiceError(
            f"No customer with id {payload.customer_id}.",
            code=ServiceErrorCode.CUSTOMER_NOT_FOUND,
        )
    order = None
    if payload.order_id not in (None, ""):
        order = Order.objects.filter(customer=customer, external_id=str(payload.order_id)).first()
        if order is None:
            raise ValidationError({"order_id": [f"No order {payload.order_id} of this customer."]})
    ticket = services.ticket_create(
        customer=customer, kind=payload.kind, category=payload.category, channel=payload.channel,
        subject=payload.subject, text=payload.text, order=order, by=request.user,
    )  # fmt: skip
    return Status(201, {"id": ticket.pk, "priority": ticket.priority, "due_at": ticket.due_at})
