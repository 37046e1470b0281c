"""A job runs in the language of the person who started it (recorded in its params), so what
its work says (an import's row errors, its error) reads as that person reads the page."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from django.utils import translation
from django.utils.translation import gettext

from patron.core.errors import PatronError
from patron.jobs import services
from patron.jobs.models import Job, JobKind, JobStatus
from patron.jobs.progress import JobProgress
from patron.jobs.services import job_language, job_run

pytestmark = pytest.mark.django_db


@pytest.fixture
def seen(monkeypatch: pytest.MonkeyPatch) -> Iterator[list[str]]:
    """A stand-in work that records the active language, and fails when asked to."""
    languages: list[str] = []

    def work(*, job: Job, progress: JobProgress) -> dict[str, Any]:
        languages.append(translation.get_language())
        if job.params.get("fail"):
            raise PatronError(gettext("Import"))  # a message built while the job runs
        return {}

    monkeypatch.setitem(services.WORK, JobKind.ANALYSIS, work)
    yield languages


@pytest.mark.parametrize(
    ("params", "language"),
    [
        ({"language": "zh-hans"}, "zh-hans"),
        ({"language": "zh-cn"}, "zh-hans"),  # a variant: its nearest supported language
        ({"language": "en"}, "en"),
        ({"language": "fr"}, "en"),  # not offered: LANGUAGE_CODE
        ({}, "en"),  # none recorded (a job started from the command line)
    ],
)
def test_the_work_runs_in_the_recorded_language(
    seen: list[str], params: dict[str, Any], language: str
) -> None:
    job = Job.objects.create(kind=JobKind.ANALYSIS, params=params)
    job_run(job_id=job.pk)
    assert seen == [language]
    # and the worker's own language is back afterwards
    assert translation.get_language() == "en"


def test_a_failing_job_keeps_its_error_in_that_language(seen: list[str]) -> None:
    job = Job.objects.create(kind=JobKind.ANALYSIS, params={"language": "zh-hans", "fail": 1})
    job_run(job_id=job.pk)
    job.refresh_from_db()
    assert (job.status, job.error) == (JobStatus.FAILED, "导入")


def test_the_language_recorded_is_the_active_one() -> None:
    with translation.override("zh-hans"):
        assert job_language() == {"language": "zh-hans"}
    assert job_language() == {"language": "en"}  # nothing active: LANGUAGE_CODE
    translation.deactivate_all()
    try:
        assert job_language() == {}
    finally:
        translation.deactivate()
