"""Patron's value analytics: pure functions over Ibis tables and NumPy arrays.

No Django here. Transactions come in as an Ibis table (DuckDB, SQLite,
PostgreSQL or Spark; the input contract is in :mod:`patron.analytics.summary`),
are aggregated in the engine to one row per customer, and ranked in NumPy, so
the results are the same on every engine.

A typical run::

    summary = customer_summary(transactions, as_of=as_of)           # Ibis expression
    profit = customer_profit(summary, settings=ProfitSettings(...))  # DataFrame
    scores = assign_segments(rfm_scores(summary))                    # R, F, M, segment
    tiers = value_tiers(profit)                                      # the pyramid
    report = concentration_report(profit)                            # Lorenz, Gini, 80/20
    kpis = monthly_kpis(transactions, as_of=as_of)                   # monthly KPIs

Modules: ``summary``, ``rfm``, ``segments``, ``tiers``, ``profitability``,
``concentration``, ``migration``, ``kpis``, ``diagnosis``, ``relationship``
(and the ``clv`` package for lifetime-value models). The names below are
imported lazily, so ``import patron.analytics`` stays cheap for the CLI.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from patron.analytics.concentration import (
        Concentration,
        concentration_report,
        customers_for_share,
        gini,
        lorenz_curve,
        top_share,
    )
    from patron.analytics.diagnosis import diagnose_attributes, diagnose_categories
    from patron.analytics.kpis import Cohorts, cohort_retention, kpis_and_cohorts, monthly_kpis
    from patron.analytics.migration import Migration, customer_migration
    from patron.analytics.profitability import (
        ProfitSettings,
        customer_profit,
        profit_by_levels,
        profit_by_tier,
        unprofitable_customers,
        value_versus_cost,
    )
    from patron.analytics.relationship import (
        RelationshipThresholds,
        loyalty_levers,
        relationship_by_tier,
        relationship_level,
    )
    from patron.analytics.rfm import RFMThresholds, rfm_b2b, rfm_scores
    from patron.analytics.segments import SEGMENTS, assign_segments, segment_summary
    from patron.analytics.summary import customer_summary
    from patron.analytics.tiers import (
        TIERS,
        TierCuts,
        profit_groups,
        tier_summary,
        value_basis,
        value_tiers,
    )

_EXPORTS: dict[str, str] = {
    "customer_summary": "summary",
    "rfm_scores": "rfm",
    "rfm_b2b": "rfm",
    "RFMThresholds": "rfm",
    "SEGMENTS": "segments",
    "assign_segments": "segments",
    "segment_summary": "segments",
    "TIERS": "tiers",
    "TierCuts": "tiers",
    "value_tiers": "tiers",
    "profit_groups": "tiers",
    "tier_summary": "tiers",
    "value_basis": "tiers",
    "ProfitSettings": "profitability",
    "customer_profit": "profitability",
    "profit_by_levels": "profitability",
    "profit_by_tier": "profitability",
    "unprofitable_customers": "profitability",
    "value_versus_cost": "profitability",
    "Concentration": "concentration",
    "concentration_report": "concentration",
    "customers_for_share": "concentration",
    "gini": "concentration",
    "lorenz_curve": "concentration",
    "top_share": "concentration",
    "Migration": "migration",
    "customer_migration": "migration",
    "Cohorts": "kpis",
    "cohort_retention": "kpis",
    "kpis_and_cohorts": "kpis",
    "monthly_kpis": "kpis",
    "diagnose_attributes": "diagnosis",
    "diagnose_categories": "diagnosis",
    "RelationshipThresholds": "relationship",
    "loyalty_levers": "relationship",
    "relationship_by_tier": "relationship",
    "relationship_level": "relationship",
}

__all__ = [
    "SEGMENTS",
    "TIERS",
    "Cohorts",
    "Concentration",
    "Migration",
    "ProfitSettings",
    "RFMThresholds",
    "RelationshipThresholds",
    "TierCuts",
    "assign_segments",
    "cohort_retention",
    "concentration_report",
    "customer_migration",
    "customer_profit",
    "customer_summary",
    "customers_for_share",
    "diagnose_attributes",
    "diagnose_categories",
    "gini",
    "kpis_and_cohorts",
    "lorenz_curve",
    "loyalty_levers",
    "monthly_kpis",
    "profit_by_levels",
    "profit_by_tier",
    "profit_groups",
    "relationship_by_tier",
    "relationship_level",
    "rfm_b2b",
    "rfm_scores",
    "segment_summary",
    "tier_summary",
    "top_share",
    "unprofitable_customers",
    "value_basis",
    "value_tiers",
    "value_versus_cost",
]


def __getattr__(name: str) -> Any:
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(importlib.import_module(f"{__name__}.{module}"), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted([*globals(), *_EXPORTS])
