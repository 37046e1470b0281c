"""Reads: the latest run, a customer's lists, the export (a campaign's block: ``blocks``)."""

from __future__ import annotations

from django.db.models import QuerySet

from patron.customers.models import Customer
from patron.recommend.models import Recommendation, RecommendationRun, RunStatus


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


def recommendation_export_rows(*, run: RecommendationRun) -> QuerySet[Recommendation]:
    return (
        Recommendation.objects.filter(run=run)
        .select_related("customer", "product")
        .order_by("customer__external_id", "list", "rank")
    )
