"""patron analyze --source: the CDNOW log against an analyst's pandas, the report, bad rows."""

from __future__ import annotations

import json
import math
import re
from pathlib import Path

import lifetimes
import numpy as np
import pandas as pd
import pytest
from typer.testing import CliRunner

from patron.cli import app

CDNOW = Path(lifetimes.__file__).parent / "datasets" / "CDNOW_master.txt"
runner = CliRunner()


@pytest.fixture(scope="module")
def cdnow_run(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict]:
    out = tmp_path_factory.mktemp("cdnow")
    result = runner.invoke(
        app,
        [
            "analyze",
            "--source",
            str(CDNOW),
            "--out",
            str(out / "run"),
            "--report",
            str(out / "report.html"),
            "--json",
        ],
    )
    assert result.exit_code == 0, result.output
    return out, json.loads(result.stdout)


@pytest.fixture(scope="module")
def reference() -> pd.DataFrame:
    """Recency, frequency and monetary written in plain pandas, as an analyst would."""
    raw = pd.read_csv(CDNOW, sep=r"\s+", dtype={"customer_id": str, "date": str})
    raw["date"] = pd.to_datetime(raw["date"], format="%Y%m%d")
    as_of = raw["date"].max() + pd.Timedelta(days=1)  # the default: day after the last purchase
    raw["cents"] = np.rint(raw["dollar_value"] * 100).astype(np.int64)
    per = raw.groupby("customer_id").agg(
        last=("date", "max"), frequency=("date", "size"), cents=("cents", "sum")
    )
    per["recency_days"] = (as_of - per["last"]).dt.days
    per["monetary"] = per["cents"] / 100
    return per.reset_index()


def test_customers_csv_equals_pandas_on_cdnow(
    cdnow_run: tuple[Path, dict], reference: pd.DataFrame
) -> None:
    # given the CLI's customers.csv on the real CDNOW log
    out, _ = cdnow_run
    path = out / "run" / "customers.csv"
    assert path.read_bytes()[:3] == b"\xef\xbb\xbf"  # utf-8-sig for Excel
    ours = pd.read_csv(path, encoding="utf-8-sig", dtype={"customer_id": str})

    # then it has the documented columns and one row per customer
    assert list(ours.columns) == [
        "customer_id",
        "recency_days",
        "frequency",
        "monetary",
        "r_score",
        "f_score",
        "m_score",
        "segment",
        "value_tier",
        "profit_group",
        "revenue",
        "cost",
        "margin",
        "cost_to_serve",
        "profit",
        "p_alive",
        "expected_purchases",
        "clv",
        "churn_risk",
    ]
    assert len(ours) == len(reference) == 23_570
    merged = reference.merge(ours, on="customer_id", suffixes=("_ref", ""), validate="1:1")
    assert len(merged) == len(reference)
    # and recency, frequency and monetary equal the pandas reference (monetary to the cent)
    assert (merged["recency_days"] == merged["recency_days_ref"]).all()
    assert (merged["frequency"] == merged["frequency_ref"]).all()
    assert (np.rint(merged["monetary"] * 100) == merged["cents"]).all()
    # and the scores are 1-5 with each quintile a fifth of the customers (to within one)
    for column in ("r_score", "f_score", "m_score"):
        counts = ours[column].value_counts()
        assert sorted(counts.index) == [1, 2, 3, 4, 5]
        assert counts.max() - counts.min() <= 1
    # and the pyramid follows the 1/4/15/30/50 % rule by revenue (no costs in CDNOW)
    n = len(merged)
    ends = [math.ceil(share * n) for share in (0.01, 0.05, 0.20, 0.50, 1.0)]
    sizes = np.diff([0, *ends])
    best_first = merged.sort_values(["cents", "customer_id"], ascending=[False, True])
    expected_tier = np.repeat(["very_high", "high", "moderate", "low", "very_low"], sizes)
    assert (best_first["value_tier"].to_numpy() == expected_tier).all()
    # and the four groups: the customers with a positive value split 20/30/50 % by rank into
    # high, medium and low profit; the others have none
    positive = int((best_first["cents"] > 0).sum())
    ends = [math.ceil(share * positive) for share in (0.2, 0.5, 1.0)]
    sizes = np.diff([0, *ends])
    expected_group = np.repeat(["high", "medium", "low"], sizes).tolist()
    expected_group += ["no_profit"] * (n - positive)
    assert best_first["profit_group"].tolist() == expected_group


def test_summary_json_equals_pandas(cdnow_run: tuple[Path, dict], reference: pd.DataFrame) -> None:
    out, printed = cdnow_run
    summary = json.loads((out / "run" / "summary.json").read_text(encoding="utf-8"))
    cents = np.sort(reference["cents"].to_numpy())[::-1]
    total = int(cents.sum())
    top = math.ceil(0.2 * len(cents))
    # Gini as one minus twice the area under the Lorenz curve (trapezoids)
    ascending = cents[::-1].astype(np.float64)
    area = (2 * np.cumsum(ascending).sum() - total) / (len(cents) * total)
    assert summary["customers"] == 23_570
    assert summary["revenue"] == total / 100 == 2_500_315.63
    assert summary["top20_revenue_share"] == pytest.approx(cents[:top].sum() / total, abs=1e-12)
    assert summary["gini"] == pytest.approx(1 - area, abs=1e-9)
    assert summary["tiers"] == {
        "very_high": 236,
        "high": 943,
        "moderate": 3535,
        "low": 7071,
        "very_low": 11_785,
    }
    assert sum(summary["segments"].values()) == 23_570
    assert sum(summary["profit_groups"].values()) == 23_570
    assert [row["level"] for row in summary["profit_group_table"]] == [
        "high", "medium", "low", "no_profit",
    ]  # fmt: skip
    assert printed["summary"]["customers"] == 23_570


def test_report_is_one_offline_file_with_charts(cdnow_run: tuple[Path, dict]) -> None:
    out, _ = cdnow_run
    html = (out / "report.html").read_text(encoding="utf-8")
    assert html.count("<svg") >= 3  # pyramid, heatmap, Lorenz (+ revenue trend)
    assert not re.search(r"https?://", html)  # nothing fetched from anywhere
    assert not re.search(r"<(script|link|img|iframe)\b", html)
    assert "客户金字塔" in html and "Value pyramid" in html
    assert "Champions" in html and "冠军客户" in html
    # and the four profit groups, with the counts of summary.json
    summary = json.loads((out / "run" / "summary.json").read_text(encoding="utf-8"))
    groups = html.split('id="profit-groups"', 1)[1].split("</section>", 1)[0]
    assert "利润分组" in groups and "High profit" in groups and "无利润" in groups
    for count in summary["profit_groups"].values():
        assert f'<td class="n">{count:,}</td>' in groups


def test_report_in_one_language(tmp_path: Path) -> None:
    path = tmp_path / "small.csv"
    path.write_text("customer_id,date,amount\nA,2024-01-02,10\nB,2024-02-03,20\n", encoding="utf-8")
    report = tmp_path / "r.html"
    result = runner.invoke(
        app,
        ["analyze", "--source", str(path), "--report", str(report), "--lang", "zh-hans", "--json"],
    )
    assert result.exit_code == 0, result.output
    html = report.read_text(encoding="utf-8")
    assert "客户金字塔" in html and "Value pyramid" not in html


def test_invalid_rows_are_reported_by_line_and_nothing_is_written(tmp_path: Path) -> None:
    path = tmp_path / "bad.csv"
    path.write_text(
        "customer_id,date,amount\nA,2024-01-02,10\nB,2024-02-03,abc\n", encoding="utf-8"
    )
    result = runner.invoke(app, ["analyze", "--source", str(path), "--out", str(tmp_path / "o")])
    assert result.exit_code == 1
    assert "line 3" in result.output and "1 of 2 rows" in result.output
    assert not (tmp_path / "o").exists()
    # and with --skip-bad the good row is analysed
    result = runner.invoke(
        app,
        ["analyze", "--source", str(path), "--skip-bad", "--json", "--out", str(tmp_path / "o")],
    )
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout)["summary"]["customers"] == 1


def test_source_path_never_sets_django_up(tmp_path: Path) -> None:
    import subprocess
    import sys

    path = tmp_path / "small.csv"
    path.write_text("customer_id,date,amount\nA,2024-01-02,10\n", encoding="utf-8")
    code = (
        "import sys\nfrom patron.cli import app\n"
        f"app(['analyze', '--source', {str(path)!r}, '--json'], standalone_mode=False)\n"
        "import django.apps\nassert not django.apps.apps.ready, 'django was set up'\n"
        "assert 'patron.insights.models' not in sys.modules\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", code],
        capture_output=True,
        text=True,
        env={"PATH": "/usr/bin:/bin"},
        timeout=60,
    )
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout)["summary"]["as_of"] == "2024-01-03"


def test_customers_csv_predictions_equal_lifetimes_with_the_chosen_model(
    cdnow_run: tuple[Path, dict],
) -> None:
    from lifetimes import ModifiedBetaGeoFitter, ParetoNBDFitter

    # given the file-mode run's customers.csv and summary.json on CDNOW
    out, _ = cdnow_run
    ours = pd.read_csv(
        out / "run" / "customers.csv", encoding="utf-8-sig", dtype={"customer_id": str}
    )
    summary = json.loads((out / "run" / "summary.json").read_text(encoding="utf-8"))
    predictive = summary["predictive"]
    chosen = predictive["model_choice"]["chosen"]
    assert chosen in {"mbgnbd", "paretonbd"} and predictive["params"]["gammagamma_skipped"] is None

    # then P(alive) is lifetimes' with the run's parameters, on purchase days counted by pandas
    raw = pd.read_csv(CDNOW, sep=r"\s+", dtype={"customer_id": str, "date": str})
    raw["date"] = pd.to_datetime(raw["date"], format="%Y%m%d")
    days = raw[["customer_id", "date"]].drop_duplicates()
    as_of = pd.Timestamp(summary["as_of"])
    per = days.groupby("customer_id")["date"].agg(["count", "min", "max"])
    x = per["count"] - 1
    tx = (per["max"] - per["min"]).dt.days / 7
    big_t = (as_of - per["min"]).dt.days / 7
    model = {"mbgnbd": ModifiedBetaGeoFitter, "paretonbd": ParetoNBDFitter}[chosen]()
    model.params_ = pd.Series(predictive["params"][chosen])
    expected = pd.Series(model.conditional_probability_alive(x, tx, big_t), index=per.index)
    shown = ours.set_index("customer_id")["p_alive"]
    np.testing.assert_allclose(shown.loc[per.index], expected, atol=2e-6)
    # and every customer has a CLV and a churn risk
    assert (ours["clv"] >= 0).all() and ours["clv"].notna().all()
    assert set(ours["churn_risk"]) <= {"high", "medium", "low"}


def test_the_cli_keeps_uris_for_spark(tmp_path: Path) -> None:
    # a URI on the DuckDB engine, and a local path that does not exist, are refused as usage
    uri = runner.invoke(app, ["analyze", "--source", "s3a://bucket/sales/", "--engine", "duckdb"])
    assert uri.exit_code == 2 and "--engine spark" in uri.output
    missing = runner.invoke(app, ["analyze", "--source", str(tmp_path / "nothing.csv")])
    assert missing.exit_code == 2 and "does not exist" in missing.output
