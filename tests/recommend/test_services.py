"""A run in the store: every customer's lists are kept, the shop's rules hold, the evaluation
is stored beside them, and the top items for a message come from the latest run."""

from __future__ import annotations

import pytest

from patron.demo.recommend import AS_OF
from patron.recommend.blocks import recommended_items
from patron.recommend.errors import RecommendError
from patron.recommend.models import ProductRuleKind, Recommendation
from patron.recommend.services import (
    product_rule_set,
    recommend_settings_update,
    recommendation_run_create,
)

pytestmark = pytest.mark.django_db


def test_a_run_keeps_both_lists_under_the_shops_rules(shop: dict[str, object]) -> None:
    # given: gift cards excluded, a 10% margin floor, a never-recommend item
    recommend_settings_update(excluded_categories=["gift card"], margin_floor="0.10")
    product_rule_set(sku="CUP", kind=ProductRuleKind.NEVER)
    # when
    run = recommendation_run_create(as_of=AS_OF, per_list=5, evaluate_days=60, tune=False)
    # then
    items = Recommendation.objects.filter(run=run).select_related("product", "customer")
    assert run.customers == 12
    skus = {r.product.sku for r in items}
    assert skus.isdisjoint({"GIFT-100", "POT", "CUP", "SOLD-OUT"})
    assert {r.list for r in items} == {"buy_again", "try_new"}
    zhang_new = {
        r.product.sku for r in items if r.customer.external_id == "C00" and r.list == "try_new"
    }
    assert "TEA-GREEN" not in zhang_new  # returned
    scores = run.evaluation["scores"]
    assert set(scores) == {"buy_again", "try_new"}
    assert {"patron", "top_popular", "own_top_frequency", "item_knn"} <= set(scores["buy_again"])
    assert all(r.reason_en and r.reason_zh for r in items)
    # the campaign selector: the customer's top items from the latest run
    top = recommended_items(customer_id=shop["customers"][1].pk, n=3)  # type: ignore[index]
    assert 1 <= len(top) <= 3 and top[0].list == "buy_again" and top[0].rank == 1


def test_no_lines_is_an_error_and_writes_nothing(db: None) -> None:
    with pytest.raises(RecommendError, match="no item lines"):
        recommendation_run_create(as_of=AS_OF)
    assert not Recommendation.objects.exists()
