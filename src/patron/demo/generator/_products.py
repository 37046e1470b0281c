"""The catalog's products as arrays (category, price and cost in cents) and its segments."""

from __future__ import annotations

import numpy as np
import pyarrow as pa

from patron.demo import catalog
from patron.demo.generator._arrays import _money
from patron.demo.generator.schemas import PRODUCTS_SCHEMA

_CATS = list(catalog.CATEGORIES)
_PROD_CAT = np.array([_CATS.index(p.category) for p in catalog.PRODUCTS])
_PRICE_CENTS = np.array([p.price * 100 for p in catalog.PRODUCTS], dtype=np.int64)
_COST_CENTS = np.array(
    [round(p.price * 100 * catalog.CATEGORIES[p.category][1]) for p in catalog.PRODUCTS],
    dtype=np.int64,
)


def _products_table() -> pa.Table:
    ps = catalog.PRODUCTS
    return pa.Table.from_arrays(
        [
            pa.array([p.sku for p in ps]),
            pa.array([p.name for p in ps]),
            pa.array([p.category for p in ps]),
            _money(_PRICE_CENTS),
            _money(_COST_CENTS),
        ],
        schema=PRODUCTS_SCHEMA,
    )


_SEGMENTS = [o.name for o in catalog.OCCUPATIONS] + [catalog.B2B_SEGMENT]
_B2B_SEG = len(_SEGMENTS) - 1
