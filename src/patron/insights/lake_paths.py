"""Where Spark reads transactions: a local path, or a URI that a Hadoop file system serves.

A lake's data set is often not mounted on the machine that starts the run: it is at
``s3a://bucket/sales/``, ``abfss://container@account.dfs.core.windows.net/sales/``,
``gs://bucket/sales/`` or ``hdfs://namenode/sales/``. Spark reads those through Hadoop's file
system API (the cluster provides the connector, e.g. ``hadoop-aws`` for ``s3a://``), and so
does Patron when it looks at what the path holds: one file or a folder, Parquet or CSV.
``file://`` URIs take the same road on the local disk, which is how the road is tested.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from patron.insights.file_rows import NO_ROWS, AnalysisSourceError

__all__ = ["LakeSource", "describe_source", "is_uri", "source_name"]

_URI_RE = re.compile(r"^[A-Za-z][A-Za-z0-9+.-]*://")
_TEXT_SUFFIXES = (".csv", ".txt")

_NO_PATH = "{source} does not exist (or this Spark session cannot see it)"
_NO_FILE_SYSTEM = (
    "Spark has no file system for {scheme}:// here: the session needs its connector "
    "(for s3a://, the hadoop-aws package of Spark's Hadoop {hadoop}: "
    "PATRON_SPARK_CONF='spark.jars.packages=org.apache.hadoop:hadoop-aws:{hadoop}'; "
    "see docs/operating.md)"
)


def is_uri(source: str | Path) -> bool:
    """Whether ``source`` is a URI with a scheme (``s3a://...``), not a local path."""
    return isinstance(source, str) and bool(_URI_RE.match(source))


def source_name(source: str | Path) -> str:
    """The last part of a path or URI, as messages name the data set."""
    if is_uri(source):
        return str(source).rstrip("/").rsplit("/", 1)[-1]
    return Path(source).name


@dataclass(frozen=True)
class LakeSource:
    """What Spark is to read: ``location`` (a local path or a URI), ``format`` (``parquet``
    or ``csv``) and whether it is a folder (read recursively, files of that format only)."""

    location: str
    format: str
    is_dir: bool


def _format_of(name: str) -> str:
    return "csv" if name.lower().endswith(_TEXT_SUFFIXES) else "parquet"


def describe_source(spark: Any, source: str | Path) -> LakeSource:
    """One file or a folder, Parquet (any ``*.parquet`` below it) or else CSV.

    Raises
    ------
    AnalysisSourceError
        The path does not exist, holds neither, or its scheme has no file system here.
    """
    if not is_uri(source):
        return _local(Path(source))
    uri = str(source)
    jvm = getattr(spark, "_jvm", None)
    if jvm is None:  # Spark Connect: the server lists the files, not this process
        is_dir = uri.endswith("/") or "." not in source_name(uri)
        return LakeSource(uri, _format_of(uri) if not is_dir else "parquet", is_dir)
    return _on_hadoop(spark, jvm, uri)


def _local(path: Path) -> LakeSource:
    if not path.exists():
        raise AnalysisSourceError(_NO_PATH.format(source=path))
    if path.is_file():
        return LakeSource(str(path), _format_of(path.name), False)
    if any(path.rglob("*.parquet")):
        return LakeSource(str(path), "parquet", True)
    if any(path.rglob("*.csv")):
        return LakeSource(str(path), "csv", True)
    raise AnalysisSourceError(NO_ROWS.format(name=path.name))


def _on_hadoop(spark: Any, jvm: Any, uri: str) -> LakeSource:
    from py4j.protocol import Py4JJavaError

    scheme = uri.split("://", 1)[0]
    try:
        path = jvm.org.apache.hadoop.fs.Path(uri)
        system = path.getFileSystem(spark._jsc.hadoopConfiguration())
        if not system.exists(path):
            raise AnalysisSourceError(_NO_PATH.format(source=uri))
        if system.getFileStatus(path).isFile():
            return LakeSource(uri, _format_of(uri), False)
        has_csv = False
        files = system.listFiles(path, True)
        while files.hasNext():
            name = files.next().getPath().getName().lower()
            if name.endswith(".parquet"):
                return LakeSource(uri, "parquet", True)
            has_csv = has_csv or name.endswith(".csv")
    except Py4JJavaError as error:
        text = str(error.java_exception.toString())
        # no file system registered for the scheme, or its class (the connector) not installed
        if "UnsupportedFileSystemException" in text or "ClassNotFoundException" in text:
            hadoop = jvm.org.apache.hadoop.util.VersionInfo.getVersion()
            raise AnalysisSourceError(
                _NO_FILE_SYSTEM.format(scheme=scheme, hadoop=hadoop)
            ) from None
        raise AnalysisSourceError(f"{uri}: {error.java_exception.getMessage()}") from None
    if has_csv:
        return LakeSource(uri, "csv", True)
    raise AnalysisSourceError(NO_ROWS.format(name=source_name(uri)))
