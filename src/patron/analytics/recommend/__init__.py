"""Personalised recommendations: "buy again" (复购提醒) and "try new" (新品推荐), explained,
under the shop's rules, and measured against baselines on held-out days.

Pure NumPy/SciPy; no Django. A typical use::

    lines = Lines.from_columns({"customer": ..., "product": ..., "day": ..., "quantity": ...})
    rec = Recommender(tune=True).fit(lines, as_of=day_number("2024-06-01"))
    table = rec.recommend(n=10, rules=Rules(not_for_sale=frozenset({"GIFT-100"})))
    report = evaluate(lines, as_of=day_number("2024-06-01"), days=30)

Modules: ``data`` (lines, codes), ``buy_again``, ``try_new``, ``rules``, ``explain``,
``recommender``, ``tuning``, ``metrics``, ``evaluation``.
"""

from __future__ import annotations

from .buy_again import BuyAgain
from .data import Lines, day_number
from .evaluation import Evaluation, evaluate
from .explain import Reason, reason_text
from .metrics import Scores, ranking_scores
from .recommender import COLUMNS, Recommender
from .rules import BUY_AGAIN, LISTS, TRY_NEW, Pin, Rules
from .topn import NotFittedError
from .try_new import TryNew

__all__ = [
    "BUY_AGAIN",
    "COLUMNS",
    "LISTS",
    "TRY_NEW",
    "BuyAgain",
    "Evaluation",
    "Lines",
    "NotFittedError",
    "Pin",
    "Reason",
    "Recommender",
    "Rules",
    "Scores",
    "TryNew",
    "day_number",
    "evaluate",
    "ranking_scores",
    "reason_text",
]
