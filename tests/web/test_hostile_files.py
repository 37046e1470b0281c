"""Hostile and broken files (generated here, see ``hostile.py``) through `patron import` and
through the browser upload: never a traceback or a crash, each import under 500 MB of memory
(measured on the child process, which runs under a memory limit), nothing half-written,
nothing silently changed, and the server alive after every upload."""

from __future__ import annotations

import os
import resource
import sqlite3
import subprocess
import sys
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

import hostile
import pytest

PEAK_LIMIT_MB = 500
ADDRESS_SPACE_MB = 3072  # the child's RLIMIT_AS: a runaway allocation fails, the machine lives
PASSWORD = "Patron-Test-Pass-2024"
_PEAK = "\nPATRON_TEST_PEAK_MB="
# The CLI as `python -m patron.cli`, writing its own peak resident size last on stderr.
_CHILD = (
    "import atexit, runpy, sys\n"
    "def _peak():\n"
    "    for line in open('/proc/self/status'):\n"
    "        if line.startswith('VmHWM:'):\n"
    "            return int(line.split()[1]) // 1024\n"
    f"atexit.register(lambda: sys.stderr.write({_PEAK!r} + str(_peak())))\n"
    "sys.argv = ['patron', *sys.argv[1:]]\n"
    "runpy.run_module('patron.cli', run_name='__main__')\n"
)


def _patron(var: Path, *args: str) -> tuple[subprocess.CompletedProcess[str], int]:
    """Run the CLI in a child under RLIMIT_AS; return its result and its own peak RSS (MB).

    The peak is the child's VmHWM, read by the child itself as it exits: ``ru_maxrss`` from
    wait4 would carry the forked pytest's own size across the exec (hundreds of MB late in
    the suite), which is not the import's."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PATRON_", "DJANGO_"))}
    env.update({"PATRON_VAR_DIR": str(var), "COLUMNS": "200"})

    def limit() -> None:
        size = ADDRESS_SPACE_MB << 20
        resource.setrlimit(resource.RLIMIT_AS, (size, size))

    with tempfile.TemporaryFile("w+") as out, tempfile.TemporaryFile("w+") as err:
        child = subprocess.Popen(
            [sys.executable, "-c", _CHILD, *args],
            env=env,
            stdout=out,
            stderr=err,
            text=True,
            preexec_fn=limit,
        )
        child.wait()
        out.seek(0)
        err.seek(0)
        stderr, _, peak = err.read().rpartition(_PEAK)
        result = subprocess.CompletedProcess(child.args, child.returncode, out.read(), stderr)
    return result, int(peak.strip() or 0)


@pytest.fixture(scope="module")
def store(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A `patron init`-ed var/ folder with one good order, shared by the CLI cases."""
    var = tmp_path_factory.mktemp("var")
    result, _ = _patron(var, "init")
    assert result.returncode == 0, result.stderr
    good = var / "good.csv"
    good.write_text(hostile.HEADER + "g1,good,2024-01-01,1\n")
    result, _ = _patron(var, "import", "transactions", str(good))
    assert result.returncode == 0, result.stderr
    return var


def _orders(var: Path) -> list[tuple[str, str]]:
    with sqlite3.connect(var / "patron.sqlite3") as db:
        return db.execute(
            "SELECT o.external_id, c.external_id FROM sales_order o "
            "JOIN customers_customer c ON c.id = o.customer_id ORDER BY o.external_id"
        ).fetchall()


# (maker, the words the refusal or the row errors must say, orders a --skip-bad import adds)
CASES: list[tuple[Callable[[Path], Path], str, list[tuple[str, str]] | None]] = [
    (hostile.far_cell_xlsx, "reaches column XFD", None),
    (hostile.packed_sheet_xlsx, "times its packed size", None),
    (hostile.zip_bomb, "times its packed size", None),
    (hostile.climbing_zip, "points outside the archive", None),
    (hostile.nested_zip, "holds another archive", None),
    (hostile.mixed_encoding_csv, "mixes two text encodings: line 2", None),
    (hostile.huge_cell_csv, "has a cell longer than", None),
    (hostile.conflicting_customers_csv, "names customer 'c1' (line 2) and customer 'c2'", None),
    (hostile.nul_csv, "line 3, column customer_id: the cell holds a NUL", [("1", "c1"), ("3", "c3")]),  # noqa: E501
    (hostile.bom_in_cell_csv, "line 3, column customer_id: the cell holds a byte-order", [("1", "c1")]),  # noqa: E501
    (hostile.poisoned_dates_csv, "outside the plausible window", [("1", "c1")]),
    (hostile.markup_csv, "[/x]", [("1", "[/y]c1")]),
    (hostile.blank_lines_csv, "Skipped 6,000,000 blank", [("1", "c1")]),
]  # fmt: skip


@pytest.mark.slow
@pytest.mark.parametrize(("make", "says", "added"), CASES, ids=[c[0].__name__ for c in CASES])
def test_a_hostile_file_through_the_cli(
    store: Path,
    tmp_path: Path,
    make: Callable[[Path], Path],
    says: str,
    added: list[tuple[str, str]] | None,
) -> None:
    # given the store with one good order, and a hostile file
    path = make(tmp_path)
    before = _orders(store)
    source = f"hostile-{make.__name__}"

    # when it is imported, keeping the good rows where there are any
    result, peak = _patron(
        store, "import", "transactions", str(path), "--skip-bad", "--source", source
    )

    # then: a message, never a traceback; memory bounded; nothing half-written or changed
    output = result.stdout + result.stderr
    assert "Traceback" not in output
    assert result.returncode in (0, 1), output
    assert says in output.replace("\n", " "), output
    assert 0 < peak < PEAK_LIMIT_MB, f"peak {peak} MB"
    after = _orders(store)
    if added is None:  # refused as a whole: nothing written
        assert result.returncode == 1
        assert after == before
    else:  # the good rows only, exactly as written
        with sqlite3.connect(store / "patron.sqlite3") as db:
            mine = db.execute(
                "SELECT o.external_id, c.external_id FROM sales_order o JOIN customers_customer c "
                "ON c.id = o.customer_id WHERE o.source = ? ORDER BY o.external_id",
                [source],
            ).fetchall()
        assert mine == added
        assert sorted(after) == sorted(before + added)
        for _, customer in after:
            assert "\x00" not in customer and "\ufeff" not in customer


# -- the browser ---------------------------------------------------------------------------

BROWSER_CASES: list[tuple[Callable[[Path], Path], str]] = [
    (hostile.far_cell_xlsx, "reaches column XFD"),
    (hostile.packed_sheet_xlsx, "times its packed size"),
    (hostile.mixed_encoding_csv, "mixes two text encodings"),
    (hostile.huge_cell_csv, "has a cell longer than"),
    (hostile.markup_csv, ""),  # accepted: the review page shows the header as text
]


@pytest.mark.slow
@pytest.mark.django_db(transaction=True)
def test_hostile_uploads_in_the_browser_leave_the_server_alive(
    make_user: Any, live_server: Any, page: Any, tmp_path: Path, settings: Any
) -> None:
    from playwright.sync_api import expect

    from patron.jobs.models import Upload

    settings.PATRON_UPLOAD_DIR = tmp_path / "uploads"
    make_user("mia", "marketing", password=PASSWORD)
    base = live_server.url
    page.set_extra_http_headers({"Accept-Language": "en"})
    page.goto(f"{base}/accounts/login/")
    page.fill("#id_username", "mia")
    page.fill("#id_password", PASSWORD)
    page.click("button.primary")
    for make, says in BROWSER_CASES:
        path = make(tmp_path)
        page.goto(f"{base}/imports/")
        page.set_input_files("input[name=file]", str(path))
        page.click("#upload-form button[type=submit]")
        if says:
            expect(page.locator(".error").first).to_contain_text(says)
            assert not Upload.objects.filter(original_name=path.name).exists()
        else:
            expect(page.locator("body")).to_contain_text("[/x]")
        health = page.request.get(f"{base}/healthz")
        assert health.status == 200, path.name
    assert not list((tmp_path / "uploads").rglob("*.xlsx"))  # refused files are not kept


@pytest.mark.django_db
def test_a_refused_upload_is_told_in_chinese(make_user: Any, tmp_path: Path, settings: Any) -> None:
    from django.test import Client

    settings.PATRON_UPLOAD_DIR = tmp_path / "uploads"
    make_user("mia", "marketing", password=PASSWORD)
    client = Client(headers={"accept-language": "zh-hans"})
    client.login(username="mia", password=PASSWORD)
    with hostile.far_cell_xlsx(tmp_path).open("rb") as upload:
        page = client.post("/imports/", {"file": upload, "kind": "transactions"})
    assert page.status_code == 400
    assert "延伸到第 XFD 列" in page.content.decode()
