"""Starting an analysis run from the browser: who may, the job it becomes, the run it stores."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from django.test import Client
from django.urls import reverse

from patron.ingest.importer import import_file
from patron.ingest.mapping import EntityKind
from patron.insights.models import AnalysisRun, CustomerScore, RunStatus
from patron.jobs.models import Job, JobKind, JobStatus

# The analysis reads the store on its own connection, so the data must be committed.
pytestmark = pytest.mark.django_db(transaction=True)

ORDERS = (
    "customer_id,date,amount\n"
    "C001,2024-01-05,128.50\n"
    "C002,2024-01-06,66.00\n"
    "C001,2024-02-10,230.00\n"
    "C003,2024-02-11,15.90\n"
    "C002,2024-03-01,99.10\n"
)
# By hand, as of 2024-04-01: C001 spent 358.50 in 2 orders, last on 2024-02-10 (51 days).


@pytest.fixture
def shop(tmp_path: Path) -> None:
    path = tmp_path / "orders.csv"
    path.write_text(ORDERS, encoding="utf-8")
    report = import_file(path, kind=EntityKind.TRANSACTIONS)
    assert report.committed and report.inserted == 5


def signed_in(make_user: Any, username: str, role: str) -> Client:
    client = Client()
    client.force_login(make_user(username, role))
    return client


def test_marketing_runs_an_analysis_and_is_sent_to_the_dashboard(
    shop: None, make_user: Any
) -> None:
    analyst = signed_in(make_user, "ann", "marketing")
    # the dashboard offers the button
    assert 'id="run-analysis-link"' in analyst.get(reverse("web:home")).content.decode()
    assert analyst.get(reverse("web:analysis_start")).status_code == 200

    response = analyst.post(reverse("web:analysis_start"), {"as_of": "2024-04-01"})

    assert response.status_code == 302
    job = Job.objects.get(kind=JobKind.ANALYSIS)
    assert response["Location"] == reverse("web:job_detail", args=[job.pk])
    assert job.status == JobStatus.DONE, job.error
    assert job.created_by.username == "ann" and job.params == {"as_of": "2024-04-01"}
    assert job.progress_done == job.progress_total  # every step reported
    run = AnalysisRun.objects.get(pk=job.result["run_id"])
    assert run.status == RunStatus.COMPLETED and run.as_of == dt.date(2024, 4, 1)
    assert run.customers == 3 == job.result["customers"]
    score = CustomerScore.objects.get(run=run, customer__external_id="C001")
    assert (score.frequency, score.monetary, score.recency_days) == (2, Decimal("358.50"), 51)
    page = analyst.get(response["Location"]).content.decode()
    assert 'id="outcome"' in page and reverse("web:home") in page
    status = analyst.get(reverse("web:job_status", args=[job.pk])).json()
    assert status["finished"] and status["url"] == reverse("web:home")


def test_a_second_analysis_waits_for_the_first(shop: None, make_user: Any) -> None:
    marketing = signed_in(make_user, "mia", "marketing")
    running = Job.objects.create(kind=JobKind.ANALYSIS, status=JobStatus.RUNNING)
    response = marketing.post(reverse("web:analysis_start"), {"as_of": "2024-04-01"})
    assert response.status_code == 200
    assert f"An analysis is already under way (job {running.pk})" in response.content.decode()
    assert Job.objects.filter(kind=JobKind.ANALYSIS).count() == 1
    assert not AnalysisRun.objects.exists()


def test_a_failed_analysis_says_why(make_user: Any) -> None:
    admin = signed_in(make_user, "root", "admin")
    response = admin.post(reverse("web:analysis_start"), {})  # an empty store
    job = Job.objects.get(kind=JobKind.ANALYSIS)
    assert job.status == JobStatus.FAILED
    page = admin.get(response["Location"]).content.decode()
    assert "There are no orders to analyse; import transactions first." in page


@pytest.mark.parametrize("role", ["service", "analyst"])
def test_service_and_analysts_may_not_run_an_analysis(make_user: Any, role: str) -> None:
    # analysts are read-only everywhere: a run writes one
    service = signed_in(make_user, "sam", role)
    assert service.get(reverse("web:analysis_start")).status_code == 403
    assert service.post(reverse("web:analysis_start"), {}).status_code == 403
    assert 'id="run-analysis-link"' not in service.get(reverse("web:home")).content.decode()
    assert not Job.objects.exists()
