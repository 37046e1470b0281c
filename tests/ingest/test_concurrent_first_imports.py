"""Two first imports at once (PostgreSQL streams a first import with its indexes dropped):
each ends imported, or refused with "try again"; never a traceback, nothing half-written."""

from __future__ import annotations

import threading
from pathlib import Path

import pytest
from django.db import connection

from patron.ingest.errors import IngestError, IngestErrorCode
from patron.ingest.importer import ImportOptions, import_file
from patron.ingest.mapping import EntityKind
from patron.sales.models import Order

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.slow]


def test_two_first_imports_at_once(tmp_path: Path) -> None:
    paths = []
    for shop in ("a", "b"):
        rows = [
            f"{shop}{i},C{i % 500},2024-01-{1 + i % 28:02d},{i % 90 + 1}" for i in range(20_000)
        ]
        path = tmp_path / f"{shop}.csv"
        path.write_text("order_id,customer_id,ordered_at,amount\n" + "\n".join(rows) + "\n")
        paths.append((shop, path))
    outcomes: dict[str, object] = {}
    start = threading.Barrier(2)

    def run(shop: str, path: Path) -> None:
        start.wait()
        try:
            report = import_file(
                path, kind=EntityKind.TRANSACTIONS, options=ImportOptions(source=shop)
            )
            outcomes[shop] = report.inserted
        except IngestError as error:
            outcomes[shop] = error
        except BaseException as error:  # the bug: anything else
            outcomes[shop] = error
        finally:
            connection.close()

    threads = [threading.Thread(target=run, args=pair) for pair in paths]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(300)
    for shop, outcome in outcomes.items():
        if isinstance(outcome, int):
            assert outcome == 20_000
            assert Order.objects.filter(source=shop).count() == 20_000
        else:
            assert isinstance(outcome, IngestError), repr(outcome)
            assert outcome.code in (IngestErrorCode.STORE_BUSY,), outcome.message
            assert "try again" in outcome.message
            assert not Order.objects.filter(source=shop).exists()  # nothing half-written
    assert len(outcomes) == 2
