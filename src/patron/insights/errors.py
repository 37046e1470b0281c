"""Errors of the insights app."""

from __future__ import annotations

from patron.core.errors import PatronError

NO_ORDERS = "There are no orders to analyse; import transactions first."


class AnalysisError(PatronError):
    default_code = "insights.analysis_failed"
