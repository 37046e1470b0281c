"""Reads: the latest run, a customer's lists, the top items a campaign can show."""

from __future__ import annotations

from django.db.models import QuerySet

from patron.customers.models import Customer
from patron.recommend.models import ListKind, Recommendation, RecommendationRun, RunStatus


def recommendation_run_latest() -> RecommendationRun | None:
    return RecommendationRun.objects.filter(status=RunStatus.COMPLETED).first()


def recommendation_run_list(*, n: int = 10) -> QuerySet[RecommendationRun]:
    """The latest ``n`` runs, newest first (without their evaluations' detail)."""
    return RecommendationRun.objects.defer("settings").order_by("-created_at", "-pk")[:n]


def customer_recommendations(
    *, customer: Customer, list: str, n: int = 10, run: RecommendationRun | None = None
) -> QuerySet[Recommendation]:
    """The customer's ``list`` in the latest completed run (or ``run``), best first."""
    run = run or recommendation_run_latest()
    if run is None:
        return Recommendation.objects.none()
    return (
        Recommendation.objects.filter(run=run, customer=customer, list=list)
        .select_related("product")
        .order_by("rank")[:n]
    )


def customer_top_items(*, customer: Customer, n: int = 3) -> list[Recommendation]:
    """The customer's top ``n`` items for a message (campaign content): the "buy again"
    list first, then "try new"."""
    run = recommendation_run_latest()
    if run is None:
        return []
    items = list(customer_recommendations(customer=customer, list=ListKind.BUY_AGAIN, n=n, run=run))
    if len(items) < n:
        items += list(
            customer_recommendations(
                customer=customer, list=ListKind.TRY_NEW, n=n - len(items), run=run
            )
        )
    return items


def recommendation_export_rows(*, run: RecommendationRun) -> QuerySet[Recommendation]:
    return (
        Recommendation.objects.filter(run=run)
        .select_related("customer", "product")
        .order_by("customer__external_id", "list", "rank")
    )
