"""Fixtures for the payment tests: orders with their holds, Stripe objects, signed events."""

import itertools
from collections.abc import Callable
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from payments.models import Order, OrderItem
from payments.offline import testing
from payments.offline.testing import paid_session
from products.models import Product

_numbers = itertools.count(1)


@pytest.fixture
def make_order(db) -> Callable[..., Order]:
    """Create an order for these products, with its items and, for an open order, its holds.

    `make_order(products=[vase], status="pending", session_id="cs_...")`. The session id
    defaults to a fresh `cs_test_...` (pass "" for none), the total to the sum of the
    prices plus `shipping_cost` (default 0); `held_until` (default: the hold Commander
    sets) lets a test make a lapsed hold, `hold=False` creates no hold.
    """

    def make(
        *,
        products: list[Product],
        status: str = Order.Status.PENDING,
        session_id: str | None = None,
        total: Decimal | str | None = None,
        shipping_cost: Decimal | str = "0.00",
        currency: str = "eur",
        hold: bool | None = None,
        held_until: datetime | None = None,
        **fields: Any,
    ) -> Order:
        n = next(_numbers)
        items_total = sum((p.price for p in products), Decimal("0.00"))
        shipping = Decimal(str(shipping_cost))
        order = Order.objects.create(
            status=status,
            items_total=items_total,
            shipping_cost=shipping,
            total=Decimal(str(total)) if total is not None else items_total + shipping,
            currency=currency,
            stripe_session_id=f"cs_test_{n:06d}" if session_id is None else session_id or None,
            shopper_id=f"shopper-{n}",
            **fields,
        )
        OrderItem.objects.bulk_create(
            OrderItem(order=order, product=p, name=p.name, price=p.price) for p in products
        )
        if hold if hold is not None else status in Order.OPEN_STATUSES:
            until = held_until or timezone.now() + timedelta(minutes=33)
            Product.objects.filter(pk__in=[p.pk for p in products]).update(
                held_by=order, held_until=until
            )
        for product in products:
            product.refresh_from_db()
        return order

    return make


@pytest.fixture
def stripe_session() -> Callable[..., dict[str, Any]]:
    """A Checkout Session for an order, as Stripe sends it: paid and complete unless told
    otherwise (`stripe_session(order, payment_status="unpaid")`)."""
    return paid_session


@pytest.fixture
def stripe_intent() -> Callable[..., dict[str, Any]]:
    """A succeeded PaymentIntent for an order, tagged through `payment_intent_data.metadata`."""

    def build(order: Order, **overrides: Any) -> dict[str, Any]:
        intent = {
            "id": f"pi_{order.reference}",
            "object": "payment_intent",
            "status": "succeeded",
            "amount": order.total_cents,
            "amount_received": order.total_cents,
            "currency": order.currency,
            "metadata": {"order_id": order.reference},
            "receipt_email": None,
        }
        intent.update(overrides)
        return intent

    return build


@pytest.fixture
def signed_event(settings) -> Callable[..., tuple[bytes, str]]:
    """`signed_event(type, obj)`: a Stripe event body and its `Stripe-Signature` header,
    signed with the webhook secret (or `secret=`) at `timestamp=` (default now)."""

    def sign(
        event_type: str,
        obj: dict[str, Any],
        *,
        event_id: str | None = None,
        timestamp: int | None = None,
        secret: str | None = None,
    ) -> tuple[bytes, str]:
        return testing.signed_event(
            event_type,
            obj,
            secret=secret or settings.STRIPE_WEBHOOK_SECRET,
            event_id=event_id,
            timestamp=timestamp,
        )

    return sign


@pytest.fixture
def post_webhook() -> Callable[..., Any]:
    """`post_webhook(body, header)`: POST to /api/webhooks/stripe as Stripe does."""

    def post(body: bytes, header: str | None, *, client: Client | None = None) -> Any:
        headers = {"Stripe-Signature": header} if header is not None else {}
        return (client or Client()).post(
            reverse("payments:stripe-webhook"),
            data=body,
            content_type="application/json; charset=utf-8",
            headers=headers,
        )

    return post


@pytest.fixture
def stripe_server(live_server, settings):
    """The offline Stripe-compatible server, reached over real HTTP by the stripe library.

    Also makes the shop's own URLs (success, cancel, webhook) point at the live server.
    Tests using it need `@pytest.mark.django_db(transaction=True)`.
    """
    settings.STRIPE_OFFLINE = True
    settings.STRIPE_API_BASE = f"{live_server.url}/_stripe"
    settings.APP_URL = live_server.url
    settings.ALLOWED_HOSTS = ["*"]
    return live_server
