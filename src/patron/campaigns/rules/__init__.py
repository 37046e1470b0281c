"""Segment rules: a JSON tree of conditions compiled to one database query (never a loop over
customers in Python). The same JSON in the web builder, the API and the CLI::

    {"all": [{"field": "value_tier", "op": "in", "value": ["very_high", "high"]},
             {"any": [{"field": "days_since_last_purchase", "op": ">", "value": 90},
                      {"field": "churn_risk", "op": "=", "value": "high"}]}]}

A node is ``{"all": [...]}`` (AND; ``{"all": []}`` is everyone), ``{"any": [...]}`` (OR; an
empty one is no one), ``{"not": node}`` or a condition ``{"field", "op", "value"}``. Every
condition is true or false for every customer (a customer without a score in the latest run,
or without the value, does not meet it; ``not`` of it then holds), so the result equals the
same filter done row by row.

Fields: the customer's own columns, ``attributes.<key>`` (questionnaire answers and other
kept columns), the latest completed analysis run's scores, behaviour read from the orders
(days since the last purchase, orders, spend, categories bought) and consent per channel.

The package by responsibility: ``fields`` (the catalogue), ``validation`` (checking the JSON),
``compile`` (conditions to one query), ``count`` (counting fast).
"""

from patron.campaigns.rules.compile import rules_validate, segment_queryset
from patron.campaigns.rules.count import large_query_settings, segment_count
from patron.campaigns.rules.fields import (
    ATTRIBUTE_PREFIX,
    FIELDS,
    OPS,
    PURCHASE_STATUSES,
    Field,
    field_list,
)
from patron.campaigns.rules.validation import rules_parse

__all__ = [
    "ATTRIBUTE_PREFIX",
    "FIELDS",
    "OPS",
    "PURCHASE_STATUSES",
    "Field",
    "field_list",
    "large_query_settings",
    "rules_parse",
    "rules_validate",
    "segment_count",
    "segment_queryset",
]
