"""Segment diagnosis of a stored run (客户群分析): what sets a tier or segment apart.

The customers scored in the run are the population. Each one's tier and segment (from the
run) meet their attributes (gender, age band at the run's date, region, occupation,
acquisition channel; from the customer record) and the product categories they bought up to
the run's date (order lines of completed or open orders: no returns, refunds or cancelled
orders). :mod:`patron.analytics.diagnosis` then compares the group with every other scored
customer: counts, shares, lift, a two-sided test, Benjamini-Hochberg q-values and the finding
in plain words, in English and Chinese.

Computed when the run is made and stored with it (:class:`~patron.insights.models.
RunDiagnosis`, one row per tier and segment): pages read it. Product categories are compared by
their share of each customer's spend (:func:`patron.analytics.category_spend.
diagnose_category_spend`), not by whether the customer bought them, which grows with the order
count. A run made before runs stored their diagnoses has it computed on view and cached per
run, as before.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Literal

from django.core.cache import cache

from patron.analytics.segments import SEGMENT_CODES, SEGMENTS
from patron.analytics.tiers import TIER_CODES, TIERS
from patron.insights.models import AnalysisRun, CustomerScore

if TYPE_CHECKING:
    import pandas as pd

    from patron.analytics.diagnosis import AttributeCodes

GroupKind = Literal["tier", "segment"]
GROUP_KINDS: tuple[GroupKind, ...] = ("tier", "segment")
CACHE_SECONDS = 7 * 24 * 3600  # runs never change; the key names the run
MIN_COUNT = 5  # values held by fewer customers (group and rest together) are left out
ALPHA = 0.05

#: Attribute columns compared, in order, with their names in sentences.
ATTRIBUTE_LABELS: dict[str, dict[str, str]] = {
    "gender": {"en": "gender", "zh-hans": "性别"},
    "age_band": {"en": "age", "zh-hans": "年龄段"},
    "region": {"en": "region", "zh-hans": "地区"},
    "occupation": {"en": "occupation", "zh-hans": "职业"},
    "acquisition_channel": {"en": "acquisition channel", "zh-hans": "获客渠道"},
}
CATEGORY_LABELS: dict[str, dict[str, str]] = {
    "category": {"en": "product category", "zh-hans": "商品类别"}
}
ATTRIBUTES: tuple[str, ...] = tuple(ATTRIBUTE_LABELS)
# Coded attribute values and what a sentence calls them in each language; other attributes
# (region, occupation, channel, category) are the shop's own words and read as they are.
GENDER_VALUES: dict[str, dict[str, str]] = {
    "f": {"en": "women", "zh-hans": "女性"},
    "m": {"en": "men", "zh-hans": "男性"},
}
# (lowest age, highest age or None, labels); ages are whole years at the run's date.
AGE_BANDS: tuple[tuple[int, int | None, dict[str, str]], ...] = (
    (0, 24, {"en": "under-25s", "zh-hans": "25岁以下"}),
    (25, 34, {"en": "25-34-year-olds", "zh-hans": "25-34岁"}),
    (35, 44, {"en": "35-44-year-olds", "zh-hans": "35-44岁"}),
    (45, 54, {"en": "45-54-year-olds", "zh-hans": "45-54岁"}),
    (55, 64, {"en": "55-64-year-olds", "zh-hans": "55-64岁"}),
    (65, None, {"en": "people aged 65 and over", "zh-hans": "65岁及以上"}),
)
PURCHASE_STATUSES = ("completed", "open")  # what a bought category counts


@dataclass(frozen=True)
class Population:
    """The scored customers of a run, one row each, and what they bought.

    ``customers``: ``customer_id`` (the store's key), ``value_tier``, ``segment`` and the
    attribute columns, with coded values (``gender`` f/m, ``age_band`` 0-5) and None where
    unknown. ``categories``: (``customer_id``, ``category``, ``amount``), the customer's spend on
    the category up to the run's date.
    """

    customers: pd.DataFrame
    categories: pd.DataFrame


@dataclass(frozen=True)
class Diagnosis:
    """One group of a run against the rest.

    ``attributes`` and ``categories`` are records with the columns of
    :data:`patron.analytics.diagnosis.DIAGNOSIS_COLUMNS` plus ``code`` (the attribute value as
    stored: "f", an age band number, the region itself) and ``value_en`` / ``value_zh`` (how
    each language names it). Rows come in the analytics order: significant first.
    """

    kind: GroupKind
    code: str
    group_size: int
    rest_size: int
    attributes: list[dict[str, Any]]
    categories: list[dict[str, Any]]


def group_codes(kind: GroupKind) -> tuple[str, ...]:
    return TIER_CODES if kind == "tier" else SEGMENT_CODES


def group_label(kind: GroupKind, code: str) -> dict[str, str]:
    """The group as a noun phrase for sentences, in both languages."""
    if kind == "tier":
        return next(t.group_label for t in TIERS if t.code == code)
    label = next(s.label for s in SEGMENTS if s.code == code)
    return {
        "en": f"the “{label['en']}” segment",
        "zh-hans": f"“{label['zh-hans']}”客户群",
    }


def _key(run: AnalysisRun, *parts: object) -> str:
    return ":".join(
        ("segment-diagnosis", str(run.pk), str(run.created_at.timestamp()), *map(str, parts))
    )


def _age_band(birth_dates: Any, as_of: dt.date) -> Any:
    import numpy as np
    import pandas as pd

    born = pd.to_datetime(pd.Series(birth_dates, dtype=object), errors="coerce")
    known = born.notna().to_numpy()
    years = np.zeros(len(born), dtype=np.int64)
    if known.any():
        b = born[known]
        had_birthday = (b.dt.month.to_numpy() < as_of.month) | (
            (b.dt.month.to_numpy() == as_of.month) & (b.dt.day.to_numpy() <= as_of.day)
        )
        years[known] = as_of.year - b.dt.year.to_numpy() - (~had_birthday).astype(np.int64)
    lows = np.array([low for low, _high, _labels in AGE_BANDS])
    band = np.searchsorted(lows, years, side="right") - 1
    out = pd.Series(band, dtype="Int64")
    out[~known | (years < 0)] = pd.NA
    return out


def population_load(*, run: AnalysisRun) -> Population:
    """The run's scored customers with their attributes and bought categories (two queries)."""
    import pandas as pd

    from patron.sales.models import OrderLine

    columns = ["customer_id", "value_tier", "segment", "gender", "birth_date", "region",
               "occupation", "acquisition_channel"]  # fmt: skip
    # in a set order: the database may read in parallel, and the diagnosis's sums follow it
    rows = (
        CustomerScore.objects.filter(run=run)
        .order_by("customer_id")
        .values_list(
            "customer_id",
            "value_tier",
            "segment",
            "customer__gender",
            "customer__birth_date",
            "customer__region",
            "customer__occupation",
            "customer__acquisition_channel",
        )
    )
    frame = pd.DataFrame.from_records(_fetched(rows), columns=columns)
    for name in ("region", "occupation", "acquisition_channel"):
        # blank words are missing: looked at once per distinct word, not per customer
        values = frame[name].astype("category")
        blank = [word for word in values.cat.categories if not str(word).strip()]
        frame[name] = values.cat.remove_categories(blank) if blank else values
    frame["gender"] = frame["gender"].where(frame["gender"].isin(list(GENDER_VALUES)), None)
    frame["age_band"] = _age_band(frame.pop("birth_date"), run.as_of)
    for name in ("value_tier", "segment", "region", "occupation", "acquisition_channel"):
        frame[name] = frame[name].astype("category")  # compact in the cache
    from django.db.models import FloatField, Sum
    from django.db.models.functions import Cast

    pairs = (
        OrderLine.objects.filter(
            order__ordered_on__lte=run.as_of,
            order__status__in=PURCHASE_STATUSES,
            product__isnull=False,
        )
        .exclude(product__category="")
        .order_by()  # no default ordering: it would join the GROUP BY
        .values("order__customer_id", "product__category")
        # summed exactly, then made a float: a parallel sum of floats depends on its order
        .annotate(spend=Cast(Sum("amount"), FloatField()))
        .values_list("order__customer_id", "product__category", "spend")
        .order_by("order__customer_id", "product__category")
    )
    categories = pd.DataFrame.from_records(
        _fetched(pairs), columns=["customer_id", "category", "amount"]
    )
    categories["category"] = categories["category"].astype("category")  # compact in the cache
    return Population(customers=frame, categories=categories)


def _fetched(rows: Any) -> list[tuple[Any, ...]]:
    """The rows of a values_list query, fetched by the database driver as they are: Django's
    row-by-row iteration took half of the load for a million scored customers (its converters
    change nothing here: the SQLite connection decodes dates itself). Unlike Django's
    iterator (a server-side cursor on PostgreSQL), the query may run in parallel: give it an
    order."""
    from django.db import connection

    sql, params = rows.query.sql_with_params()
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return list(cursor.fetchall())


def population_cached(*, run: AnalysisRun) -> Population:
    """:func:`population_load`, kept in the cache for the run."""
    key = _key(run, "population")
    found = cache.get(key)
    if found is None:
        found = population_load(run=run)
        cache.set(key, found, CACHE_SECONDS)
    return found  # type: ignore[no-any-return]


def _names(attribute: str, code: Any) -> dict[str, str]:
    """How each language names an attribute value (coded or the shop's own word)."""
    if attribute == "gender":
        return GENDER_VALUES[str(code)]
    if attribute == "age_band":
        return AGE_BANDS[int(code)][2]
    return {"en": str(code), "zh-hans": str(code)}


def _coded_names(language: str) -> dict[tuple[str, str], str]:
    """(attribute, name in ``language``) -> stored code, for the coded attributes."""
    out = {("gender", names[language]): code for code, names in GENDER_VALUES.items()}
    for i, (_low, _high, names) in enumerate(AGE_BANDS):
        out[("age_band", names[language])] = str(i)
    return out


def _labelled(customers: pd.DataFrame, language: str) -> AttributeCodes:
    """The attribute columns with coded values replaced by their names in ``language``, as
    :func:`~patron.analytics.diagnosis.attribute_codes`."""
    from patron.analytics.diagnosis import attribute_codes

    out = customers.loc[:, list(ATTRIBUTES)].copy()
    gender = {code: names[language] for code, names in GENDER_VALUES.items()}
    out["gender"] = out["gender"].map(gender)
    bands = {i: names[language] for i, (_low, _high, names) in enumerate(AGE_BANDS)}
    out["age_band"] = out["age_band"].astype("float64").map(bands)
    return attribute_codes(out, ATTRIBUTES)


def _records(table: pd.DataFrame, language: str) -> list[dict[str, Any]]:
    """Rows of a diagnosis table as plain dicts, with the stored code and both names."""
    import math

    coded = _coded_names(language)
    out = []
    for row in table.to_dict("records"):
        code = coded.get((row["attribute"], str(row["value"])), str(row["value"]))
        names = _names(row["attribute"], code)
        clean = {k: None if isinstance(v, float) and math.isnan(v) else v for k, v in row.items()}
        clean.update(
            code=code,
            value_en=names["en"],
            value_zh=names["zh-hans"],
            group_count=int(row["group_count"]),
            rest_count=int(row["rest_count"]),
            group_size=int(row["group_size"]),
            rest_size=int(row["rest_size"]),
            significant=bool(row["significant"]),
        )
        out.append(clean)
    return out


def diagnose_population(
    population: Population,
    *,
    kind: GroupKind,
    code: str,
    shares: Any = None,
    labelled: dict[str, AttributeCodes] | None = None,
) -> Diagnosis:
    """Compare one group of ``population`` with the rest (no cache, no database); ``shares``:
    :func:`patron.analytics.diagnosis.category_spend_shares` of the population, and
    ``labelled``: :func:`_labelled` of its customers by language, when the caller diagnoses
    many groups (each is a pass over every customer)."""
    from patron.analytics.category_spend import diagnose_category_spend
    from patron.analytics.diagnosis import diagnose_attributes

    customers = population.customers
    column = "value_tier" if kind == "tier" else "segment"
    in_group = (customers[column] == code).to_numpy(dtype=bool)
    size = int(in_group.sum())
    rest = len(customers) - size
    if size == 0 or rest == 0:
        return Diagnosis(kind, code, size, rest, [], [])
    label = group_label(kind, code)
    # The sentences are written once per language, with the values named in that language;
    # the figures are the same in both (same counts, same tests, so the same q-values).
    english, chinese = (
        _records(
            diagnose_attributes(
                labelled[language] if labelled else _labelled(customers, language),
                in_group=in_group,
                columns=ATTRIBUTES,
                group_label=label,
                labels=ATTRIBUTE_LABELS,
                alpha=ALPHA,
                min_count=MIN_COUNT,
            ),
            language,
        )
        for language in ("en", "zh-hans")
    )
    statement_zh = {(row["attribute"], row["code"]): row["statement_zh"] for row in chinese}
    for row in english:
        row["statement_zh"] = statement_zh[(row["attribute"], row["code"])]
    # Categories by their share of each customer's spend, not by whether the customer bought
    # them at all: buying a category at all grows with the order count, so every category
    # would look over-represented in a tier of frequent buyers.
    categories = diagnose_category_spend(
        population.categories,
        customer_ids=customers["customer_id"].to_numpy(),
        in_group=in_group,
        group_label=label,
        alpha=ALPHA,
        min_count=MIN_COUNT,
        shares=shares,
    )
    return Diagnosis(kind, code, size, rest, english, _records(categories, "en"))


def _encoded(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Rows as JSON holds them: an infinite lift (only in the group) as "inf"."""
    import math

    return [
        {k: ("inf" if isinstance(v, float) and math.isinf(v) else v) for k, v in row.items()}
        for row in rows
    ]


def _decoded(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    import math

    return [{k: (math.inf if v == "inf" else v) for k, v in row.items()} for row in rows]


def diagnosis_as_json(diagnosis: Diagnosis) -> dict[str, Any]:
    return {
        "group_size": diagnosis.group_size,
        "rest_size": diagnosis.rest_size,
        "attributes": _encoded(diagnosis.attributes),
        "categories": _encoded(diagnosis.categories),
        "categories_by": "spend_share",
    }


def diagnoses_compute(*, run: AnalysisRun) -> list[tuple[GroupKind, str, dict[str, Any]]]:
    """Every tier's and segment's diagnosis of ``run`` (for the run to store)."""
    from patron.analytics.category_spend import category_spend_shares

    population = population_load(run=run)
    shares = category_spend_shares(
        population.categories, population.customers["customer_id"].to_numpy().astype(str)
    )
    labelled = {
        language: _labelled(population.customers, language) for language in ("en", "zh-hans")
    }
    out = []
    for kind in GROUP_KINDS:
        for code in group_codes(kind):
            diagnosis = diagnose_population(
                population, kind=kind, code=code, shares=shares, labelled=labelled
            )
            out.append((kind, code, diagnosis_as_json(diagnosis)))
    return out


def segment_diagnosis(*, run: AnalysisRun, kind: GroupKind, code: str) -> Diagnosis:
    """The diagnosis of a tier or segment of ``run`` as the run stored it; a run made before
    runs stored their diagnoses has it computed here and cached for the run.

    Raises
    ------
    ValueError
        ``kind`` is not "tier" or "segment", or ``code`` is not one of its codes.
    """
    from patron.insights.models import RunDiagnosis

    if kind not in GROUP_KINDS or code not in group_codes(kind):
        raise ValueError(f"unknown group {kind}/{code}")
    stored = RunDiagnosis.objects.filter(run=run, kind=kind, code=code).first()
    if stored is not None:
        data = stored.data
        return Diagnosis(
            kind,
            code,
            int(data["group_size"]),
            int(data["rest_size"]),
            _decoded(data["attributes"]),
            _decoded(data["categories"]),
        )
    key = _key(run, kind, code)
    found = cache.get(key)
    if found is None:
        population = population_cached(run=run)
        found = diagnose_population(population, kind=kind, code=code)
        cache.set(key, found, CACHE_SECONDS)
    return found  # type: ignore[no-any-return]
