from django.http import HttpRequest
from ninja import Router, Status

from patron.accounts.permissions import api_auth
from patron.core.api_support import ERRORS, ErrorOut
from patron.sales import services
from patron.sales.schemas import ImportResultOut, OrderBatchIn, OrderIn

router = Router(tags=["orders"])
ORDER_WRITE = api_auth("sales.add_order", "sales.change_order", "customers.add_customer")


RESULTS = {**ERRORS, 200: ImportResultOut, 422: ImportResultOut | ErrorOut}


@router.post("", response=RESULTS, auth=ORDER_WRITE)
def order_create(request: HttpRequest, payload: OrderIn):  # type: ignore[no-untyped-def]
    report = services.order_batch_import(orders=[payload.dict()], source="api")
    return Status(200 if report["rejected"] == 0 else 422, report)


@router.post("/batch", response=RESULTS, auth=ORDER_WRITE)
def order_batch(request: HttpRequest, payload: OrderBatchIn):  # type: ignore[no-untyped-def]
    orders = [order.dict() for order in payload.orders]
    report = services.order_batch_import(orders=orders, source=payload.source)
    return Status(200 if report["rejected"] == 0 else 422, report)
