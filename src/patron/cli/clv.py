"""clv fit, clv predict: lifetime-value models on a per-customer summary file (no database)."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.markup import escape

from patron.cli.common import JsonOption, console, err_console, print_json

clv_app = typer.Typer(
    help="Lifetime-value models (BG/NBD, MBG/NBD, Pareto/NBD, BG/BB, Gamma-Gamma) on a "
    "summary file with columns frequency, recency, T (or n_periods, monetary_value).",
    no_args_is_help=True,
)

MODELS = {
    "bgnbd": "BGNBD",
    "mbgnbd": "MBGNBD",
    "pnbd": "ParetoNBD",
    "bgbb": "BGBB",
    "gg": "GammaGamma",
}
ModelOption = Annotated[
    str, typer.Option("--model", help="bgnbd | mbgnbd | pnbd | bgbb | gg", case_sensitive=False)
]
SummaryArgument = Annotated[
    Path, typer.Argument(exists=True, dir_okay=False, help="CSV (or .parquet) summary file.")
]
PenalizerOption = Annotated[float, typer.Option("--penalizer", help="L2 penalty on parameters.")]


def _read_summary(path: Path) -> Any:
    import pandas as pd

    frame = pd.read_parquet(path) if path.suffix in {".parquet", ".pq"} else pd.read_csv(path)
    frame.columns = [str(c).strip() for c in frame.columns]
    return frame


def _columns(frame: Any, model: str) -> tuple[list[Any], Any]:
    """The model's input columns, named as lifetimes names them, and the optional weights."""
    needed = {
        "gg": ["frequency", "monetary_value"],
        "bgbb": ["frequency", "recency", "n_periods"],
    }.get(model, ["frequency", "recency", "T"])
    missing = [c for c in needed if c not in frame.columns]
    if missing:
        err_console.print(
            f"[red]Error:[/red] the summary file needs the column(s) {', '.join(missing)} for "
            f"--model {model}; it has {escape(', '.join(map(str, frame.columns)))}.",
            soft_wrap=True,
        )
        raise typer.Exit(1)
    if model == "gg":
        frame = frame[frame["frequency"] > 0]
    weights = frame["weight"].to_numpy() if "weight" in frame.columns else None
    return [frame[c].to_numpy() for c in needed], weights


def _fit(frame: Any, model: str, penalizer: float) -> Any:
    from patron.analytics import clv

    if model not in MODELS:
        err_console.print(
            f"[red]Error:[/red] unknown model {model!r}; use one of {', '.join(MODELS)}."
        )
        raise typer.Exit(1)
    columns, weights = _columns(frame, model)
    estimator = getattr(clv, MODELS[model])(penalizer_coef=penalizer)
    try:
        return estimator.fit(*columns, weights=weights)
    except (ValueError, clv.ConvergenceError) as error:
        message = str(error)
        if "penalizer_coef" in message:  # the estimator's name for what this command calls
            message += " On the command line: --penalizer, e.g. --penalizer 0.01."
        err_console.print(f"[red]Error:[/red] {escape(message)}", soft_wrap=True, highlight=False)
        raise typer.Exit(1) from None


@clv_app.command("fit")
def fit(
    summary: SummaryArgument,
    model: ModelOption = "bgnbd",
    penalizer: PenalizerOption = 0.0,
    as_json: JsonOption = False,
) -> None:
    """Fit a model; print its parameters, log-likelihood and standard errors."""
    model = model.lower()
    frame = _read_summary(summary)
    started = time.perf_counter()
    fitted = _fit(frame, model, penalizer)
    result = {
        "model": model,
        "params": fitted.params_,
        "standard_errors": fitted.standard_errors_,
        "log_likelihood": fitted.log_likelihood_,
        "n": int(fitted.n_),
        "converged": bool(fitted.converged_),
        "iterations": int(fitted.n_iter_),
        "seconds": round(time.perf_counter() - started, 4),
    }
    if as_json:
        print_json(result)
        return
    console.print(
        f"{MODELS[model]} on {result['n']:,} customers "
        f"({result['seconds']:.2f} s, converged: {result['converged']})"
    )
    for name, value in result["params"].items():
        console.print(f"  {name:>6} = {value:.6g}  (se {result['standard_errors'][name]:.3g})")
    console.print(f"  log-likelihood {result['log_likelihood']:.4f}")


@clv_app.command("predict")
def predict(
    summary: SummaryArgument,
    model: ModelOption = "bgnbd",
    horizon: Annotated[
        float, typer.Option("--horizon", help="Time ahead, in the summary's unit.")
    ] = 30.0,
    out: Annotated[
        Path | None, typer.Option("--out", help="CSV to write (default: stdout).")
    ] = None,
    penalizer: PenalizerOption = 0.0,
) -> None:
    """Fit, then add p_alive and expected_purchases (or expected_spend for gg) per customer."""
    model = model.lower()
    frame = _read_summary(summary)
    fitted = _fit(frame, model, penalizer)
    result = frame.copy()
    if model == "gg":
        result["expected_spend"] = fitted.expected_spend(
            frame["frequency"].to_numpy(), frame["monetary_value"].to_numpy()
        )
    else:
        third = "n_periods" if model == "bgbb" else "T"
        args = (frame["frequency"].to_numpy(), frame["recency"].to_numpy(), frame[third].to_numpy())
        result["p_alive"] = fitted.p_alive(*args)
        result["expected_purchases"] = fitted.expected_purchases(horizon, *args)
    from patron.core.cells import neutralise_frame

    result = neutralise_frame(result)  # customer ids are the shop's text, never a formula
    if out is None:
        console.file.write(result.to_csv(index=False))
    else:
        result.to_csv(out, index=False, encoding="utf-8-sig", lineterminator="\r\n")
        console.print(f"Wrote {len(result):,} customers to {out}")
