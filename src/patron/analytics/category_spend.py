"""Segment diagnosis of product categories by share of spend (客户群分析, categories).

Whether a customer *bought* a category at all grows with how much they buy, so a group of
frequent buyers (the top tier, "champions") looks over-represented in every category when
categories are compared by who bought them (:func:`patron.analytics.diagnosis.
diagnose_categories`). Comparing the share of each customer's spend that goes to each category
removes that: it does not grow with the order count, so it says what the group buys *instead
of* other things. Same table as :mod:`patron.analytics.diagnosis`
(:data:`~patron.analytics.diagnosis.DIAGNOSIS_COLUMNS`), with ``test`` = "welch".
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np
import pandas as pd
from numpy.typing import ArrayLike, NDArray
from scipy import stats

from patron.analytics.diagnosis import DEFAULT_GROUP_LABEL, _finish, _group_mask, _row
from patron.analytics.summary import collect

__all__ = ["SpendShares", "category_spend_shares", "diagnose_category_spend"]


@dataclass(frozen=True)
class SpendShares:
    """Per customer with a positive spend (``spent`` marks them among the customers), the
    share of their spend in each category (columns in the order of ``categories``)."""

    categories: NDArray[np.object_]
    spent: NDArray[np.bool_]
    shares: NDArray[np.float64]


def category_spend_shares(
    spend: pd.DataFrame,
    customer_ids: ArrayLike,
    *,
    category: str = "category",
    amount: str = "amount",
) -> SpendShares:
    """Each customer's share of spend per category, for :func:`diagnose_category_spend`."""
    ids = np.asarray(customer_ids).astype(str)
    frame = collect(spend, ["customer_id", category, amount]).dropna()
    frame = frame.assign(customer_id=frame["customer_id"].astype(str))
    position = pd.Index(ids).get_indexer(frame["customer_id"].to_numpy())
    frame = frame.loc[position >= 0]
    position = position[position >= 0]
    codes, uniques = pd.factorize(frame[category], sort=True)
    totals = np.zeros((len(ids), len(uniques)))
    np.add.at(totals, (position, codes), frame[amount].to_numpy(dtype=np.float64))
    totals = np.maximum(totals, 0.0)
    per_customer = totals.sum(axis=1)
    spent = per_customer > 0
    shares = totals[spent] / per_customer[spent, None]
    return SpendShares(np.asarray(uniques, dtype=object), spent, shares)


def _share_statements(
    value: str,
    lift: float,
    group_share: float,
    rest_share: float,
    group_label: Mapping[str, str],
) -> tuple[str, str]:
    group_en = group_label.get("en", DEFAULT_GROUP_LABEL["en"])
    group_zh = group_label.get("zh-hans", DEFAULT_GROUP_LABEL["zh-hans"])
    if math.isinf(lift):
        return (
            f"{value} takes {group_share:.0%} of the spend of {group_en} and none of other "
            f"customers'",
            f"{value}占{group_zh}消费的{group_share:.0%}，其他客户在这一类别没有消费",
        )
    return (
        f"{value} takes {group_share:.0%} of the spend of {group_en} against "
        f"{rest_share:.0%} of other customers' ({lift:.1f}×)",
        f"{value}占{group_zh}消费的{group_share:.0%}，其他客户为{rest_share:.0%}（{lift:.1f}倍）",
    )


def diagnose_category_spend(
    spend: pd.DataFrame,
    *,
    customer_ids: ArrayLike,
    in_group: ArrayLike,
    category: str = "category",
    amount: str = "amount",
    group_label: Mapping[str, str] = DEFAULT_GROUP_LABEL,
    alpha: float = 0.05,
    min_count: int = 1,
    shares: SpendShares | None = None,
) -> pd.DataFrame:
    """Compare the share of their spend that a group's customers put in each product category
    with the other customers'.

    Whether a customer *bought* a category at all grows with how much they buy: a group of
    frequent buyers has bought nearly everything more often, so every category looks
    over-represented in it. The share of each customer's spend in a category does not grow
    with their order count, so it says what the group buys *instead of* other things.

    Per customer with a positive spend, the category's share of that customer's spend (0 when
    they bought none of it); ``group_share`` and ``rest_share`` are the mean shares of the
    group's and of the other customers (so each customer weighs the same, whatever they
    spend), ``lift`` their ratio, and the test Welch's two-sample t-test on the per-customer
    shares (``test`` = "welch"; customers are independent observations). ``group_count`` and
    ``rest_count`` count the customers who spent anything on the category; ``group_size`` and
    ``rest_size`` the customers with a positive spend.

    Parameters
    ----------
    spend : pandas.DataFrame
        ``customer_id``, ``category`` and ``amount``: one row per customer and category (or
        per line; rows are summed). Negative totals count as 0.
    customer_ids, in_group, group_label, alpha, min_count
        As in :func:`diagnose_categories`.
    shares : SpendShares, optional
        :func:`category_spend_shares` of ``spend`` and ``customer_ids``, computed once for
        many groups of the same customers (``spend`` is then not read).

    Returns
    -------
    pandas.DataFrame
        Columns :data:`DIAGNOSIS_COLUMNS`; significant rows first, then by q-value and by how
        far the lift is from 1, then by category.

    Examples
    --------
    >>> spend = pd.DataFrame({"customer_id": ["a", "a", "b", "c", "c", "d"],
    ...                       "category": ["fish", "rice", "rice", "fish", "rice", "rice"],
    ...                       "amount": [30.0, 10.0, 50.0, 5.0, 45.0, 20.0]})
    >>> out = diagnose_category_spend(spend, customer_ids=["a", "b", "c", "d"],
    ...                               in_group=[True, True, False, False])
    >>> row = out.set_index("value").loc["fish"]
    >>> round(float(row["group_share"]), 3), round(float(row["rest_share"]), 3)
    (0.375, 0.05)
    """
    if shares is None:
        shares = category_spend_shares(spend, customer_ids, category=category, amount=amount)
    # with the shares given the ids only count the customers (their text form is not
    # needed: making it is most of a group's time at a million customers)
    mask = _group_mask(in_group, np.asarray(customer_ids).shape[0])
    if shares.spent.shape[0] != mask.shape[0]:
        raise ValueError(
            f"shares are of {shares.spent.shape[0]} customers, customer_ids has {mask.shape[0]}"
        )
    uniques, spent, shares_matrix = shares.categories, shares.spent, shares.shares
    in_g = mask[spent]
    g_size, r_size = int(in_g.sum()), int((~in_g).sum())
    if g_size == 0 or r_size == 0:
        return _finish([], alpha)
    rows: list[dict[str, object]] = []
    bought = shares_matrix > 0
    for j, value in enumerate(uniques):
        g_count = int(bought[in_g, j].sum())
        r_count = int(bought[~in_g, j].sum())
        if g_count + r_count < max(min_count, 1):
            continue
        g, r = shares_matrix[in_g, j], shares_matrix[~in_g, j]
        g_share, r_share = float(g.mean()), float(r.mean())
        lift = g_share / r_share if r_share > 0 else (math.inf if g_share > 0 else math.nan)
        if g.size > 1 and r.size > 1 and (g.var() > 0 or r.var() > 0):
            p = float(stats.ttest_ind(g, r, equal_var=False).pvalue)
        else:
            p = 1.0
        en, zh = _share_statements(str(value), lift, g_share, r_share, group_label)
        p = p if math.isfinite(p) else 1.0
        rows.append(
            _row(category, value, (g_count, g_size, g_share), (r_count, r_size, r_share),
                 lift, "welch", p, (en, zh))
        )  # fmt: skip
    return _finish(rows, alpha)
