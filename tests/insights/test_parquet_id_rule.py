"""The ids' rule of the set-based Parquet path: the quick condition (no regular expression)
changes nothing but the cost. ``id_sql``'s condition accepts exactly the ids the rule as it
stood accepts (its SQL frozen below), the quick condition implies it, and a bad id in a file
read with the quick first pass is still named by its line."""

from __future__ import annotations

from pathlib import Path

import duckdb
import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from patron.insights import parquet_fast
from patron.insights.parquet_forms import exact_id_sql, id_sql, quick_id_sql
from patron.insights.sources import AnalysisSourceError, read_transactions_file

# The plain condition of a VARCHAR id before the quick condition (commit 890b537), verbatim.
OLD_RULE = (
    "(length(v) <= 64 AND strpos(v, '*') = 0 AND "
    r"regexp_full_match(v, '(?s)[\p{L}\p{N}_](.*[\p{L}\p{N}_])?') AND NOT "
    "v IN ('null', 'NULL', 'Null', 'N/A', 'n/a', '无退款申请') AND NOT "
    r"regexp_full_match(v, '[+-]?\d+(?:[.,]\d+)?[eE][+-]?\d+'))"
)
# Characters around every edge of the rule: ASCII word characters, the scientific
# notation's signs and separators, '*', whitespace, wrappers, other scripts, combining
# marks, a regional indicator, full-width digits, characters just outside the ASCII ranges.
ALPHABET = (
    "AZaz09_eE+-.,*/ \t\n'\"=`@[{:\x00\x7f"
    "客户7\u3000\u00a0\u0301\u200d\U0001f1eb\uff11\u00e9\u0130\u2160ǅ"
)
SPECIAL = [
    "null", "NULL", "Null", "N/A", "n/a", "无退款申请", "nulls", "N/A1", "1e5", "1E+05",
    "-1.5e3", "12,5E-2", "e5", "5e", "1e", "E1", "1ee2", "C1", "_", "9", "x" * 64, "x" * 65,
    "9" * 65, "客" * 64, "客" * 65, "a\u0301", "Z*", "_*_", "0x1F", "12e", "",
]  # fmt: skip
ids = st.lists(
    st.one_of(
        st.text(alphabet=ALPHABET, max_size=8),
        st.from_regex(r"[A-Za-z_0-9][A-Za-z0-9_eE+\-.,*]{0,6}", fullmatch=True),
        st.sampled_from(SPECIAL),
        st.text(max_size=5),
    ),
    min_size=1,
    max_size=40,
)


def _rules(values: list[str]) -> list[tuple[bool, bool, bool, bool]]:
    """(old rule, id_sql's condition, quick, exact) per value, as DuckDB evaluates them."""
    con = duckdb.connect()
    con.register("ids", pa.table({"v": pa.array(values, pa.string())}))
    plain = id_sql("v", "VARCHAR", required=True, max_length=64)
    assert plain is not None
    return con.execute(
        f"SELECT coalesce({OLD_RULE}, FALSE), coalesce({plain[1]}, FALSE), "
        f"coalesce({quick_id_sql('v', 64)}, FALSE), coalesce({exact_id_sql('v', 64)}, FALSE) "
        "FROM ids"
    ).fetchall()


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(ids)
def test_id_rule_accepts_exactly_what_the_old_rule_accepts(values: list[str]) -> None:
    for value, (old, plain, quick, exact) in zip(values, _rules(values), strict=True):
        assert plain == old, value
        assert exact == old, value
        assert not quick or old, value  # quick implies the rule


def test_quick_condition_covers_common_ids() -> None:
    # given ids as shops write them, and ids only the exact rule accepts
    common = ["C000123", "M9", "10023", "_x", "ORD_2024_1", "a", "Z9z", "A-1", "1.5", "C 1"]
    exact_only = ["客户7", "7客", "é1", "12e3x", "1E5_"]
    # when
    found = _rules(common + exact_only)
    # then
    assert [r[2] for r in found] == [True] * len(common) + [False] * len(exact_only)
    assert all(r[0] and r[1] for r in found)


def _write(path: Path, ids: list[str | None], order_ids: list[str | None]) -> Path:
    n = len(ids)
    pq.write_table(
        pa.table(
            {
                "customer_id": pa.array(ids, pa.string()),
                "order_id": pa.array(order_ids, pa.string()),
                "order_date": pa.array(
                    np.datetime64("2024-01-01") + (np.arange(n) % 300).astype("timedelta64[D]"),
                    pa.date32(),
                ),
                "amount": pa.array(np.round(np.linspace(1, 500, n), 2)),
            }
        ),
        path,
        row_group_size=700,
    )
    return path


def test_bad_ids_are_named_by_line(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # given 3,000 quick ids, two bad customer ids (too long; scientific notation), a bad
    # order id, ids only the exact rule accepts and an id only the text path accepts (a
    # '*'): fewer than 1% of the rows, so the quick first pass is taken
    n = 3000
    ids: list[str | None] = [f"C{k % 400}" for k in range(n)]
    order_ids: list[str | None] = [f"O{k}" for k in range(n)]
    ids[10], ids[2500], order_ids[1234] = "Y" * 65, "1.5E+10", "9e9"
    ids[7], ids[2999], order_ids[40], ids[5] = "客户7", "1E5_", "O客40", "A*1"
    path = _write(tmp_path / "orders.parquet", ids, order_ids)
    taken: list[bool] = []
    first = parquet_fast._quick_first
    monkeypatch.setattr(
        parquet_fast, "_quick_first", lambda *a: taken.append(first(*a)) or taken[-1]
    )
    # when
    with pytest.raises(AnalysisSourceError) as raised:
        read_transactions_file(path, workers=1)
    result = read_transactions_file(path, workers=1, skip_bad=True)
    # then: the bad rows by line (the header is line 1), the others read
    assert taken == [True, True]
    errors = raised.value.extra["errors"]
    assert [(e["line"], e["column"]) for e in errors] == [
        (12, "customer_id"), (1236, "order_id"), (2502, "customer_id")
    ]  # fmt: skip
    assert [e["line"] for e in (x.as_dict() for x in result.errors)] == [12, 1236, 2502]
    assert result.rejected == 3 and result.rows == n - 3
    kept = set(result.table["customer_id"].to_pylist())
    assert {"客户7", "1E5_", "A*1"} <= kept and "Y" * 65 not in kept
    assert "O客40" in set(result.table["order_id"].to_pylist())
