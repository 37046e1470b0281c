"""Comment themes: on a Chinese fixture the planted detractor phrases come first."""

from __future__ import annotations

import itertools
import random

from patron.analytics.satisfaction import comment_themes, tokenize

FILLER = ["这次购物", "总的来说", "下单以后", "周末买的", "第二次买了", "朋友推荐的"]
PLANTED = ["物流太慢", "客服态度差"]
PROMOTER_PHRASES = ["质量很好", "非常满意", "包装精美"]


def _fixture() -> tuple[list[str], list[str]]:
    rng = random.Random(5)
    detractors, promoters = [], []
    for i in range(80):
        phrase = PLANTED[i % 2] if i % 5 else rng.choice(PROMOTER_PHRASES)  # some noise
        detractors.append(f"{rng.choice(FILLER)}，{phrase}，{rng.choice(FILLER)}")
    for i in range(120):
        phrase = rng.choice(PROMOTER_PHRASES) if i % 15 else PLANTED[0]
        promoters.append(f"{rng.choice(FILLER)}，{phrase}。")
    return detractors, promoters


def test_planted_detractor_phrases_come_first() -> None:
    detractors, promoters = _fixture()
    themes = comment_themes(detractors, promoters, top=10)
    planted_words = set()  # every word and two-word phrase of the planted phrases
    for phrase in PLANTED:
        words = tokenize(phrase)
        planted_words |= set(words) | {a + b for a, b in itertools.pairwise(words)}
    top = [t.term for t in themes[: len(planted_words)]]
    assert set(top) == planted_words, top
    assert all(t.z > 0 for t in themes)
    assert themes[0].detractor_share > themes[0].promoter_share
    assert not {t.term for t in themes} & {w for p in PROMOTER_PHRASES for w in tokenize(p)}


def test_english_comments_and_two_word_phrases() -> None:
    detractors = ["Delivery was late again", "late delivery, rude staff", "very late delivery"] * 3
    promoters = ["great staff", "fast delivery and great prices", "great quality"] * 3
    terms = [t.term for t in comment_themes(detractors, promoters, top=5, min_count=3)]
    assert terms[0] == "late"
    assert "late delivery" in terms
