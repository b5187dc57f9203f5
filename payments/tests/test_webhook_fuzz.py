"""Property: whatever arrives at the webhook, signed or not, it never answers 500, never
stores what is not a verified Stripe event, and never changes an order or a piece.

Random bodies (bytes, JSON of any shape, event-shaped JSON whose object carries the keys
the services read with values of any type, JSON that Python reads but a database cannot
store) and random headers (text, plausible `t=...,v1=...`), signed with the real secret or
not. None names an order of the shop, so none may change one.
"""

import itertools
import json
import time
from typing import Any

import pytest
import stripe
from django.test import Client
from django.urls import reverse
from hypothesis import HealthCheck, event, given
from hypothesis import settings as hypothesis_settings
from hypothesis import strategies as st

from payments.models import Order, OrderItem, StripeEvent
from products.models import Product

pytestmark = pytest.mark.django_db

_event_numbers = itertools.count(1)

HANDLED_TYPES = [
    "checkout.session.completed",
    "checkout.session.async_payment_succeeded",
    "checkout.session.async_payment_failed",
    "checkout.session.expired",
    "payment_intent.succeeded",
]
SERVICE_KEYS = [
    "id",
    "metadata",
    "client_reference_id",
    "payment_status",
    "status",
    "amount_total",
    "amount_received",
    "amount",
    "currency",
    "payment_intent",
    "customer_details",
    "customer_email",
    "receipt_email",
    "collected_information",
    "shipping_details",
    "shipping",
]
# JSON text that Python accepts but that is not storable, or odd at the edges.
RAW_FRAGMENTS = [
    "NaN",
    "-Infinity",
    "1e999",
    '"\\u0000"',
    '"\\ud800"',
    '"a\\udfffb"',
    "-0",
    "12345678901234567890123456789",
    '{"order_id": "\\u0000"}',
    "[" * 2000 + "]" * 2000,
]

scalars = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-(2**70), max_value=2**70),
    st.floats(allow_nan=False, allow_infinity=False),
    st.text(max_size=30),
)
json_values = st.recursive(
    scalars,
    lambda children: st.one_of(
        st.lists(children, max_size=4),
        st.dictionaries(st.text(max_size=10), children, max_size=4),
    ),
    max_leaves=12,
)
# Values for the keys the services read: the right type, a wrong one, or edge values.
service_values = st.one_of(
    json_values,
    st.sampled_from(["paid", "unpaid", "complete", "expired", "open", "eur", "usd", ""]),
    st.integers(min_value=0, max_value=10**12),
    st.dictionaries(
        st.sampled_from(["order_id", "email", "id", "address"]), json_values, max_size=3
    ),
)
stripe_objects = st.dictionaries(st.sampled_from(SERVICE_KEYS), service_values, max_size=10)


@st.composite
def event_texts(draw) -> str:
    """JSON text shaped more or less like a Stripe event."""
    event: dict[str, Any] = {}
    if draw(st.integers(0, 19)):
        event["id"] = draw(
            st.uuids().map(lambda u: f"evt_{u.hex}") if draw(st.integers(0, 9)) else json_values
        )
    if draw(st.integers(0, 19)):
        event["type"] = draw(
            st.sampled_from(HANDLED_TYPES) if draw(st.integers(0, 4)) else st.text(max_size=30)
        )
    if draw(st.integers(0, 19)):
        event["data"] = draw(
            st.fixed_dictionaries({"object": stripe_objects})
            if draw(st.integers(0, 9))
            else json_values
        )
    text = json.dumps(event)
    if not draw(st.integers(0, 4)) and isinstance(event.get("data"), dict) and event["data"]:
        fragment = draw(st.sampled_from(RAW_FRAGMENTS))
        text = text.replace('"data": {', f'"data": {{"x": {fragment}, ', 1)
    return text


bodies = st.one_of(
    st.binary(max_size=300),
    json_values.map(json.dumps).map(str.encode),
    *[event_texts().map(str.encode)] * 4,
)
header_texts = st.one_of(
    st.none(),
    st.text(alphabet=st.characters(max_codepoint=255, exclude_categories=["Cs"]), max_size=80),
    st.builds(
        lambda t, scheme, sig: f"t={t},{scheme}={sig}",
        st.one_of(st.integers(), st.text(max_size=12)),
        st.sampled_from(["v1", "v0", "v2", "V1", ""]),
        st.text(alphabet="0123456789abcdefé", max_size=70),
    ),
)


def snapshot() -> tuple[list, list, list]:
    return (
        list(Order.objects.order_by("pk").values()),
        list(OrderItem.objects.order_by("pk").values()),
        list(Product.objects.order_by("pk").values()),
    )


@pytest.fixture
def shop(make_product, make_order) -> None:
    """Orders in every state the random input could disturb."""
    make_order(products=[make_product()])
    make_order(products=[make_product()], status=Order.Status.PROCESSING)
    paid = make_order(products=[make_product()], status=Order.Status.PAID, hold=False)
    OrderItem.objects.filter(order=paid).update(sold=True)
    Product.objects.filter(order_items__order=paid).update(in_stock=False)


@hypothesis_settings(
    max_examples=120,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(
    body=bodies,
    header=header_texts,
    signing=st.sampled_from(["signed", "signed", "signed", "unsigned", "stale"]),
    length=st.sampled_from(["true"] * 5 + ["garbage", "negative", "short", "huge"]),
    data=st.data(),
)
def test_random_input_never_fails_never_stores_garbage_never_changes_the_shop(
    shop, settings, body, header, signing, length, data
):
    settings.STRIPE_API_BASE = "http://127.0.0.1:9/_stripe"  # nothing may reach a Stripe
    before = snapshot()
    events_before = StripeEvent.objects.count()
    signed = False
    if signing != "unsigned":
        try:
            text = body.decode("utf-8")
        except UnicodeDecodeError:
            text = None
        if text is not None:
            timestamp = int(time.time()) - (400 if signing == "stale" else 0)
            header = stripe.WebhookSignature.generate_signature_header(
                text, settings.STRIPE_WEBHOOK_SECRET, timestamp=timestamp
            )
            signed = signing == "signed"
    content_length = {
        "true": None,  # the test client's own, the body's length
        "garbage": data.draw(
            st.text(alphabet=st.characters(exclude_categories=["Nd", "Cs"]), max_size=8)
        ),
        "negative": str(data.draw(st.integers(-5, -1))),
        # Shorter than the body (the stream ends early): what it says is what is read.
        "short": str(data.draw(st.integers(0, max(0, len(body) - 1)))),
        "huge": str(data.draw(st.integers(1024 * 1024 + 1, 10**12))),
    }[length]
    environ = {} if content_length is None else {"CONTENT_LENGTH": content_length}
    signed = signed and content_length is None

    response = Client().post(
        reverse("payments:stripe-webhook"),
        data=body,
        content_type="application/json",
        headers={} if header is None else {"Stripe-Signature": header},
        **environ,
    )

    event(f"{response.status_code} {response.json()['outcome']}")
    assert response.status_code in (200, 400, 413)
    assert snapshot() == before
    if response.status_code != 200:
        assert StripeEvent.objects.count() == events_before
    else:
        # Only a verified event gets in, and none names an order, so it is ignored.
        assert signed
        decoded = json.loads(body)
        stored = StripeEvent.objects.get(stripe_id=decoded["id"])
        assert stored.outcome == StripeEvent.Outcome.IGNORED
        assert stored.order is None


@hypothesis_settings(
    max_examples=100,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(
    event_type=st.sampled_from(HANDLED_TYPES),
    obj=stripe_objects,
    fragment=st.one_of(st.none(), st.sampled_from(RAW_FRAGMENTS)),
)
def test_random_objects_in_verified_events_are_stored_and_never_change_the_shop(
    shop, settings, event_type, obj, fragment
):
    """Verified events of the handled types whose object has random keys and values of
    any type (Stripe never sends these): 200 and stored as ignored, or 400 when the body
    cannot be stored; never a 500, and no order or piece changes."""
    settings.STRIPE_API_BASE = "http://127.0.0.1:9/_stripe"
    before = snapshot()
    events_before = StripeEvent.objects.count()
    event_id = f"evt_fuzz_{next(_event_numbers)}"  # each example a new event, never a duplicate
    text = json.dumps({"id": event_id, "type": event_type, "data": {"object": obj}})
    if fragment is not None:
        text = text.replace('"object": {', f'"object": {{"x": {fragment}, ', 1)
    header = stripe.WebhookSignature.generate_signature_header(text, settings.STRIPE_WEBHOOK_SECRET)

    response = Client().post(
        reverse("payments:stripe-webhook"),
        data=text.encode(),
        content_type="application/json",
        headers={"Stripe-Signature": header},
    )

    event(f"{response.status_code} {response.json()['detail'].split(':')[0]}")
    assert response.status_code in (200, 400)
    assert snapshot() == before
    if response.status_code == 400:
        assert fragment is not None or "\\u0000" in text
        assert StripeEvent.objects.count() == events_before
    else:
        stored = StripeEvent.objects.get(stripe_id=event_id)
        assert (stored.outcome, stored.order, stored.attempts) == ("ignored", None, 1)
