"""Themes in comments: the words and phrases most over-represented among detractors against
promoters, in Chinese and English.

Chinese text is segmented with jieba (0.42.1; its dictionary is built once per process, on
first use, and kept); English is lower-cased words. A comment counts each term once. Terms are
words and two-word phrases (adjacent words, joined without a space in Chinese). They are ranked
by the z-score of the log-odds ratio with an informative Dirichlet prior (Monroe, Colaresi &
Quinn 2008, "Fightin' words", Political Analysis 16(4), eq. 22), the prior being the terms'
counts over all comments, so rare terms do not top the list by chance.

>>> tokenize("Delivery was late, very late!")
['delivery', 'late', 'very', 'late']
"""

from __future__ import annotations

import functools
import itertools
import logging
import re
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

import numpy as np

_HAN = re.compile(r"[\u3400-\u9fff]")
_WORD = re.compile(r"[a-z][a-z'’-]*[a-z]|[a-z]|\d+")
_PUNCT = re.compile(r"^[\W_]+$")
STOPWORDS_EN = frozenset(
    [
        "a",
        "an",
        "the",
        "and",
        "or",
        "but",
        "of",
        "to",
        "in",
        "on",
        "at",
        "for",
        "with",
        "was",
        "were",
        "is",
        "are",
        "be",
        "been",
        "it",
        "its",
        "this",
        "that",
        "i",
        "we",
        "you",
        "they",
        "he",
        "she",
        "my",
        "our",
        "your",
        "me",
        "us",
        "them",
        "so",
        "as",
        "by",
        "from",
        "had",
        "has",
        "have",
        "do",
        "did",
        "just",
    ]
)
STOPWORDS_ZH = frozenset(
    [
        "的",
        "了",
        "是",
        "我",
        "你",
        "他",
        "她",
        "它",
        "们",
        "我们",
        "也",
        "都",
        "就",
        "在",
        "和",
        "与",
        "及",
        "有",
        "这",
        "那",
        "这个",
        "那个",
        "吧",
        "啊",
        "呢",
        "吗",
        "嘛",
        "哦",
        "还",
        "又",
        "被",
        "把",
        "给",
        "让",
        "对",
        "就是",
        "一个",
        "一下",
        "什么",
        "而且",
        "但是",
        "然后",
        "所以",
        "因为",
        "太",
        "很",
        "非常",
        "比较",
        "有点",
    ]
)


@functools.cache
def _jieba() -> Any:
    """jieba, initialised once per process (building its prefix dictionary takes ~1-3 s)."""
    import jieba

    jieba.setLogLevel(logging.WARNING)
    jieba.initialize()
    return jieba


def tokenize(text: str) -> list[str]:
    """Words of one comment: jieba for runs of Chinese, lower-cased words for the rest;
    punctuation and common function words left out."""
    if not text:
        return []
    words: list[str] = []
    if _HAN.search(text):
        for token in _jieba().lcut(text):
            token = token.strip().lower()
            if not token or _PUNCT.match(token):
                continue
            if _HAN.search(token):
                if token not in STOPWORDS_ZH:
                    words.append(token)
            else:
                words.extend(w for w in _WORD.findall(token) if w not in STOPWORDS_EN)
        return words
    return [w for w in _WORD.findall(text.lower()) if w not in STOPWORDS_EN]


_CLAUSE = re.compile(r"[，。！？；、：,.!?;:()（）\n]+")


def _terms(comment: str) -> set[str]:
    """The words of a comment and its two-word phrases, never across punctuation."""
    terms: set[str] = set()
    for clause in _CLAUSE.split(comment):
        words = tokenize(clause)
        terms.update(words)
        for a, b in itertools.pairwise(words):
            joiner = "" if _HAN.search(a) and _HAN.search(b) else " "
            terms.add(f"{a}{joiner}{b}")
    return terms


@dataclass(frozen=True)
class Theme:
    term: str
    z: float  # log-odds z-score: positive = more usual among detractors
    detractors: int  # detractor comments that use the term
    promoters: int
    detractor_share: float  # of the detractor comments
    promoter_share: float


def _doc_counts(comments: Iterable[str]) -> tuple[Counter[str], int]:
    counts: Counter[str] = Counter()
    n = 0
    for comment in comments:
        terms = _terms(comment)
        if terms:
            n += 1
            counts.update(terms)
    return counts, n


def comment_themes(
    detractor_comments: Iterable[str],
    promoter_comments: Iterable[str],
    *,
    top: int = 15,
    min_count: int = 3,
    prior_strength: float = 1.0,
) -> list[Theme]:
    """The ``top`` terms most over-represented among detractors (z > 0), highest z first;
    a term must appear in at least ``min_count`` detractor comments.

    Raises
    ------
    ValueError
        ``top`` or ``min_count`` below 1, or ``prior_strength`` not positive.
    """
    if top < 1 or min_count < 1 or prior_strength <= 0:
        raise ValueError("top and min_count must be at least 1 and prior_strength positive")
    det, n_det = _doc_counts(detractor_comments)
    pro, n_pro = _doc_counts(promoter_comments)
    if n_det == 0:
        return []
    vocab = sorted(t for t in set(det) | set(pro) if det.get(t, 0) + pro.get(t, 0) >= min_count)
    if not vocab:
        return []
    y_d = np.array([det.get(t, 0) for t in vocab], dtype=np.float64)
    y_p = np.array([pro.get(t, 0) for t in vocab], dtype=np.float64)
    total = y_d + y_p
    # Prior: each term's share of all uses, prior_strength pseudo-counts per term on average.
    alpha = prior_strength * len(vocab) * total / total.sum()
    a0 = float(alpha.sum())
    n_d, n_p = float(y_d.sum()), float(y_p.sum())
    with np.errstate(divide="ignore", invalid="ignore"):
        delta = np.log((y_d + alpha) / (n_d + a0 - y_d - alpha)) - np.log(
            (y_p + alpha) / (n_p + a0 - y_p - alpha)
        )
        var = 1.0 / (y_d + alpha) + 1.0 / (y_p + alpha)
        z = delta / np.sqrt(var)
    z = np.where(y_d >= min_count, z, -np.inf)  # a theme is said by enough detractors
    order = sorted(range(len(vocab)), key=lambda i: (-z[i], vocab[i]))
    themes = []
    for i in order:
        if not z[i] > 0:
            break
        themes.append(
            Theme(
                term=vocab[i],
                z=float(z[i]),
                detractors=int(y_d[i]),
                promoters=int(y_p[i]),
                detractor_share=float(y_d[i] / n_det),
                promoter_share=float(y_p[i] / n_pro) if n_pro else 0.0,
            )
        )
        if len(themes) == top:
            break
    return themes
