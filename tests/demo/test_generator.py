"""The demo business: deterministic, well-formed, and faithful to the truth it reports."""

from __future__ import annotations

import json
import re
from collections import Counter
from datetime import date, timedelta

import numpy as np
import numpy.typing as npt
import pyarrow as pa
import pyarrow.compute as pc
import pytest
from scipy import special

from patron.demo.generator import DemoBusiness, generate

MONEY = pa.decimal128(12, 2)
TS = pa.timestamp("us", tz="UTC")
EXPECTED_SCHEMAS: dict[str, list[tuple[str, pa.DataType]]] = {
    "customers": [
        ("external_id", pa.string()),
        ("name", pa.string()),
        ("phone", pa.string()),
        ("email", pa.string()),
        ("gender", pa.string()),
        ("birth_date", pa.date32()),
        ("region", pa.string()),
        ("city", pa.string()),
        ("occupation", pa.string()),
        ("acquisition_channel", pa.string()),
        ("acquired_on", pa.date32()),
        ("acquisition_cost", MONEY),
        ("consent_sms", pa.bool_()),
        ("consent_email", pa.bool_()),
        ("consent_phone", pa.bool_()),
        ("tags", pa.string()),
        ("company", pa.string()),
        ("credit_limit", MONEY),
    ],
    "products": [
        ("sku", pa.string()),
        ("name", pa.string()),
        ("category", pa.string()),
        ("unit_price", MONEY),
        ("unit_cost", MONEY),
    ],
    "orders": [
        ("external_id", pa.string()),
        ("customer_external_id", pa.string()),
        ("ordered_at", TS),
        ("store", pa.string()),
        ("channel", pa.string()),
        ("amount", MONEY),
        ("cost", MONEY),
        ("status", pa.string()),
        ("original_external_id", pa.string()),
    ],
    "order_lines": [
        ("order_external_id", pa.string()),
        ("sku", pa.string()),
        ("quantity", pa.int32()),
        ("amount", MONEY),
    ],
    "interactions": [
        ("customer_external_id", pa.string()),
        ("kind", pa.string()),
        ("channel", pa.string()),
        ("text", pa.string()),
        ("occurred_at", TS),
    ],
    "hidden": [
        ("external_id", pa.string()),
        ("purchase_rate_per_day", pa.float64()),
        ("dropout_p", pa.float64()),
        ("mean_spend", pa.float64()),
        ("alive_at_end", pa.bool_()),
        ("dropout_date", pa.date32()),
        ("duplicate_of", pa.string()),
    ],
}
TABLES = tuple(EXPECTED_SCHEMAS)
SMALL_CUSTOMERS, SMALL_SEED = 3_000, 11
END = date(2026, 10, 31)


@pytest.fixture(scope="module")
def small() -> DemoBusiness:
    return generate(customers=SMALL_CUSTOMERS, seed=SMALL_SEED)


@pytest.fixture(scope="module")
def big() -> DemoBusiness:
    return generate(customers=20_000, seed=2024, end=END)


# --- helpers --------------------------------------------------------------------------------


def col(table: pa.Table, name: str) -> pa.Array:
    return table.column(name).combine_chunks()


def cents(arr: pa.Array) -> npt.NDArray[np.int64]:
    as_float: npt.NDArray[np.float64] = pc.cast(arr, pa.float64()).to_numpy(zero_copy_only=False)
    return np.round(as_float * 100).astype(np.int64)


def strings(arr: pa.Array) -> npt.NDArray[np.object_]:
    return np.asarray(arr.to_pylist(), dtype=object)


def local_seconds(arr: pa.Array) -> npt.NDArray[np.int64]:
    """Seconds since 1970-01-01 00:00 Asia/Shanghai (UTC+8, no DST)."""
    us: npt.NDArray[np.int64] = pc.cast(arr, pa.int64()).to_numpy()
    return us // 1_000_000 + 8 * 3600


def normalise_phone(phone: str) -> str | None:
    digits = re.sub(r"\D", "", phone)
    if len(digits) == 13 and digits.startswith("86"):
        digits = digits[2:]
    return digits if len(digits) == 11 and digits.startswith("1") else None


def person_of(b: DemoBusiness) -> dict[str, str]:
    """customer external id -> the person's original external id (duplicates merged)."""
    ids = b.hidden.column("external_id").to_pylist()
    dup = b.hidden.column("duplicate_of").to_pylist()
    return {i: d or i for i, d in zip(ids, dup, strict=True)}


def sales_by_person(b: DemoBusiness) -> tuple[npt.NDArray[np.object_], npt.NDArray[np.int64]]:
    sales = b.orders.filter(pc.equal(b.orders.column("status"), "completed"))
    mapping = person_of(b)
    persons = np.array([mapping[c] for c in sales.column("customer_external_id").to_pylist()])
    return persons, local_seconds(col(sales, "ordered_at"))


# --- determinism and schema -----------------------------------------------------------------


def test_same_seed_gives_identical_tables(small: DemoBusiness) -> None:
    again = generate(customers=SMALL_CUSTOMERS, seed=SMALL_SEED)
    for name in TABLES:
        assert getattr(again, name).equals(getattr(small, name)), name
    assert again.truth == small.truth


def test_different_seed_gives_different_tables(small: DemoBusiness) -> None:
    other = generate(customers=SMALL_CUSTOMERS, seed=SMALL_SEED + 1)
    for name in ("customers", "orders", "order_lines", "interactions", "hidden"):
        assert not getattr(other, name).equals(getattr(small, name)), name
    assert other.products.equals(small.products)  # the menu is fixed


def test_schemas_are_exact(small: DemoBusiness) -> None:
    for name, fields in EXPECTED_SCHEMAS.items():
        schema = getattr(small, name).schema
        assert [(f.name, f.type) for f in schema] == fields, name
    for name in TABLES:
        getattr(small, name).validate(full=True)


def test_sizes_and_period(small: DemoBusiness) -> None:
    t = small.truth
    assert small.customers.num_rows == small.hidden.num_rows == t.n_customers == 3_000
    assert t.n_persons + t.n_duplicates == 3_000 and t.n_duplicates == 30
    assert 60 <= small.products.num_rows <= 120
    assert t.end == END and t.start == date(2024, 11, 1) and t.observation_days == 730
    assert small.orders.num_rows == int(t.realised["orders"])
    assert json.loads(json.dumps(t.to_dict()))["bgnbd"] == t.bgnbd


def test_rejects_bad_arguments() -> None:
    with pytest.raises(ValueError):
        generate(customers=0)
    with pytest.raises(ValueError):
        generate(years=0)
    with pytest.raises(ValueError):
        generate(gamma_gamma={"q": 1.0})


# --- referential integrity and bookkeeping --------------------------------------------------


def test_keys_are_unique_and_references_resolve(small: DemoBusiness) -> None:
    customers = col(small.customers, "external_id")
    orders = col(small.orders, "external_id")
    skus = col(small.products, "sku")
    for ids in (customers, orders, skus):
        assert pc.count_distinct(ids).as_py() == len(ids)
    assert re.fullmatch(r"C\d{6}", customers[0].as_py())
    assert re.fullmatch(r"O\d{7}", orders[0].as_py())
    assert pc.all(pc.is_in(col(small.orders, "customer_external_id"), customers)).as_py()
    assert pc.all(pc.is_in(col(small.order_lines, "order_external_id"), orders)).as_py()
    assert pc.all(pc.is_in(col(small.order_lines, "sku"), skus)).as_py()
    assert pc.all(pc.is_in(col(small.interactions, "customer_external_id"), customers)).as_py()
    assert col(small.hidden, "external_id").equals(customers)
    dup_of = col(small.hidden, "duplicate_of").drop_null()
    assert len(dup_of) == small.truth.n_duplicates
    assert pc.all(pc.is_in(dup_of, customers)).as_py()
    assert not pc.any(
        pc.is_in(
            dup_of,
            col(small.hidden, "external_id").filter(pc.is_valid(col(small.hidden, "duplicate_of"))),
        )
    ).as_py()


def test_amounts_add_up_to_the_cent(small: DemoBusiness) -> None:
    lines = small.order_lines
    price = dict(
        zip(
            small.products["sku"].to_pylist(), cents(col(small.products, "unit_price")), strict=True
        )
    )
    unit_cost = dict(
        zip(small.products["sku"].to_pylist(), cents(col(small.products, "unit_cost")), strict=True)
    )
    sku = lines["sku"].to_pylist()
    qty = col(lines, "quantity").to_numpy().astype(np.int64)
    line_amount = cents(col(lines, "amount"))
    assert (line_amount == qty * np.array([price[s] for s in sku])).all()
    line_cost = qty * np.array([unit_cost[s] for s in sku])

    order_ids = strings(col(small.orders, "external_id"))
    index = {o: i for i, o in enumerate(order_ids)}
    which = np.array([index[o] for o in lines["order_external_id"].to_pylist()])
    n = order_ids.size
    assert (
        np.bincount(which, weights=line_amount, minlength=n) == cents(col(small.orders, "amount"))
    ).all()
    assert (
        np.bincount(which, weights=line_cost, minlength=n) == cents(col(small.orders, "cost"))
    ).all()
    n_lines = np.bincount(which, minlength=n)
    assert n_lines.min() >= 1 and n_lines.max() <= 4
    assert (np.diff(which) >= 0).all()  # lines grouped by order

    sale = strings(col(small.orders, "status")) == "completed"
    amount = cents(col(small.orders, "amount"))
    assert (amount[sale] > 0).all() and (amount[~sale] < 0).all()
    assert (qty[sale[which]] > 0).all() and (qty[~sale[which]] < 0).all()


def test_returns_point_at_an_earlier_sale_of_the_same_customer(small: DemoBusiness) -> None:
    o = small.orders
    ids = strings(col(o, "external_id"))
    status = strings(col(o, "status"))
    assert set(status) == {"completed", "returned"}
    original = strings(col(o, "original_external_id"))
    is_return = status == "returned"
    assert (pd_isnull(original) == ~is_return).all()
    index = {x: i for i, x in enumerate(ids)}
    orig_idx = np.array([index[x] for x in original[is_return]])
    assert len(set(orig_idx)) == orig_idx.size  # each sale returned at most once
    assert (status[orig_idx] == "completed").all()
    cust = strings(col(o, "customer_external_id"))
    assert (cust[orig_idx] == cust[is_return]).all()
    at = local_seconds(col(o, "ordered_at"))
    delay = (at[is_return] - at[orig_idx]) / 86400
    assert delay.min() > 0.5 and delay.max() < 11
    assert (strings(col(o, "store"))[orig_idx] == strings(col(o, "store"))[is_return]).all()
    share = is_return.sum() / (~is_return).sum()
    assert 0.015 < share < 0.035

    # A return gives back at most what its sale had, line by line.
    lines = small.order_lines
    bought = Counter[tuple[str, str]]()
    for order, sku, q in zip(
        lines["order_external_id"].to_pylist(),
        lines["sku"].to_pylist(),
        lines["quantity"].to_pylist(),
        strict=True,
    ):
        bought[(order, sku)] += q
    back = dict(zip(ids[is_return], original[is_return], strict=True))
    for (order, sku), q in bought.items():
        if order in back:
            assert 0 < -q <= bought[(back[order], sku)]


def pd_isnull(values: npt.NDArray[np.object_]) -> npt.NDArray[np.bool_]:
    return np.array([v is None for v in values])


def test_times_are_in_shop_hours_and_inside_the_period(small: DemoBusiness) -> None:
    start, end = small.truth.start, small.truth.end
    epoch = date(1970, 1, 1)
    for table, column in ((small.orders, "ordered_at"), (small.interactions, "occurred_at")):
        sec = local_seconds(col(table, column))
        hours = (sec % 86400) / 3600
        assert hours.min() >= 10 and hours.max() < 22, column
        days = sec // 86400
        assert days.min() >= (start - epoch).days and days.max() <= (end - epoch).days
    assert (np.diff(local_seconds(col(small.orders, "ordered_at"))) >= 0).all()
    # acquired_on is the first purchase date or earlier.
    first: dict[str, int] = {}
    sec = local_seconds(col(small.orders, "ordered_at")) // 86400
    for c, d in zip(small.orders["customer_external_id"].to_pylist(), sec, strict=True):
        first.setdefault(c, int(d))
    acquired = small.customers["acquired_on"].to_pylist()
    for c, a in zip(small.customers["external_id"].to_pylist(), acquired, strict=True):
        if c in first:
            assert (a - epoch).days <= first[c]


def test_hidden_truth_is_consistent(small: DemoBusiness) -> None:
    h = small.hidden
    alive = col(h, "alive_at_end").to_numpy(zero_copy_only=False)
    dropped = col(h, "dropout_date")
    assert (pc.is_null(dropped).to_numpy(zero_copy_only=False) == alive).all()
    persons, sec = sales_by_person(small)
    last: dict[str, int] = {}
    for p, s in zip(persons, sec // 86400, strict=True):
        last[p] = int(s)
    epoch = date(1970, 1, 1)
    mapping = person_of(small)
    for cid, d in zip(h["external_id"].to_pylist(), dropped.to_pylist(), strict=True):
        if d is not None and mapping[cid] == cid:
            assert (d - epoch).days == last[cid]  # dropped out right after the last purchase


# --- statistics against the truth -----------------------------------------------------------


def person_rows(b: DemoBusiness) -> pa.Table:
    return b.hidden.filter(pc.is_null(b.hidden.column("duplicate_of")))


def test_latent_traits_follow_the_stated_distributions(big: DemoBusiness) -> None:
    t = big.truth
    h = person_rows(big)
    lam = col(h, "purchase_rate_per_day").to_numpy()
    p = col(h, "dropout_p").to_numpy()
    zeta = col(h, "mean_spend").to_numpy()
    assert lam.mean() == pytest.approx(t.bgnbd["r"] / t.bgnbd["alpha"], rel=0.05)
    assert lam.var() == pytest.approx(t.bgnbd["r"] / t.bgnbd["alpha"] ** 2, rel=0.15)
    assert p.mean() == pytest.approx(t.bgnbd["a"] / (t.bgnbd["a"] + t.bgnbd["b"]), rel=0.05)
    assert zeta.mean() == pytest.approx(t.mean_spend, rel=0.05)
    assert t.mean_spend == pytest.approx(80.0)


def expected_repeat_purchases(
    t: npt.NDArray[np.float64], bg: dict[str, float]
) -> npt.NDArray[np.float64]:
    """BG/NBD E[X(t)] for a customer who made the first purchase at 0 (FHL 2005, eq. 7)."""
    r, alpha, a, b = bg["r"], bg["alpha"], bg["a"], bg["b"]
    hyp: npt.NDArray[np.float64] = special.hyp2f1(r, b, a + b - 1, t / (alpha + t))
    return (a + b - 1) / (a - 1) * (1 - (alpha / (alpha + t)) ** r * hyp)


def test_purchase_counts_match_the_bgnbd_parameters(big: DemoBusiness) -> None:
    persons, sec = sales_by_person(big)
    first: dict[str, int] = {}
    count = Counter(persons.tolist())
    for p, s in zip(persons, sec, strict=True):
        first.setdefault(p, int(s))
    end_sec = (big.truth.end - date(1970, 1, 1)).days * 86400 + 86400
    people = list(count)
    T = np.array([(end_sec - first[p]) / 86400 for p in people])
    x = np.array([count[p] - 1 for p in people])
    expected = expected_repeat_purchases(T, big.truth.bgnbd)
    assert x.mean() == pytest.approx(expected.mean(), rel=0.05)
    # and over the whole history of early customers alone (a different mix of T)
    early = T > 600
    assert x[early].mean() == pytest.approx(expected[early].mean(), rel=0.08)


def test_alive_customers_buy_in_a_window_as_the_parameters_imply(big: DemoBusiness) -> None:
    """Alive at the end: repeats are Poisson with rate λ(1 - p); integrate λ, p over the prior
    tilted by P(alive | λ, p, T) = exp(-λ p T)."""
    bg = big.truth.bgnbd
    r, alpha, a, b = bg["r"], bg["alpha"], bg["a"], bg["b"]
    window = 90
    epoch = date(1970, 1, 1)
    end_day = (big.truth.end - epoch).days
    w_start = end_day - window + 1
    persons, sec = sales_by_person(big)
    days = sec // 86400
    h = person_rows(big)
    ids = h["external_id"].to_pylist()
    alive = dict(zip(ids, h["alive_at_end"].to_pylist(), strict=True))
    lam = dict(zip(ids, h["purchase_rate_per_day"].to_pylist(), strict=True))
    p_of = dict(zip(ids, h["dropout_p"].to_pylist(), strict=True))
    first: dict[str, int] = {}
    in_window = Counter[str]()
    for p, d in zip(persons, days, strict=True):
        first.setdefault(p, int(d))
        if d >= w_start:
            in_window[p] += 1
    before = [p for p in first if first[p] < w_start]  # customers since before the window
    T = np.array([end_day - first[p] + 0.5 for p in before])  # mid-day on average
    is_alive = np.array([alive[p] for p in before])
    chosen = [p for p, ok in zip(before, is_alive, strict=True) if ok]
    counts = np.array([in_window[p] for p in chosen], dtype=float)

    nodes, weights = special.roots_jacobi(64, b - 1, a - 1)  # E over p ~ Beta(a, b)
    pp = (1 + nodes) / 2
    weights = weights / weights.sum()
    s = pp[None, :] * T[:, None]
    # E[λ e^{-λ s}] = (r/α) (α/(α+s))^{r+1} and E[e^{-λ s}] = (α/(α+s))^r for λ ~ Gamma(r, α)
    p_alive = ((alpha / (alpha + s)) ** r) @ weights
    bought_and_alive = window * r / alpha * ((1 - pp) * (alpha / (alpha + s)) ** (r + 1)) @ weights
    assert is_alive.sum() == pytest.approx(p_alive.sum(), rel=0.04)
    assert counts.mean() == pytest.approx(bought_and_alive.sum() / p_alive.sum(), rel=0.06)
    # Per customer, against the hidden rates (this checks the Poisson process itself).
    rate = np.array([lam[p] * (1 - p_of[p]) for p in chosen])
    assert counts.sum() / (rate.sum() * window) == pytest.approx(1.0, rel=0.04)
    # Sanity: alive customers buy less than the prior mean suggests (they are selected).
    assert counts.mean() < window * r / alpha


def test_spend_matches_the_gamma_gamma_parameters(big: DemoBusiness) -> None:
    sales = big.orders.filter(pc.equal(big.orders.column("status"), "completed"))
    amount = cents(col(sales, "amount")) / 100
    mapping = person_of(big)
    persons = np.array([mapping[c] for c in sales["customer_external_id"].to_pylist()])
    assert amount.mean() == pytest.approx(big.truth.mean_spend, rel=0.05)
    h = person_rows(big)
    zeta = dict(zip(h["external_id"].to_pylist(), col(h, "mean_spend").to_numpy(), strict=True))
    uniq, inverse = np.unique(persons, return_inverse=True)
    n = np.bincount(inverse)
    per_person = np.bincount(inverse, weights=amount) / n
    assert per_person.mean() == pytest.approx(big.truth.mean_spend, rel=0.05)
    z = np.array([zeta[u] for u in uniq])
    assert (n * per_person).sum() / (n * z).sum() == pytest.approx(1.0, rel=0.02)
    # The line-fitting noise stays small next to the Gamma(p) spread within a customer.
    many = n >= 10
    assert np.corrcoef(per_person[many], z[many])[0, 1] > 0.9


def test_students_prefer_vegetarian_dishes_and_spend_less(big: DemoBusiness) -> None:
    occupation = dict(
        zip(
            big.customers["external_id"].to_pylist(),
            big.customers["occupation"].to_pylist(),
            strict=True,
        )
    )
    category = dict(
        zip(big.products["sku"].to_pylist(), big.products["category"].to_pylist(), strict=True)
    )
    order_customer = dict(
        zip(
            big.orders["external_id"].to_pylist(),
            big.orders["customer_external_id"].to_pylist(),
            strict=True,
        )
    )
    lines = big.order_lines.filter(pc.greater(big.order_lines.column("quantity"), 0))
    veg = Counter[bool]()
    total = Counter[bool]()
    for order, sku in zip(
        lines["order_external_id"].to_pylist(), lines["sku"].to_pylist(), strict=True
    ):
        student = occupation[order_customer[order]] == "学生"
        total[student] += 1
        veg[student] += category[sku] == "素食"
    student_share, other_share = veg[True] / total[True], veg[False] / total[False]
    assert student_share > 1.7 * other_share, (student_share, other_share)
    zeta = col(big.hidden, "mean_spend").to_numpy()
    is_student = strings(col(big.customers, "occupation")) == "学生"
    assert 0.1 < is_student.mean() < 0.35
    assert zeta[is_student].mean() < 0.7 * zeta[~is_student].mean()
    dropout = col(big.hidden, "dropout_p").to_numpy()
    assert dropout[is_student].mean() > 1.1 * dropout[~is_student].mean()  # they move away


# --- dirty records --------------------------------------------------------------------------


def test_dirty_records_are_there_to_be_found(big: DemoBusiness) -> None:
    c = big.customers
    phones = c["phone"].to_pylist()
    normal = [normalise_phone(p) for p in phones]
    malformed = sum(n is None for n in normal) / len(phones)
    assert 0.01 < malformed < 0.04
    assert any(re.fullmatch(r"\d{3}-\d{4}-\d{3}", p) for p in phones)
    written_differently = sum(n is not None and n != p for p, n in zip(phones, normal, strict=True))
    assert written_differently / len(phones) > 0.02
    valid = Counter(n for n in normal if n is not None)
    shared_phone = sum(k for k in valid.values() if k > 1)
    assert shared_phone / len(phones) > 0.005

    emails = [e for e in c["email"].to_pylist() if e is not None]
    assert 0.3 < len(emails) / len(phones) < 0.5
    assert len(set(emails)) > len({e.lower() for e in emails})  # same address, other case

    # Every duplicate record matches its person by phone or by e-mail (case-folded).
    row = {cid: i for i, cid in enumerate(c["external_id"].to_pylist())}
    email_all = c["email"].to_pylist()
    names = c["name"].to_pylist()
    dups = [(i, d) for i, d in enumerate(big.hidden["duplicate_of"].to_pylist()) if d]
    assert len(dups) == big.truth.n_duplicates == 200
    same_name = 0
    for i, d in dups:
        j = row[d]
        by_phone = normal[i] is not None and normal[i] == normal[j]
        by_email = email_all[i] is not None and email_all[i].lower() == (email_all[j] or "").lower()
        assert by_phone or by_email, (phones[i], phones[j], email_all[i], email_all[j])
        assert phones[i] != phones[j] or email_all[i] != email_all[j]  # never an exact copy
        same_name += names[i] == names[j]
    assert 0.2 < same_name / len(dups) < 0.8  # and often a name variant


def test_b2b_customers_have_companies_and_credit(big: DemoBusiness) -> None:
    c = big.customers
    company = c["company"].to_pylist()
    credit = c["credit_limit"].to_pylist()
    share = sum(x is not None for x in company) / len(company)
    assert 0.02 < share < 0.04
    assert all(company[i] is not None for i, x in enumerate(credit) if x is not None)
    assert all(x.endswith("有限公司") for x in company if x is not None)
    assert sum(x is not None for x in credit) > 0.9 * big.truth.n_persons * big.truth.b2b_share


def test_names_regions_and_interactions_look_real(big: DemoBusiness) -> None:
    c = big.customers
    names = c["name"].to_pylist()
    chinese = [n for n in names if re.fullmatch(r"[\u4e00-\u9fff]{2,4}", n)]
    assert len(chinese) / len(names) > 0.9
    assert any(re.fullmatch(r"[A-Z][a-z]+ [A-Z][a-z]+", n) for n in names)
    pairs = set(zip(c["region"].to_pylist(), c["city"].to_pylist(), strict=True))
    assert ("广东省", "深圳市") in pairs and ("广东省", "北京市") not in pairs
    cities = Counter(city for _, city in pairs)
    assert max(cities.values()) == 1  # each city belongs to one province
    assert set(c["gender"].to_pylist()) == {"m", "f", "u"}
    kinds = set(big.interactions["kind"].to_pylist())
    assert kinds == {"visit", "call", "email", "complaint", "note", "survey"}
    assert set(big.interactions["channel"].to_pylist()) <= {"门店", "电话", "微信", "邮件"}
    per_customer = big.interactions.num_rows / c.num_rows
    assert 0.2 < per_customer < 0.4


def test_years_and_end_shape_the_period() -> None:
    b = generate(customers=300, seed=1, end=date(2025, 6, 30), years=1.0)
    assert b.truth.start == date(2025, 6, 30) - timedelta(days=364)
    sec = local_seconds(col(b.orders, "ordered_at"))
    assert (sec // 86400).max() <= (date(2025, 6, 30) - date(1970, 1, 1)).days
