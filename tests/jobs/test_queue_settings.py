"""The queue Huey uses, from PATRON_QUEUE_URL: a SQLite file by default, Redis when set."""

from __future__ import annotations

from pathlib import Path

import pytest
from django.core.exceptions import ImproperlyConfigured

from patron.settings import huey_settings


def test_sqlite_file_under_var_by_default(tmp_path: Path) -> None:
    config = huey_settings("", name="patron-x", immediate=False, workers=2)
    assert config["huey_class"] == "huey.SqliteHuey"
    assert str(config["filename"]).endswith("jobs.sqlite3")
    assert config["name"] == "patron-x" and config["immediate"] is False
    assert config["consumer"] == {
        "workers": 2,
        "worker_type": "thread",
        "check_worker_health": True,
    }
    path = tmp_path / "q" / "jobs.db"
    config = huey_settings(f"sqlite:///{path}", name="n", immediate=False, workers=1)
    assert config["filename"] == str(path) and path.parent.is_dir()


def test_redis_when_configured() -> None:
    config = huey_settings("redis://127.0.0.1:6379/3", name="n", immediate=False, workers=1)
    assert config["huey_class"] == "huey.RedisHuey" and config["url"] == "redis://127.0.0.1:6379/3"
    # the class and its arguments are what djhuey builds the queue from
    from huey import RedisHuey

    queue = RedisHuey("n", url=config["url"])
    pool = queue.storage.conn.connection_pool
    assert pool.connection_kwargs["db"] == 3 and pool.connection_kwargs["port"] == 6379


def test_anything_else_is_refused() -> None:
    with pytest.raises(ImproperlyConfigured, match="PATRON_QUEUE_URL must be"):
        huey_settings("amqp://broker", name="n", immediate=False, workers=1)


def test_tests_run_jobs_immediately() -> None:
    from django.conf import settings
    from huey.contrib.djhuey import HUEY

    assert settings.HUEY["immediate"] is True and HUEY.immediate
    assert settings.HUEY["name"].startswith("patron-")  # one queue per database
