"""Concurrent deliveries on PostgreSQL: real threads, each its own connection, each calling
the real view with a real signature. Stripe delivers duplicates and related events at the
same moment; whatever the interleaving, every payment acts once."""

import threading
import time
from collections import Counter
from datetime import timedelta
from typing import Any

import pytest
import stripe
from django.conf import settings
from django.core import mail
from django.db import OperationalError, connection
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from payments.models import Order, OrderItem, StripeEvent
from products.models import Product, StockStatus

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]


@pytest.fixture(autouse=True)
def _stripe_unreachable(settings) -> None:
    """Refunds and expiries decided here go to a port where nothing listens (and stay
    flagged for reconcile): these tests are about the database, not about Stripe."""
    settings.STRIPE_API_BASE = "http://127.0.0.1:9/_stripe"


def deliver_concurrently(
    deliveries: list[tuple[bytes, str]],
    *,
    failing_thread: int | None = None,
    failing_statement: str = 'UPDATE "products_product"',
) -> list[Any]:
    """POST every delivery from its own thread, all released at once. The thread numbered
    `failing_thread`, if any, goes first and sees its first statement starting with
    `failing_statement` (its UPDATE of products) fail, half a second after reaching it."""
    start = threading.Barrier(len(deliveries))
    responses: list[Any] = [None] * len(deliveries)
    errors: list[BaseException] = []

    failing_inside = threading.Event()

    def fail_product_updates(execute, sql, params, many, context):
        if sql.startswith(failing_statement):
            failing_inside.set()  # it holds the event's row: the others may come
            time.sleep(0.5)  # long enough for them to queue up behind it
            raise OperationalError("simulated: the database went away")
        return execute(sql, params, many, context)

    def deliver(index: int) -> None:
        body, header = deliveries[index]
        try:
            start.wait(timeout=30)
            if failing_thread is not None and index != failing_thread:
                assert failing_inside.wait(timeout=30)  # the failing delivery gets in first
            post = lambda: Client().post(  # noqa: E731
                reverse("payments:stripe-webhook"),
                data=body,
                content_type="application/json",
                headers={"Stripe-Signature": header},
            )
            if index == failing_thread:
                with connection.execute_wrapper(fail_product_updates):
                    responses[index] = post()
            else:
                responses[index] = post()
        except BaseException as error:  # surfaced by the assertion below
            errors.append(error)
        finally:
            connection.close()

    threads = [threading.Thread(target=deliver, args=(i,)) for i in range(len(deliveries))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert not errors
    assert all(response is not None for response in responses)
    return responses


def outcomes(responses: list[Any]) -> Counter:
    return Counter(response.json()["outcome"] for response in responses)


def test_the_same_event_twenty_times_at_once_acts_once(
    make_product, make_order, stripe_session, signed_event
):
    """Twenty concurrent deliveries of one event: one handles it, nineteen see it handled
    (200 each), one sale, one StripeEvent with one attempt, one pair of e-mails."""
    piece = make_product(name="Commode galbée", price="890.00")
    order = make_order(products=[piece])
    delivery = signed_event("checkout.session.completed", stripe_session(order), event_id="evt_x")

    responses = deliver_concurrently([delivery] * 20)

    assert [r.status_code for r in responses] == [200] * 20
    assert outcomes(responses) == {"processed": 1, "duplicate": 19}
    event = StripeEvent.objects.get()
    assert (event.stripe_id, event.outcome, event.attempts, event.order_id) == (
        "evt_x",
        "processed",
        1,
        order.pk,
    )
    order.refresh_from_db()
    assert order.status == Order.Status.PAID
    assert OrderItem.objects.filter(sold=True).count() == 1
    assert Product.objects.with_status().get(pk=piece.pk).status == StockStatus.SOLD
    assert sorted(m.to[0] for m in mail.outbox) == ["cliente@example.com", settings.OWNER_EMAIL]


def test_session_and_intent_events_at_once_act_once_for_each_order(
    make_product, make_order, stripe_session, stripe_intent, signed_event
):
    """Ten orders, each paid by `checkout.session.completed` and `payment_intent.succeeded`
    delivered at the same moment (twenty threads): each order is paid once, by exactly one
    of its two events, and keeps the session's address whichever came first."""
    orders = [make_order(products=[make_product()]) for _ in range(10)]
    deliveries = []
    for order in orders:
        deliveries.append(signed_event("checkout.session.completed", stripe_session(order)))
        deliveries.append(signed_event("payment_intent.succeeded", stripe_intent(order)))

    responses = deliver_concurrently(deliveries)

    assert [r.status_code for r in responses] == [200] * 20
    for index, order in enumerate(orders):
        pair = [responses[2 * index].json()["detail"], responses[2 * index + 1].json()["detail"]]
        assert sorted(pair) == ["already paid", "paid"]
        order.refresh_from_db()
        assert order.status == Order.Status.PAID
        assert order.customer_email == "cliente@example.com"
        assert order.shipping_address["address"]["city"] == "Lyon"
    assert OrderItem.objects.filter(sold=True).count() == 10
    assert not Product.objects.filter(in_stock=True).exists()
    assert StripeEvent.objects.filter(outcome="processed").count() == 20
    assert set(StripeEvent.objects.values_list("attempts", flat=True)) == {1}


def test_two_orders_paying_for_one_piece_at_once_sell_it_once(
    make_product, make_order, stripe_session, stripe_intent, signed_event
):
    """A's hold lapsed, B holds the piece; both pay at the same moment, each with both
    events (four threads): the piece is sold once, to one of them; the other is refunded
    as a conflict. No deadlock, no 500."""
    piece = make_product(name="Paire de bougeoirs", price="75.00")
    order_a = make_order(products=[piece], held_until=timezone.now() - timedelta(minutes=1))
    order_b = make_order(products=[piece])
    deliveries = [
        signed_event("checkout.session.completed", stripe_session(order_a)),
        signed_event("payment_intent.succeeded", stripe_intent(order_a)),
        signed_event("checkout.session.completed", stripe_session(order_b)),
        signed_event("payment_intent.succeeded", stripe_intent(order_b)),
    ]

    responses = deliver_concurrently(deliveries)

    assert [r.status_code for r in responses] == [200] * 4
    order_a.refresh_from_db()
    order_b.refresh_from_db()
    statuses = sorted([order_a.status, order_b.status])
    assert statuses == [Order.Status.PAID, Order.Status.REFUNDED]
    loser = order_a if order_a.status == Order.Status.REFUNDED else order_b
    assert loser.refund_reason == Order.RefundReason.CONFLICT
    assert loser.refund_pending  # decided; the Stripe call is retried by reconcile
    [sold] = OrderItem.objects.filter(sold=True)
    assert sold.order_id != loser.pk
    assert Product.objects.with_status().get(pk=piece.pk).status == StockStatus.SOLD


def test_a_delivery_that_fails_while_its_duplicates_wait_leaves_the_event_processed(
    make_product, make_order, stripe_session, signed_event
):
    """Ten concurrent deliveries of one event; the first to get in hits a database error
    while the nine others wait behind its row: it answers 500 and rolls back, one of the
    others handles the event, the rest see it handled, and the record ends `processed`
    (a failure record written late never overwrites a success)."""
    piece = make_product()
    order = make_order(products=[piece])
    delivery = signed_event("checkout.session.completed", stripe_session(order))

    responses = deliver_concurrently([delivery] * 10, failing_thread=0)

    assert responses[0].status_code == 500
    assert outcomes(responses) == {"failed": 1, "processed": 1, "duplicate": 8}
    event = StripeEvent.objects.get()
    assert (event.outcome, event.error) == ("processed", "")
    # 1 when a waiting delivery got in before the failure was recorded; 2 when the failure
    # record came first (then that delivery handled the event as a retry).
    assert event.attempts in (1, 2)
    order.refresh_from_db()
    assert order.status == Order.Status.PAID
    assert OrderItem.objects.filter(sold=True).count() == 1


def test_a_retry_racing_a_failed_event_handles_it_once(
    make_product, make_order, stripe_session, signed_event
):
    """An event failed earlier; Stripe's retry and an owner's reprocess arrive together
    (ten deliveries with fresh signatures): handled once, attempts = the failure + one."""
    piece = make_product()
    order = make_order(products=[piece])
    body, header = signed_event("checkout.session.completed", stripe_session(order))
    [failed] = deliver_concurrently([(body, header)], failing_thread=0)
    assert failed.status_code == 500
    assert StripeEvent.objects.get().outcome == StripeEvent.Outcome.FAILED

    fresh = stripe.WebhookSignature.generate_signature_header(
        body.decode(), settings.STRIPE_WEBHOOK_SECRET, timestamp=int(time.time()) + 1
    )
    responses = deliver_concurrently([(body, fresh)] * 10)

    assert outcomes(responses) == {"processed": 1, "duplicate": 9}
    event = StripeEvent.objects.get()
    assert (event.outcome, event.attempts) == (StripeEvent.Outcome.PROCESSED, 2)
    assert OrderItem.objects.filter(sold=True).count() == 1
