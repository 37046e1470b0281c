"""Churn early warning: a risk score from P(alive) and plain rules, with reasons in words.

The model's ``1 - P(alive)`` says how likely a customer has already gone; the rules catch
what the model cannot see (a complaint, falling spend) or sees late. Each rule that fires
raises the score by noisy-or, ``1 - (1 - base) * prod(1 - weight_k)``, so adding a reason
never lowers the risk and no single rule decides alone unless its weight is 1.

References
----------
Fader, P. S., Hardie, B. G. S. & Lee, K. L. (2005). "Counting your customers" the easy way:
an alternative to the Pareto/NBD model. Marketing Science 24(2), 275-284 (P(alive), eq. 13).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Final

import numpy as np
import pandas as pd
from numpy.typing import ArrayLike, NDArray

LEVELS: Final = ("high", "medium", "low")
LEVEL_LABELS: Final = {
    "high": {"en": "high", "zh-hans": "高"},
    "medium": {"en": "medium", "zh-hans": "中"},
    "low": {"en": "low", "zh-hans": "低"},
}
REASONS: Final = {
    "likely_gone": {
        "en": "the purchase model gives a {p_gone:.0%} chance the customer has left",
        "zh-hans": "购买模型估计该客户已流失的概率为{p_gone:.0%}",
    },
    "silent": {
        "en": "no purchase for {recency:.0f} days, {ratio:.1f}× the usual {interval:.0f}-day gap",
        "zh-hans": "已{recency:.0f}天未购买，是其平时间隔（{interval:.0f}天）的{ratio:.1f}倍",
    },
    "long_silent": {
        "en": "no purchase for {recency:.0f} days",
        "zh-hans": "已{recency:.0f}天未购买",
    },
    "spend_falling": {
        "en": "spend in the recent period fell {drop:.0%} from the period before",
        "zh-hans": "近期消费比上一期下降了{drop:.0%}",
    },
    "open_complaint": {
        "en": "{complaints:.0f} open complaint(s)",
        "zh-hans": "有{complaints:.0f}条未解决的投诉",
    },
    "low_satisfaction": {
        "en": "low satisfaction ({satisfaction:.0f} of 5)",
        "zh-hans": "满意度低（{satisfaction:.0f}/5）",
    },
}


@dataclass(frozen=True)
class ChurnRules:
    """Rule thresholds and weights; defaults are a starting point, tuned per business.

    Parameters
    ----------
    silence_multiple
        Silent longer than this multiple of the customer's own mean interval fires
        ``silent`` (needs ``min_orders`` orders to know an interval).
    spend_drop
        Recent spend below ``(1 - spend_drop)`` of the previous period fires ``spend_falling``.
    low_satisfaction
        A satisfaction score (1-5) at or below this fires ``low_satisfaction``.
    likely_gone
        ``1 - P(alive)`` at or above this is named as a reason (it is always in the score).
    long_silence_days
        No purchase for longer than this fires ``long_silent`` when ``silent`` did not (for
        one-order customers, who have no interval of their own): with its weight at or above
        ``medium``, nobody silent that long is "low" risk, whatever the model says.
    high, medium
        Score thresholds of the levels.
    """

    silence_multiple: float = 2.0
    min_orders: int = 2
    spend_drop: float = 0.5
    low_satisfaction: float = 2.0
    likely_gone: float = 0.5
    long_silence_days: float = 365.0
    weight_silent: float = 0.5
    weight_long_silent: float = 0.5
    weight_spend_falling: float = 0.3
    weight_open_complaint: float = 0.4
    weight_low_satisfaction: float = 0.3
    high: float = 0.7
    medium: float = 0.4

    def __post_init__(self) -> None:
        for name in (
            "weight_silent",
            "weight_long_silent",
            "weight_spend_falling",
            "weight_open_complaint",
            "weight_low_satisfaction",
            "likely_gone",
            "high",
            "medium",
        ):
            value = getattr(self, name)
            if not 0 <= value <= 1:
                raise ValueError(f"{name} must be in [0, 1], got {value!r}")
        if self.medium > self.high:
            raise ValueError("medium must not exceed high")
        if self.long_silence_days <= 0:
            raise ValueError("long_silence_days must be > 0")
        if self.silence_multiple <= 0 or not 0 < self.spend_drop < 1:
            raise ValueError("silence_multiple must be > 0 and spend_drop in (0, 1)")


def _column(values: ArrayLike | None, n: int, name: str, fill: float) -> NDArray[np.float64]:
    if values is None:
        return np.full(n, fill)
    array = np.asarray(values, dtype=np.float64)
    if array.shape != (n,):
        raise ValueError(f"{name} must have shape ({n},), got {array.shape}")
    return array


def churn_risk(
    p_alive: ArrayLike,
    *,
    recency_days: ArrayLike,
    mean_interval_days: ArrayLike,
    orders: ArrayLike,
    recent_spend: ArrayLike | None = None,
    previous_spend: ArrayLike | None = None,
    open_complaints: ArrayLike | None = None,
    satisfaction: ArrayLike | None = None,
    rules: ChurnRules | None = None,
) -> pd.DataFrame:
    """Score every customer; one row per input position.

    Parameters
    ----------
    p_alive
        P(alive) from a fitted purchase model, in [0, 1].
    recency_days, mean_interval_days, orders
        Days since the last purchase, the customer's mean days between purchases (NaN with
        fewer than two purchases) and the order count.
    recent_spend, previous_spend
        Spend in the latest period and the one before (same length), optional.
    open_complaints, satisfaction
        Open complaint count and satisfaction on a 1-5 scale (NaN = unknown), optional.

    Returns
    -------
    pandas.DataFrame
        ``risk_score`` in [0, 1], ``level`` (high / medium / low), ``reasons`` (codes joined
        by ``;``), ``reasons_en`` and ``reasons_zh`` (plain sentences).

    Examples
    --------
    >>> out = churn_risk([0.9, 0.2], recency_days=[10, 200], mean_interval_days=[30, 20],
    ...                  orders=[5, 6])
    >>> list(out["level"])
    ['low', 'high']
    >>> out.loc[1, "reasons"]
    'likely_gone;silent'
    """
    rules = rules or ChurnRules()
    alive = np.asarray(p_alive, dtype=np.float64)
    if alive.ndim != 1:
        raise ValueError(f"p_alive must be one-dimensional, got shape {alive.shape}")
    if np.isnan(alive).any() or (alive < 0).any() or (alive > 1).any():
        raise ValueError("p_alive must be in [0, 1] with no NaN")
    n = alive.shape[0]
    recency = _column(recency_days, n, "recency_days", np.nan)
    interval = _column(mean_interval_days, n, "mean_interval_days", np.nan)
    count = _column(orders, n, "orders", 0)
    recent = _column(recent_spend, n, "recent_spend", np.nan)
    previous = _column(previous_spend, n, "previous_spend", np.nan)
    complaints = _column(open_complaints, n, "open_complaints", 0)
    score_1to5 = _column(satisfaction, n, "satisfaction", np.nan)

    gone = 1.0 - alive
    with np.errstate(invalid="ignore", divide="ignore"):
        ratio = recency / interval
        silent = (count >= rules.min_orders) & (interval > 0) & (ratio > rules.silence_multiple)
        flags = {
            "likely_gone": gone >= rules.likely_gone,
            "silent": silent,
            "long_silent": ~silent & (recency > rules.long_silence_days),
            "spend_falling": (previous > 0) & (recent < (1 - rules.spend_drop) * previous),
            "open_complaint": complaints > 0,
            "low_satisfaction": score_1to5 <= rules.low_satisfaction,
        }
        drop = 1 - recent / previous
    weights = {
        "silent": rules.weight_silent,
        "long_silent": rules.weight_long_silent,
        "spend_falling": rules.weight_spend_falling,
        "open_complaint": rules.weight_open_complaint,
        "low_satisfaction": rules.weight_low_satisfaction,
    }
    keep = 1.0 - gone
    for code, weight in weights.items():
        keep = keep * np.where(flags[code], 1.0 - weight, 1.0)
    risk = 1.0 - keep
    level = np.where(risk >= rules.high, "high", np.where(risk >= rules.medium, "medium", "low"))

    values = {
        "p_gone": gone,
        "recency": recency,
        "ratio": ratio,
        "interval": interval,
        "drop": drop,
        "complaints": complaints,
        "satisfaction": score_1to5,
    }
    codes = _joined({code: np.where(flags[code], code, "") for code in REASONS}, n, ";")
    texts = {
        language: _joined(
            {code: _reason_texts(code, language, flags[code], values) for code in REASONS}, n
        )
        for language in ("en", "zh-hans")
    }
    return pd.DataFrame(
        {
            "risk_score": risk,
            "level": level,
            "reasons": codes,
            "reasons_en": texts["en"],
            "reasons_zh": texts["zh-hans"],
        }
    )


def _reason_texts(
    code: str, language: str, fired: NDArray[np.bool_], values: dict[str, NDArray[np.float64]]
) -> NDArray[np.object_]:
    """The reason's sentence for each customer it fired for, "" for the others: formatted
    only where it fired, with only the values its template names."""
    template = REASONS[code][language]
    names = [name for name in values if "{" + name in template]
    rows = np.flatnonzero(fired)
    out = np.full(len(fired), "", dtype=object)
    picked = [values[name][rows].tolist() for name in names]
    out[rows] = [
        template.format(**dict(zip(names, row, strict=True))) for row in zip(*picked, strict=True)
    ]
    return out


def _joined(parts: dict[str, NDArray[Any]], n: int, separator: str = "; ") -> list[str]:
    """Per customer, the non-empty parts in order, joined."""
    columns = [part.tolist() for part in parts.values()]
    if not columns:
        return [""] * n
    return [separator.join(filter(None, row)) for row in zip(*columns, strict=True)]
