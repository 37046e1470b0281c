"""A local Spark session (local[2], two shuffle partitions) for the modules that run on Spark;
a module with settings of its own (test_spark_engine's result-size limit) defines its own."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest


@pytest.fixture(scope="module")
def spark() -> Iterator[Any]:
    from patron.insights.spark_session import spark_session

    session = spark_session(
        "local[2]", {"spark.sql.shuffle.partitions": "2", "spark.default.parallelism": "2"}
    )
    yield session
    session.stop()
