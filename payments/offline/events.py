"""Webhook events of the offline server: recorded with the change they report, delivered
after commit, signed like Stripe's, over real HTTP to the shop's `/api/webhooks/stripe`.

Delivery never runs inside a transaction (SQLite would stay locked while the shop's
webhook tries to write) and never fails the caller: an event that did not arrive keeps
its error and can be sent again (`deliver_events`, the hosted page's "Renvoyer les
événements", or `manage.py resend_offline_events`).
"""

import json
import logging
import urllib.error
import urllib.request
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

import stripe
from django.conf import settings
from django.db import connection
from django.db.models import F
from django.http import HttpRequest
from django.utils import timezone

from payments.offline.models import CheckoutSession, Event, now

logger = logging.getLogger(__name__)

WEBHOOK_PATH = "/api/webhooks/stripe"
DELIVERY_TIMEOUT_SECONDS = 10
API_VERSION = stripe.api_version


@dataclass
class Result:
    """What an API call or a page action answers, and the events it recorded with its
    change, for the caller to deliver after commit."""

    body: dict[str, Any]
    events: list[Event] = field(default_factory=list)


@dataclass(frozen=True)
class Delivery:
    event_id: str
    event_type: str
    status: int | None
    error: str

    @property
    def ok(self) -> bool:
        return self.status is not None and 200 <= self.status < 300


def webhook_url_for(request: HttpRequest) -> str:
    """The shop's webhook on the host that served this request (works under `make run` and
    pytest's `live_server`). `STRIPE_OFFLINE_WEBHOOK_URL`, if set, sends events elsewhere."""
    return getattr(settings, "STRIPE_OFFLINE_WEBHOOK_URL", "") or request.build_absolute_uri(
        WEBHOOK_PATH
    )


def record_event(
    *,
    type: str,
    obj: dict[str, Any],
    session: CheckoutSession | None = None,
) -> Event:
    """Store an event in Stripe's shape; call it in the transaction that makes the change."""
    event = Event(type=type, session=session, created=now())
    event.payload = json.dumps(
        {
            "id": event.stripe_id,
            "object": "event",
            "api_version": API_VERSION,
            "created": event.created,
            "data": {"object": obj},
            "livemode": False,
            "pending_webhooks": 1,
            "request": {"id": None, "idempotency_key": None},
            "type": type,
        },
        indent=2,
    )
    event.save()
    return event


def post_event(
    payload: str, *, url: str, secret: str, timeout: float = DELIVERY_TIMEOUT_SECONDS
) -> int:
    """POST one event body with a fresh `Stripe-Signature` (`t=...,v1=...`) and return the
    HTTP status. Network failures raise `OSError` (`urllib.error.URLError`)."""
    signature = stripe.WebhookSignature.generate_signature_header(payload, secret)
    request = urllib.request.Request(
        url,
        data=payload.encode("utf-8"),
        method="POST",
        headers={
            "Content-Type": "application/json; charset=utf-8",
            "Stripe-Signature": signature,
            "User-Agent": "Stripe/1.0 (+https://stripe.com/docs/webhooks)",
        },
    )
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:
            return response.status
    except urllib.error.HTTPError as error:
        return error.code


def deliver_events(events: Iterable[Event], *, url: str) -> list[Delivery]:
    """Send these events, in order, to `url`; record each outcome. Never raises for a
    failed delivery: it is logged and the event keeps its error for a later resend."""
    if connection.in_atomic_block:
        logger.warning("Delivering offline Stripe events inside a transaction", extra={"url": url})
    deliveries = []
    for event in events:
        status: int | None = None
        error = ""
        try:
            status = post_event(event.payload, url=url, secret=settings.STRIPE_WEBHOOK_SECRET)
            if not 200 <= status < 300:
                error = f"HTTP {status}"
        except OSError as exc:
            error = f"{type(exc).__name__}: {exc}"
        delivered = not error
        Event.objects.filter(pk=event.pk).update(
            webhook_url=url,
            attempts=F("attempts") + 1,
            last_status=status,
            last_error=error,
            delivered_at=timezone.now() if delivered else None,
        )
        extra = {"event_id": event.stripe_id, "event_type": event.type, "url": url}
        if delivered:
            logger.info("Offline Stripe event delivered", extra=extra)
        else:
            logger.warning("Offline Stripe event not delivered: %s", error, extra=extra)
        deliveries.append(Delivery(event.stripe_id, event.type, status, error))
    return deliveries


def undelivered_events(*, session: CheckoutSession | None = None) -> list[Event]:
    events = Event.objects.filter(delivered_at__isnull=True)
    if session is not None:
        events = events.filter(session=session)
    return list(events.order_by("id"))
