"""The Stripe webhook: what it refuses, what it records, and what each event does (SPEC §8).

Deliveries go through the real view with real signatures (the webhook secret of the test
settings). Runs on SQLite and PostgreSQL; races are in test_webhook_concurrency.py.
"""

import io
import json
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import timedelta
from decimal import Decimal
from typing import Any

import pytest
import requests
import stripe
from django.conf import settings
from django.core import mail
from django.db import OperationalError, connection
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from payments import services, stripe_client, webhooks
from payments.models import Order, OrderItem, StripeEvent
from payments.offline.testing import submit_hosted_page
from products.models import Product, StockStatus

pytestmark = pytest.mark.django_db

MIB = 1024 * 1024


@pytest.fixture(autouse=True)
def _stripe_unreachable(settings) -> None:
    """No test here may reach a Stripe server by accident (port 8000 is a person's)."""
    settings.STRIPE_API_BASE = "http://127.0.0.1:9/_stripe"


@pytest.fixture
def piece(make_product) -> Product:
    return make_product(name="Vase bleu", price="120.00")


@pytest.fixture
def order(make_order, piece) -> Order:
    """A pending order holding the piece, its session open."""
    return make_order(products=[piece])


def snapshot() -> tuple[list, list, list]:
    """Every order, item and piece as stored: what no refused delivery may change."""
    return (
        list(Order.objects.order_by("pk").values()),
        list(OrderItem.objects.order_by("pk").values()),
        list(Product.objects.order_by("pk").values()),
    )


def sign(payload: str | bytes, *, secret: str | None = None, timestamp: int | None = None) -> str:
    if isinstance(payload, bytes):
        payload = payload.decode("utf-8")
    return stripe.WebhookSignature.generate_signature_header(
        payload, secret or settings.STRIPE_WEBHOOK_SECRET, timestamp=timestamp
    )


def status_of(product: Product) -> str:
    return Product.objects.with_status().get(pk=product.pk).status


# --- Refused input: a table -----------------------------------------------------------------


@dataclass
class Delivery:
    body: bytes
    header: str | None
    method: str = "post"
    environ: dict[str, str] = field(default_factory=dict)


def event_text(event: dict[str, Any]) -> str:
    return json.dumps(event)


def signed(text: str) -> Delivery:
    return Delivery(text.encode("utf-8"), sign(text))


def without(event: dict[str, Any], *path: str) -> dict[str, Any]:
    event = json.loads(json.dumps(event))
    target = event
    for key in path[:-1]:
        target = target[key]
    del target[path[-1]]
    return event


def replaced(event: dict[str, Any], value: Any, *path: str) -> dict[str, Any]:
    event = json.loads(json.dumps(event))
    target = event
    for key in path[:-1]:
        target = target[key]
    target[path[-1]] = value
    return event


def padded(event: dict[str, Any], size: int) -> str:
    """The event as JSON text of exactly `size` bytes."""
    text = json.dumps({**event, "padding": ""})
    return json.dumps({**event, "padding": "x" * (size - len(text.encode()))})


def _only_v0(event: dict[str, Any]) -> Delivery:
    text = event_text(event)
    t, v1 = sign(text).split(",")
    return Delivery(text.encode(), f"{t},v0={v1.removeprefix('v1=')}")


def _tampered(event: dict[str, Any]) -> Delivery:
    text = event_text(event)
    header = sign(text)
    return Delivery(text.replace('"amount_total": 12000', '"amount_total": 100').encode(), header)


def _invalid_utf8(event: dict[str, Any]) -> Delivery:
    body = event_text(event).encode() + b"\xff"
    return Delivery(body, sign(event_text(event)))


def _deep(event: dict[str, Any]) -> Delivery:
    depth = 100_000
    text = event_text(event)[:-1] + ', "deep": ' + "[" * depth + "]" * depth + "}"
    return signed(text)


BAD_INPUT: dict[str, tuple[Callable[[dict[str, Any]], Delivery], int]] = {
    "no header": (lambda e: Delivery(event_text(e).encode(), None), 400),
    "empty header": (lambda e: Delivery(event_text(e).encode(), ""), 400),
    "wrong secret": (
        lambda e: Delivery(event_text(e).encode(), sign(event_text(e), secret="whsec_other")),
        400,
    ),
    "stale timestamp (301 s)": (
        lambda e: Delivery(
            event_text(e).encode(), sign(event_text(e), timestamp=int(time.time()) - 301)
        ),
        400,
    ),
    "garbage header": (lambda e: Delivery(event_text(e).encode(), "n'importe quoi"), 400),
    "garbage timestamp": (
        lambda e: Delivery(event_text(e).encode(), "t=bientot,v1=" + "0" * 64),
        400,
    ),
    "non-ASCII signature": (
        lambda e: Delivery(event_text(e).encode(), f"t={int(time.time())},v1={'é' * 64}"),
        400,
    ),
    "only v0": (_only_v0, 400),
    "signature of another body": (
        lambda e: Delivery(event_text(e).encode(), sign(event_text(replaced(e, "evt_x", "id")))),
        400,
    ),
    "tampered body": (_tampered, 400),
    "invalid UTF-8 body": (_invalid_utf8, 400),
    "signed body not JSON": (lambda e: signed("paid, trust me"), 400),
    "signed JSON array": (lambda e: signed(json.dumps([e])), 400),
    "signed JSON string": (lambda e: signed(json.dumps("evt_1")), 400),
    "signed empty body": (lambda e: signed(""), 400),
    "missing id": (lambda e: signed(event_text(without(e, "id"))), 400),
    "missing type": (lambda e: signed(event_text(without(e, "type"))), 400),
    "missing data": (lambda e: signed(event_text(without(e, "data"))), 400),
    "missing data.object": (lambda e: signed(event_text(without(e, "data", "object"))), 400),
    "empty id": (lambda e: signed(event_text(replaced(e, "", "id"))), 400),
    "id is a number": (lambda e: signed(event_text(replaced(e, 42, "id"))), 400),
    "type is a list": (lambda e: signed(event_text(replaced(e, [e["type"]], "type"))), 400),
    "data is a list": (lambda e: signed(event_text(replaced(e, [], "data"))), 400),
    "data.object is a string": (
        lambda e: signed(event_text(replaced(e, "cs_1", "data", "object"))),
        400,
    ),
    "id too long to store": (lambda e: signed(event_text(replaced(e, "e" * 256, "id"))), 400),
    "NaN in the body": (
        lambda e: signed(event_text(replaced(e, float("nan"), "data", "object", "x"))),
        400,
    ),
    "NUL in a string": (
        lambda e: signed(event_text(replaced(e, "a\x00b", "data", "object", "x"))),
        400,
    ),
    "nested 100 000 deep": (_deep, 400),
    "body over 1 MiB": (lambda e: signed(padded(e, MIB + 1)), 413),
    "body over DATA_UPLOAD_MAX_MEMORY_SIZE": (lambda e: signed(padded(e, 3 * MIB)), 413),
    "Content-Length over 1 MiB": (
        lambda e: Delivery(
            event_text(e).encode(), sign(event_text(e)), environ={"CONTENT_LENGTH": str(2 * MIB)}
        ),
        413,
    ),
    "Content-Length not a number": (
        lambda e: Delivery(
            event_text(e).encode(), sign(event_text(e)), environ={"CONTENT_LENGTH": "beaucoup"}
        ),
        400,
    ),
    "GET": (lambda e: Delivery(b"", sign(event_text(e)), method="get"), 405),
    "PUT": (lambda e: Delivery(event_text(e).encode(), sign(event_text(e)), method="put"), 405),
}


@pytest.fixture
def paid_event(order, stripe_session) -> dict[str, Any]:
    """A `checkout.session.completed`, paid, for the pending order: it would sell the piece."""
    return {
        "id": "evt_test_refused",
        "object": "event",
        "type": "checkout.session.completed",
        "created": int(time.time()),
        "data": {"object": stripe_session(order)},
    }


def test_the_untouched_delivery_is_accepted_and_sells_the_piece(paid_event, order, piece):
    """The control for the table below: the event the bad cases start from does sell."""
    text = event_text(paid_event)
    response = Client().post(
        reverse("payments:stripe-webhook"),
        data=text.encode(),
        content_type="application/json",
        headers={"Stripe-Signature": sign(text)},
    )
    assert response.status_code == 200
    order.refresh_from_db()
    assert order.status == Order.Status.PAID
    assert status_of(piece) == StockStatus.SOLD


@pytest.mark.parametrize("case", BAD_INPUT.keys())
def test_bad_input_is_refused_stores_nothing_changes_nothing(case, paid_event, caplog):
    """Missing, invalid, stale or garbage signatures and verified bodies that are not a
    Stripe event: 400; over 1 MiB: 413; not POST: 405. Never a 500, nothing stored, no
    order or piece changed, a warning in the log."""
    build, expected = BAD_INPUT[case]
    delivery = build(paid_event)
    before = snapshot()
    headers = {"Stripe-Signature": delivery.header} if delivery.header is not None else {}

    url = reverse("payments:stripe-webhook")
    with caplog.at_level(logging.WARNING):
        if delivery.method == "get":
            response = Client().get(url, headers=headers)
        else:
            response = getattr(Client(), delivery.method)(
                url,
                data=delivery.body,
                content_type="application/json",
                headers=headers,
                **delivery.environ,
            )

    assert response.status_code == expected
    assert StripeEvent.objects.count() == 0
    assert snapshot() == before
    assert any(r.levelno == logging.WARNING for r in caplog.records)
    if expected != 405:
        assert response.json()["outcome"] in ("rejected", "too_large")


def test_a_body_of_exactly_one_mib_is_accepted(paid_event, order):
    """The limit is "over 1 MiB": a body of exactly 1 MiB is handled."""
    text = padded(paid_event, MIB)
    assert len(text.encode()) == MIB
    response = Client().post(
        reverse("payments:stripe-webhook"),
        data=text.encode(),
        content_type="application/json",
        headers={"Stripe-Signature": sign(text)},
    )
    assert response.status_code == 200
    order.refresh_from_db()
    assert order.status == Order.Status.PAID


def test_a_large_body_is_refused_before_it_is_read(paid_event, monkeypatch):
    """With a Content-Length over 1 MiB, the body is never read (413, not Django's 400)."""
    text = padded(paid_event, 2 * MIB)

    def unread(self):
        raise AssertionError("the body was read")

    monkeypatch.setattr("django.http.request.HttpRequest.body", property(unread))
    response = Client().post(
        reverse("payments:stripe-webhook"),
        data=text.encode(),
        content_type="application/json",
        headers={"Stripe-Signature": sign(text)},
    )
    assert response.status_code == 413


def test_a_sender_gone_in_the_middle_of_the_body_gets_400(paid_event):
    """A connection that breaks while the body is read (Django raises UnreadablePostError,
    a 500 by default) is bad input like any other: 400, nothing stored."""

    class CutShort(io.BytesIO):
        def read(self, *args):
            raise OSError("connection reset by peer")

    text = event_text(paid_event)
    before = snapshot()
    response = Client().post(
        reverse("payments:stripe-webhook"),
        data=text.encode(),
        content_type="application/json",
        headers={"Stripe-Signature": sign(text)},
        **{"wsgi.input": CutShort()},
    )
    assert response.status_code == 400
    assert StripeEvent.objects.count() == 0
    assert snapshot() == before


def test_secret_rotation_any_v1_signature_may_match(
    order, piece, stripe_session, signed_event, post_webhook
):
    """During a secret roll Stripe signs with the old and the new secret: one valid `v1`
    among several is enough."""
    body, header = signed_event("checkout.session.completed", stripe_session(order))
    timestamp = header.split(",")[0]
    old = sign(body, secret="whsec_old_secret").split(",")[1]
    rotated = f"{timestamp},{old},{header.split(',')[1]},v0=deadbeef"

    response = post_webhook(body, rotated)

    assert response.status_code == 200
    order.refresh_from_db()
    assert order.status == Order.Status.PAID


# --- Paying ---------------------------------------------------------------------------------


def test_checkout_session_completed_paid_sells_the_piece_and_records_the_payment(
    order, piece, stripe_session, signed_event, post_webhook, django_capture_on_commit_callbacks
):
    """One event is enough: the order is paid, the piece sold to it, the payment intent,
    e-mail and address recorded, the event stored as processed; the buyer and the owner
    get their e-mails after commit."""
    session = stripe_session(order)
    body, header = signed_event("checkout.session.completed", session, event_id="evt_paid_1")

    with django_capture_on_commit_callbacks(execute=True):
        response = post_webhook(body, header)

    assert response.status_code == 200
    assert response.json() == {"outcome": "processed", "detail": "paid"}
    order.refresh_from_db()
    assert order.status == Order.Status.PAID
    assert order.paid_at is not None
    assert order.stripe_payment_intent_id == session["payment_intent"]
    assert order.customer_email == "cliente@example.com"
    assert order.shipping_address["address"]["city"] == "Lyon"
    assert order.amount_received == order.total
    piece.refresh_from_db()
    assert not piece.in_stock
    assert piece.held_by is None
    assert OrderItem.objects.get(order=order).sold
    event = StripeEvent.objects.get()
    assert (event.stripe_id, event.type, event.outcome) == (
        "evt_paid_1",
        "checkout.session.completed",
        StripeEvent.Outcome.PROCESSED,
    )
    assert (event.order, event.attempts, event.detail, event.error) == (order, 1, "paid", "")
    assert event.processed_at is not None
    assert event.payload == json.loads(body)
    assert sorted(m.to[0] for m in mail.outbox) == ["cliente@example.com", settings.OWNER_EMAIL]


def test_the_same_event_delivered_again_answers_200_and_changes_nothing(
    order, stripe_session, signed_event, post_webhook, django_capture_on_commit_callbacks
):
    """A handled event delivered again (a new signature, as Stripe's retries have) is a
    no-op: no second e-mail, the record unchanged."""
    body, header = signed_event("checkout.session.completed", stripe_session(order))
    with django_capture_on_commit_callbacks(execute=True):
        post_webhook(body, header)
    first = StripeEvent.objects.values().get()
    state = snapshot()

    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        response = post_webhook(body, sign(body, timestamp=int(time.time()) + 1))

    assert response.status_code == 200
    assert response.json()["outcome"] == "duplicate"
    assert StripeEvent.objects.values().get() == first
    assert snapshot() == state
    assert callbacks == []
    assert len(mail.outbox) == 2


def test_payment_intent_succeeded_alone_marks_the_order_paid(
    order, piece, stripe_intent, signed_event, post_webhook
):
    """The PaymentIntent carries the order reference in its metadata: it is enough alone."""
    body, header = signed_event("payment_intent.succeeded", stripe_intent(order))

    response = post_webhook(body, header)

    assert response.json() == {"outcome": "processed", "detail": "paid"}
    order.refresh_from_db()
    assert order.status == Order.Status.PAID
    assert order.stripe_payment_intent_id == f"pi_{order.reference}"
    assert status_of(piece) == StockStatus.SOLD
    assert StripeEvent.objects.get().order == order


def test_intent_first_then_session_acts_once_and_keeps_the_session_details(
    order,
    piece,
    stripe_session,
    stripe_intent,
    signed_event,
    post_webhook,
    django_capture_on_commit_callbacks,
):
    """Events come in any order. The intent sells; the session that follows is "already
    paid", yet its e-mail and shipping address (which the intent lacks) are recorded, and
    the buyer gets the confirmation once the address to send it to is known."""
    with django_capture_on_commit_callbacks(execute=True):
        first = post_webhook(*signed_event("payment_intent.succeeded", stripe_intent(order)))
    assert [m.to for m in mail.outbox] == [[settings.OWNER_EMAIL]]

    with django_capture_on_commit_callbacks(execute=True):
        second = post_webhook(*signed_event("checkout.session.completed", stripe_session(order)))

    assert first.json()["detail"] == "paid"
    assert second.json()["detail"] == "already paid"
    order.refresh_from_db()
    assert order.status == Order.Status.PAID
    assert order.customer_email == "cliente@example.com"
    assert order.shipping_address["address"]["line1"] == "3 rue des Lilas"
    assert order.refund_reason == ""
    assert OrderItem.objects.filter(sold=True).count() == 1
    assert sorted(m.to[0] for m in mail.outbox) == ["cliente@example.com", settings.OWNER_EMAIL]
    assert [m.subject for m in mail.outbox].count(f"Pièce vendue : commande {order.reference}") == 1


def test_two_distinct_events_for_one_session_are_not_a_conflict(
    order, piece, stripe_session, signed_event, post_webhook
):
    """Stripe sometimes sends two Event objects for one change: the second "paid" for an
    order already paid is not a conflict and refunds nothing."""
    session = stripe_session(order)
    first = post_webhook(*signed_event("checkout.session.completed", session, event_id="evt_a"))
    second = post_webhook(*signed_event("checkout.session.completed", session, event_id="evt_b"))

    assert (first.json()["detail"], second.json()["detail"]) == ("paid", "already paid")
    order.refresh_from_db()
    assert order.status == Order.Status.PAID
    assert (order.refund_reason, order.refund_pending) == ("", False)
    assert list(StripeEvent.objects.order_by("stripe_id").values_list("stripe_id", "outcome")) == [
        ("evt_a", "processed"),
        ("evt_b", "processed"),
    ]


def test_async_payment_succeeded_alone_marks_the_order_paid(
    order, piece, stripe_session, signed_event, post_webhook
):
    body, header = signed_event("checkout.session.async_payment_succeeded", stripe_session(order))
    assert post_webhook(body, header).json()["detail"] == "paid"
    order.refresh_from_db()
    assert order.status == Order.Status.PAID
    assert status_of(piece) == StockStatus.SOLD


# --- Expiry and delayed payments ------------------------------------------------------------


def test_expired_releases_the_holds(order, piece, stripe_session, signed_event, post_webhook):
    """`checkout.session.expired` for an open order: expired, its piece available again."""
    session = stripe_session(order, status="expired", payment_status="unpaid")
    response = post_webhook(*signed_event("checkout.session.expired", session))

    assert response.json() == {"outcome": "processed", "detail": "released (expired)"}
    order.refresh_from_db()
    assert order.status == Order.Status.EXPIRED
    assert status_of(piece) == StockStatus.AVAILABLE
    assert Product.objects.get(pk=piece.pk).held_by is None


def test_expired_after_paid_changes_nothing(
    order, piece, stripe_session, signed_event, post_webhook
):
    """An `expired` arriving after `paid` (events are not ordered) changes nothing."""
    post_webhook(*signed_event("checkout.session.completed", stripe_session(order)))
    state = snapshot()

    session = stripe_session(order, status="expired", payment_status="unpaid")
    response = post_webhook(*signed_event("checkout.session.expired", session))

    assert response.status_code == 200
    assert response.json()["detail"] == "unchanged (paid)"
    assert snapshot() == state


def test_delayed_payment_processing_then_succeeded(
    make_order, piece, stripe_session, signed_event, post_webhook
):
    """A SEPA debit completes the session unpaid: the order is `processing` and its hold,
    which was about to lapse, now waits for the bank; `async_payment_succeeded` pays it."""
    order = make_order(products=[piece], held_until=timezone.now() + timedelta(seconds=30))

    unpaid = stripe_session(order, payment_status="unpaid")
    response = post_webhook(*signed_event("checkout.session.completed", unpaid))

    assert response.json()["detail"] == "processing"
    order.refresh_from_db()
    assert order.status == Order.Status.PROCESSING
    piece.refresh_from_db()
    assert piece.held_by_id == order.pk
    assert piece.held_until > timezone.now() + timedelta(days=7)
    assert status_of(piece) == StockStatus.RESERVED

    response = post_webhook(
        *signed_event("checkout.session.async_payment_succeeded", stripe_session(order))
    )

    assert response.json()["detail"] == "paid"
    order.refresh_from_db()
    assert order.status == Order.Status.PAID
    assert status_of(piece) == StockStatus.SOLD


def test_an_expiry_does_not_end_a_delayed_payment_in_progress(
    order, piece, stripe_session, signed_event, post_webhook
):
    """Once a SEPA debit has completed the session, the order is `processing` and its hold
    waits for the bank's answer, succeeded or failed (SPEC §7): an `expired` naming it (a
    session that completed cannot expire) changes nothing."""
    unpaid = stripe_session(order, payment_status="unpaid")
    post_webhook(*signed_event("checkout.session.completed", unpaid))
    state = snapshot()

    expired = stripe_session(order, status="expired", payment_status="unpaid")
    response = post_webhook(*signed_event("checkout.session.expired", expired))

    assert response.status_code == 200
    assert response.json()["detail"] == "unchanged (processing)"
    assert snapshot() == state
    assert status_of(piece) == StockStatus.RESERVED


def test_delayed_payment_failed_releases_the_holds(
    order, piece, stripe_session, signed_event, post_webhook
):
    unpaid = stripe_session(order, payment_status="unpaid")
    post_webhook(*signed_event("checkout.session.completed", unpaid))

    response = post_webhook(*signed_event("checkout.session.async_payment_failed", unpaid))

    assert response.json()["detail"] == "released (failed)"
    order.refresh_from_db()
    assert order.status == Order.Status.FAILED
    assert status_of(piece) == StockStatus.AVAILABLE


# --- Ignored events -------------------------------------------------------------------------


def test_an_unknown_event_type_is_stored_and_ignored(order, signed_event, post_webhook):
    state = snapshot()
    body, header = signed_event("customer.created", {"id": "cus_1", "object": "customer"})

    response = post_webhook(body, header)

    assert response.status_code == 200
    assert response.json() == {"outcome": "ignored", "detail": "event type not handled"}
    event = StripeEvent.objects.get()
    assert (event.type, event.outcome, event.attempts) == ("customer.created", "ignored", 1)
    assert event.processed_at is not None
    assert snapshot() == state


def test_a_payment_for_no_known_order_is_ignored_and_reaches_the_owner(
    order, stripe_intent, signed_event, post_webhook, django_capture_on_commit_callbacks, caplog
):
    """Money received for an order the shop does not know: recorded as ignored, an error
    in the log, an e-mail to the owner after commit; nothing else changes."""
    state = snapshot()
    intent = stripe_intent(order, metadata={"order_id": "B-INCONNUE"}, id="pi_stray")

    with django_capture_on_commit_callbacks(execute=True):
        response = post_webhook(*signed_event("payment_intent.succeeded", intent))

    assert response.status_code == 200
    assert response.json()["outcome"] == "ignored"
    event = StripeEvent.objects.get()
    assert event.outcome == StripeEvent.Outcome.IGNORED
    assert event.detail == "unknown order: B-INCONNUE"
    assert snapshot() == state
    assert any(r.levelno == logging.ERROR and r.name == "payments.webhooks" for r in caplog.records)
    [message] = mail.outbox
    assert message.to == [settings.OWNER_EMAIL]
    assert "pi_stray" in message.body
    assert "B-INCONNUE" in message.body
    assert "120.00 EUR" in message.body


def test_an_expiry_for_no_known_order_is_ignored_quietly(
    stripe_session, make_order, make_product, signed_event, post_webhook
):
    """No money involved: ignored, no e-mail."""
    order = make_order(products=[make_product()])
    session = stripe_session(order, status="expired", id="cs_other", metadata={})
    session["client_reference_id"] = None
    response = post_webhook(*signed_event("checkout.session.expired", session))

    assert response.json()["outcome"] == "ignored"
    assert mail.outbox == []


@pytest.mark.parametrize(
    ("key", "value"),
    [
        ("metadata", ["order_id"]),
        ("amount_total", "12000"),
        ("amount_total", 1.5),
        ("amount_total", True),
        ("amount_total", 10**12),
        ("customer_details", "cliente@example.com"),
        ("payment_intent", 42),
        ("currency", {"code": "eur"}),
        ("customer_email", "x" * 250 + "@example.com"),
    ],
)
def test_an_event_whose_object_has_the_wrong_shape_is_stored_and_ignored(
    key, value, order, piece, stripe_session, signed_event, post_webhook, caplog
):
    """A verified event whose session the services could not read (Stripe never sends
    one): stored as ignored with the reason, an error in the log, nothing changed, 200 so
    that it is not retried for days."""
    state = snapshot()
    session = stripe_session(order, **{key: value})

    response = post_webhook(*signed_event("checkout.session.completed", session))

    assert response.status_code == 200
    event = StripeEvent.objects.get()
    assert event.outcome == StripeEvent.Outcome.IGNORED
    assert event.detail.startswith("malformed object")
    assert snapshot() == state
    assert any(r.levelno == logging.ERROR for r in caplog.records)


@pytest.mark.parametrize(
    ("key", "value"),
    [("amount_received", -1), ("amount", "12000"), ("metadata", "B-1"), ("id", 7)],
)
def test_a_payment_intent_with_the_wrong_shape_is_stored_and_ignored(
    key, value, order, stripe_intent, signed_event, post_webhook
):
    state = snapshot()
    intent = stripe_intent(order, **{key: value})

    response = post_webhook(*signed_event("payment_intent.succeeded", intent))

    assert response.status_code == 200
    assert StripeEvent.objects.get().detail.startswith("malformed object")
    assert snapshot() == state


def test_a_payment_intent_is_not_judged_on_keys_it_does_not_carry(
    order, stripe_intent, signed_event, post_webhook
):
    """`customer_details` belongs to sessions: on an intent, whatever its type, it is not
    read, and the payment goes through."""
    intent = stripe_intent(order, customer_details="paid")

    response = post_webhook(*signed_event("payment_intent.succeeded", intent))

    assert response.json() == {"outcome": "processed", "detail": "paid"}


# --- Failures and retries -------------------------------------------------------------------


def failing_on(statement: str):
    """An execute wrapper that fails every SQL statement starting with `statement`."""

    def wrapper(execute, sql, params, many, context):
        if sql.startswith(statement):
            raise OperationalError("simulated: the database went away")
        return execute(sql, params, many, context)

    return wrapper


@pytest.mark.parametrize(
    "statement",
    ['UPDATE "products_product"', 'UPDATE "payments_orderitem"', 'UPDATE "payments_order" '],
)
def test_a_database_error_answers_500_writes_nothing_and_the_retry_succeeds(
    statement,
    order,
    piece,
    stripe_session,
    signed_event,
    post_webhook,
    django_capture_on_commit_callbacks,
):
    """A database failure while handling: 500 so that Stripe retries, nothing
    half-written (whichever write failed), the event recorded as failed with its error.
    The retry (same event, new signature) is handled, not skipped as a duplicate."""
    body, header = signed_event("checkout.session.completed", stripe_session(order))
    state = snapshot()

    with (
        connection.execute_wrapper(failing_on(statement)),
        django_capture_on_commit_callbacks(execute=True) as callbacks,
    ):
        response = post_webhook(body, header)

    assert response.status_code == 500
    assert response.json()["outcome"] == "failed"
    assert snapshot() == state
    assert callbacks == []
    assert mail.outbox == []
    event = StripeEvent.objects.get()
    assert (event.outcome, event.attempts, event.order, event.processed_at) == (
        StripeEvent.Outcome.FAILED,
        1,
        None,
        None,
    )
    assert "OperationalError: simulated: the database went away" in event.error

    with django_capture_on_commit_callbacks(execute=True):
        retry = post_webhook(body, sign(body, timestamp=int(time.time()) + 1))

    assert retry.status_code == 200
    assert retry.json() == {"outcome": "processed", "detail": "paid"}
    event.refresh_from_db()
    assert (event.outcome, event.attempts, event.error, event.order) == ("processed", 2, "", order)
    order.refresh_from_db()
    assert order.status == Order.Status.PAID
    assert status_of(piece) == StockStatus.SOLD
    assert len(mail.outbox) == 2


def test_when_even_the_failure_cannot_be_recorded_the_answer_is_500_and_nothing_is_kept(
    order, stripe_session, signed_event, post_webhook, caplog
):
    """The event row's own update fails: everything rolls back, the failure record too.
    Still a 500 (Stripe retries), never a half-handled event stored as done."""
    body, header = signed_event("checkout.session.completed", stripe_session(order))
    state = snapshot()

    with connection.execute_wrapper(failing_on('UPDATE "payments_stripeevent"')):
        response = post_webhook(body, header)

    assert response.status_code == 500
    assert StripeEvent.objects.count() == 0
    assert snapshot() == state
    assert "Could not record the failure" in caplog.text

    assert post_webhook(body, sign(body, timestamp=int(time.time()) + 1)).status_code == 200
    assert StripeEvent.objects.get().attempts == 1


def test_an_unexpected_exception_is_a_500_and_a_failed_record(
    order, piece, stripe_session, signed_event, post_webhook, monkeypatch
):
    """Not only database errors: any exception in a handler rolls back and is retried."""

    def broken(session):
        Product.objects.filter(pk=piece.pk).update(in_stock=False)
        raise RuntimeError("bug")

    monkeypatch.setitem(webhooks.HANDLERS, "checkout.session.completed", broken)
    state = snapshot()

    response = post_webhook(*signed_event("checkout.session.completed", stripe_session(order)))

    assert response.status_code == 500
    assert snapshot() == state
    event = StripeEvent.objects.get()
    assert event.outcome == StripeEvent.Outcome.FAILED
    assert "RuntimeError: bug" in event.error


# --- Reprocessing and logs ------------------------------------------------------------------


def test_reprocess_handles_a_failed_event_and_leaves_a_processed_one(
    order, piece, stripe_session, signed_event, post_webhook
):
    body, header = signed_event("checkout.session.completed", stripe_session(order))
    with connection.execute_wrapper(failing_on('UPDATE "products_product"')):
        assert post_webhook(body, header).status_code == 500
    event = StripeEvent.objects.get()

    result = webhooks.reprocess_event(event.pk)

    assert (result.status, result.outcome, result.detail) == (200, "processed", "paid")
    event.refresh_from_db()
    assert (event.outcome, event.attempts) == ("processed", 2)
    order.refresh_from_db()
    assert order.status == Order.Status.PAID

    again = webhooks.reprocess_event(event.pk)

    assert again.outcome == "duplicate"
    event.refresh_from_db()
    assert event.attempts == 2


def test_reprocess_retries_an_event_ignored_for_want_of_its_order(
    make_order, piece, stripe_session, signed_event, post_webhook
):
    """An event ignored because its order was missing is handled by a reprocess once the
    order exists (restored from a backup, say)."""
    order = make_order(products=[piece])
    session = stripe_session(order)
    reference = order.reference
    Order.objects.filter(pk=order.pk).update(reference="B-AILLEURS", stripe_session_id=None)
    post_webhook(*signed_event("checkout.session.completed", session))
    event = StripeEvent.objects.get()
    assert event.outcome == StripeEvent.Outcome.IGNORED
    Order.objects.filter(pk=order.pk).update(reference=reference)

    result = webhooks.reprocess_event(event.pk)

    assert result.detail == "paid"
    event.refresh_from_db()
    assert (event.outcome, event.order_id, event.attempts) == ("processed", order.pk, 2)


def test_one_log_line_per_event_with_id_type_order_outcome_and_duration(
    order, stripe_session, signed_event, post_webhook, caplog
):
    body, header = signed_event(
        "checkout.session.completed", stripe_session(order), event_id="evt_logged"
    )
    with caplog.at_level(logging.INFO, logger="payments.webhooks"):
        post_webhook(body, header)
        post_webhook(body, sign(body, timestamp=int(time.time()) + 1))

    lines = [r for r in caplog.records if getattr(r, "event_id", None) == "evt_logged"]
    assert [(r.event_type, r.order, r.outcome) for r in lines] == [
        ("checkout.session.completed", order.reference, "processed"),
        ("checkout.session.completed", order.reference, "duplicate"),
    ]
    assert all(isinstance(r.duration_ms, float) and r.duration_ms >= 0 for r in lines)
    assert all(r.levelno == logging.INFO for r in lines)


# --- Refunds through the Stripe-compatible server, over real HTTP ---------------------------
#
# The offline server (payments/offline) plays Stripe: sessions are created by Commander,
# paid on its hosted page, and its signed events reach /api/webhooks/stripe over HTTP.

HELD_BACK = "http://127.0.0.1:9/api/webhooks/stripe"  # nothing listens: events wait there


def refunds_of(payment_intent: str) -> list[dict[str, Any]]:
    """The refunds the Stripe-compatible server holds for a PaymentIntent."""
    response = requests.get(
        f"{settings.STRIPE_API_BASE}/v1/refunds",
        params={"payment_intent": payment_intent},
        headers={"Authorization": f"Bearer {settings.STRIPE_SECRET_KEY}"},
        timeout=10,
    )
    response.raise_for_status()
    return response.json()["data"]


def commander(product: Product, shopper: str) -> Order:
    return services.start_checkout(product_ids=[product.pk], shopper_id=shopper)


@pytest.mark.django_db(transaction=True)
def test_a_payment_beats_an_unpaid_hold_and_the_loser_is_refunded_once(
    stripe_server, make_product, settings
):
    """Two orders for one piece: A's hold lapsed, B holds it now; both shoppers are on
    Stripe's page. B pays, but its events are late; A pays: the piece is sold to A, B is
    cancelled and its session expiry requested. B's events then arrive: B is refunded
    (conflict), exactly one refund at Stripe, and replaying B's events refunds nothing more."""
    piece = make_product(name="Fauteuil bridge", price="480.00")
    order_a = commander(piece, "shopper-a")
    Product.objects.filter(pk=piece.pk).update(held_until=timezone.now() - timedelta(minutes=1))
    order_b = commander(piece, "shopper-b")
    assert Product.objects.get(pk=piece.pk).held_by_id == order_b.pk

    settings.STRIPE_OFFLINE_WEBHOOK_URL = HELD_BACK
    assert submit_hosted_page(order_b.checkout_url).status_code == 303
    settings.STRIPE_OFFLINE_WEBHOOK_URL = ""
    assert submit_hosted_page(order_a.checkout_url, email="a@example.com").status_code == 303

    order_a.refresh_from_db()
    order_b.refresh_from_db()
    assert order_a.status == Order.Status.PAID
    assert order_b.status == Order.Status.CANCELLED
    assert not order_b.session_expiry_pending  # asked; Stripe said the session was closed
    assert status_of(piece) == StockStatus.SOLD
    assert OrderItem.objects.get(sold=True).order_id == order_a.pk
    assert StripeEvent.objects.filter(order=order_a, outcome="processed").count() == 2

    assert submit_hosted_page(order_b.checkout_url, "resend").status_code == 303

    order_b.refresh_from_db()
    assert order_b.status == Order.Status.REFUNDED
    assert order_b.refund_reason == Order.RefundReason.CONFLICT
    assert not order_b.refund_pending
    [refund] = refunds_of(order_b.stripe_payment_intent_id)
    assert refund["amount"] == 48000
    assert refund["id"] == order_b.stripe_refund_id
    assert refunds_of(order_a.stripe_payment_intent_id) == []
    details = sorted(StripeEvent.objects.filter(order=order_b).values_list("detail", flat=True))
    assert details == ["already refunded", "refunded (conflict)"]
    assert OrderItem.objects.get(sold=True).order_id == order_a.pk

    for event in StripeEvent.objects.filter(order=order_b):
        body = json.dumps(event.payload).encode()
        replayed = Client().post(
            reverse("payments:stripe-webhook"),
            data=body,
            content_type="application/json",
            headers={"Stripe-Signature": sign(body)},
        )
        assert replayed.json()["outcome"] == "duplicate"
    assert len(refunds_of(order_b.stripe_payment_intent_id)) == 1
    subjects = [m.subject for m in mail.outbox]
    assert f"Votre commande {order_b.reference} a été remboursée" in subjects
    assert f"Incident : commande {order_b.reference} remboursée automatiquement" in subjects


@pytest.mark.django_db(transaction=True)
def test_a_payment_takes_the_piece_from_an_open_checkout_and_expires_its_session(
    stripe_server, make_product
):
    """A pays while B, who holds the piece, is still on Stripe's page: sold to A, B loses
    the piece and its session is expired at Stripe, so B can no longer pay."""
    piece = make_product(name="Lampe Mazda", price="95.00")
    order_a = commander(piece, "shopper-a")
    Product.objects.filter(pk=piece.pk).update(held_until=timezone.now() - timedelta(minutes=1))
    order_b = commander(piece, "shopper-b")

    assert submit_hosted_page(order_a.checkout_url).status_code == 303

    order_a.refresh_from_db()
    order_b.refresh_from_db()
    assert order_a.status == Order.Status.PAID
    assert order_b.status in (Order.Status.CANCELLED, Order.Status.EXPIRED)
    assert not order_b.session_expiry_pending
    assert stripe_client.retrieve_checkout_session(order_b.stripe_session_id)["status"] == (
        "expired"
    )
    assert 'data-action="pay"' not in requests.get(order_b.checkout_url, timeout=10).text
    assert status_of(piece) == StockStatus.SOLD


@pytest.mark.django_db(transaction=True)
def test_an_amount_that_differs_from_the_order_is_refunded(stripe_server, make_product):
    """The amount paid (pieces and shipping) is checked against the order's total: a
    difference refunds in full (amount_mismatch), the piece goes back on sale, one refund
    at Stripe."""
    piece = make_product(name="Miroir soleil", price="120.00")
    order = commander(piece, "shopper")
    assert (order.items_total, order.shipping_cost) == (Decimal("120.00"), Decimal("8.00"))
    Order.objects.filter(pk=order.pk).update(total="99.00")

    assert submit_hosted_page(order.checkout_url).status_code == 303

    order.refresh_from_db()
    assert order.status == Order.Status.REFUNDED
    assert order.refund_reason == Order.RefundReason.AMOUNT_MISMATCH
    assert str(order.amount_received) == "128.00"
    [refund] = refunds_of(order.stripe_payment_intent_id)
    assert refund["amount"] == 12800
    assert status_of(piece) == StockStatus.AVAILABLE
    assert not OrderItem.objects.filter(sold=True).exists()


@pytest.mark.django_db(transaction=True)
def test_paying_on_the_hosted_page_sells_the_piece_end_to_end(stripe_server, make_product):
    """The whole path: Commander, Payer on the Stripe-compatible page, both signed events
    over HTTP, the piece shows "Vendu" on its page."""
    piece = make_product(name="Tabouret tripode", price="60.00")
    order = commander(piece, "shopper")

    assert submit_hosted_page(order.checkout_url).status_code == 303

    order.refresh_from_db()
    assert order.status == Order.Status.PAID
    assert sorted(StripeEvent.objects.values_list("type", "outcome")) == [
        ("checkout.session.completed", "processed"),
        ("payment_intent.succeeded", "processed"),
    ]
    assert "Vendu" in Client().get(piece.get_absolute_url()).content.decode()
