"""GET /api/v1/customers/{id}/recommendations?list=buy_again|try_new&n=10 (a till, a shop)."""

from __future__ import annotations

from typing import Literal

from django.http import HttpRequest
from ninja import Query, Router, Schema
from pydantic import Field

from patron.accounts.permissions import api_auth
from patron.customers.selectors import customer_get
from patron.recommend.schemas import RecommendationListOut, RecommendationOut
from patron.recommend.selectors import customer_recommendations, recommendation_run_latest

router = Router(tags=["recommendations"])


class ListQuery(Schema):
    list: Literal["buy_again", "try_new"] = "buy_again"
    n: int = Field(10, ge=1, le=50)


@router.get(
    "/{external_id}/recommendations",
    response=RecommendationListOut,
    auth=api_auth("customers.view_customer", "recommend.view_recommendation"),
)
def customer_recommendation_list(  # type: ignore[no-untyped-def]
    request: HttpRequest, external_id: str, query: Query[ListQuery]
):
    customer = customer_get(external_id=external_id)
    run = recommendation_run_latest()
    rows = customer_recommendations(customer=customer, list=query.list, n=query.n, run=run)
    items = [
        RecommendationOut(
            rank=r.rank,
            sku=r.product.sku,
            name=r.product.name,
            category=r.product.category,
            score=r.score,
            reason_en=r.reason_en,
            reason_zh=r.reason_zh,
        )
        for r in rows
    ]
    return RecommendationListOut(
        customer_id=customer.external_id,
        list=query.list,
        as_of=run.as_of if run else None,
        items=items,
    )
