"""`patron clv fit/predict` on CDNOW's summary, checked against lifetimes (test-only)."""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import pytest
from lifetimes import BetaGeoFitter
from lifetimes.datasets import load_cdnow_summary
from typer.testing import CliRunner

from patron.cli import app

runner = CliRunner()


@pytest.fixture(scope="module")
def summary_csv(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("clv") / "summary.csv"
    load_cdnow_summary(index_col=[0]).to_csv(path, index=False)
    return path


def test_fit_prints_the_lifetimes_parameters(summary_csv: Path) -> None:
    result = runner.invoke(app, ["clv", "fit", str(summary_csv), "--model", "bgnbd", "--json"])
    assert result.exit_code == 0, result.output
    report = json.loads(result.stdout)
    assert set(report) >= {"model", "params", "log_likelihood", "n", "converged", "seconds"}
    reference = BetaGeoFitter().fit(*load_cdnow_summary(index_col=[0]).T.values)
    for name, value in reference.params_.items():
        assert report["params"][name] == pytest.approx(value, rel=1e-4)
    assert report["n"] == 2357 and report["converged"] is True


def test_predict_adds_p_alive_and_expected_purchases(summary_csv: Path, tmp_path: Path) -> None:
    out = tmp_path / "pred.csv"
    result = runner.invoke(
        app, ["clv", "predict", str(summary_csv), "--horizon", "39", "--out", str(out)]
    )
    assert result.exit_code == 0, result.output
    predicted = pd.read_csv(out, encoding="utf-8-sig")
    data = load_cdnow_summary(index_col=[0])
    reference = BetaGeoFitter().fit(data["frequency"], data["recency"], data["T"])
    expected = reference.conditional_expected_number_of_purchases_up_to_time(
        39, data["frequency"], data["recency"], data["T"]
    )
    assert predicted["expected_purchases"].to_numpy() == pytest.approx(
        expected.to_numpy(), rel=1e-3
    )
    assert predicted["p_alive"].between(0, 1).all()


def test_missing_column_is_named(tmp_path: Path) -> None:
    path = tmp_path / "bad.csv"
    path.write_text("frequency,recency\n1,2\n")
    result = runner.invoke(app, ["clv", "fit", str(path)])
    assert result.exit_code == 1 and "T" in result.output


def test_a_fit_the_data_cannot_identify_names_the_command_line_option(tmp_path: Path) -> None:
    # given five customers: too few to identify BG/NBD's four parameters
    path = tmp_path / "summary.csv"
    path.write_text(
        "customer_id,frequency,recency,T\nC1,2,55,115\nC2,1,90,110\nC3,0,0,88\n"
        "C4,1,17,58\nC5,0,0,118\n"
    )

    # when
    result = runner.invoke(app, ["clv", "fit", str(path)])

    # then
    assert result.exit_code == 1
    assert "On the command line: --penalizer, e.g. --penalizer 0.01." in " ".join(
        result.output.split()
    )
    # and the option it names lets the fit through
    result = runner.invoke(app, ["clv", "fit", str(path), "--penalizer", "0.01"])
    assert result.exit_code == 0, result.output
