from django.http import HttpRequest
from ninja import Query, Router, Status
from ninja.pagination import paginate

from patron.accounts.permissions import api_auth
from patron.core.api_support import ERRORS, ERRORS_404, BoundedPagination
from patron.customers import selectors, services
from patron.customers.schemas import CustomerFilters, CustomerIn, CustomerOut, CustomerPatch
from patron.customers.services import phone_normalise_for_form

router = Router(tags=["customers"])


@router.get(
    "", response={200: list[CustomerOut], **ERRORS}, auth=api_auth("customers.view_customer")
)
@paginate(BoundedPagination)
def customer_list(request: HttpRequest, filters: Query[CustomerFilters]):  # type: ignore[no-untyped-def]
    request.patron_bulk = True  # type: ignore[attr-defined]  # a list: phones as for exports
    return selectors.customer_list(**filters.dict())


@router.get(
    "/{external_id}",
    response={200: CustomerOut, **ERRORS_404},
    auth=api_auth("customers.view_customer"),
)
def customer_get(request: HttpRequest, external_id: str):  # type: ignore[no-untyped-def]
    return selectors.customer_get(external_id=external_id)


@router.post("", response={201: CustomerOut, **ERRORS}, auth=api_auth("customers.add_customer"))
def customer_create(request: HttpRequest, payload: CustomerIn):  # type: ignore[no-untyped-def]
    data = payload.dict()
    data["phone"] = phone_normalise_for_form(data["phone"])
    return Status(201, services.customer_create(**data))


@router.patch(
    "/{external_id}",
    response={200: CustomerOut, **ERRORS_404},
    auth=api_auth("customers.change_customer"),
)
def customer_update(request: HttpRequest, external_id: str, payload: CustomerPatch):  # type: ignore[no-untyped-def]
    fields = payload.changes()
    if "phone" in fields and fields["phone"] is not None:
        fields["phone"] = phone_normalise_for_form(fields["phone"])
    customer = selectors.customer_get(external_id=external_id)
    return services.customer_update(customer=customer, **fields)
