"""Speed, agreement and memory of patron.analytics.clv against lifetimes 0.11.3.

Simulates ``--customers`` customers (default 1,000,000) from a BG/NBD and from a Pareto/NBD
with day-resolution data (ages T of 1-365 whole days, recency truncated to whole days), then
for each model fits it and predicts, for every customer, the expected purchases in the next
90 days and P(alive) -- once with ours and once with lifetimes (BetaGeoFitter,
ParetoNBDFitter) on the same data, each run in a fresh child process so that its peak
resident memory (VmHWM) is its own. BLAS is pinned to one thread in every child
(the machine is shared; a multithreaded BLAS only adds spin-waiting here).

lifetimes' Pareto/NBD (Nelder-Mead over ~1,000 evaluations of the full likelihood) is slow;
``--peer-customers N`` fits the *peer* on a random subsample of N customers, in which case
ours is fitted on the same subsample as well for the side-by-side parameters and ratio, and
the 1M-customer row says "not run". Everything printed comes from this run.

Usage::

    .venv/bin/python benchmarks/clv_speed.py                     # 1M customers, full peers
    .venv/bin/python benchmarks/clv_speed.py --peer-customers 100000
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
import warnings
from pathlib import Path
from typing import Any

import numpy as np

TRUTH = {
    "bgnbd": {"r": 0.24, "alpha": 30.0, "a": 0.8, "b": 2.4},
    "paretonbd": {"r": 0.55, "alpha": 75.0, "s": 0.6, "beta": 80.0},
}
HORIZON_DAYS = 90.0
NAMES = {"bgnbd": "BG/NBD", "paretonbd": "Pareto/NBD"}


def simulate(model: str, n: int, seed: int) -> dict[str, np.ndarray]:
    from patron.analytics.clv.simulate import simulate_bgnbd, simulate_paretonbd

    rng = np.random.default_rng(seed)
    age = rng.integers(1, 366, size=n).astype(np.float64)
    sampler = simulate_bgnbd if model == "bgnbd" else simulate_paretonbd
    x, tx, big_t = sampler(age, seed=rng, **TRUTH[model])
    return {"frequency": x, "recency": np.floor(tx), "T": big_t}


def _peak_kb() -> int:
    """This process's own resident high-water mark (VmHWM); ``ru_maxrss`` of a child started
    from the (large) benchmark process starts at the parent's size."""
    with open("/proc/self/status") as status:
        for line in status:
            if line.startswith("VmHWM:"):
                return int(line.split()[1])
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss


def child(impl: str, model: str, path: str, tol: str = "") -> None:
    """Fit and predict in this (fresh) process; print one JSON line."""
    data = np.load(path)
    x, tx, big_t = data["frequency"], data["recency"], data["T"]
    rss_before = _peak_kb()
    out: dict[str, Any] = {"n": int(x.shape[0])}
    if impl == "ours":
        from patron.analytics.clv import BGNBD, ParetoNBD

        est = BGNBD() if model == "bgnbd" else ParetoNBD()
        t0 = time.perf_counter()
        est.fit(x, tx, big_t)
        t1 = time.perf_counter()
        e = est.expected_purchases(HORIZON_DAYS, x, tx, big_t)
        p = est.p_alive(x, tx, big_t)
        t2 = time.perf_counter()
        out["params"] = est.params_
        out["loglik"] = est.log_likelihood_
    else:
        warnings.simplefilter("ignore")
        import pandas as pd
        from lifetimes import BetaGeoFitter, ParetoNBDFitter

        from patron.analytics.clv import BGNBD, ParetoNBD

        xs, txs, ts = pd.Series(x), pd.Series(tx), pd.Series(big_t)
        est = BetaGeoFitter() if model == "bgnbd" else ParetoNBDFitter()
        options: dict[str, Any] = {"tol": float(tol), "maxiter": 20_000} if tol else {}
        t0 = time.perf_counter()
        est.fit(xs, txs, ts, **options)
        t1 = time.perf_counter()
        e = np.asarray(
            est.conditional_expected_number_of_purchases_up_to_time(HORIZON_DAYS, xs, txs, ts)
        )
        p = np.asarray(est.conditional_probability_alive(xs, txs, ts))
        t2 = time.perf_counter()
        out["params"] = {k: float(v) for k, v in est.params_.items()}
        ours = (BGNBD if model == "bgnbd" else ParetoNBD).from_params(**out["params"])
        out["loglik"] = float(ours.loglik(x, tx, big_t).sum())  # same formula for both
    out.update(
        fit_s=t1 - t0,
        predict_s=t2 - t1,
        finite=bool(np.all(np.isfinite(e)) and np.all(np.isfinite(p))),
        e_sum=float(np.sum(e)),
        rss_base_mb=rss_before / 1024,
        rss_peak_mb=_peak_kb() / 1024,
    )
    print(json.dumps(out))


def run_child(impl: str, model: str, path: str, tol: str = "") -> dict[str, Any]:
    env = dict(os.environ, OPENBLAS_NUM_THREADS="1", OMP_NUM_THREADS="1", MKL_NUM_THREADS="1")
    proc = subprocess.run(
        [sys.executable, __file__, "--child", impl, model, path, *([tol] if tol else [])],
        capture_output=True,
        text=True,
        env=env,
        check=False,
    )
    if proc.returncode != 0:
        return {"error": proc.stderr.strip().splitlines()[-1] if proc.stderr else "failed"}
    result: dict[str, Any] = json.loads(proc.stdout.strip().splitlines()[-1])
    return result


def rel_diff(a: dict[str, float], b: dict[str, float]) -> float:
    return max(abs(a[k] - b[k]) / abs(b[k]) for k in a)


def fmt_params(p: dict[str, float]) -> str:
    return " ".join(f"{k}={v:.6g}" for k, v in p.items())


def report_row(label: str, ours: dict[str, Any], peer: dict[str, Any] | None) -> None:
    o_tot = ours["fit_s"] + ours["predict_s"]
    print(f"\n{label}")
    print(
        f"  ours      n={ours['n']:>9,}  fit {ours['fit_s']:8.2f} s  predict "
        f"{ours['predict_s']:6.2f} s  total {o_tot:8.2f} s  peak RSS {ours['rss_peak_mb']:7.0f} MB"
        f"  loglik {ours['loglik']:.6f}"
    )
    print(f"            params: {fmt_params(ours['params'])}")
    if peer is None:
        print("  lifetimes not run at this size (see the subsample row)")
        return
    if "error" in peer:
        print(f"  lifetimes FAILED: {peer['error']}")
        return
    p_tot = peer["fit_s"] + peer["predict_s"]
    print(
        f"  lifetimes n={peer['n']:>9,}  fit {peer['fit_s']:8.2f} s  predict "
        f"{peer['predict_s']:6.2f} s  total {p_tot:8.2f} s  peak RSS {peer['rss_peak_mb']:7.0f} MB"
        f"  loglik {peer['loglik']:.6f}"
    )
    print(f"            params: {fmt_params(peer['params'])}")
    print(
        f"  ratio lifetimes/ours: fit {peer['fit_s'] / ours['fit_s']:.1f}x, total "
        f"{p_tot / o_tot:.1f}x;  max relative param difference "
        f"{rel_diff(ours['params'], peer['params']):.2e};  loglik ours - lifetimes "
        f"{ours['loglik'] - peer['loglik']:+.3e};  predictions finite: "
        f"ours {ours['finite']}, lifetimes {peer['finite']}"
    )


def report_agreement(ours: dict[str, Any], peer: dict[str, Any]) -> None:
    """Parameters of lifetimes run to a tight tolerance, against ours, to 4 significant
    digits (its time is not a speed figure: the default tolerance is what users get)."""
    if "error" in peer:
        print(f"  lifetimes (tol 1e-10) FAILED: {peer['error']}")
        return
    four = all(f"{ours['params'][k]:.4g}" == f"{peer['params'][k]:.4g}" for k in ours["params"])
    print(
        f"  lifetimes at tol 1e-10 (fit {peer['fit_s']:.0f} s): {fmt_params(peer['params'])}"
        f"\n            max relative param difference "
        f"{rel_diff(ours['params'], peer['params']):.2e};  loglik ours - lifetimes "
        f"{ours['loglik'] - peer['loglik']:+.3e};  same to 4 significant digits: {four}"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--customers", type=int, default=1_000_000)
    parser.add_argument("--seed", type=int, default=42)
    parser.add_argument(
        "--peer-customers",
        type=int,
        default=0,
        help="fit lifetimes' Pareto/NBD on a random subsample of this many customers "
        "(0: all customers). BG/NBD always runs at full size.",
    )
    parser.add_argument("--models", default="bgnbd,paretonbd")
    parser.add_argument("--skip-peer", action="store_true", help="time ours only")
    parser.add_argument(
        "--peer-converged",
        action="store_true",
        help="also fit lifetimes' Pareto/NBD to tol 1e-10 (parameters only): at its default "
        "tol 1e-4 its Nelder-Mead stops before the optimum, short of 4 significant digits",
    )
    parser.add_argument("--child", nargs="+", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        child(*args.child)
        return

    import lifetimes

    print(
        f"patron.analytics.clv vs lifetimes {lifetimes.__version__}: {args.customers:,} "
        f"simulated customers, seed {args.seed}, T uniform on 1..365 whole days, recency in "
        f"whole days; predict = E[purchases in next {HORIZON_DAYS:.0f} days] + P(alive) for "
        "every customer. Each run in its own process, BLAS single-threaded; peak RSS is "
        "the child's VmHWM (includes the interpreter, libraries and the data)."
    )
    with tempfile.TemporaryDirectory() as tmp:
        for model in args.models.split(","):
            data = simulate(model, args.customers, args.seed)
            path = str(Path(tmp) / f"{model}.npz")
            np.savez(path, **data)
            rows = np.unique(np.column_stack(list(data.values())), axis=0).shape[0]
            truth = fmt_params(TRUTH[model])
            print(f"\n=== {NAMES[model]} (truth: {truth}; {rows:,} distinct (x, t_x, T) rows)")
            ours = run_child("ours", model, path)
            if "error" in ours:
                print(f"  ours FAILED: {ours['error']}")
                continue
            sub = args.peer_customers
            if args.skip_peer:
                report_row(f"{NAMES[model]} @ {args.customers:,}", ours, None)
                continue
            if model == "bgnbd" or sub <= 0 or sub >= args.customers:
                report_row(
                    f"{NAMES[model]} @ {args.customers:,}", ours, run_child("peer", model, path)
                )
                if model == "paretonbd" and args.peer_converged:
                    tight = run_child("peer", model, path, "1e-10")
                    report_agreement(ours, tight)
                continue
            report_row(f"{NAMES[model]} @ {args.customers:,} (full size)", ours, None)
            pick = np.random.default_rng(args.seed + 1).choice(args.customers, sub, replace=False)
            sub_path = str(Path(tmp) / f"{model}_sub.npz")
            np.savez(sub_path, **{k: v[pick] for k, v in data.items()})
            label = (
                f"{NAMES[model]} @ {sub:,} (random subsample; lifetimes is too slow at full size)"
            )
            report_row(
                label, run_child("ours", model, sub_path), run_child("peer", model, sub_path)
            )


if __name__ == "__main__":
    main()
