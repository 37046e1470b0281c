"""The link to value: later retention of promoters, passives and detractors, and what a
detractor costs.

A respondent is retained when they bought again within the window after answering (the
caller reads that from orders). The retention rate of each group carries a Wilson interval
(Wilson 1927, JASA 22, eq. for the score interval); the cost of a detractor is the retention
gap to promoters times the value of a retained customer that the caller gives (e.g. the mean
revenue of the retained in the window).

>>> r = retention_by_nps_group([10, 9, 3, 2, 8], [True, True, False, True, True])
>>> r["promoter"].retained, r["detractor"].rate
(2, 0.5)
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt
from scipy import stats

from patron.analytics.satisfaction.scores import DETRACTOR, PASSIVE, PROMOTER, nps_group


@dataclass(frozen=True)
class RetentionByGroup:
    group: str
    respondents: int
    retained: int
    rate: float
    ci_low: float
    ci_high: float


def _wilson(k: int, n: int, confidence: float) -> tuple[float, float]:
    if n == 0:
        return float("nan"), float("nan")
    z = float(stats.norm.ppf(0.5 + confidence / 2))
    p = k / n
    centre = (p + z * z / (2 * n)) / (1 + z * z / n)
    half = z * np.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / (1 + z * z / n)
    return float(centre - half), float(centre + half)


def retention_by_nps_group(
    scores: npt.ArrayLike, retained: npt.ArrayLike, *, confidence: float = 0.95
) -> dict[str, RetentionByGroup]:
    """Retention of promoters, passives and detractors (every group present, possibly empty).

    Raises
    ------
    ValueError
        The arrays differ in length.
    """
    score_array = np.asarray(scores, dtype=np.float64)
    kept = np.asarray(retained, dtype=bool)
    if score_array.shape != kept.shape:
        raise ValueError("one retained flag per score")
    valid = ~np.isnan(score_array)
    groups = nps_group(np.where(valid, score_array, 0))
    out = {}
    for group in (PROMOTER, PASSIVE, DETRACTOR):
        member = valid & (groups == group)
        n, k = int(member.sum()), int((member & kept).sum())
        low, high = _wilson(k, n, confidence)
        out[group] = RetentionByGroup(group, n, k, k / n if n else float("nan"), low, high)
    return out


def detractor_cost(by_group: dict[str, RetentionByGroup], *, value_retained: float) -> float | None:
    """What a detractor costs against a promoter: the retention gap times ``value_retained``;
    None when either group has no respondents."""
    promoters, detractors = by_group[PROMOTER], by_group[DETRACTOR]
    if not promoters.respondents or not detractors.respondents:
        return None
    return float((promoters.rate - detractors.rate) * value_retained)
