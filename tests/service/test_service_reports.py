"""patron surveys report --json and patron service report --json: the issue's JSON shape, with
figures checked against counts made here."""

from __future__ import annotations

import datetime as dt
import json
from typing import Any

import pytest
from django.utils import timezone
from typer.testing import CliRunner

from patron.cli import app
from patron.service.models import SurveyResponse
from patron.service.services import ticket_create, ticket_reply, ticket_resolve

pytestmark = pytest.mark.django_db
runner = CliRunner()


def _json(*args: str) -> Any:
    result = runner.invoke(app, [*args, "--json"])
    assert result.exit_code == 0, f"{result.output} {result.exception!r}"
    return json.loads(result.stdout)


@pytest.fixture
def answers(make_customer: Any) -> list[int]:
    scores = [10, 9, 9, 8, 7, 6, 3, 0, 10, 9, 5, 10]
    when = timezone.now() - dt.timedelta(days=40)
    for i, score in enumerate(scores):
        customer = make_customer(f"C{i}", tier="high" if i % 2 else "low")
        SurveyResponse.objects.create(
            customer=customer,
            answered_at=when + dt.timedelta(hours=i),
            nps=score,
            csat=1 + i % 5,
            source="import",
            comment="物流太慢" if score <= 6 else "很好",
        )
    return scores


def test_surveys_report_json_shape_and_figures(answers: list[int]) -> None:
    report = _json("surveys", "report")
    nps, csat = report["nps"], report["csat"]
    assert {"score", "ci_low", "ci_high", "responses"} <= set(nps)
    assert {"mean", "ci_low", "ci_high", "responses"} <= set(csat)
    promoters = sum(s >= 9 for s in answers)
    detractors = sum(s <= 6 for s in answers)
    assert nps["responses"] == len(answers)
    assert nps["score"] == pytest.approx(100 * (promoters - detractors) / len(answers), abs=0.01)
    assert -100 <= nps["ci_low"] < nps["score"] < nps["ci_high"] <= 100
    assert csat["mean"] == pytest.approx(sum(1 + i % 5 for i in range(12)) / 12, abs=1e-3)
    high = [s for i, s in enumerate(answers) if i % 2]
    by_tier = report["nps_by"]["tier"]["high"]
    expected = 100 * (sum(s >= 9 for s in high) - sum(s <= 6 for s in high)) / len(high)
    assert by_tier["score"] == pytest.approx(expected, abs=0.01)
    assert set(report) >= {"drivers", "themes", "retention", "csat_by"}


def test_service_report_json(make_customer: Any, agent: Any, answers: list[int]) -> None:
    customer = make_customer("T1")
    done = ticket_create(customer=customer, kind="complaint", category="delivery",
                         channel="phone", subject="Late")  # fmt: skip
    ticket_reply(ticket=done, text="On it", by=agent)
    ticket_resolve(ticket=done, by=agent, resolution="Resent")
    ticket_create(customer=customer, kind="question", category="other", channel="web",
                  subject="Hours?", opened_at=timezone.now() - dt.timedelta(days=20))  # fmt: skip
    report = _json("service", "report")
    assert (report["opened"], report["complaints"], report["backlog"]) == (2, 1, 1)
    assert report["breaching"] == 1 and report["resolved"] == 1
    assert report["first_response_in_sla"] == 1.0
    assert report["nps"]["responses"] == len(answers)
    assert {"score", "ci_low", "ci_high", "responses"} <= set(report["nps"])
