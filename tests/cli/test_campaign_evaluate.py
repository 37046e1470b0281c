"""patron campaigns evaluate: a campaign from a contacts file and an orders file, against the same
windows computed with pandas in the test, and the statistics against statsmodels."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from statsmodels.stats.weightstats import CompareMeans, DescrStatsW
from typer.testing import CliRunner

from patron.cli import app

runner = CliRunner()
WINDOW = 14


def _files(tmp_path: Path, *, chinese: bool) -> tuple[Path, Path, pd.DataFrame, pd.DataFrame]:
    rng = np.random.default_rng(21)
    n = 1500
    start = dt.date(2024, 5, 1)
    contacts = pd.DataFrame(
        {
            "customer_id": [f"{i:06d}" for i in range(n)],  # leading zeros are kept
            "treated": rng.random(n) < 0.75,
            "contacted": [start + dt.timedelta(days=int(d)) for d in rng.integers(0, 5, n)],
        }
    )
    rows = []
    for customer, treated, contacted in contacts.itertuples(index=False):
        for day in rng.integers(-60, 40, rng.poisson(2.0 + (0.6 if treated else 0.0))):
            amount = round(float(rng.gamma(2.0, 40.0)), 2)
            rows.append((customer, contacted + dt.timedelta(days=int(day)), amount))
    orders = pd.DataFrame(rows, columns=["customer_id", "date", "amount"])
    orders["order_id"] = [f"O{i}" for i in range(len(orders))]
    # a return inside a window, with its own id: it lowers revenue and is no response
    orders.loc[len(orders)] = [contacts.customer_id[0], contacts.contacted[0], -10.0, "R1"]
    contacts_file = tmp_path / "contacts.csv"
    if chinese:
        out = pd.DataFrame(
            {
                "客户编号": contacts.customer_id,
                "分组": np.where(contacts.treated, "实验组", "对照组"),
                "触达时间": [f"{d:%Y-%m-%d} 10:15" for d in contacts.contacted],
            }
        )
        out.to_csv(contacts_file, index=False, encoding="utf-8-sig")
    else:
        pd.DataFrame(
            {
                "customer_id": contacts.customer_id,
                "group": np.where(contacts.treated, "treatment", "control"),
                "contacted_at": [f"{d:%Y-%m-%d}" for d in contacts.contacted],
            }
        ).to_csv(contacts_file, index=False)
    orders_file = tmp_path / "orders.csv"
    out = orders.assign(status=np.where(orders.amount < 0, "returned", "completed"))
    out.to_csv(orders_file, index=False)
    return contacts_file, orders_file, contacts, orders


@pytest.mark.parametrize("chinese", [True, False])
def test_evaluate_equals_pandas_and_statsmodels(tmp_path: Path, chinese: bool) -> None:
    # given
    contacts_file, orders_file, contacts, orders = _files(tmp_path, chinese=chinese)
    # when
    result = runner.invoke(
        app,
        [
            "campaigns", "evaluate", str(contacts_file), "--source", str(orders_file),
            "--window", str(WINDOW), "--control-share", "0.25", "--json",
        ],
    )  # fmt: skip
    # then
    assert result.exit_code == 0, result.output
    out = json.loads(result.stdout)
    joined = orders.merge(contacts, on="customer_id")
    in_window = (joined.date >= joined.contacted) & (
        joined.date < joined.contacted + pd.Timedelta(days=WINDOW)
    )
    window = joined[in_window]
    spend = window.groupby("customer_id").amount.sum().reindex(contacts.customer_id, fill_value=0)
    bought = window[window.amount > 0].groupby("customer_id").size()
    responded = bought.reindex(contacts.customer_id, fill_value=0) > 0
    treated = contacts.treated.to_numpy()
    for name, mask in (("treatment", treated), ("control", ~treated)):
        group = out[name]
        assert group["customers"] == mask.sum()
        assert group["responders"] == responded.to_numpy()[mask].sum()
        assert group["response_rate"] == pytest.approx(responded.to_numpy()[mask].mean())
        assert group["revenue_per_customer"] == pytest.approx(spend.to_numpy()[mask].mean())
    compare = CompareMeans(
        DescrStatsW(spend.to_numpy()[treated]), DescrStatsW(spend.to_numpy()[~treated])
    )
    low, high = compare.tconfint_diff(alpha=0.05, usevar="unequal")
    revenue = out["uplift"]["revenue_per_customer"]
    assert [revenue["ci_low"], revenue["ci_high"]] == pytest.approx([low, high])
    assert set(out["uplift"]["response_rate"]) >= {"estimate", "ci_low", "ci_high", "p_value"}
    assert 0 <= out["srm_p_value"] <= 1
    assert out["uplift"]["response_rate"]["estimate"] > 0  # the generator's treated buy more


def test_invalid_contacts_are_named_by_line(tmp_path: Path) -> None:
    # given
    contacts = tmp_path / "contacts.csv"
    contacts.write_text(
        "客户编号,分组,触达时间\nA1,实验组,2024-05-01\nA2,未知,2024-05-01\nA3,实验组,\n",
        encoding="utf-8",
    )
    orders = tmp_path / "orders.csv"
    orders.write_text("customer_id,date,amount\nA1,2024-05-02,10\n", encoding="utf-8")
    # when
    result = runner.invoke(
        app, ["campaigns", "evaluate", str(contacts), "--source", str(orders), "--window", "7"]
    )
    # then
    assert result.exit_code == 1
    assert "line 3 分组 '未知': group must be treatment or control" in result.output
    assert "line 4 触达时间: a treatment row needs the time" in result.output
