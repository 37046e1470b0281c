"""The demo opens with a churn warning list of the latest run, partly worked."""

from __future__ import annotations

import pandas as pd
import pytest

from patron.demo.loader import demo_load
from patron.demo.warnings import WORKED_SHARE
from patron.insights.models import CustomerScore
from patron.insights.selectors import analysis_run_latest
from patron.retention.models import ChurnWarning, WarningStatus


@pytest.mark.django_db(transaction=True)
def test_the_demo_raises_and_works_part_of_the_warning_list() -> None:
    demo_load(customers=400, seed=5)
    run = analysis_run_latest()
    warnings = ChurnWarning.objects.all()
    # every warning is a high- or medium-risk customer of the latest run among those who make
    # up the top 80% of its value at risk (pandas on the stored scores), once
    scores = pd.DataFrame.from_records(
        CustomerScore.objects.filter(run=run).values("customer_id", "risk_level", "value_at_risk")
    )
    scores["v"] = scores.value_at_risk.astype(float)
    ranked = scores[scores.v > 0].sort_values("v", ascending=False)
    reached = ranked.v.cumsum() >= 0.8 * ranked.v.sum() - 1e-9
    cutoff = round(ranked.v[reached].iloc[0], 2)
    at_risk = set(
        scores[scores.risk_level.isin(["high", "medium"]) & (scores.v >= cutoff)].customer_id
    )
    assert warnings.count() == len(at_risk) > 0
    assert len(at_risk) < scores.risk_level.isin(["high", "medium"]).sum()
    assert set(warnings.values_list("customer_id", flat=True)) == at_risk
    # a seeded share has a response; the lost ones say why
    worked = warnings.exclude(response="")
    assert worked.count() == int(len(at_risk) * WORKED_SHARE)
    lost = warnings.filter(status=WarningStatus.LOST)
    assert lost.exists() and not lost.filter(lost_reason="").exists()
    assert warnings.filter(status=WarningStatus.WON_BACK).exists()
