"""The Spark driver's resident memory by Patron's step: where the Python driver's peak is.

Runs ``analyze_on_spark`` in this process as ``patron analyze --engine spark`` does (local[2],
``spark.driver.memory=3g``, no KPIs), samples this process's resident memory every 0.1 s and
prints the highest value seen during each step (the CLV's own steps, model choice, fit rows,
spend rows and the scoring figures, are marked separately). docs/operating.md, "The driver
is flat", used it on the data sets of ``benchmarks/spark_scale.py``:

    python benchmarks/spark_driver_memory.py /work/spark_data/tx_10000000 /tmp/out10
"""

from __future__ import annotations

import os
import sys
import threading
import time
from pathlib import Path
from typing import Any


def _resident_mb(field: str = "VmRSS:") -> int:
    with open("/proc/self/status") as status:
        for line in status:
            if line.startswith(field):
                return int(line.split()[1]) // 1024
    return 0


def main(source: str, out: str) -> None:
    os.environ.setdefault("PATRON_SPARK_CONF", "spark.driver.memory=3g")
    state: dict[str, Any] = {"step": "imports", "peaks": {}, "start": time.perf_counter()}

    def sample() -> None:
        while True:
            step, now = state["step"], _resident_mb()
            state["peaks"][step] = max(state["peaks"].get(step, 0), now)
            time.sleep(0.1)

    def say(name: str) -> None:
        took = time.perf_counter() - state["start"]
        print(f"{took:7.1f} s {_resident_mb():6d} MB  {name}", flush=True)
        state["step"] = name

    threading.Thread(target=sample, daemon=True).start()
    import patron.insights.spark_predict as predict
    from patron.analytics.report import AnalysisSettings
    from patron.insights.spark_run import analyze_on_spark

    for name in ("_choice", "_fit_rows", "_spend_rows", "score_figures"):
        inner = getattr(predict, name)

        def marked(*args: Any, _inner: Any = inner, _name: str = name, **kwargs: Any) -> Any:
            outer = state["step"]
            say(f"{outer} / {_name}")
            try:
                return _inner(*args, **kwargs)
            finally:
                say(f"{outer} (after {_name})")

        setattr(predict, name, marked)
    analyze_on_spark(
        source,
        settings=AnalysisSettings(kpis=False),
        out=Path(out),
        master="local[2]",
        step=say,
    )
    say("done")
    print("\npeak MB  step")
    for step, peak in state["peaks"].items():
        print(f"{peak:7d}  {step}")
    print(f"process peak (VmHWM): {_resident_mb('VmHWM:')} MB")


if __name__ == "__main__":
    if len(sys.argv) != 3:
        raise SystemExit(__doc__)
    main(sys.argv[1], sys.argv[2])
