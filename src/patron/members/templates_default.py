# ruff: noqa: E501  (message texts read best unbroken)
"""The notification texts Patron ships with, in English and Chinese. An admin edits them
(Admin > Notification templates, with a preview); the first use stores them as a row."""

from __future__ import annotations

DEFAULTS: dict[str, dict[str, str]] = {
    "code": {
        "subject_en": "Your sign-in code: {{ code }}",
        "body_en": "Your code is {{ code }}. It works once, for 10 minutes.\n"
        "If you did not ask for it, ignore this message.",
        "subject_zh": "您的登录验证码：{{ code }}",
        "body_zh": "您的验证码是 {{ code }}，10 分钟内有效，仅可使用一次。\n如非本人操作，请忽略本邮件。",
        "sms_en": "Your sign-in code: {{ code }} (10 minutes).",
        "sms_zh": "您的登录验证码：{{ code }}（10分钟内有效）。",
    },
    "welcome": {
        "subject_en": "Welcome to {{ programme }}",
        "body_en": "Hello {{ name }},\n\nwelcome to {{ programme }}. Your card number is "
        "{{ card_number }}. Sign in to see your points: {{ portal_url }}",
        "subject_zh": "欢迎加入{{ programme }}",
        "body_zh": "{{ name }}，您好：\n\n欢迎加入{{ programme }}。您的会员卡号是 {{ card_number }}。"
        "登录查看积分：{{ portal_url }}",
        "sms_en": "Welcome to {{ programme }}. Card {{ card_number }}.",
        "sms_zh": "欢迎加入{{ programme }}，卡号 {{ card_number }}。",
    },
    "tier_up": {
        "subject_en": "You are now {{ tier }}",
        "body_en": "Hello {{ name }},\n\nyour tier is now {{ tier }}. Thank you!\n{{ portal_url }}",
        "subject_zh": "恭喜升级为{{ tier }}",
        "body_zh": "{{ name }}，您好：\n\n您的会员等级已升为{{ tier }}，感谢您的支持！\n{{ portal_url }}",
        "sms_en": "You are now {{ tier }}.",
        "sms_zh": "您已升级为{{ tier }}。",
    },
    "tier_down": {
        "subject_en": "Your tier is now {{ tier }}",
        "body_en": "Hello {{ name }},\n\nyour tier is now {{ tier }}. See what brings you back "
        "up: {{ portal_url }}",
        "subject_zh": "您的会员等级已调整为{{ tier }}",
        "body_zh": "{{ name }}，您好：\n\n您的会员等级已调整为{{ tier }}。查看如何升级：{{ portal_url }}",
        "sms_en": "Your tier is now {{ tier }}.",
        "sms_zh": "您的会员等级已调整为{{ tier }}。",
    },
    "expiring": {
        "subject_en": "{{ points }} points expire on {{ expires_on }}",
        "body_en": "Hello {{ name }},\n\n{{ points }} of your points expire on {{ expires_on }}. "
        "Spend them on a reward: {{ portal_url }}",
        "subject_zh": "您有 {{ points }} 积分将于 {{ expires_on }} 过期",
        "body_zh": "{{ name }}，您好：\n\n您有 {{ points }} 积分将于 {{ expires_on }} 过期，"
        "快去兑换礼品吧：{{ portal_url }}",
        "sms_en": "{{ points }} points expire on {{ expires_on }}.",
        "sms_zh": "您有{{ points }}积分将于{{ expires_on }}过期。",
    },
    "redeemed": {
        "subject_en": "You redeemed {{ points }} points",
        "body_en": "Hello {{ name }},\n\nyou redeemed {{ points }} points.{% if codes %} "
        "Your codes: {{ codes }}.{% endif %} Balance: {{ balance }}.",
        "subject_zh": "您已兑换 {{ points }} 积分",
        "body_zh": "{{ name }}，您好：\n\n您已兑换 {{ points }} 积分。{% if codes %}兑换码：{{ codes }}。"
        "{% endif %}当前余额：{{ balance }}。",
        "sms_en": "You redeemed {{ points }} points.",
        "sms_zh": "您已兑换{{ points }}积分。",
    },
    "order_paid": {
        "subject_en": "Order {{ order }} is paid",
        "body_en": "Hello {{ name }},\n\nwe received the payment for order {{ order }} "
        "({{ amount }}).",
        "subject_zh": "订单 {{ order }} 已付款",
        "body_zh": "{{ name }}，您好：\n\n订单 {{ order }}（{{ amount }}）已付款。",
        "sms_en": "Order {{ order }} is paid.",
        "sms_zh": "订单{{ order }}已付款。",
    },
    "order_shipped": {
        "subject_en": "Order {{ order }} is on its way",
        "body_en": "Hello {{ name }},\n\norder {{ order }} is complete and on its way.",
        "subject_zh": "订单 {{ order }} 已发货",
        "body_zh": "{{ name }}，您好：\n\n订单 {{ order }} 已完成并发货。",
        "sms_en": "Order {{ order }} is on its way.",
        "sms_zh": "订单{{ order }}已发货。",
    },
    "order_refunded": {
        "subject_en": "Order {{ order }} is refunded",
        "body_en": "Hello {{ name }},\n\norder {{ order }} is refunded.",
        "subject_zh": "订单 {{ order }} 已退款",
        "body_zh": "{{ name }}，您好：\n\n订单 {{ order }} 已退款。",
        "sms_en": "Order {{ order }} is refunded.",
        "sms_zh": "订单{{ order }}已退款。",
    },
}

# Kinds a shop must switch on (the others are on from the first use).
OFF_BY_DEFAULT = {"order_paid", "order_shipped", "order_refunded"}

SAMPLE = {
    "name": "Li Lei",
    "programme": "Member programme",
    "card_number": "8612345678901234",
    "tier": "Gold",
    "points": 120,
    "expires_on": "2026-12-31",
    "codes": "AB12CD34",
    "balance": 880,
    "order": "SO-1001",
    "amount": "199.00",
    "code": "123456",
    "portal_url": "https://example.com/member/",
    "unsubscribe_url": "https://example.com/m/u/…/",
}
