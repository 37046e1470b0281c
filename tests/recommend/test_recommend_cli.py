"""patron recommend: file mode without a database, the store, evaluate; and the products'
for_sale / in_stock columns through the ordinary product import."""

from __future__ import annotations

import csv
import datetime as dt
import json
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from patron.cli import app

runner = CliRunner()


def _lines_csv(path: Path) -> Path:
    rows = ["customer_id,sku,date,quantity"]
    for c in range(8):
        day = dt.date(2024, 1, 2) + dt.timedelta(days=c)
        while day < dt.date(2024, 6, 25):
            rows.append(f"C{c},TEA,{day},1")
            rows.append(f"C{c},{'CAKE' if c % 2 else 'CUP'},{day},2")
            day += dt.timedelta(days=20)
    rows.append("C1,MILK,2024-03-01,1")
    rows.append("C0,CAKE,2024-03-02,-1")  # a return: never recommended to C0
    path.write_text("\n".join(rows) + "\n", encoding="utf-8")
    return path


def test_file_mode_writes_the_lists_with_a_bom(tmp_path: Path) -> None:
    source = _lines_csv(tmp_path / "lines.csv")
    out = tmp_path / "out"
    result = runner.invoke(
        app,
        [
            "recommend",
            "--source",
            str(source),
            "--as-of",
            "2024-07-01",
            "--out",
            str(out),
            "--n",
            "3",
        ],
    )
    assert result.exit_code == 0, result.output
    raw = (out / "recommendations.csv").read_bytes()
    assert raw.startswith(b"\xef\xbb\xbf")
    rows = list(csv.DictReader(raw.decode("utf-8-sig").splitlines()))
    assert list(rows[0]) == ["customer_id", "list", "rank", "sku", "score", "reason"]
    assert {r["customer_id"] for r in rows} == {f"C{i}" for i in range(8)}
    c0 = [r for r in rows if r["customer_id"] == "C0"]
    assert next(r["sku"] for r in c0 if r["list"] == "buy_again") == "TEA"
    assert "CAKE" not in {r["sku"] for r in c0}  # returned
    assert all(int(r["rank"]) <= 3 for r in rows)
    assert c0[0]["reason"].startswith("you buy this about every 20 days")


def test_file_mode_names_the_bad_line_in_both_languages(tmp_path: Path) -> None:
    path = tmp_path / "bad.csv"
    path.write_text(
        "customer_id,sku,date\nC1,TEA,2024-01-01\nC1,TEA,2024/13/45\n", encoding="utf-8"
    )
    out = tmp_path / "out"
    result = runner.invoke(
        app, ["recommend", "--source", str(path), "--as-of", "2024-07-01", "--out", str(out)]
    )
    assert result.exit_code == 1
    assert "bad.csv, line 3" in result.output and "not a date" in result.output
    assert not (out / "recommendations.csv").exists()
    from django.utils import translation

    from patron.recommend.errors import RecommendError
    from patron.recommend.files import lines_read_csv

    with translation.override("zh-hans"), pytest.raises(RecommendError, match="第 3 行"):
        lines_read_csv(path)


def test_evaluate_from_a_file_prints_all_baselines(tmp_path: Path) -> None:
    source = _lines_csv(tmp_path / "lines.csv")
    result = runner.invoke(
        app,
        [
            "recommend",
            "evaluate",
            "--source",
            str(source),
            "--as-of",
            "2024-07-01",
            "--days",
            "40",
            "--json",
        ],
    )
    assert result.exit_code == 0, result.output
    report: dict[str, Any] = json.loads(result.stdout)
    assert report["days"] == 40 and report["k"] == 10
    assert set(report["scores"]["buy_again"]) == {
        "patron",
        "top_popular",
        "own_top_frequency",
        "item_knn",
    }
    assert report["scores"]["buy_again"]["patron"]["customers"] == 8
    assert report["scores"]["try_new"]["own_top_frequency"] is None


@pytest.mark.django_db(transaction=True)
def test_store_mode_and_product_flags(tmp_path: Path) -> None:
    from patron.recommend.models import Recommendation, RecommendationRun

    lines = _lines_csv(tmp_path / "lines.csv").read_text(encoding="utf-8").splitlines()
    with_amounts = [lines[0] + ",amount"] + [
        f"{row},{10 * float(row.split(',')[3]):.2f}" for row in lines[1:] if "-1" not in row
    ]
    source = tmp_path / "orders.csv"
    source.write_text("\n".join(with_amounts) + "\n", encoding="utf-8")
    imported = runner.invoke(app, ["import", "transactions", str(source)])
    assert imported.exit_code == 0, imported.output
    products = tmp_path / "products.csv"
    products.write_text("商品编码,商品名称,是否有货\nCUP,茶杯,否\nTEA,茶,是\n", encoding="utf-8")
    imported = runner.invoke(app, ["import", "products", str(products)])
    assert imported.exit_code == 0, imported.output
    from patron.sales.models import Product

    assert Product.objects.get(sku="CUP").in_stock is False
    assert Product.objects.get(sku="TEA").in_stock and Product.objects.get(sku="TEA").for_sale
    result = runner.invoke(
        app, ["recommend", "--as-of", "2024-07-01", "--evaluate-days", "40", "--json"]
    )
    assert result.exit_code == 0, result.output
    body = json.loads(result.stdout)
    run = RecommendationRun.objects.get(pk=body["run"])
    assert run.customers == 8 and run.evaluation["days"] == 40
    assert not Recommendation.objects.filter(run=run, product__sku="CUP").exists()
    assert Recommendation.objects.filter(run=run, list="buy_again", rank=1).count() == 8
