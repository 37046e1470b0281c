"""Named RFM segments (客户细分) with English and Chinese names and actions.

A segment is read from a grid of the R score (rows) against the FM score
(columns), where ``FM = floor((F + M) / 2 + 1/2)``, the mean of the F and M
scores rounded half up, so 1-5.

======  ==============  ===================  ===================  =========  =========
R \\ FM  1               2                    3                    4          5
======  ==============  ===================  ===================  =========  =========
5       new             potential_loyalists  potential_loyalists  champions  champions
4       promising       potential_loyalists  potential_loyalists  loyal      champions
3       about_to_sleep  need_attention       need_attention       loyal      loyal
2       hibernating     about_to_sleep       at_risk              at_risk    cant_lose
1       lost            hibernating          at_risk              cant_lose  cant_lose
======  ==============  ===================  ===================  =========  =========

Labels are plain dicts keyed by language code (``"en"``, ``"zh-hans"``): this
package has no Django, so the web layer picks the language.
"""

from __future__ import annotations

from dataclasses import dataclass

import ibis.expr.types as ir
import numpy as np
import pandas as pd
from numpy.typing import ArrayLike, NDArray

from patron.analytics.summary import collect

__all__ = [
    "LANGUAGES",
    "SEGMENTS",
    "SEGMENT_CODES",
    "SEGMENT_GRID",
    "Segment",
    "assign_segments",
    "fm_score",
    "segment",
    "segment_codes",
    "segment_summary",
]

LANGUAGES: tuple[str, ...] = ("en", "zh-hans")


@dataclass(frozen=True)
class Segment:
    """A named RFM segment.

    Attributes
    ----------
    code : str
        Stable identifier, stored in snapshots.
    label : dict
        Display name by language, ``{"en": ..., "zh-hans": ...}``.
    action : dict
        The recommended action by language.
    """

    code: str
    label: dict[str, str]
    action: dict[str, str]


#: The segments, from the most to the least valuable (the order used for
#: migration "upgrades" and report rows).
SEGMENTS: tuple[Segment, ...] = (
    Segment(
        "champions",
        {"en": "Champions", "zh-hans": "冠军客户"},
        {
            "en": "Reward them; invite them to the member programme and events; ask for "
            "reviews and referrals; offer new products first.",
            "zh-hans": "给予奖励；邀请加入会员计划和会员活动；请他们评价和推荐；新品优先推荐。",
        },
    ),
    Segment(
        "loyal",
        {"en": "Loyal customers", "zh-hans": "忠诚客户"},
        {
            "en": "Upsell higher-value products; member privileges and points; ask for "
            "reviews; keep personal contact.",
            "zh-hans": "推荐更高价值的产品；提供会员特权和积分；邀请评价；保持个人联系。",
        },
    ),
    Segment(
        "potential_loyalists",
        {"en": "Potential loyalists", "zh-hans": "潜力客户"},
        {
            "en": "Offer membership and a loyalty programme; recommend related products "
            "to raise frequency.",
            "zh-hans": "邀请成为会员、加入积分计划；推荐相关产品以提高购买频次。",
        },
    ),
    Segment(
        "new",
        {"en": "New customers", "zh-hans": "新客户"},
        {
            "en": "Welcome them; help with onboarding; a well-timed offer for the second purchase.",
            "zh-hans": "欢迎新客户并提供使用指导；适时提供第二次购买的优惠。",
        },
    ),
    Segment(
        "promising",
        {"en": "Promising", "zh-hans": "有望客户"},
        {
            "en": "Build awareness of the range; free trials or samples; a modest offer.",
            "zh-hans": "介绍更多产品；提供试用或样品；适度优惠。",
        },
    ),
    Segment(
        "need_attention",
        {"en": "Need attention", "zh-hans": "需要关注"},
        {
            "en": "Limited-time offers based on past purchases; ask what they need; "
            "reactivate before they drift.",
            "zh-hans": "根据购买记录提供限时优惠；了解其需求；在流失前重新激活。",
        },
    ),
    Segment(
        "about_to_sleep",
        {"en": "About to sleep", "zh-hans": "即将沉睡"},
        {
            "en": "Share popular products and useful content; a reminder with a discount "
            "to bring them back.",
            "zh-hans": "推送热销产品和有价值的内容；发送带折扣的提醒以唤回。",
        },
    ),
    Segment(
        "at_risk",
        {"en": "At risk", "zh-hans": "流失风险"},
        {
            "en": "Personal messages to win them back; offers matched to past purchases; "
            "find out why they left.",
            "zh-hans": "发送个性化信息挽回；提供与以往购买相关的优惠；调查流失原因。",
        },
    ),
    Segment(
        "cant_lose",
        {"en": "Can't lose them", "zh-hans": "不能失去"},
        {
            "en": "Win them back urgently: personal contact from an agent, a strong offer, "
            "ask for feedback; do not lose them to a competitor.",
            "zh-hans": "立即挽回：由专人联系，提供有力的优惠，征求意见；不要让他们流向竞争对手。",
        },
    ),
    Segment(
        "hibernating",
        {"en": "Hibernating", "zh-hans": "休眠客户"},
        {
            "en": "Offer relevant products and special discounts at low cost; recreate "
            "brand value.",
            "zh-hans": "以低成本推送相关产品和特别折扣；重建品牌价值。",
        },
    ),
    Segment(
        "lost",
        {"en": "Lost", "zh-hans": "已流失"},
        {
            "en": "Try one low-cost campaign to revive interest; otherwise stop spending on them.",
            "zh-hans": "尝试一次低成本的唤回活动；否则停止投入。",
        },
    ),
)

#: Segment codes, most valuable first.
SEGMENT_CODES: tuple[str, ...] = tuple(s.code for s in SEGMENTS)

#: The rule table: ``SEGMENT_GRID[5 - r][fm - 1]`` is the segment of (R, FM).
SEGMENT_GRID: tuple[tuple[str, str, str, str, str], ...] = (
    ("new", "potential_loyalists", "potential_loyalists", "champions", "champions"),
    ("promising", "potential_loyalists", "potential_loyalists", "loyal", "champions"),
    ("about_to_sleep", "need_attention", "need_attention", "loyal", "loyal"),
    ("hibernating", "about_to_sleep", "at_risk", "at_risk", "cant_lose"),
    ("lost", "hibernating", "at_risk", "cant_lose", "cant_lose"),
)

_BY_CODE = {s.code: s for s in SEGMENTS}
_GRID = np.array(SEGMENT_GRID, dtype=object)

BAD_SCORES = "RFM scores must be integers from 1 to 5"


def segment(code: str) -> Segment:
    """Return the segment with this code (``KeyError`` when unknown)."""
    return _BY_CODE[code]


def _scores(values: ArrayLike) -> NDArray[np.int64]:
    x = np.asarray(values)
    out = x.astype(np.int64)
    if out.ndim != 1 or np.any(out != x) or np.any((out < 1) | (out > 5)):
        raise ValueError(BAD_SCORES)
    return out


def fm_score(f: ArrayLike, m: ArrayLike) -> NDArray[np.int64]:
    """The FM score: the mean of F and M rounded half up, ``(F + M + 1) // 2``.

    Examples
    --------
    >>> fm_score([1, 1, 2, 5], [1, 2, 2, 4]).tolist()
    [1, 2, 2, 5]
    """
    return (_scores(f) + _scores(m) + 1) // 2


def segment_codes(r: ArrayLike, f: ArrayLike, m: ArrayLike) -> NDArray[np.object_]:
    """Segment code for each (R, F, M) triple, by the grid in the module docstring.

    Examples
    --------
    >>> segment_codes([5, 1, 3], [5, 1, 2], [4, 1, 3]).tolist()
    ['champions', 'lost', 'need_attention']
    """
    rows = 5 - _scores(r)
    cols = fm_score(f, m) - 1
    if rows.shape != cols.shape:
        raise ValueError("r, f and m must have the same length")
    codes: NDArray[np.object_] = _GRID[rows, cols]
    return codes


def assign_segments(scores: ir.Table | pd.DataFrame) -> pd.DataFrame:
    """Add a ``segment`` column to an RFM score table.

    Parameters
    ----------
    scores : pandas.DataFrame or ibis.Table
        With ``customer_id``, ``r_score``, ``f_score`` and ``m_score``, such as
        the result of :func:`patron.analytics.rfm.rfm_scores`.

    Returns
    -------
    pandas.DataFrame
        A copy of ``scores`` (all its columns for a DataFrame, the four for a
        table) with ``segment`` (the code) added.
    """
    if isinstance(scores, pd.DataFrame):
        collect(scores, ["customer_id", "r_score", "f_score", "m_score"])
        frame = scores.copy()
    else:
        frame = collect(scores, ["customer_id", "r_score", "f_score", "m_score"])
    frame["segment"] = segment_codes(frame["r_score"], frame["f_score"], frame["m_score"])
    return frame


def segment_summary(segmented: pd.DataFrame, *, monetary: str = "monetary") -> pd.DataFrame:
    """Customers and revenue per segment, every segment listed, most valuable first.

    Parameters
    ----------
    segmented : pandas.DataFrame
        With ``segment`` and the ``monetary`` column (the output of
        :func:`assign_segments` on :func:`~patron.analytics.rfm.rfm_scores`).

    Returns
    -------
    pandas.DataFrame
        Columns ``segment``, ``label_en``, ``label_zh``, ``customers``,
        ``customer_share``, ``monetary``, ``monetary_share``; ``monetary`` is
        summed in cents.
    """
    cents = np.rint(segmented[monetary].to_numpy(dtype=np.float64) * 100).astype(np.int64)
    codes = segmented["segment"].to_numpy()
    total_customers = len(codes)
    total_cents = int(cents.sum())
    rows = []
    for s in SEGMENTS:
        mask = codes == s.code
        count = int(mask.sum())
        seg_cents = int(cents[mask].sum())
        rows.append(
            {
                "segment": s.code,
                "label_en": s.label["en"],
                "label_zh": s.label["zh-hans"],
                "customers": count,
                "customer_share": count / total_customers if total_customers else np.nan,
                "monetary": seg_cents / 100,
                "monetary_share": seg_cents / total_cents if total_cents else np.nan,
            }
        )
    return pd.DataFrame(rows)
