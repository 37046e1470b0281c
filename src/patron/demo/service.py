"""The demo's service desk: tickets (complaints first among them), their conversations and
resolutions, and survey answers whose detractors are more likely to churn, so every service
page shows real figures.

Survey answers are dated after a customer's purchase; whether the customer bought again in
the 180 days after answering is read from the demo orders, and the answer is drawn from a
distribution that depends on it (promoters among those who came back, detractors among those
who did not). Driver ratings carry known weights on the score (delivery 0.45, product 0.30,
price 0.15, staff 0.10 of the signal), so the key-driver chart has something true to find.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict

import numpy as np
from django.contrib.auth import get_user_model
from django.db import transaction
from django.utils import timezone

ANSWER_SHARE = 0.3  # of the customers with an order long enough before ``today``
TICKET_SHARE = 0.04
MAX_ANSWERS = 6000
MAX_TICKETS = 800
WINDOW = 180
DRIVER_WEIGHTS = {"delivery": 0.45, "product": 0.30, "price": 0.15, "staff": 0.10}
DETRACTOR_COMMENTS = [
    "物流太慢，等了一个多星期",
    "价格太贵了",
    "客服态度差，没人回复",
    "质量一般，和描述不符",
    "包装破损",
    "Delivery was late again",
    "退款太麻烦",
]
PROMOTER_COMMENTS = [
    "质量很好，会再来",
    "送货很快",
    "服务周到",
    "店员很热情",
    "性价比高",
    "Great quality",
    "会推荐给朋友",
]
SUBJECTS = {
    "complaint": ["快递延误", "商品破损", "发票开错", "扣款两次", "店员态度不好"],
    "question": ["营业时间", "积分怎么用", "能否开发票", "尺码怎么选"],
    "request": ["修改收货地址", "申请退货", "预约到店"],
    "praise": ["店员服务很好", "物流很快"],
}
CATEGORY_OF = {
    "快递延误": "delivery",
    "商品破损": "product",
    "发票开错": "price",
    "扣款两次": "price",
    "店员态度不好": "staff",
    "申请退货": "returns",
    "积分怎么用": "membership",
}


def _aware(day: dt.date, hour: float) -> dt.datetime:
    base = dt.datetime.combine(day, dt.time(0), tzinfo=timezone.get_current_timezone())
    return base + dt.timedelta(hours=hour)


def _answers(rng: np.random.Generator, today: dt.date) -> int:
    from patron.retention.services import PURCHASE_STATUSES
    from patron.sales.models import Order
    from patron.service.models import ResponseSource, SurveyResponse

    latest_answer = today - dt.timedelta(days=30)
    orders: dict[int, list[dt.date]] = defaultdict(list)
    for customer_id, day in (
        Order.objects.filter(status__in=PURCHASE_STATUSES, ordered_on__lte=today)
        .values_list("customer_id", "ordered_on")
        .iterator(chunk_size=20_000)
    ):
        orders[customer_id].append(day)
    eligible = sorted(c for c, days in orders.items() if min(days) <= latest_answer)
    if not eligible:
        return 0
    n = min(MAX_ANSWERS, max(1, int(len(eligible) * ANSWER_SHARE)))
    chosen = rng.choice(eligible, size=min(n, len(eligible)), replace=False)
    rows = []
    for customer_id in chosen.tolist():
        days = sorted(d for d in orders[customer_id] if d <= latest_answer)
        answered_on = days[int(rng.integers(len(days)))] + dt.timedelta(days=3)
        back = any(
            answered_on < d <= answered_on + dt.timedelta(days=WINDOW) for d in orders[customer_id]
        )
        mood = rng.normal(0.9 if back else -0.7, 1.0)  # the latent satisfaction
        ratings = {}
        signal = 0.0
        for name, weight in DRIVER_WEIGHTS.items():
            z = mood + rng.normal(0, 0.8)
            ratings[name] = int(np.clip(np.round(3 + 1.1 * z), 1, 5))
            signal += weight * (ratings[name] - 3)
        nps = int(np.clip(np.round(7.2 + 2.4 * signal + rng.normal(0, 1.0)), 0, 10))
        comment = ""
        if rng.random() < 0.5:
            pool = DETRACTOR_COMMENTS if nps <= 6 else PROMOTER_COMMENTS if nps >= 9 else []
            if pool:
                comment = pool[int(rng.integers(len(pool)))]
        rows.append(
            SurveyResponse(
                customer_id=customer_id,
                answered_at=_aware(answered_on, 10 + rng.random() * 9),
                nps=nps,
                drivers=ratings,
                comment=comment,
                source=ResponseSource.IMPORT,
                import_source="demo",
            )
        )
    SurveyResponse.objects.bulk_create(rows, batch_size=2000, ignore_conflicts=True)
    return len(rows)


def _tickets(rng: np.random.Generator, today: dt.date) -> int:
    from patron.customers.models import Customer
    from patron.service.models import MessageKind, SurveyResponse, Ticket, TicketMessage
    from patron.service.services import categories_ensure, ticket_create

    categories_ensure()
    user = get_user_model().objects.filter(username="demo").first()
    ids = list(
        Customer.objects.filter(orders__isnull=False).distinct().values_list("pk", flat=True)
    )
    if not ids:
        return 0
    n = min(MAX_TICKETS, max(1, int(len(ids) * TICKET_SHARE)))
    customers = Customer.objects.in_bulk(
        rng.choice(ids, size=min(n, len(ids)), replace=False).tolist()
    )
    kinds = rng.choice(list(SUBJECTS), size=len(customers), p=[0.45, 0.3, 0.2, 0.05])
    channels = ["phone", "store", "email", "wechat", "app", "web"]
    now = timezone.now()
    made = 0
    for (_pk, customer), kind in zip(sorted(customers.items()), kinds, strict=True):
        age = float(rng.uniform(0, 120))
        opened = _aware(today, 9 + rng.random() * 9) - dt.timedelta(days=age)
        subject = SUBJECTS[kind][int(rng.integers(len(SUBJECTS[kind])))]
        done = age > 6 or rng.random() < 0.5
        ticket = ticket_create(
            customer=customer,
            kind=kind,
            category=CATEGORY_OF.get(subject, "other"),
            channel=channels[int(rng.integers(len(channels)))],
            subject=subject,
            text=f"{subject}，请尽快处理。",
            opened_at=min(opened, now),
            owner=user,
            churn_link=not done,
        )
        made += 1
        if not done:
            continue
        first = ticket.opened_at + dt.timedelta(hours=float(rng.exponential(5)))
        resolved = first + dt.timedelta(hours=float(rng.exponential(30)))
        if resolved > now:
            continue
        TicketMessage.objects.create(
            ticket=ticket,
            kind=MessageKind.REPLY,
            author=user,
            text="您好，我们已收到，正在处理。",
            created_at=first,
        )
        closed = rng.random() < 0.6
        Ticket.objects.filter(pk=ticket.pk).update(
            status="closed" if closed else "resolved",
            first_responded_at=first,
            resolved_at=resolved,
            closed_at=resolved if closed else None,
            resolution="已补发并致歉" if kind == "complaint" else "已答复",
            compensation="coupon" if kind == "complaint" and rng.random() < 0.4 else "",
            compensation_reference="SORRY10" if kind == "complaint" else "",
            reopen_count=int(rng.random() < 0.06),
        )
        if rng.random() < 0.6:
            on_time = resolved <= ticket.due_at
            csat = int(np.clip(np.round(rng.normal(4.3 if on_time else 3.0, 0.9)), 1, 5))
            SurveyResponse.objects.create(
                customer=customer,
                ticket=ticket,
                csat=csat,
                source="import",
                import_source="demo",
                answered_at=resolved + dt.timedelta(hours=2),
            )
    return made


@transaction.atomic
def demo_service_create(*, today: dt.date, seed: int = 22) -> dict[str, int]:
    """Write the demo's tickets and survey answers as of ``today`` (the demo's last day + 1),
    then record service recoveries. Returns what was written."""
    from patron.service.churn import recovery_refresh

    rng = np.random.default_rng(seed)
    answers = _answers(rng, today)
    tickets = _tickets(rng, today)
    recovered = recovery_refresh(today=today).recovered
    return {"answers": answers, "tickets": tickets, "recovered": recovered}
