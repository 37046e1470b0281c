"""Huey task: compute a recommendation run in the background."""

from __future__ import annotations

from datetime import date

from huey.contrib.djhuey import db_task


@db_task()
def recommendation_run_task(as_of: str, per_list: int = 10, evaluate_days: int = 30) -> int:
    from patron.recommend.services import recommendation_run_create

    run = recommendation_run_create(
        as_of=date.fromisoformat(as_of), per_list=per_list, evaluate_days=evaluate_days
    )
    return run.pk
