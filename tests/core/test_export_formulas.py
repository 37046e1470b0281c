"""No export writes shop text as a formula (CSV injection): every CSV path prefixes a cell that
starts with = + - @ tab or CR with ', every workbook writes it as a text cell, unchanged.

Export paths: the customer list (CSV, Excel), rejected rows, `patron analyze` files, run
migration moves, CLV predictions, the loyalty statement, the recommendation lists (web and
file mode), a segment's members, a campaign's audience, and the campaign report (Excel, HTML).
The service and survey reports are pages only (no export)."""

from __future__ import annotations

import csv
import io
import zipfile
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

import openpyxl
import pandas as pd
import pytest
from django.test import Client
from typer.testing import CliRunner

from patron.cli import app
from patron.core.cells import FORMULA_STARTS, neutralise_cell
from patron.customers.models import Customer

PASSWORD = "Patron-Test-Pass-2024"
EVIL_ID = "=1+2"
DDE = [  # dynamic data exchange payloads, as OWASP lists them
    "=cmd|' /C calc'!A0",
    "@SUM(1+9)*cmd|' /C calc'!A0",
    "+cmd|' /C notepad'!A0",
    "-2+3+cmd|' /C calc'!A0",
]
EVIL = ['=HYPERLINK("http://x","y")', "+1-2", "-3+4", "@SUM(A1)", "\tx", "\rx", *DDE]
runner = CliRunner()


def _csv_cells(text: str) -> list[str]:
    return [cell for row in csv.reader(io.StringIO(text.lstrip("\ufeff"))) for cell in row]


def _is_number(cell: str) -> bool:
    try:
        float(cell)
    except ValueError:
        return False
    return True


def _assert_csv_safe(cells: list[str], *expected: str) -> None:
    for cell in cells:
        if _is_number(cell):  # -12.5 written as a number is an amount, not text
            continue
        assert not cell.startswith(FORMULA_STARTS), repr(cell)
    for text in expected:
        assert "'" + text in cells, (text, cells)


def _assert_xlsx_safe(path_or_bytes: Path | bytes, *expected: str) -> None:
    data = path_or_bytes if isinstance(path_or_bytes, bytes) else path_or_bytes.read_bytes()
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        for name in archive.namelist():
            if name.startswith("xl/worksheets/"):
                assert b"<f>" not in archive.read(name), name  # no formula anywhere
    book = openpyxl.load_workbook(io.BytesIO(data))
    values = {c.value for sheet in book for row in sheet.iter_rows() for c in row}
    for text in expected:
        assert text in values, text  # the text as it was, as a string cell


def test_the_helper() -> None:
    for text in EVIL:
        assert neutralise_cell(text) == "'" + text
    for value in ("ok", "a=b", "", None, -5, 3.5, "'=already"):
        assert neutralise_cell(value) == value


@pytest.mark.django_db
def test_customer_list_exports(make_user: Any) -> None:
    # given customers whose fields start like formulas, and a user who may export
    Customer.objects.create(external_id=EVIL_ID, name=EVIL[0], email="@x.com", tags=["+vip"])
    Customer.objects.create(external_id="C2", name=EVIL[3], city="-3+4")
    make_user("mia", "marketing", password=PASSWORD)
    client = Client()
    client.login(username="mia", password=PASSWORD)
    # when both formats are exported
    text = b"".join(client.get("/customers/export/csv/").streaming_content).decode()
    workbook = client.get("/customers/export/xlsx/")
    # then
    _assert_csv_safe(_csv_cells(text), EVIL_ID, EVIL[0], "@x.com", "+vip", EVIL[3], "-3+4")
    _assert_xlsx_safe(b"".join(workbook.streaming_content), EVIL_ID, EVIL[0], EVIL[3])


@pytest.mark.django_db(transaction=True)
def test_rejected_rows_file(tmp_path: Path) -> None:
    source = tmp_path / "orders.csv"
    source.write_text(
        "order_id,customer_id,ordered_at,amount\n1,C1,2024-01-02,10\n"
        f"2,{EVIL_ID},not a date,=SUM(A1)\n",
        encoding="utf-8",
    )
    rejects = tmp_path / "rejects.csv"
    result = runner.invoke(
        app, ["import", "transactions", str(source), "--skip-bad", "--rejects", str(rejects)]
    )
    assert result.exit_code == 0, result.output
    _assert_csv_safe(_csv_cells(rejects.read_text(encoding="utf-8-sig")), EVIL_ID, "=SUM(A1)")


def _orders(path: Path, months: int = 1) -> Path:
    rows = ["order_id,customer_id,ordered_at,amount"]
    for i in range(60):
        customer = EVIL_ID if i % 3 == 0 else f"C{i % 7}"
        rows.append(f"O{i},{customer},2024-{1 + (i * months) % 12:02d}-{1 + i % 27:02d},{10 + i}")
    path.write_text("\n".join(rows) + "\n", encoding="utf-8")
    return path


def test_analyze_files(tmp_path: Path) -> None:
    source = _orders(tmp_path / "orders.csv")
    out, xlsx = tmp_path / "out", tmp_path / "analysis.xlsx"
    result = runner.invoke(
        app,
        ["analyze", "--source", str(source), "--out", str(out), "--xlsx", str(xlsx), "--no-kpis"],
    )
    assert result.exit_code == 0, result.output
    _assert_csv_safe(_csv_cells((out / "customers.csv").read_text(encoding="utf-8")), EVIL_ID)
    _assert_xlsx_safe(xlsx, EVIL_ID)


@pytest.mark.django_db(transaction=True)
def test_runs_migration_moves(tmp_path: Path) -> None:
    source = _orders(tmp_path / "orders.csv", months=5)
    assert runner.invoke(app, ["import", "transactions", str(source)]).exit_code == 0
    runs = []
    for day in ("2024-06-30", "2024-12-31"):
        result = runner.invoke(app, ["analyze", "--as-of", day, "--no-kpis", "--json"])
        assert result.exit_code == 0, result.output
        runs.append(pd.read_json(io.StringIO(result.stdout), typ="series")["run"])
    moves = tmp_path / "moves.csv"
    result = runner.invoke(
        app, ["runs", "migration", str(runs[0]), str(runs[1]), "--moves", str(moves)]
    )
    assert result.exit_code == 0, result.output
    _assert_csv_safe(_csv_cells(moves.read_text(encoding="utf-8-sig")), EVIL_ID)


def test_clv_predictions(tmp_path: Path) -> None:
    summary = tmp_path / "summary.csv"
    frame = pd.DataFrame(
        {
            "customer_id": [EVIL_ID, "-7", "\rx", "C4", "C5", "C6"],
            "frequency": [2, 0, 5, 1, 3, 0],
            "recency": [30.0, 0.0, 60.0, 10.0, 40.0, 0.0],
            "T": [90.0, 80.0, 90.0, 70.0, 85.0, 60.0],
        }
    )
    frame.to_csv(summary, index=False, lineterminator="\r\n")  # the CR id quoted
    out = tmp_path / "predicted.csv"
    result = runner.invoke(
        app, ["clv", "predict", str(summary), "--penalizer", "0.1", "--out", str(out)]
    )
    assert result.exit_code == 0, result.output
    _assert_csv_safe(_csv_cells(out.read_bytes().decode("utf-8-sig")), EVIL_ID, "-7", "\rx")


# --- the exports of the loyalty, recommendation and campaign apps ------------------------------


def _signed_in(make_user: Any) -> Client:
    make_user("ada", "admin", password=PASSWORD)
    client = Client()
    client.login(username="ada", password=PASSWORD)
    return client


def _body(response: Any) -> bytes:
    assert response.status_code == 200, response.status_code
    if response.streaming:
        return b"".join(response.streaming_content)
    return bytes(response.content)


def _hostile_customers(prefix: str) -> list[Customer]:
    """A customer per hostile text: as id, name and email; the phone starts with +."""
    return [
        Customer.objects.create(
            external_id=text,
            name=text,
            email=f"{text[:1]}{prefix}{i}@x.com",
            phone="+8613800000000",
        )
        for i, text in enumerate(EVIL)
    ]


@pytest.mark.django_db
def test_loyalty_statement(make_user: Any) -> None:
    from patron.loyalty import services

    # given a member whose adjustments carry formula-like reasons (a reason is stripped, so
    # the tab and CR ones arrive as plain text)
    Customer.objects.create(external_id=EVIL_ID, name=EVIL[0])
    member = services.member_enrol(customer_id=EVIL_ID)
    reasons = [text for text in EVIL if text == text.strip()]
    for text in reasons:
        services.points_adjust(member=member, points=10, reason=text)
    services.points_adjust(member=member, points=-5, reason=DDE[3])  # -5 stays a number
    # when the statement is downloaded
    text = _body(_signed_in(make_user).get(f"/loyalty/members/{member.card_number}/statement.csv"))
    # then
    cells = _csv_cells(text.decode("utf-8"))
    _assert_csv_safe(cells, *reasons)
    assert "-5" in cells


@pytest.mark.django_db
def test_recommendation_lists(make_user: Any, tmp_path: Path) -> None:
    import datetime as dt

    from patron.recommend.files import recommendations_write_csv
    from patron.recommend.models import Recommendation, RecommendationRun, RunStatus
    from patron.sales.models import Product

    # given a run whose customers, products and reasons look like formulas
    run = RecommendationRun.objects.create(as_of=dt.date(2024, 6, 1), status=RunStatus.COMPLETED)
    for i, (customer, text) in enumerate(zip(_hostile_customers("r"), EVIL, strict=True)):
        product = Product.objects.create(sku=text, name=text)
        Recommendation.objects.create(
            run=run, customer=customer, list="buy_again", rank=1, product=product,
            score=0.5 + i / 100, reason_en=text, reason_zh=text,
        )  # fmt: skip
    # when the lists are exported from the web, and written by file mode
    text = _body(_signed_in(make_user).get("/recommendations/export.csv")).decode("utf-8")
    table = pd.DataFrame(
        {"customer_id": EVIL, "list": "buy_again", "rank": 1, "sku": EVIL, "score": 0.5,
         "reason_en": EVIL, "reason_zh": EVIL}
    )  # fmt: skip
    written = recommendations_write_csv(table, tmp_path / "out")
    # then
    _assert_csv_safe(_csv_cells(text), *EVIL)
    _assert_csv_safe(_csv_cells(written.read_bytes().decode("utf-8-sig")), *EVIL)


def _campaign_measured() -> Any:
    """A finished campaign with 6 treated and 6 control customers (hostile ones), a few orders
    after it, and formula-like reasons and coupon codes."""
    import datetime as dt
    from decimal import Decimal

    from django.utils import timezone

    from patron.campaigns.models import Campaign, CampaignStatus, Group, Target, TargetState
    from patron.sales.models import Order

    launched = timezone.make_aware(dt.datetime(2025, 3, 3, 10))
    campaign = Campaign.objects.create(
        name=DDE[0], status=CampaignStatus.DONE, launched_at=launched, attribution_days=5,
        occurrences=1,
    )  # fmt: skip
    for i, customer in enumerate(_hostile_customers("c")):
        treated = i % 2 == 0
        Target.objects.create(
            campaign=campaign, customer=customer, contacted_at=launched,
            group=Group.TREATMENT if treated else Group.CONTROL,
            state=TargetState.SENT if treated else TargetState.HELD_OUT,
            reason=EVIL[i][:16], coupon_code=f"{EVIL[i][:1]}CODE{i}",
        )  # fmt: skip
        if i % 3 == 0:
            at = launched + dt.timedelta(days=1)
            Order.objects.create(
                external_id=f"O{i}", customer=customer, ordered_at=at, ordered_on=at.date(),
                amount=Decimal("50"),
            )  # fmt: skip
    return campaign


@pytest.mark.django_db
def test_segment_members_and_campaign_audience(make_user: Any) -> None:
    from patron.campaigns.services import segment_create

    # given a segment of everyone and a campaign whose audience is hostile text
    campaign = _campaign_measured()
    segment = segment_create(name="all", rules={"all": []})
    client = _signed_in(make_user)
    # when both are exported
    members = _body(client.get(f"/campaigns/segments/{segment.pk}/export.csv")).decode("utf-8")
    audience = _body(client.get(f"/campaigns/{campaign.pk}/export.csv")).decode("utf-8")
    # then ids, names, emails, phones, reasons and codes are all text
    emails = [c.email for c in Customer.objects.all()]
    _assert_csv_safe(_csv_cells(members), *EVIL, *emails)
    codes = [f"{text[:1]}CODE{i}" for i, text in enumerate(EVIL)]
    _assert_csv_safe(_csv_cells(audience), *EVIL, *codes, *{t[:16] for t in EVIL})


class _HtmlText(HTMLParser):
    """The text of the cells, headings and title of an HTML file (what Excel makes cells of)."""

    def __init__(self) -> None:
        super().__init__()
        self.open: list[str] = []
        self.cells: list[str] = []

    def handle_starttag(self, tag: str, attrs: Any) -> None:
        self.open.append(tag)

    def handle_endtag(self, tag: str) -> None:
        if self.open and self.open[-1] == tag:
            self.open.pop()

    def handle_data(self, data: str) -> None:
        if self.open and self.open[-1] in ("td", "th", "h1", "title", "p", "strong"):
            self.cells.append(data)


@pytest.mark.django_db
def test_campaign_report(make_user: Any) -> None:
    # given a measured campaign named like a DDE payload
    campaign = _campaign_measured()
    client = _signed_in(make_user)
    # when its report is exported as a workbook and as HTML
    workbook = _body(client.get(f"/campaigns/{campaign.pk}/report.xlsx"))
    page = _HtmlText()
    page.feed(_body(client.get(f"/campaigns/{campaign.pk}/report.html")).decode("utf-8"))
    # then the workbook has the name as a text cell and no formula; the HTML has it with a '
    _assert_xlsx_safe(workbook, DDE[0])
    _assert_csv_safe(page.cells, DDE[0])
