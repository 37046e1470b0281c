"""Spark reads a lake's data set by URI (s3a://, hdfs://, ...) as it reads a local folder.

The URI road goes through Hadoop's file system API, the same for every scheme; ``file://``
URIs take it on the local disk, so the same rows must come out of a partitioned Parquet
folder given as a path and as a ``file://`` URI, and out of the same rows as CSV files. A
scheme without a file system in the session (``s3a://`` here: no hadoop-aws) is refused with
what to install, before any network is tried.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import pandas as pd
import pytest

if os.environ.get("CI", "").lower() != "true":
    pytest.importorskip("pyspark", reason="the spark extra is not installed")

pytestmark = pytest.mark.spark

ROWS = pd.DataFrame(
    {
        "order_id": [f"o{i}" for i in range(1, 13)],
        "customer_id": ["c1", "c2", "c3", "c1", "c2", "c1", "c4", "c4", "c2", "c5", "c1", "c3"],
        "order_date": [f"2024-{m:02d}-15" for m in (1, 1, 2, 2, 3, 4, 4, 5, 6, 6, 7, 8)],
        "amount": [
            "12.50",
            "8.00",
            "30.00",
            "5.25",
            "19.99",
            "7.10",
            "40.00",
            "3.00",
            "6.50",
            "11.00",
            "9.90",
            "21.00",
        ],
    }
)


@pytest.fixture(scope="module")
def lake(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The rows as a lake holds them: Parquet in month folders, and the same rows as CSV."""
    root = tmp_path_factory.mktemp("lake")
    for month, part in ROWS.groupby(ROWS["order_date"].str[:7]):
        folder = root / "parquet" / f"month={month}"
        folder.mkdir(parents=True)
        part.to_parquet(folder / "part-0.parquet", index=False)
    (root / "csv" / "2024").mkdir(parents=True)
    ROWS.iloc[:6].to_csv(root / "csv" / "2024" / "a.csv", index=False)
    ROWS.iloc[6:].to_csv(root / "csv" / "2024" / "b.csv", index=False)
    (root / "empty").mkdir()
    (root / "empty" / "notes.json").write_text("{}")
    return root


def _rows(spark: Any, source: str | Path) -> pd.DataFrame:
    from patron.insights.spark_source import read_spark_transactions

    read = read_spark_transactions(spark, source)
    try:
        frame = read.frame.select("customer_id", "order_date", "amount_cents").toPandas()
    finally:
        read.release()
    assert read.rows == len(frame) == len(ROWS)
    return frame.sort_values(list(frame.columns), ignore_index=True)


def test_a_uri_reads_what_the_path_reads(spark: Any, lake: Path) -> None:
    # given the lake's Parquet folder as a path, and both its folders as file:// URIs
    by_path = _rows(spark, lake / "parquet")
    # then the rows are the same, and the CSV folder (found as CSV by listing it) gives them too
    pd.testing.assert_frame_equal(_rows(spark, (lake / "parquet").as_uri()), by_path)
    pd.testing.assert_frame_equal(_rows(spark, (lake / "csv").as_uri() + "/"), by_path)
    assert by_path["amount_cents"].sum() == 17424


def test_what_a_uri_holds_is_found_through_hadoop(spark: Any, lake: Path) -> None:
    from patron.insights.lake_paths import LakeSource, describe_source

    uri = (lake / "parquet").as_uri()
    assert describe_source(spark, uri) == LakeSource(uri, "parquet", True)
    one = (lake / "csv" / "2024" / "a.csv").as_uri()
    assert describe_source(spark, one) == LakeSource(one, "csv", False)


@pytest.mark.parametrize(
    ("where", "message"),
    [
        ("s3a://patron-no-such-bucket/sales/", r"no file system for s3a://.*hadoop-aws:\d+\.\d+"),
        ("file:///patron/no/such/folder", "does not exist"),
        ("empty", "has no valid transaction rows"),
    ],
)
def test_a_uri_that_cannot_be_read_says_why(
    spark: Any, lake: Path, where: str, message: str
) -> None:
    from patron.insights.file_rows import AnalysisSourceError
    from patron.insights.spark_source import read_spark_transactions

    source = (lake / where).as_uri() if where == "empty" else where
    with pytest.raises(AnalysisSourceError, match=message):
        read_spark_transactions(spark, source)
