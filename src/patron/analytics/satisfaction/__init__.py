"""Satisfaction analysis: NPS and CSAT with intervals, key drivers, comment themes, and the
link between satisfaction and later retention. Pure: no Django, arrays in, frozen results out.

- :mod:`.scores`: NPS (promoters − detractors, −100…100) with a 95% interval for a difference
  of two proportions of one multinomial sample; CSAT mean with a t interval; both by group.
- :mod:`.drivers`: relative importance of driver ratings by Shapley decomposition of R².
- :mod:`.themes`: words and phrases over-represented among detractors against promoters
  (jieba for Chinese, loaded once per process).
- :mod:`.outcomes`: later retention of promoters, passives and detractors, and what a
  detractor costs.
"""

from patron.analytics.satisfaction.drivers import KeyDrivers, shapley_r2
from patron.analytics.satisfaction.outcomes import RetentionByGroup, retention_by_nps_group
from patron.analytics.satisfaction.scores import (
    CSATResult,
    NPSResult,
    csat_by_group,
    csat_score,
    nps_by_group,
    nps_group,
    nps_score,
)
from patron.analytics.satisfaction.themes import Theme, comment_themes, tokenize

__all__ = [
    "CSATResult",
    "KeyDrivers",
    "NPSResult",
    "RetentionByGroup",
    "Theme",
    "comment_themes",
    "csat_by_group",
    "csat_score",
    "nps_by_group",
    "nps_group",
    "nps_score",
    "retention_by_nps_group",
    "shapley_r2",
    "tokenize",
]
