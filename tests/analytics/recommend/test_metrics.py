"""Recall, NDCG and hit rate at k equal a hand computation on a small example."""

from __future__ import annotations

import math

import numpy as np
import pytest

from patron.analytics.recommend.metrics import ranking_scores


def test_metrics_equal_a_hand_computation() -> None:
    # given three customers' top-3 lists and what they bought in the held-out window
    ranked = [[10, 11, 12], [20, 21, 22], [30, 31, -1]]
    relevant = [{11, 99}, {20, 21, 22, 23, 24}, {77}, set()]
    ranked.append([40, 41, 42])  # the 4th customer has nothing held out: not evaluated
    # when
    s = ranking_scores(ranked, relevant, k=3)
    # then, by hand:
    # customer 1: one hit (11) at position 2 of 3; |T| = 2 -> recall 1/min(3,2) = 1/2;
    #   DCG = 1/log2(3); IDCG = 1 + 1/log2(3)
    # customer 2: hits at 1, 2, 3; |T| = 5 -> recall 3/3 = 1; NDCG = 1
    # customer 3: no hit -> 0, 0, 0
    r1, n1 = 0.5, (1 / math.log2(3)) / (1 + 1 / math.log2(3))
    assert s.n_customers == 3
    assert s.recall == pytest.approx((r1 + 1 + 0) / 3)
    assert s.ndcg == pytest.approx((n1 + 1 + 0) / 3)
    assert s.hit_rate == pytest.approx(2 / 3)
    assert s.k == 3


def test_only_the_first_k_count_and_padding_is_ignored() -> None:
    s = ranking_scores(np.array([[1, -1, 5], [2, 3, 4]]), [{5}, {4}], k=2)
    assert s.recall == 0.0 and s.hit_rate == 0.0 and s.ndcg == 0.0
    assert ranking_scores([[1, 2]], [{2}], k=2).ndcg == pytest.approx(1 / math.log2(3))


def test_k_must_be_positive() -> None:
    with pytest.raises(ValueError, match="k must be at least 1"):
        ranking_scores([[1]], [{1}], k=0)
