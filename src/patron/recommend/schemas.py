from __future__ import annotations

from datetime import date

from ninja import Schema


class RecommendationOut(Schema):
    rank: int
    sku: str
    name: str
    category: str
    score: float
    reason_en: str
    reason_zh: str


class RecommendationListOut(Schema):
    customer_id: str
    list: str
    as_of: date | None
    items: list[RecommendationOut]
