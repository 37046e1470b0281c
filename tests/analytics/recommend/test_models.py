"""The recommenders against independent references: EASE's closed form against per-item
constrained least squares, the top-n selection against a full sort, the repurchase cycle and
the reasons against the lines they come from."""

from __future__ import annotations

import numpy as np
import pytest
import scipy.sparse as sp

from patron.analytics.recommend import (
    BuyAgain,
    Lines,
    NotFittedError,
    Recommender,
    TryNew,
    day_number,
)
from patron.analytics.recommend.topn import top_n_dense, top_n_sparse
from patron.analytics.recommend.try_new import ease_weights


def test_ease_closed_form_equals_constrained_ridge_per_item() -> None:
    # given a random binary matrix
    rng = np.random.default_rng(3)
    x = (rng.random((60, 7)) < 0.3).astype(float)
    lam = 2.5
    # when
    b = ease_weights(x.T @ x, lam)
    # then each column j is the ridge regression of x_j on the other columns (b_jj = 0)
    for j in range(7):
        others = [i for i in range(7) if i != j]
        a = x[:, others]
        ref = np.linalg.solve(a.T @ a + lam * np.eye(6), a.T @ x[:, j])
        assert np.allclose(b[others, j], ref, atol=1e-8)
        assert b[j, j] == 0.0


def test_popularity_normalised_ease_equals_constrained_ridge_on_scaled_targets() -> None:
    # given random purchases of 6 items by 50 customers (one line per customer and item)
    rng = np.random.default_rng(11)
    x = (rng.random((50, 6)) < 0.35).astype(float)
    x[0] = 1.0  # every item has a buyer
    rows = [
        (f"c{c:02d}", f"p{p}", "2024-01-02", 1.0) for c in range(50) for p in range(6) if x[c, p]
    ]
    lam, beta = 3.0, 0.4
    # when TryNew fits EASE with popularity-normalised targets
    model = TryNew(model="ease", l2=lam, popularity_exponent=beta, min_baskets=0).fit(_lines(rows))
    # then column j is the ridge regression of x_j / buyers_j^beta on the other columns,
    # solved here directly (no closed form)
    assert list(model.items_) == list(range(6))
    buyers = x.sum(axis=0)
    for j in range(6):
        others = [i for i in range(6) if i != j]
        a = x[:, others]
        target = x[:, j] / buyers[j] ** beta
        ref = np.linalg.solve(a.T @ a + lam * np.eye(5), a.T @ target)
        assert np.allclose(model.weights_[others, j], ref, atol=1e-5)
        assert model.weights_[j, j] == 0.0
    with pytest.raises(ValueError, match="popularity_exponent"):
        TryNew(popularity_exponent=-0.1).fit(_lines(rows))


def test_top_n_matches_a_full_sort_with_ties_by_column() -> None:
    rng = np.random.default_rng(5)
    dense = np.round(rng.random((40, 30)), 1) * (rng.random((40, 30)) < 0.4)
    s = sp.csr_matrix(dense)
    top = top_n_sparse(s, 4)
    topd = top_n_dense(np.where(dense > 0, dense, -np.inf), 4)
    for r in range(40):
        cols = np.flatnonzero(dense[r] > 0)
        ref = sorted(cols, key=lambda c: (-dense[r, c], c))[:4]
        got = [int(i) for i in top.items[r] if i >= 0]
        assert got == ref
        assert [int(i) for i in topd.items[r] if i >= 0] == ref


def _lines(rows: list[tuple[str, str, str, float]]) -> Lines:
    c, p, d, q = zip(*rows, strict=True)
    return Lines.from_columns({"customer": c, "product": p, "day": d, "quantity": q})


def test_buy_again_reason_tells_the_cycle_and_the_days_since() -> None:
    # given a customer who buys tea every 30 days, last on 2024-03-01
    rows = [("A", "tea", f"2024-{m:02d}-01", 1.0) for m in (1,)] + [
        ("A", "tea", "2024-01-31", 1.0),
        ("A", "tea", "2024-03-01", 1.0),
        ("A", "cake", "2024-02-10", 1.0),
        ("B", "tea", "2024-02-01", 1.0),
        ("B", "cake", "2024-02-01", 1.0),
    ]
    rec = Recommender().fit(_lines(rows), as_of=day_number("2024-04-04"))
    # when
    table = rec.recommend(["A"], 5)
    # then tea comes first: ~30 days cycle, last bought 34 days before 2024-04-04
    ba = table[table["list"] == "buy_again"]
    assert ba["sku"].iloc[0] == "tea"
    assert ba["reason_en"].iloc[0] == "you buy this about every 30 days; last bought 34 days ago"
    assert ba["reason_zh"].iloc[0] == "您大约每 30 天买一次；上次购买在 34 天前"


def test_new_customer_gets_the_popular_items_and_unknown_ids_do_not_fail() -> None:
    rows = [(c, s, "2024-01-05", 1.0) for c in "ABCD" for s in ("tea", "cake")]
    rows += [("E", "milk", "2024-01-06", 1.0)]
    rec = Recommender().fit(_lines(rows))
    table = rec.recommend(["E", "nobody"], 3)
    e_new = table[(table["customer_id"] == "E") & (table["list"] == "try_new")]
    assert list(e_new["sku"]) == ["cake", "tea"]  # popular, not yet bought; ties by SKU
    assert e_new["reason_en"].iloc[0] == "popular with our customers"
    nobody = table[table["customer_id"] == "nobody"]
    assert set(nobody["list"]) == {"try_new"} and "milk" in set(nobody["sku"]) | {"milk"}


def test_estimators_check_parameters_and_fitting() -> None:
    with pytest.raises(NotFittedError):
        BuyAgain().recommend(np.array([0]))
    with pytest.raises(NotFittedError):
        TryNew().recommend(np.array([0]))
    lines = _lines([("A", "tea", "2024-01-01", 1.0)])
    with pytest.raises(ValueError, match="basket_decay"):
        BuyAgain(basket_decay=0.0).fit(lines)
    with pytest.raises(ValueError, match="model"):
        TryNew(model="svd").fit(lines)  # type: ignore[arg-type]


def test_lines_name_the_bad_row() -> None:
    with pytest.raises(ValueError, match="row 1: quantity"):
        Lines.from_columns(
            {
                "customer": ["A", "B"],
                "product": ["x", "y"],
                "day": ["2024-01-01"] * 2,
                "quantity": [1, 0],
            }
        )
    with pytest.raises(ValueError, match="column 'day' is missing"):
        Lines.from_columns({"customer": ["A"], "product": ["x"], "quantity": [1]})
