"""Segment diagnosis (客户群分析): what sets a group of customers apart.

For a group (a tier, a segment) against all other customers, every value of a
categorical attribute (gender, occupation, region, ...) and every product
category is compared:

``group_share``
    Share of the group's customers with the value (or who bought the category).
``rest_share``
    The same share among the other customers.
``lift``
    ``group_share / rest_share``: 3.1 means "3.1 times as common in the group"
    (``inf`` when no other customer has it).
``p_value``
    Two-sided test that the two shares are equal: the two-proportion z-test with
    a pooled variance, or Fisher's exact test when an expected cell count is
    below 5 (``test`` says which). The unit is the customer, so tests are on
    independent observations.
``q_value``
    Benjamini-Hochberg adjusted p-value over all rows of the result (many values
    are tested at once); ``significant`` is ``q_value < alpha``.

Missing attribute values are left out of both shares. Each row carries the
finding in plain words, in English and Chinese, e.g. "学生 (occupation) are
3.1× as common in the very-low tier as among other customers (42% vs 14%)" /
"学生（职业）在很低层级中的比例是其他客户的3.1倍（42%对14%）".
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import ibis.expr.types as ir
import numpy as np
import pandas as pd
from numpy.typing import ArrayLike, NDArray
from scipy import stats

from patron.analytics.summary import collect

__all__ = [
    "DIAGNOSIS_COLUMNS",
    "AttributeCodes",
    "attribute_codes",
    "diagnose_attributes",
    "diagnose_categories",
    "proportion_test",
]

#: Columns of the diagnosis tables, in order.
DIAGNOSIS_COLUMNS: tuple[str, ...] = (
    "attribute",
    "value",
    "group_count",
    "group_size",
    "group_share",
    "rest_count",
    "rest_size",
    "rest_share",
    "lift",
    "direction",
    "test",
    "p_value",
    "q_value",
    "significant",
    "statement_en",
    "statement_zh",
)

DEFAULT_GROUP_LABEL: dict[str, str] = {"en": "the group", "zh-hans": "该客户群"}

BAD_GROUP = "in_group must be a boolean array with one entry per customer"
EMPTY_SIDE = "the group and the rest must each have at least one customer"


def proportion_test(
    group_count: int, group_size: int, rest_count: int, rest_size: int
) -> tuple[str, float]:
    """Two-sided test of equal proportions; returns ``(test name, p-value)``.

    Fisher's exact test when an expected cell is below 5, else the pooled
    two-proportion z-test.

    Examples
    --------
    >>> name, p = proportion_test(40, 100, 20, 100)
    >>> name, round(p, 4)
    ('z', 0.002)
    """
    table = np.array(
        [[group_count, group_size - group_count], [rest_count, rest_size - rest_count]],
        dtype=np.float64,
    )
    total = table.sum()
    expected = table.sum(axis=1)[:, None] * table.sum(axis=0)[None, :] / total
    if expected.min() < 5:
        result = stats.fisher_exact(table.astype(np.int64), alternative="two-sided")
        return "fisher", float(result.pvalue)
    p1 = group_count / group_size
    p2 = rest_count / rest_size
    pooled = (group_count + rest_count) / (group_size + rest_size)
    se = math.sqrt(pooled * (1 - pooled) * (1 / group_size + 1 / rest_size))
    if se == 0:
        return "z", 1.0
    z = (p1 - p2) / se
    return "z", float(2 * stats.norm.sf(abs(z)))


def _label(labels: Mapping[str, Mapping[str, str]] | None, name: str, language: str) -> str:
    if labels and name in labels:
        return labels[name].get(language, name)
    return name


def _statements(
    attribute: str,
    value: str,
    lift: float,
    group_share: float,
    rest_share: float,
    group_label: Mapping[str, str],
    labels: Mapping[str, Mapping[str, str]] | None,
) -> tuple[str, str]:
    attr_en = _label(labels, attribute, "en")
    attr_zh = _label(labels, attribute, "zh-hans")
    group_en = group_label.get("en", DEFAULT_GROUP_LABEL["en"])
    group_zh = group_label.get("zh-hans", DEFAULT_GROUP_LABEL["zh-hans"])
    if math.isinf(lift):
        return (
            f"{value} ({attr_en}) occur only in {group_en} ({group_share:.0%} of it)",
            f"{value}（{attr_zh}）只出现在{group_zh}中（占{group_share:.0%}）",
        )
    return (
        f"{value} ({attr_en}) are {lift:.1f}× as common in {group_en} as among other "
        f"customers ({group_share:.0%} vs {rest_share:.0%})",
        f"{value}（{attr_zh}）在{group_zh}中的比例是其他客户的{lift:.1f}倍"
        f"（{group_share:.0%}对{rest_share:.0%}）",
    )


def _compare(
    attribute: str,
    values: NDArray[np.object_],
    group_sizes: tuple[int, int],
    group_label: Mapping[str, str],
    labels: Mapping[str, Mapping[str, str]] | None,
    counts: tuple[NDArray[np.int64], NDArray[np.int64]],
) -> list[dict[str, object]]:
    rows: list[dict[str, object]] = []
    group_size, rest_size = group_sizes
    for value, g, r in zip(values, counts[0], counts[1], strict=True):
        g_share = g / group_size
        r_share = r / rest_size
        lift = g_share / r_share if r_share > 0 else (math.inf if g_share > 0 else math.nan)
        test, p = proportion_test(int(g), group_size, int(r), rest_size)
        en, zh = _statements(attribute, str(value), lift, g_share, r_share, group_label, labels)
        rows.append(
            _row(attribute, value, (int(g), group_size, g_share), (int(r), rest_size, r_share),
                 lift, test, p, (en, zh))
        )  # fmt: skip
    return rows


def _row(
    attribute: str,
    value: object,
    group: tuple[int, int, float],
    rest: tuple[int, int, float],
    lift: float,
    test: str,
    p: float,
    statements: tuple[str, str],
) -> dict[str, object]:
    """One row of a diagnosis table: (count, size, share) of the group and of the rest."""
    g_share, r_share = group[2], rest[2]
    return {
        "attribute": attribute,
        "value": value,
        "group_count": group[0],
        "group_size": group[1],
        "group_share": g_share,
        "rest_count": rest[0],
        "rest_size": rest[1],
        "rest_share": r_share,
        "lift": lift,
        "direction": "over" if g_share > r_share else "under" if g_share < r_share else "same",
        "test": test,
        "p_value": p,
        "statement_en": statements[0],
        "statement_zh": statements[1],
    }


def _finish(rows: list[dict[str, object]], alpha: float) -> pd.DataFrame:
    if not rows:
        return pd.DataFrame({c: [] for c in DIAGNOSIS_COLUMNS})
    table = pd.DataFrame(rows)
    p = table["p_value"].to_numpy(dtype=np.float64)
    table["q_value"] = stats.false_discovery_control(p, method="bh")
    table["significant"] = table["q_value"] < alpha
    table["_abs_log_lift"] = np.abs(np.log(table["lift"].to_numpy(dtype=np.float64).clip(1e-300)))
    table["_value"] = table["value"].astype(str)
    table = table.sort_values(
        ["significant", "q_value", "_abs_log_lift", "attribute", "_value"],
        ascending=[False, True, False, True, True],
        kind="stable",
    )
    return table.loc[:, list(DIAGNOSIS_COLUMNS)].reset_index(drop=True)


def _group_mask(in_group: ArrayLike, n: int) -> NDArray[np.bool_]:
    mask = np.asarray(in_group)
    if mask.shape != (n,) or mask.dtype != np.bool_:
        raise ValueError(BAD_GROUP)
    if mask.all() or not mask.any():
        raise ValueError(EMPTY_SIDE)
    return mask


@dataclass(frozen=True)
class AttributeCodes:
    """Categorical columns of a population as integer codes (-1: unknown) and their values:
    the part of :func:`diagnose_attributes` that does not depend on the group, computed once
    when many groups of the same customers are diagnosed."""

    rows: int
    codes: dict[str, NDArray[np.intp]]
    values: dict[str, NDArray[np.object_]]


def attribute_codes(customers: pd.DataFrame, columns: Sequence[str]) -> AttributeCodes:
    """:class:`AttributeCodes` of ``columns`` of ``customers`` (values sorted)."""
    codes, values = {}, {}
    for column in columns:
        codes[column], uniques = pd.factorize(customers[column], sort=True)
        values[column] = np.asarray(uniques, dtype=object)
    return AttributeCodes(len(customers), codes, values)


def diagnose_attributes(
    customers: pd.DataFrame | AttributeCodes,
    *,
    in_group: ArrayLike,
    columns: Sequence[str],
    group_label: Mapping[str, str] = DEFAULT_GROUP_LABEL,
    labels: Mapping[str, Mapping[str, str]] | None = None,
    alpha: float = 0.05,
    min_count: int = 1,
) -> pd.DataFrame:
    """Compare categorical attributes of a group with the other customers.

    Parameters
    ----------
    customers : pandas.DataFrame or AttributeCodes
        One row per customer with the attribute columns, or their :func:`attribute_codes`.
    in_group : array_like of bool
        One entry per row of ``customers``: True for the group's customers.
    columns : sequence of str
        The categorical columns to compare.
    group_label : dict, default {"en": "the group", "zh-hans": "该客户群"}
        The group as a noun phrase in each language, e.g.
        ``patron.analytics.tiers.tier("very_low").group_label``.
    labels : dict, optional
        Display names of the columns per language, e.g.
        ``{"occupation": {"en": "occupation", "zh-hans": "职业"}}``.
    alpha : float, default 0.05
        False discovery rate for ``significant``.
    min_count : int, default 1
        Skip values held by fewer customers (group and rest together).

    Returns
    -------
    pandas.DataFrame
        Columns :data:`DIAGNOSIS_COLUMNS`; significant rows first, then by
        q-value and by how far the lift is from 1.

    Examples
    --------
    >>> import pandas as pd
    >>> df = pd.DataFrame({"occupation": ["学生"] * 30 + ["职员"] * 70})
    >>> flags = [True] * 20 + [False] * 10 + [True] * 10 + [False] * 60
    >>> out = diagnose_attributes(df, in_group=flags, columns=["occupation"],
    ...                           group_label={"en": "the very-low tier", "zh-hans": "很低层级"})
    >>> out.loc[0, "statement_zh"]
    '学生（occupation）在很低层级中的比例是其他客户的4.7倍（67%对14%）'
    """
    if isinstance(customers, pd.DataFrame):
        customers = attribute_codes(customers, columns)
    mask = _group_mask(in_group, customers.rows)
    rows: list[dict[str, object]] = []
    for column in columns:
        codes, uniques = customers.codes[column], customers.values[column]
        known = codes >= 0  # pandas' factorize codes a missing value -1
        g_size = int((mask & known).sum())
        r_size = int((~mask & known).sum())
        if g_size == 0 or r_size == 0:
            continue
        g_counts = np.bincount(codes[mask & known], minlength=len(uniques)).astype(np.int64)
        r_counts = np.bincount(codes[~mask & known], minlength=len(uniques)).astype(np.int64)
        keep = (g_counts + r_counts) >= max(min_count, 1)
        rows.extend(
            _compare(
                column,
                uniques[keep],
                (g_size, r_size),
                group_label,
                labels,
                (g_counts[keep], r_counts[keep]),
            )
        )
    return _finish(rows, alpha)


def diagnose_categories(
    purchases: pd.DataFrame | ir.Table,
    *,
    customer_ids: ArrayLike,
    in_group: ArrayLike,
    category: str = "category",
    group_label: Mapping[str, str] = DEFAULT_GROUP_LABEL,
    labels: Mapping[str, Mapping[str, str]] | None = None,
    alpha: float = 0.05,
    min_count: int = 1,
) -> pd.DataFrame:
    """Compare the product categories bought by a group with the other customers.

    A customer counts once per category they bought at least once; the share is
    of customers, not of lines, so the test's observations are independent.

    Parameters
    ----------
    purchases : pandas.DataFrame or ibis.Table
        ``customer_id`` and the ``category`` column, one row per line (or
        already distinct). An Ibis table is reduced to distinct
        (customer, category) pairs in the engine.
    customer_ids : array_like of str
        The population: every customer considered (with or without purchases).
    in_group : array_like of bool
        One entry per ``customer_ids``.
    category : str, default "category"
    group_label, labels, alpha, min_count
        As in :func:`diagnose_attributes`; ``attribute`` is ``category``.

    Returns
    -------
    pandas.DataFrame
        Columns :data:`DIAGNOSIS_COLUMNS`.
    """
    ids = np.asarray(customer_ids).astype(str)
    mask = _group_mask(in_group, len(ids))
    if isinstance(purchases, pd.DataFrame):
        pairs = collect(purchases, ["customer_id", category]).drop_duplicates()
    else:
        pairs = collect(
            purchases.select("customer_id", category).distinct(), ["customer_id", category]
        )
    pairs = pairs.dropna()
    pairs = pairs.assign(customer_id=pairs["customer_id"].astype(str))
    group_ids = set(ids[mask])
    population = set(ids)
    pairs = pairs.loc[pairs["customer_id"].isin(population)]
    in_g = pairs["customer_id"].isin(group_ids).to_numpy()
    codes, uniques = pd.factorize(pairs[category], sort=True)
    g_counts = np.bincount(codes[in_g], minlength=len(uniques)).astype(np.int64)
    r_counts = np.bincount(codes[~in_g], minlength=len(uniques)).astype(np.int64)
    keep = (g_counts + r_counts) >= max(min_count, 1)
    group_size = int(mask.sum())
    rows = _compare(
        category,
        np.asarray(uniques, dtype=object)[keep],
        (group_size, len(ids) - group_size),
        group_label,
        labels,
        (g_counts[keep], r_counts[keep]),
    )
    return _finish(rows, alpha)
