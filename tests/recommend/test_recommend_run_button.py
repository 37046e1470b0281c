"""The button that starts a recommendation run: a background job with the run's steps as its
progress (jobs run at once in tests), for admin and marketing only, in both languages."""

from __future__ import annotations

from typing import Any

import pytest
from django.test import Client

from patron.demo.recommend import AS_OF
from patron.jobs.models import Job, JobKind, JobStatus
from patron.recommend.models import Recommendation, RecommendationRun, RunStatus

pytestmark = pytest.mark.django_db


def _client(make_user: Any, name: str, role: str, language: str = "en") -> Client:
    client = Client(headers={"accept-language": language})
    client.force_login(make_user(name, role))
    return client


def test_marketing_starts_a_run_and_follows_its_job(
    shop: dict[str, object], make_user: Any, django_capture_on_commit_callbacks: Any
) -> None:
    client = _client(make_user, "mia", "marketing")
    page = client.get("/recommendations/runs/")
    assert page.status_code == 200
    assert b'id="run-start"' in page.content and b"No run yet." in page.content

    with django_capture_on_commit_callbacks(execute=True):
        started = client.post(
            "/recommendations/runs/start/", {"as_of": AS_OF.isoformat(), "per_list": "5"}
        )

    job = Job.objects.get(kind=JobKind.RECOMMEND)
    assert started.status_code == 302 and started["Location"] == f"/jobs/{job.pk}/"
    assert job.status == JobStatus.DONE, job.error
    assert job.progress_done == job.progress_total == 5
    assert job.params["as_of"] == AS_OF.isoformat() and job.params["language"] == "en"
    run = RecommendationRun.objects.get()
    assert run.status == RunStatus.COMPLETED and run.per_list == 5
    assert job.result == {"run": run.pk, "customers": run.customers, "as_of": "2024-07-01"}
    assert Recommendation.objects.filter(run=run).count() > 0
    status = client.get(f"/jobs/{job.pk}/status/").json()
    assert status["url"] == "/recommendations/runs/"
    listed = client.get("/recommendations/runs/")
    assert b"2024-07-01" in listed.content and b"No run yet." not in listed.content


def test_a_bad_date_is_named_and_nothing_is_queued(shop: dict[str, object], make_user: Any) -> None:
    client = _client(make_user, "mia", "marketing")
    response = client.post("/recommendations/runs/start/", {"as_of": "July", "per_list": "5"})
    assert response.status_code == 400
    assert b"Enter a valid date." in response.content
    assert not Job.objects.exists()


def test_service_sees_the_runs_but_has_no_button(shop: dict[str, object], make_user: Any) -> None:
    client = _client(make_user, "sam", "service")
    page = client.get("/recommendations/runs/")
    assert page.status_code == 200 and b'id="run-start"' not in page.content
    refused = client.post(
        "/recommendations/runs/start/", {"as_of": AS_OF.isoformat(), "per_list": "5"}
    )
    assert refused.status_code == 403
    assert not Job.objects.exists() and not RecommendationRun.objects.exists()


def test_the_page_and_the_steps_in_chinese(
    shop: dict[str, object], make_user: Any, django_capture_on_commit_callbacks: Any
) -> None:
    client = _client(make_user, "li", "marketing", language="zh-hans")
    page = client.get("/recommendations/runs/").content.decode()
    assert "计算推荐" in page and "推荐计算记录" in page
    with django_capture_on_commit_callbacks(execute=True):
        client.post("/recommendations/runs/start/", {"as_of": AS_OF.isoformat(), "per_list": "3"})
    job = Job.objects.get(kind=JobKind.RECOMMEND)
    assert job.params["language"] == "zh-hans"
    detail = client.get(f"/jobs/{job.pk}/").content.decode()
    assert "推荐计算" in detail  # the job's kind, translated
