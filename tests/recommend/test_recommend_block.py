"""The campaign content block: ``{{ recommended }}`` renders each recipient's top items of the
stored run, in their language, under the shop's rules as they are when the message is made."""

from __future__ import annotations

import pytest

from patron.campaigns.content import placeholders_check, render_for
from patron.campaigns.models import Campaign
from patron.customers.models import Customer
from patron.demo.recommend import AS_OF
from patron.recommend.blocks import recommended_items
from patron.recommend.models import ListKind, ProductRule, Recommendation
from patron.recommend.services import recommend_settings_update, recommendation_run_create
from patron.sales.models import Product

pytestmark = pytest.mark.django_db


def _campaign(goal: str = "frequency") -> Campaign:
    return Campaign.objects.create(
        name="Tea time",
        goal=goal,
        subject_en="For you",
        subject_zh="为您",
        body_text_en="Hello {{ name }}\n{{ recommended }}\n{{ unsubscribe }}",
        body_text_zh="您好 {{ name }}\n{{ recommended }}\n{{ unsubscribe }}",
        body_html_en="<p>Hello {{ name }}</p>{{ recommended }}<p>{{ unsubscribe }}</p>",
    )


def _render(campaign: Campaign, customer: Customer, language: str) -> object:
    return render_for(
        campaign,
        customer_id=customer.pk,
        external_id=customer.external_id,
        name=customer.name,
        language=language,
    )


def test_block_lists_the_stored_items_in_each_language(shop: dict[str, object]) -> None:
    run = recommendation_run_create(as_of=AS_OF, per_list=5, evaluate_days=None, tune=False)
    customer = Customer.objects.get(external_id="C05")
    placeholders_check(texts={"body": "{{ recommended }}"})  # a known placeholder now
    top = [
        r.product.name
        for r in Recommendation.objects.filter(run=run, customer=customer, list=ListKind.BUY_AGAIN)
        .select_related("product")
        .order_by("rank")[:3]
    ]
    assert top

    en = _render(_campaign(), customer, "en")
    zh = _render(_campaign(), customer, "zh-hans")

    assert "Recommended for you:\n" + "".join(f"- {n}\n" for n in top) in en.body_text + "\n"
    assert "为您推荐：\n- " + top[0] in zh.body_text
    assert "<ul><li>" + top[0] + "</li>" in en.body_html  # the block's HTML is not escaped


def test_rules_set_after_the_run_still_apply(shop: dict[str, object]) -> None:
    recommendation_run_create(as_of=AS_OF, per_list=10, evaluate_days=None, tune=False)
    everyone = Customer.objects.order_by("external_id")
    before = {
        c.pk: {r.product.sku for r in recommended_items(customer_id=c.pk, n=10)} for c in everyone
    }
    assert set().union(*before.values()) >= {"TEA-OOLONG", "TEA-CAKE"}

    Product.objects.filter(sku="TEA-CAKE").update(in_stock=False)
    ProductRule.objects.create(product=Product.objects.get(sku="CUP"), kind="never")
    recommend_settings_update(excluded_categories=["gift card"], margin_floor="0.10")

    after = set().union(
        *({r.product.sku for r in recommended_items(customer_id=c.pk, n=10)} for c in everyone)
    )
    assert after and not after & {"TEA-CAKE", "CUP", "GIFT-100", "POT", "SOLD-OUT"}
    zhang = Customer.objects.get(external_id="C00")  # returned the green tea
    assert "TEA-GREEN" not in {r.product.sku for r in recommended_items(customer_id=zhang.pk, n=10)}


def test_cross_sell_leads_with_new_items_and_no_run_gives_an_empty_block(
    shop: dict[str, object],
) -> None:
    customer = Customer.objects.get(external_id="C05")
    empty = _render(_campaign(), customer, "en")
    assert "Recommended" not in empty.body_text and "{{" not in empty.body_text

    run = recommendation_run_create(as_of=AS_OF, per_list=5, evaluate_days=None, tune=False)
    new = Recommendation.objects.filter(run=run, customer=customer, list=ListKind.TRY_NEW)
    assert new.exists()
    first = new.select_related("product").order_by("rank").first()
    assert first is not None
    items = recommended_items(customer_id=customer.pk, new_first=True)
    assert items[0].product_id == first.product_id and items[0].list == ListKind.TRY_NEW
    rendered = _render(_campaign("cross_sell"), customer, "en")
    assert "Recommended for you:\n- " + first.product.name in rendered.body_text
