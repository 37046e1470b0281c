"""The public unsubscribe page of a signed link (GET shows it, POST records the opt-out; a
mail client's one-click POST per RFC 8058 lands on the same URL)."""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.views.decorators.csrf import csrf_exempt

from patron.accounts.permissions import public
from patron.messaging.policy import TOPIC_LABELS, unsubscribe_read
from patron.messaging.services import unsubscribe_record


@public
@csrf_exempt  # the signed token is the proof; mail clients post without a session
def unsubscribe(request: HttpRequest, token: str) -> HttpResponse:
    read = unsubscribe_read(token)
    if read is None:
        return render(request, "messaging/unsubscribe.html", {"bad": True}, status=400)
    customer_id, channel, topic = read
    done = False
    if request.method == "POST":
        unsubscribe_record(customer_id=customer_id, channel=channel, topic=topic)
        done = True
    # a link of a transactional kind (a member notification) names what stops, not "marketing"
    label = TOPIC_LABELS.get(topic) if topic else None
    context = {"done": done, "topic": topic, "channel": channel, "label": label}
    return render(request, "messaging/unsubscribe.html", context)
