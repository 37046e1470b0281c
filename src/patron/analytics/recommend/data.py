"""Purchase lines as integer-coded arrays and the sparse matrices the recommenders use.

The input contract is four equally long columns, one row per purchase line: ``customer``
(any hashable id, usually a string), ``product`` (the SKU), ``day`` (a date) and ``quantity``
(positive). A *basket* is a customer's purchases on one day (DOMAIN.md: lines of one customer
at one date form one purchase). Returned items (negative quantities) are not lines here: pass
them as :attr:`patron.analytics.recommend.rules.Rules.returned` instead.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt
import scipy.sparse as sp

IntArray = npt.NDArray[np.int64]
FloatArray = npt.NDArray[np.float64]
ObjArray = npt.NDArray[Any]

REQUIRED_COLUMNS = ("customer", "product", "day", "quantity")


@dataclass(frozen=True)
class Lines:
    """Purchase lines with customers and products coded ``0..n-1``.

    Attributes
    ----------
    customers, products : ndarray
        The ids behind the codes, sorted (``customers[c]`` is the id of code ``c``).
    customer, product : ndarray of int64
        The coded customer and product of each line.
    day : ndarray of int64
        Days since 1970-01-01.
    quantity : ndarray of float64
    """

    customers: ObjArray
    products: ObjArray
    customer: IntArray
    product: IntArray
    day: IntArray
    quantity: FloatArray

    @property
    def n_customers(self) -> int:
        return int(self.customers.shape[0])

    @property
    def n_products(self) -> int:
        return int(self.products.shape[0])

    @classmethod
    def from_columns(
        cls,
        columns: Mapping[str, Sequence[Any] | npt.ArrayLike],
        *,
        products: Sequence[Any] | npt.ArrayLike | None = None,
    ) -> Lines:
        """Validate and code a mapping of columns (a ``dict`` of arrays or a DataFrame).

        ``products`` optionally names the whole catalogue, so items nobody bought yet (or
        bought only in the held-out window) get a code too.

        Raises
        ------
        ValueError
            A column is missing, the lengths differ, a day is missing or a quantity is not a
            positive finite number; the message names the column and the first bad row.
        """
        for name in REQUIRED_COLUMNS:
            if name not in columns:
                raise ValueError(f"lines: column {name!r} is missing (need {REQUIRED_COLUMNS})")
        raw_customer = np.asarray(columns["customer"])
        raw_product = np.asarray(columns["product"])
        raw_day = np.asarray(columns["day"])
        quantity = np.asarray(columns["quantity"], dtype=np.float64)
        n = raw_customer.shape[0]
        for name, arr in (("product", raw_product), ("day", raw_day), ("quantity", quantity)):
            if arr.shape[0] != n:
                raise ValueError(f"lines: column {name!r} has {arr.shape[0]} rows, expected {n}")
        bad = np.flatnonzero(~np.isfinite(quantity) | (quantity <= 0))
        if bad.size:
            raise ValueError(
                f"lines: row {int(bad[0])}: quantity {quantity[bad[0]]!r} is not a positive number"
            )
        day = _days(raw_day)
        customers, customer = unique_inverse(_ids(raw_customer))
        if products is None:
            product_ids, product = unique_inverse(_ids(raw_product))
        else:
            product_ids = unique_sorted(_ids(np.asarray(products)))
            wanted = _ids(raw_product).astype(product_ids.dtype)
            product = np.searchsorted(product_ids, wanted)
            product = np.minimum(product, max(product_ids.shape[0] - 1, 0))
            unknown = np.flatnonzero(product_ids[product] != wanted)
            if unknown.size:
                raise ValueError(
                    f"lines: row {int(unknown[0])}: product {raw_product[unknown[0]]!r} "
                    "is not in the catalogue"
                )
        return cls(
            customers=customers,
            products=product_ids,
            customer=customer.astype(np.int64),
            product=np.asarray(product, dtype=np.int64),
            day=day,
            quantity=quantity,
        )

    def before(self, day: int) -> Lines:
        """The lines strictly before ``day`` (codes kept; no copy when all are)."""
        return self._mask(self.day < day)

    def since(self, day: int) -> Lines:
        """The lines on or after ``day`` (codes kept; no copy when all are)."""
        return self._mask(self.day >= day)

    def _mask(self, keep: npt.NDArray[np.bool_]) -> Lines:
        if bool(keep.all()):
            return self
        return Lines(
            customers=self.customers,
            products=self.products,
            customer=self.customer[keep],
            product=self.product[keep],
            day=self.day[keep],
            quantity=self.quantity[keep],
        )

    def customer_codes(self, ids: Sequence[Any] | npt.ArrayLike) -> IntArray:
        """Codes of customer ids; ``-1`` for an id never seen."""
        return _codes(self.customers, np.asarray(ids))

    def product_codes(self, ids: Sequence[Any] | npt.ArrayLike) -> IntArray:
        """Codes of product ids; ``-1`` for an id not in the catalogue."""
        return _codes(self.products, np.asarray(ids))


def unique_sorted(a: npt.NDArray[Any]) -> npt.NDArray[Any]:
    """``np.unique`` by sorting (NumPy 2's hash-based unique of integers ran ~10x slower here
    on 20M values). The default sort, not a stable one: equal values need no order, and
    NumPy's vectorised quicksort is ~9x faster on 20M integers."""
    if a.shape[0] == 0:
        return a
    s = np.sort(a)
    return s[np.r_[True, s[1:] != s[:-1]]]


def unique_inverse(a: npt.NDArray[Any]) -> tuple[npt.NDArray[Any], IntArray]:
    """Sorted unique values and the code of each element, by one sort; integers spanning a
    range no wider than their count (customer numbers, product numbers) by a lookup table
    instead, with no sort at all."""
    if a.shape[0] == 0:
        return a, np.zeros(0, dtype=np.int64)
    if a.dtype.kind in "iu":
        lo, hi = int(a.min()), int(a.max())
        if hi - lo < max(a.shape[0], 1024):
            present = np.zeros(hi - lo + 1, dtype=bool)
            present[a - lo] = True
            code = np.cumsum(present, dtype=np.int64) - 1
            return (np.flatnonzero(present) + lo).astype(a.dtype), code[a - lo]
    order = np.argsort(a)
    s = a[order]
    first = np.r_[True, s[1:] != s[:-1]]
    inverse = np.empty(a.shape[0], dtype=np.int64)
    inverse[order] = np.cumsum(first) - 1
    return s[first], inverse


def _ids(raw: npt.NDArray[Any]) -> npt.NDArray[Any]:
    """Integer ids stay integers (fast); anything else becomes text."""
    if np.issubdtype(raw.dtype, np.integer):
        return raw.astype(np.int64)
    return raw.astype(str)


def _codes(sorted_ids: ObjArray, ids: npt.NDArray[Any]) -> IntArray:
    """Positions of ``ids`` in ``sorted_ids`` (-1 when absent); text and integer ids meet
    as text when their kinds differ."""
    if sorted_ids.shape[0] == 0 or ids.shape[0] == 0:
        return np.full(ids.shape[0], -1, dtype=np.int64)
    keys = sorted_ids
    query = _ids(ids)
    if keys.dtype.kind != query.dtype.kind:
        if keys.dtype.kind in "iu":
            ok = np.array([str(q).lstrip("-").isdigit() for q in query], dtype=bool)
            ints = np.array([int(q) if o else 0 for q, o in zip(query, ok, strict=True)])
            out = _codes(keys, ints.astype(np.int64))
            return np.where(ok, out, -1)
        query = query.astype(str)
    pos = np.minimum(np.searchsorted(keys, query), keys.shape[0] - 1)
    return np.where(keys[pos] == query, pos, -1).astype(np.int64)


def _days(raw: npt.NDArray[Any]) -> IntArray:
    if np.issubdtype(raw.dtype, np.integer):
        return raw.astype(np.int64)
    try:
        days = raw.astype("datetime64[D]")
    except (TypeError, ValueError) as error:
        raise ValueError(f"lines: column 'day' must hold dates ({error})") from None
    nat = np.flatnonzero(np.isnat(days))
    if nat.size:
        raise ValueError(f"lines: row {int(nat[0])}: day is missing")
    return days.astype(np.int64)


def day_number(value: Any) -> int:
    """A date (``date``, ``datetime64`` or ISO string) as days since 1970-01-01."""
    return int(np.datetime64(value, "D").astype(np.int64))


@dataclass(frozen=True)
class Baskets:
    """Distinct (customer, product, day) purchases, sorted by customer, product, day.

    ``counts[c, p]`` (CSR) is the number of days customer c bought product p; ``last[c, p]``
    the last such day; the basket index of each purchase (0 = the customer's first day) is in
    ``basket_rank`` and each customer's number of baskets in ``n_baskets``.
    """

    customer: IntArray
    product: IntArray
    day: IntArray
    basket_rank: IntArray
    n_baskets: IntArray


def baskets(lines: Lines) -> Baskets:
    """Collapse lines to one row per (customer, product, day) with basket ranks.

    The three codes are packed into one integer by bit shifts (masks and shifts to unpack:
    no integer division over millions of rows) when they fit in 62 bits."""
    n_p = max(lines.n_products, 1)
    n_c = max(lines.n_customers, 1)
    d0 = int(lines.day.min(initial=0))
    span = int(lines.day.max(initial=0)) - d0 + 1
    bd = max(1, (span - 1).bit_length())
    bp = max(1, (n_p - 1).bit_length())
    bc = max(1, (n_c - 1).bit_length())
    offset = lines.day - d0
    if bc + bp + bd <= 62:
        key = unique_sorted((((lines.customer << bp) | lines.product) << bd) | offset)
        day = (key & ((1 << bd) - 1)) + d0
        cp = key >> bd
        customer, product = cp >> bp, cp & ((1 << bp) - 1)
    else:  # very wide codes: the same order by arithmetic
        key = unique_sorted((lines.customer * n_p + lines.product) * (1 << 20) + offset)
        day = (key % (1 << 20)) + d0
        cp = key // (1 << 20)
        customer, product = cp // n_p, cp % n_p
    # basket rank: distinct days per customer, ranked
    cd_key = (customer << bd) | (day - d0)
    cd = unique_sorted(cd_key)
    cd_customer = cd >> bd
    n_baskets = np.bincount(cd_customer, minlength=n_c).astype(np.int64)
    starts = np.concatenate(([0], np.cumsum(n_baskets)[:-1]))
    rank_of_cd = np.arange(cd.shape[0], dtype=np.int64) - starts[cd_customer]
    pos = np.searchsorted(cd, cd_key)
    return Baskets(
        customer=customer.astype(np.int64, copy=False),
        product=product.astype(np.int64, copy=False),
        day=day.astype(np.int64, copy=False),
        basket_rank=rank_of_cd[pos],
        n_baskets=n_baskets,
    )


def csr(
    rows: IntArray, cols: IntArray, values: FloatArray, shape: tuple[int, int]
) -> sp.csr_matrix:
    """A CSR matrix summing duplicate entries, float32 to halve memory."""
    m = sp.csr_matrix((values.astype(np.float32), (rows, cols)), shape=shape, dtype=np.float32)
    m.sum_duplicates()
    return m


def sorted_csr(
    rows: IntArray, cols: IntArray, values: npt.NDArray[Any], shape: tuple[int, int]
) -> sp.csr_matrix:
    """A CSR matrix from entries already sorted by (row, column) without repeats (what
    :func:`baskets` and :func:`pair_stats` give): its arrays directly, no sort."""
    indptr = np.zeros(shape[0] + 1, dtype=np.int64)
    np.cumsum(np.bincount(rows, minlength=shape[0]), out=indptr[1:])
    m = sp.csr_matrix((values, cols, indptr), shape=shape)
    m.has_sorted_indices = True
    return m
