"""A Spark session for an analysis: local by default, a cluster or Spark Connect by URL.

``PATRON_SPARK_MASTER`` (or ``--spark-master``) names where Spark runs: ``local[*]`` (the
default: every core of this machine), ``spark://host:7077``, ``yarn``, ``k8s://...``, or a
Spark Connect server ``sc://host:15002``. ``PATRON_SPARK_CONF`` adds settings, as
``key=value`` pairs separated by spaces or commas (for instance
``spark.driver.memory=2g spark.executor.memory=8g``).

Spark's own console output stays out of Patron's: the driver logs errors only
(``spark_log4j2.properties``), the progress bars are off and so is the web UI unless
asked for. The session's time zone is UTC, so dates read as they are written (the shop's
time zone is applied by Patron's reading, as in DuckDB's file mode).
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any

__all__ = ["DEFAULT_MASTER", "SparkMissing", "spark_conf", "spark_session"]

DEFAULT_MASTER = "local[*]"
LOG_CONFIG = Path(__file__).with_name("spark_log4j2.properties")

#: Settings of every Patron session (a user's PATRON_SPARK_CONF comes on top).
BASE_CONF: dict[str, str] = {
    "spark.app.name": "patron-analysis",
    "spark.sql.session.timeZone": "UTC",
    "spark.ui.showConsoleProgress": "false",
    "spark.ui.enabled": "false",
    "spark.sql.ansi.enabled": "false",
    "spark.sql.execution.arrow.pyspark.enabled": "true",
    "spark.sql.adaptive.enabled": "true",
    # A broadcast join brings its smaller side to the driver first: per-customer tables
    # (customers joined with their predictions) must never go there.
    "spark.sql.autoBroadcastJoinThreshold": "-1",
    # Parquet written for Patron's readers (DuckDB, pandas): plain timestamps, no INT96.
    "spark.sql.parquet.outputTimestampType": "TIMESTAMP_MICROS",
}


class SparkMissing(RuntimeError):
    """PySpark (the ``spark`` extra) is not installed."""


def spark_conf(master: str | None = None, extra: Mapping[str, str] | None = None) -> dict[str, str]:
    """The settings of a session: Patron's base, ``PATRON_SPARK_CONF``, then ``extra``."""
    conf = dict(BASE_CONF)
    java = f"-Dlog4j2.configurationFile=file:{LOG_CONFIG}"
    conf["spark.driver.extraJavaOptions"] = java
    conf["spark.executor.extraJavaOptions"] = java
    for pair in os.environ.get("PATRON_SPARK_CONF", "").replace(",", " ").split():
        key, sep, value = pair.partition("=")
        if not sep or not key.startswith("spark."):
            raise ValueError(f"PATRON_SPARK_CONF: expected spark.key=value, got {pair!r}")
        conf[key] = value
    conf.update(extra or {})
    return conf


def spark_session(master: str | None = None, conf: Mapping[str, str] | None = None) -> Any:
    """A Spark session (an existing one is reused by Spark with these settings on top).

    Raises
    ------
    SparkMissing
        Without PySpark.
    """
    try:
        from pyspark.sql import SparkSession
    except ImportError:
        raise SparkMissing("the Spark engine needs PySpark: pip install 'patron[spark]'") from None
    master = master or os.environ.get("PATRON_SPARK_MASTER")
    if master is None and "PYSPARK_GATEWAY_PORT" in os.environ:
        # started by spark-submit: its master, deploy mode and settings hold
        builder = SparkSession.builder
        for key, value in (conf or {}).items():
            builder = builder.config(key, value)
        session = builder.getOrCreate()
        session.sparkContext.setLogLevel("ERROR")
        return session
    master = master or DEFAULT_MASTER
    settings = spark_conf(master, conf)
    builder = SparkSession.builder
    if master.startswith("sc://"):  # Spark Connect: the server holds the JVM settings
        builder = builder.remote(master)
        for key in ("spark.sql.session.timeZone", "spark.sql.ansi.enabled"):
            builder = builder.config(key, settings[key])
        return builder.getOrCreate()
    os.environ.setdefault("SPARK_LOCAL_IP", "127.0.0.1")
    if master.startswith("local"):
        # Python workers (the CLV scoring) run this interpreter, with Patron installed.
        import sys

        os.environ.setdefault("PYSPARK_PYTHON", sys.executable)
        # Shuffles of a local run: a few partitions per core, not Spark's 200 (adaptive
        # execution coalesces what is left; a cluster keeps its own setting).
        settings.setdefault("spark.sql.shuffle.partitions", "16")
    _start_context(master, settings)
    session = SparkSession.builder.getOrCreate()
    session.sparkContext.setLogLevel("ERROR")
    return session


#: Lines the JVM writes outside log4j that say nothing to a Patron user.
_JVM_NOISE = (
    "WARNING: Using incubator modules",
    "Setting default log level to",
    "To adjust logging level use sc.setLogLevel",
)


def _start_context(master: str, settings: Mapping[str, str]) -> None:
    """Start the JVM with its standard output and error piped through a filter: the JVM's
    own banner lines are dropped, everything else goes to Patron's standard error (never to
    its standard output, which may carry ``--json``)."""
    import subprocess
    import sys
    import threading

    from pyspark import SparkConf, SparkContext
    from pyspark.java_gateway import launch_gateway

    if SparkContext._active_spark_context is not None:
        return
    conf = SparkConf().setMaster(master)
    for key, value in settings.items():
        conf.set(key, value)
    gateway = launch_gateway(
        conf, popen_kwargs={"stdout": subprocess.PIPE, "stderr": subprocess.PIPE}
    )

    def forward(stream: Any) -> None:
        for raw in iter(stream.readline, b""):
            line = raw.decode("utf-8", "replace")
            if not line.startswith(_JVM_NOISE):
                sys.stderr.write(line)

    proc = getattr(gateway, "proc", None)
    for stream in (getattr(proc, "stdout", None), getattr(proc, "stderr", None)):
        if stream is not None:
            threading.Thread(target=forward, args=(stream,), daemon=True).start()
    SparkContext(conf=conf, gateway=gateway)
