"""A deterministic synthetic shop-and-restaurant business with known ground truth.

Customers buy as in the BG/NBD model (Fader, Hardie & Lee 2005) and spend as in the
Gamma-Gamma model, with the parameters recorded in :class:`DemoTruth`, so the analytics can be
checked against the numbers that made the data. Pure NumPy and pyarrow, vectorised: see
docs/demo.md for the business, the parameters and how to use the truth.
"""

from patron.demo.generator._arrays import Bools as Bools
from patron.demo.generator._arrays import Floats as Floats
from patron.demo.generator._arrays import Ints as Ints
from patron.demo.generator.business import DemoBusiness, generate
from patron.demo.generator.rates import APP_SHARE as APP_SHARE
from patron.demo.generator.rates import B2B_SHARE as B2B_SHARE
from patron.demo.generator.rates import BIRTHS as BIRTHS
from patron.demo.generator.rates import DELIVERY_BETA as DELIVERY_BETA
from patron.demo.generator.rates import DUPLICATE_RATE as DUPLICATE_RATE
from patron.demo.generator.rates import EMAIL_RATE as EMAIL_RATE
from patron.demo.generator.rates import FORMATTED_PHONE_RATE as FORMATTED_PHONE_RATE
from patron.demo.generator.rates import FULL_RETURN_SHARE as FULL_RETURN_SHARE
from patron.demo.generator.rates import HOURLY_TRAFFIC as HOURLY_TRAFFIC
from patron.demo.generator.rates import INTERACTIONS_PER_CUSTOMER as INTERACTIONS_PER_CUSTOMER
from patron.demo.generator.rates import MALFORMED_PHONE_RATE as MALFORMED_PHONE_RATE
from patron.demo.generator.rates import RETURN_COMPLAINT_SHARE as RETURN_COMPLAINT_SHARE
from patron.demo.generator.rates import RETURN_DELAY_DAYS as RETURN_DELAY_DAYS
from patron.demo.generator.rates import RETURN_RATE as RETURN_RATE
from patron.demo.generator.rates import SHOP_HOURS as SHOP_HOURS
from patron.demo.generator.rates import SHOP_OPENS_H as SHOP_OPENS_H
from patron.demo.generator.rates import UTC_OFFSET_H as UTC_OFFSET_H
from patron.demo.generator.sales import MAX_PORTIONS as MAX_PORTIONS
from patron.demo.generator.sales import PREFERRED_LINES as PREFERRED_LINES
from patron.demo.generator.schemas import (
    CUSTOMERS_SCHEMA,
    HIDDEN_SCHEMA,
    INTERACTIONS_SCHEMA,
    ORDER_LINES_SCHEMA,
    ORDERS_SCHEMA,
    PRODUCTS_SCHEMA,
)
from patron.demo.generator.schemas import MONEY as MONEY
from patron.demo.generator.schemas import TIMESTAMP as TIMESTAMP
from patron.demo.truth import DemoTruth

__all__ = [
    "CUSTOMERS_SCHEMA",
    "HIDDEN_SCHEMA",
    "INTERACTIONS_SCHEMA",
    "ORDERS_SCHEMA",
    "ORDER_LINES_SCHEMA",
    "PRODUCTS_SCHEMA",
    "DemoBusiness",
    "DemoTruth",
    "generate",
]
