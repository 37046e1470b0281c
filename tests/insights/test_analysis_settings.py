"""Analysis settings: saved by an administrator, used by every later run of the store.

The B2B variant, RFM thresholds, tier cuts and cost to serve (per service contact and per
message, counted from the customers' interactions) are checked against plain Python written
here from the rules in docs/analytics/value.md, not against the library's own functions.
"""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path
from typing import Any

import ibis
import pandas as pd
import pytest
from django.test import Client
from django.utils import timezone
from typer.testing import CliRunner

from patron.analytics.profitability import ProfitSettings
from patron.analytics.report import AnalysisSettings, analyze_transactions
from patron.analytics.rfm import RFMThresholds, rfm_b2b
from patron.analytics.segments import assign_segments
from patron.cli import app
from patron.customers.models import Customer, Interaction, InteractionKind
from patron.insights.models import CustomerScore
from patron.insights.selectors import analysis_settings_get
from patron.insights.services import analysis_run_create, analysis_settings_save

runner = CliRunner()
AS_OF = dt.date(2024, 7, 1)


def _transactions() -> pd.DataFrame:
    """Twelve B2B accounts ordering at different paces over two years."""
    rows = []
    for account in range(12):
        for k in range(account + 1):
            day = dt.date(2022, 7, 1) + dt.timedelta(days=(account * 41 + k * 67) % 730)
            rows.append((f"A{account:02d}", day, f"O{account:02d}-{k}", 100.0 + 7 * account + k))
    return pd.DataFrame(rows, columns=["customer_id", "order_date", "order_id", "amount"])


def test_b2b_variant_scores_the_run_by_periods() -> None:
    # given transactions and the B2B variant over two half-years
    frame = _transactions()
    settings = AnalysisSettings(rfm_variant="b2b", b2b_half_years=2, kpis=False)

    # when the whole analysis runs with it
    result = analyze_transactions(ibis.memtable(frame), as_of=AS_OF, settings=settings)

    # then R, F and M are those of the B2B rule and the segments follow from them
    b2b = rfm_b2b(ibis.memtable(frame), as_of=AS_OF, half_years=2)
    customers = result.customers
    for column in ("r_score", "f_score", "m_score"):
        assert customers[column].tolist() == b2b[column].tolist()
    assert customers["segment"].tolist() == assign_segments(b2b)["segment"].tolist()
    # and R is the quarter of the last order, counted back from the as-of date
    last = frame.groupby("customer_id")["order_date"].max()
    for row in customers.itertuples():
        quarters = sum(
            last[row.customer_id] <= (pd.Timestamp(AS_OF) - pd.DateOffset(months=3 * k)).date()
            for k in range(1, 5)
        )
        assert row.r_score == max(1, 5 - quarters)
    # and the plain measures are still days, orders and revenue
    assert customers["frequency"].tolist() == frame.groupby("customer_id").size().tolist()


@pytest.mark.parametrize(
    ("values", "message"),
    [
        ({"rfm_method": "deciles"}, "rfm_method"),
        ({"rfm_method": "thresholds"}, "rfm_thresholds"),
        ({"rfm_variant": "retail"}, "rfm_variant"),
        ({"b2b_half_years": 0}, "b2b_half_years"),
        ({"lost_after_days": 0}, "lost_after_days"),
        ({"tier_shares": (0.5, 0.5, 0.5, 0.0, 0.0)}, "shares"),
        ({"tier_thresholds": (1.0, 2.0, 3.0, 4.0)}, "thresholds"),
    ],
)
def test_bad_settings_are_refused_when_made(values: dict[str, Any], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        AnalysisSettings(**values)


def test_settings_from_a_dict_name_an_unknown_key() -> None:
    with pytest.raises(ValueError, match=r"unknown analysis setting.*tier_share\b"):
        AnalysisSettings.from_dict({"tier_share": [0.2] * 5})
    with pytest.raises(ValueError, match="invalid analysis settings"):
        AnalysisSettings.from_dict({"profit": {"per_orders": 1}})


@pytest.mark.django_db(transaction=True)
def test_a_store_run_uses_the_saved_settings_and_counts_contacts(tmp_path: Path) -> None:
    # given a store of six customers, interactions, and saved settings
    frame = _transactions()
    frame = frame[frame["customer_id"] < "A06"]
    csv = tmp_path / "orders.csv"
    frame.to_csv(csv, index=False)
    imported = runner.invoke(app, ["import", "transactions", str(csv)])
    assert imported.exit_code == 0, imported.output
    when = timezone.make_aware(dt.datetime(2024, 3, 5, 10))
    a03 = Customer.objects.get(external_id="A03")
    kinds = [InteractionKind.CALL, InteractionKind.COMPLAINT, InteractionKind.MESSAGE]
    kinds += [InteractionKind.NOTE]  # an internal note costs nothing
    for kind in kinds:
        Interaction.objects.create(customer=a03, kind=kind, occurred_at=when)
    later = timezone.make_aware(dt.datetime(2024, 8, 1, 10))  # after the as-of date
    Interaction.objects.create(customer=a03, kind=InteractionKind.CALL, occurred_at=later)
    thresholds = RFMThresholds(
        recency=(30, 90, 180, 365), frequency=(2, 3, 4, 5), monetary=(200, 400, 600, 800)
    )
    saved = AnalysisSettings(
        rfm_method="thresholds",
        rfm_thresholds=thresholds,
        tier_thresholds=(600.0, 400.0, 200.0, 100.0),
        profit=ProfitSettings(
            default_margin_rate=0.25, per_order=1.0, per_service_contact=4.0, per_message=0.5
        ),
    )
    analysis_settings_save(settings=saved)
    assert analysis_settings_get() == saved

    # when the store is analysed with no settings given
    run, _ = analysis_run_create(as_of=AS_OF)

    # then the run keeps the saved settings
    assert AnalysisSettings.from_dict(run.settings) == saved
    scores = {
        s.customer.external_id: s for s in CustomerScore.objects.filter(run=run).select_related()
    }
    per = frame.groupby("customer_id").agg(
        orders=("order_id", "size"), revenue=("amount", "sum"), last=("order_date", "max")
    )
    for customer_id, row in per.iterrows():
        score = scores[str(customer_id)]
        # and scores follow the thresholds (recency: at or below a cut scores higher)
        recency = (AS_OF - row["last"]).days
        assert score.r_score == 5 - sum(recency > c for c in thresholds.recency)
        assert score.f_score == 1 + sum(row["orders"] >= c for c in thresholds.frequency)
        assert score.m_score == 1 + sum(row["revenue"] >= c for c in thresholds.monetary)
        # and cost to serve counts orders, contacts and messages up to the as-of date
        contacts, messages = (2, 1) if customer_id == "A03" else (0, 0)
        expected_cost = row["orders"] * 1.0 + contacts * 4.0 + messages * 0.5
        assert float(score.cost_to_serve) == pytest.approx(expected_cost)
        profit = round(row["revenue"] * 0.25, 2) - expected_cost
        assert float(score.profit) == pytest.approx(profit, abs=0.01)
        # and the pyramid is cut by the value thresholds
        level = sum(profit >= c for c in (600.0, 400.0, 200.0, 100.0))
        tier = ("very_low", "low", "moderate", "high", "very_high")[level]
        assert score.value_tier == tier


def test_analyze_settings_file_replaces_the_defaults(tmp_path: Path) -> None:
    # given a file and a settings file asking for the B2B variant and a margin
    data = tmp_path / "orders.csv"
    _transactions().to_csv(data, index=False)
    settings = tmp_path / "settings.json"
    settings.write_text(
        json.dumps({"rfm_variant": "b2b", "profit": {"default_margin_rate": 0.4}}),
        encoding="utf-8",
    )

    # when the file is analysed with it
    result = runner.invoke(
        app,
        ["analyze", "--source", str(data), "--as-of", AS_OF.isoformat(), "--settings",
         str(settings), "--out", str(tmp_path / "out"), "--json"],
    )  # fmt: skip

    # then the scores are the B2B ones and the margin is 40% of revenue
    assert result.exit_code == 0, result.output
    out = pd.read_csv(tmp_path / "out" / "customers.csv", dtype={"customer_id": str})
    b2b = rfm_b2b(ibis.memtable(_transactions()), as_of=AS_OF)
    assert out["r_score"].tolist() == b2b["r_score"].tolist()
    assert out["margin"].round(2).tolist() == (out["revenue"] * 0.4).round(2).tolist()


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ('{"tier_share": [1, 2]}', "unknown analysis setting"),
        ('{"rfm_variant": "retail"}', "rfm_variant"),
        ("not json", "is not a JSON file"),
        ('{"profit": {"per_order": -1}}', "per_order"),
    ],
)
def test_analyze_refuses_a_bad_settings_file(tmp_path: Path, content: str, message: str) -> None:
    data = tmp_path / "orders.csv"
    _transactions().to_csv(data, index=False)
    settings = tmp_path / "settings.json"
    settings.write_text(content, encoding="utf-8")
    result = runner.invoke(
        app, ["analyze", "--source", str(data), "--settings", str(settings), "--json"]
    )
    assert result.exit_code == 2
    assert message in " ".join(result.output.split())


@pytest.mark.django_db
def test_settings_page_saves_and_explains_mistakes(make_user: Any) -> None:
    # given an administrator on the settings page, in Chinese
    client = Client()
    client.force_login(make_user("boss", role="admin"))
    page = client.get("/settings/analysis/", HTTP_ACCEPT_LANGUAGE="zh-hans")
    assert page.status_code == 200
    assert "分析设置" in page.content.decode()
    form = {
        "rfm_method": "thresholds",
        "rfm_variant": "standard",
        "b2b_half_years": "2",
        "recency_cuts": "30, 90, 180, 365",
        "frequency_cuts": "2，3，5，10",  # full-width commas, as typed with a Chinese keyboard
        "monetary_cuts": "100, 300, 1000, 3000",
        "tier_by": "shares",
        "tier_shares": "2, 8, 20, 30, 40",
        "tier_thresholds": "",
        "default_margin_rate": "30",
        "per_order": "1.5",
        "per_service_contact": "8",
        "per_message": "0.1",
        "per_account_per_year": "0",
        "acquisition": "20",
        "lost_after_days": "120",
    }

    # when the form is sent with shares that do not add up to 100
    bad = client.post(
        "/settings/analysis/", {**form, "tier_shares": "2, 8, 20, 30, 30"},
        HTTP_ACCEPT_LANGUAGE="zh-hans",
    )  # fmt: skip

    # then nothing is saved and the field says why, in Chinese
    assert bad.status_code == 400
    assert "合计为 90" in bad.content.decode()
    assert analysis_settings_get() == AnalysisSettings()

    # when it is sent right
    good = client.post("/settings/analysis/", form)

    # then the settings are saved as typed
    assert good.status_code == 302
    saved = analysis_settings_get()
    assert saved.rfm_method == "thresholds"
    assert saved.rfm_thresholds is not None and saved.rfm_thresholds.frequency == (2, 3, 5, 10)
    assert saved.tier_shares == (0.02, 0.08, 0.2, 0.3, 0.4)
    assert saved.profit == ProfitSettings(
        default_margin_rate=0.3, per_order=1.5, per_service_contact=8, per_message=0.1,
        acquisition=20,
    )  # fmt: skip
    assert saved.lost_after_days == 120
    # and the page shows them back
    again = client.get("/settings/analysis/").content.decode()
    assert 'value="2, 3, 5, 10"' in again and 'value="2, 8, 20, 30, 40"' in again


@pytest.mark.django_db
def test_the_settings_section_links_to_the_analysis_settings(make_user: Any) -> None:
    client = Client()
    client.force_login(make_user("boss", role="admin"))
    page = client.get("/settings/", headers={"accept-language": "zh-hans"}).content.decode()
    assert 'href="/settings/analysis/"' in page and "分析设置" in page


@pytest.mark.django_db
def test_saved_settings_an_older_version_wrote_are_named_not_a_traceback(make_user: Any) -> None:
    # given settings saved with a key this version does not have
    from patron.core.models import SystemSetting
    from patron.insights.selectors import ANALYSIS_SETTINGS_KEY, AnalysisSettingsError

    SystemSetting.objects.create(key=ANALYSIS_SETTINGS_KEY, value={"rfm_bins": 10})
    # then a run says what to do
    with pytest.raises(AnalysisSettingsError, match=r"rfm_bins.*save them again"):
        analysis_settings_get()
    # and the settings page opens on the defaults, with the same message
    client = Client()
    client.force_login(make_user("boss", role="admin"))
    page = client.get("/settings/analysis/")
    assert page.status_code == 200 and "save them again" in page.content.decode()
