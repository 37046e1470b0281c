"""A campaign's content for one customer: placeholders filled, the language chosen, the
unsubscribe footer added. Placeholders are ``{{ name }}`` and the others in
:data:`PLACEHOLDERS`; anything else is refused when the campaign is saved."""

from __future__ import annotations

import html
import re
import secrets
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.core import signing
from django.urls import reverse
from django.utils.translation import gettext as _

from patron.campaigns.errors import CampaignError, CampaignErrorCode
from patron.campaigns.models import Campaign
from patron.messaging.policy import unsubscribe_url

PLACEHOLDER = re.compile(r"\{\{\s*([a-z_]+)\s*\}\}")
PLACEHOLDERS = (
    "name",
    "customer_id",
    "coupon",
    "points",
    "offer",
    "link",
    "unsubscribe",
    "recommended",  # the customer's top items (patron.recommend.blocks)
)
CLICK_SALT = "patron.campaigns.click"
LANGUAGES = ("en", "zh-hans")
FOOTER = {
    "en": "\n\nTo stop these messages: {url}",
    "zh-hans": "\n\n退订：{url}",
}
SMS_FOOTER = {"en": " Reply TD to opt out", "zh-hans": " 回TD退订"}
COUPON_ALPHABET = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"  # no 0/O, 1/I


def placeholders_check(*, texts: dict[str, str]) -> None:
    """Refuse unknown placeholders, naming the field and the valid ones."""
    for field, text in texts.items():
        for name in PLACEHOLDER.findall(text or ""):
            if name not in PLACEHOLDERS:
                raise CampaignError(
                    _("%(field)s: unknown placeholder {{ %(name)s }}; valid: %(valid)s")
                    % {"field": field, "name": name, "valid": ", ".join(PLACEHOLDERS)},
                    code=CampaignErrorCode.INVALID_CAMPAIGN,
                    extra={"field": field},
                )


def coupon_code_new() -> str:
    return "".join(secrets.choice(COUPON_ALPHABET) for _ in range(10))


def click_url(*, campaign_id: int, occurrence: int, customer_id: int) -> str:
    token = signing.dumps([campaign_id, occurrence, customer_id], salt=CLICK_SALT, compress=True)
    return settings.PATRON_BASE_URL + reverse("campaigns:click", args=[token])


def click_read(token: str) -> tuple[int, int, int] | None:
    try:
        campaign_id, occurrence, customer_id = signing.loads(token, salt=CLICK_SALT)
    except (signing.BadSignature, ValueError, TypeError):
        return None
    return int(campaign_id), int(occurrence), int(customer_id)


def language_for(campaign: Campaign, attributes: Any) -> str:
    wanted = attributes.get("language") if isinstance(attributes, dict) else None
    return wanted if wanted in LANGUAGES else campaign.default_language


@dataclass(frozen=True)
class Rendered:
    language: str
    subject: str
    body_text: str
    body_html: str


def render_for(
    campaign: Campaign,
    *,
    customer_id: int,
    external_id: str,
    name: str,
    language: str,
    coupon: str = "",
    occurrence: int = 1,
) -> Rendered:
    """The message for one customer in ``language`` (the English text when the Chinese one is
    empty and the other way round)."""
    zh = language == "zh-hans"
    subject = (
        (campaign.subject_zh if zh else campaign.subject_en)
        or campaign.subject_en
        or (campaign.subject_zh)
    )
    text = (
        (campaign.body_text_zh if zh else campaign.body_text_en)
        or campaign.body_text_en
        or (campaign.body_text_zh)
    )
    body_html = (campaign.body_html_zh if zh else campaign.body_html_en) or ""
    unsubscribe = unsubscribe_url(customer_id=customer_id, channel="", topic="")
    values = {
        "name": name or external_id,
        "customer_id": external_id,
        "coupon": coupon,
        "points": str(campaign.offer_points or ""),
        "offer": campaign.offer_text,
        "link": click_url(campaign_id=campaign.pk, occurrence=occurrence, customer_id=customer_id)
        if campaign.link_url
        else "",
        "unsubscribe": unsubscribe,
    }
    raw_html: dict[str, str] = {}
    # --- recommend (issue 21): the "recommended for you" block, read only when asked for ---
    if "recommended" in PLACEHOLDER.findall(f"{subject}{text}{body_html}"):
        from patron.recommend.blocks import recommended_block

        block = recommended_block(
            customer_id=customer_id,
            language="zh-hans" if zh else "en",
            new_first=campaign.goal == "cross_sell",
        )
        values["recommended"], raw_html["recommended"] = block.text, block.html
    else:
        values["recommended"] = ""
    # --- end recommend ---

    def fill(template: str, escape: bool = False) -> str:
        def one(m: re.Match[str]) -> str:
            name = m.group(1)
            if escape:
                return raw_html[name] if name in raw_html else html.escape(values[name])
            return values[name]

        return PLACEHOLDER.sub(one, template)

    language = "zh-hans" if zh else "en"
    body = fill(text)
    if campaign.channel == "sms":
        body += SMS_FOOTER[language]
    elif "{{" not in text or "unsubscribe" not in text:
        body += FOOTER[language].format(url=unsubscribe)
    rendered_html = fill(body_html, escape=True)
    if rendered_html and "unsubscribe" not in body_html:
        label = "退订" if zh else "Unsubscribe"
        rendered_html += f'<p><a href="{html.escape(unsubscribe)}">{label}</a></p>'
    return Rendered(language, fill(subject), body, rendered_html)
