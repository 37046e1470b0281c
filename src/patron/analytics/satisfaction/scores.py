"""NPS and CSAT with 95% confidence intervals, overall and by group.

NPS is the share of promoters (9-10) minus the share of detractors (0-6), times 100. The two
shares come from one multinomial sample, so the variance of their difference is

    Var(p̂_P − p̂_D) = (p_P + p_D − (p_P − p_D)²) / n

(Rocks 2016, "Interval estimation for the net promoter score", The American Statistician 70(4),
eq. 2; it is Var p̂_P + Var p̂_D − 2 Cov with Cov(p̂_P, p̂_D) = −p_P p_D / n). The interval is the
Wald interval ±z·SE, clipped to −100…100. CSAT (1-5) is the mean answer with a Student t
interval (n − 1 degrees of freedom).

>>> r = nps_score([10, 9, 8, 7, 3, 0, 10, 10])
>>> round(r.score, 1), r.responses, r.promoters, r.detractors
(25.0, 8, 4, 2)
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt
from scipy import stats

PROMOTER_MIN = 9
DETRACTOR_MAX = 6
CONFIDENCE = 0.95
PROMOTER, PASSIVE, DETRACTOR = "promoter", "passive", "detractor"


@dataclass(frozen=True)
class NPSResult:
    score: float  # −100…100
    ci_low: float
    ci_high: float
    responses: int
    promoters: int
    passives: int
    detractors: int

    def as_dict(self) -> dict[str, float | int]:
        return {
            "score": round(self.score, 2),
            "ci_low": round(self.ci_low, 2),
            "ci_high": round(self.ci_high, 2),
            "responses": self.responses,
            "promoters": self.promoters,
            "passives": self.passives,
            "detractors": self.detractors,
        }


@dataclass(frozen=True)
class CSATResult:
    mean: float  # 1…5
    ci_low: float
    ci_high: float
    responses: int
    satisfied_share: float  # answers of 4 or 5

    def as_dict(self) -> dict[str, float | int]:
        return {
            "mean": round(self.mean, 3),
            "ci_low": round(self.ci_low, 3),
            "ci_high": round(self.ci_high, 3),
            "responses": self.responses,
            "satisfied_share": round(self.satisfied_share, 4),
        }


def _finite(
    values: Sequence[float] | npt.ArrayLike, low: float, high: float
) -> npt.NDArray[np.float64]:
    array = np.asarray(values, dtype=np.float64).ravel()
    array = array[~np.isnan(array)]
    if array.size and (array.min() < low or array.max() > high):
        raise ValueError(f"scores must lie in [{low:g}, {high:g}]")
    return array


def nps_group(scores: npt.ArrayLike) -> npt.NDArray[np.str_]:
    """``promoter``, ``passive`` or ``detractor`` for each 0-10 score."""
    array = np.asarray(scores, dtype=np.float64)
    return np.where(
        array >= PROMOTER_MIN, PROMOTER, np.where(array <= DETRACTOR_MAX, DETRACTOR, PASSIVE)
    )


def nps_score(scores: npt.ArrayLike, *, confidence: float = CONFIDENCE) -> NPSResult:
    """NPS of 0-10 answers (NaN ignored) with its Wald interval; NaN figures when empty.

    Raises
    ------
    ValueError
        A score outside 0-10, or a confidence outside (0, 1).
    """
    if not 0 < confidence < 1:
        raise ValueError("confidence must lie in (0, 1)")
    array = _finite(scores, 0, 10)
    n = int(array.size)
    promoters = int(np.count_nonzero(array >= PROMOTER_MIN))
    detractors = int(np.count_nonzero(array <= DETRACTOR_MAX))
    if n == 0:
        nan = float("nan")
        return NPSResult(nan, nan, nan, 0, 0, 0, 0)
    p, d = promoters / n, detractors / n
    diff = p - d
    se = float(np.sqrt(max(p + d - diff * diff, 0.0) / n))
    z = float(stats.norm.ppf(0.5 + confidence / 2))
    low, high = max(diff - z * se, -1.0), min(diff + z * se, 1.0)
    return NPSResult(
        100 * diff, 100 * low, 100 * high, n, promoters, n - promoters - detractors, detractors
    )


def csat_score(answers: npt.ArrayLike, *, confidence: float = CONFIDENCE) -> CSATResult:
    """Mean CSAT of 1-5 answers (NaN ignored) with a t interval; NaN figures when empty and
    a zero-width interval for a single answer or all-equal answers.

    Raises
    ------
    ValueError
        An answer outside 1-5, or a confidence outside (0, 1).
    """
    if not 0 < confidence < 1:
        raise ValueError("confidence must lie in (0, 1)")
    array = _finite(answers, 1, 5)
    n = int(array.size)
    if n == 0:
        nan = float("nan")
        return CSATResult(nan, nan, nan, 0, nan)
    mean = float(array.mean())
    satisfied = float(np.count_nonzero(array >= 4) / n)
    if n == 1:
        return CSATResult(mean, mean, mean, 1, satisfied)
    se = float(array.std(ddof=1) / np.sqrt(n))
    t = float(stats.t.ppf(0.5 + confidence / 2, df=n - 1))
    return CSATResult(mean, mean - t * se, mean + t * se, n, satisfied)


def _groups(
    keys: npt.ArrayLike, values: npt.ArrayLike
) -> list[tuple[str, npt.NDArray[np.float64]]]:
    key_array = np.asarray(keys, dtype=object).astype(str)
    value_array = np.asarray(values, dtype=np.float64)
    if key_array.shape != value_array.shape:
        raise ValueError("keys and values must have the same length")
    if key_array.size == 0:
        return []
    order = np.argsort(key_array, kind="stable")
    key_sorted, value_sorted = key_array[order], value_array[order]
    unique, starts = np.unique(key_sorted, return_index=True)
    bounds = [*starts[1:], len(key_sorted)]
    return [(str(k), value_sorted[s:e]) for k, s, e in zip(unique, starts, bounds, strict=True)]


def nps_by_group(
    keys: npt.ArrayLike, scores: npt.ArrayLike, *, confidence: float = CONFIDENCE
) -> dict[str, NPSResult]:
    """NPS per key (month, tier, segment, store, category), keys in sorted order; NaN scores
    are left out of their group."""
    return {key: nps_score(values, confidence=confidence) for key, values in _groups(keys, scores)}


def csat_by_group(
    keys: npt.ArrayLike, answers: npt.ArrayLike, *, confidence: float = CONFIDENCE
) -> dict[str, CSATResult]:
    """CSAT per key, keys in sorted order; NaN answers are left out of their group."""
    return {
        key: csat_score(values, confidence=confidence) for key, values in _groups(keys, answers)
    }
