"""`manage.py reconcile`: the payments and expiries the webhook missed, the Stripe calls
that failed. Through the real `stripe` library over real HTTP to the offline Stripe server,
whose webhook deliveries are sent to a closed port (the shop never hears of them)."""

import io
import itertools
import socket
import time
from datetime import timedelta
from decimal import Decimal

import pytest
from django.core import mail
from django.core.management import CommandError, call_command
from django.utils import timezone

from payments import exceptions, services, stripe_client
from payments.models import Order
from payments.offline.models import CheckoutSession, Event, Refund
from payments.offline.testing import submit_hosted_page
from products.models import Product, StockStatus

pytestmark = pytest.mark.django_db(transaction=True)
_counter = itertools.count(1)


def _closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture
def webhook_lost(stripe_server, settings) -> None:
    """The offline server's events go to a port nobody listens on: the shop misses them."""
    settings.STRIPE_OFFLINE_WEBHOOK_URL = f"http://127.0.0.1:{_closed_port()}/api/webhooks/stripe"


@pytest.fixture
def stripe_down(settings):
    """Switch the Stripe API off (a closed port) and back on, inside one test."""
    api_base = settings.STRIPE_API_BASE

    class Switch:
        def off(self) -> None:
            settings.STRIPE_API_BASE = f"http://127.0.0.1:{_closed_port()}"

        def on(self) -> None:
            settings.STRIPE_API_BASE = api_base

    return Switch()


def _piece(price: str = "240.00") -> Product:
    n = next(_counter)
    return Product.objects.create(name=f"Commode n° {n}", slug=f"commode-{n}", price=Decimal(price))


def _checkout(*products: Product, shopper_id: str = "s1") -> Order:
    return services.start_checkout(product_ids=[p.pk for p in products], shopper_id=shopper_id)


def _pay(checkout_url: str, action: str = "pay", **fields: str) -> int:
    """Use the hosted page as the shopper would (the shop collects no shipping address)."""
    return submit_hosted_page(checkout_url, action, **fields).status_code


def _reconcile(*args: str) -> str:
    out = io.StringIO()
    call_command("reconcile", *args, stdout=out)
    return out.getvalue()


def _status(product: Product) -> str:
    return Product.objects.with_status().get(pk=product.pk).stock_status


def _undelivered() -> int:
    return Event.objects.filter(delivered_at__isnull=True).count()


def test_a_payment_the_webhook_missed_is_applied_once(webhook_lost):
    """The shopper paid but no event arrived: reconcile marks the order paid and the piece
    sold, as the webhook would have, and a second run changes nothing."""
    piece = _piece()
    order = _checkout(piece)
    assert _pay(order.checkout_url, email="ines@example.com") == 303
    order.refresh_from_db()
    assert order.status == Order.Status.PENDING  # the shop has heard nothing
    assert _undelivered() == 2  # checkout.session.completed, payment_intent.succeeded

    output = _reconcile()

    order.refresh_from_db()
    assert order.status == Order.Status.PAID
    assert order.customer_email == "ines@example.com"
    assert order.stripe_payment_intent_id.startswith("pi_")
    assert order.amount_received == Decimal("240.00")
    assert _status(piece) == StockStatus.SOLD
    assert order.items.get().sold
    assert "Payments applied: 1" in output
    assert f"{order.reference} (paid)" in output
    assert [m.to for m in mail.outbox].count(["ines@example.com"]) == 1

    updated_at = order.updated_at
    again = _reconcile()

    order.refresh_from_db()
    assert order.updated_at == updated_at
    assert "Payments applied: 0" in again
    assert "Nothing to reconcile." in again
    assert [m.to for m in mail.outbox].count(["ines@example.com"]) == 1


def test_an_expiry_the_webhook_missed_releases_the_hold(webhook_lost):
    """A session expired on Stripe's side without the shop hearing: the order expires and
    the piece is available again."""
    piece = _piece()
    order = _checkout(piece)
    assert _status(piece) == StockStatus.RESERVED
    stripe_client.expire_checkout_session(order.stripe_session_id, idempotency_key="test-expire")

    output = _reconcile()

    order.refresh_from_db()
    assert order.status == Order.Status.EXPIRED
    assert _status(piece) == StockStatus.AVAILABLE
    assert "Expiries applied: 1" in output
    assert "Expiries applied: 0" in _reconcile()


def test_an_open_session_is_left_alone(stripe_server):
    """A shopper still on the payment page keeps their hold."""
    piece = _piece()
    order = _checkout(piece)

    output = _reconcile()

    order.refresh_from_db()
    assert order.status == Order.Status.PENDING
    assert _status(piece) == StockStatus.RESERVED
    assert "Checkout Sessions seen (last 72 h): 1" in output
    assert "Nothing to reconcile." in output


def test_a_delayed_payment_goes_to_processing_then_paid(webhook_lost):
    """SEPA debit: the completed unpaid session makes the order `processing` (hold kept);
    once the bank pays, the next run marks it paid."""
    piece = _piece()
    order = _checkout(piece)
    assert _pay(order.checkout_url, method="sepa_debit") == 303

    first = _reconcile()

    order.refresh_from_db()
    assert order.status == Order.Status.PROCESSING
    assert _status(piece) == StockStatus.RESERVED
    assert "Delayed payments now processing: 1" in first

    _pay(order.checkout_url, "transfer_succeeded")
    second = _reconcile()

    order.refresh_from_db()
    assert order.status == Order.Status.PAID
    assert _status(piece) == StockStatus.SOLD
    assert "Payments applied: 1" in second


def test_a_missed_payment_for_a_piece_sold_meanwhile_is_refunded(webhook_lost, settings):
    """Two checkouts of one piece (the first one's hold lapsed): the second is paid and
    delivered, the first is paid too but its events are lost. Reconcile applies the first:
    a conflict, refunded in full exactly once through Stripe."""
    settings.CHECKOUT_HOLD_MINUTES = 0
    piece = _piece()
    first = _checkout(piece, shopper_id="s1")
    assert _pay(first.checkout_url) == 303
    Product.objects.filter(pk=piece.pk).update(held_until=None)  # the hold lapsed
    second = _checkout(piece, shopper_id="s2")
    assert _pay(second.checkout_url) == 303
    second_session = stripe_client.retrieve_checkout_session(second.stripe_session_id)
    services.apply_checkout_session(second_session)  # this one reached the shop

    output = _reconcile()

    first.refresh_from_db()
    second.refresh_from_db()
    assert second.status == Order.Status.PAID
    assert (first.status, first.refund_reason) == (Order.Status.REFUNDED, "conflict")
    assert not first.refund_pending
    refunds = Refund.objects.filter(payment_intent__stripe_id=first.stripe_payment_intent_id)
    assert [r.amount for r in refunds] == [24000]
    assert first.stripe_refund_id == refunds.get().stripe_id
    assert f"{first.reference} (refunded (conflict))" in output

    _reconcile()
    assert refunds.count() == 1


def test_a_refund_that_failed_is_retried_and_cleared(stripe_server, stripe_down):
    """The owner refunded while Stripe was down: the order keeps `refund_pending`; the next
    run sends the refund, clears the flag, and a third run sends nothing more."""
    piece = _piece()
    order = _checkout(piece)
    _pay(order.checkout_url)  # delivered: the order is paid
    order.refresh_from_db()
    assert order.status == Order.Status.PAID
    stripe_down.off()
    services.refund_paid_order(order_id=order.pk, put_back_on_sale=True)
    order.refresh_from_db()
    assert order.refund_pending
    assert "refund" in order.last_error
    stripe_down.on()

    output = _reconcile()

    order.refresh_from_db()
    assert not order.refund_pending
    assert order.last_error == ""
    refund = Refund.objects.get(payment_intent__stripe_id=order.stripe_payment_intent_id)
    assert (refund.amount, order.stripe_refund_id) == (24000, refund.stripe_id)
    assert "Refunds retried: 1" in output
    assert "Refunds retried: 0" in _reconcile()
    assert Refund.objects.count() == 1


def test_a_refund_the_owner_already_made_in_stripe_counts_as_sent(stripe_server, stripe_down):
    """Stripe refuses a second refund of a refunded payment: the shop finds the one made in
    the dashboard, records it and stops retrying, instead of failing every run."""
    order = _checkout(_piece())
    _pay(order.checkout_url)
    stripe_down.off()
    services.refund_paid_order(order_id=order.pk, put_back_on_sale=False)
    stripe_down.on()
    order.refresh_from_db()
    by_owner = stripe_client.refund_payment(
        order.stripe_payment_intent_id, idempotency_key="dashboard-1", metadata={}
    )

    output = _reconcile()

    order.refresh_from_db()
    assert (order.refund_pending, order.stripe_refund_id) == (False, by_owner)
    assert "Refunds retried: 1" in output
    assert Refund.objects.count() == 1


def test_a_refund_decided_without_the_payment_id_is_sent_from_the_session(webhook_lost):
    """A conflict found from an event that named no PaymentIntent left nothing to refund
    with; the paid session reconcile lists names it, and the refund goes out."""
    order = _checkout(_piece())
    _pay(order.checkout_url)
    Order.objects.filter(pk=order.pk).update(
        status=Order.Status.REFUNDED, refund_reason=Order.RefundReason.CONFLICT
    )

    _reconcile()

    order.refresh_from_db()
    refund = Refund.objects.get()
    assert order.stripe_payment_intent_id == refund.payment_intent.stripe_id
    assert (order.refund_pending, order.stripe_refund_id) == (False, refund.stripe_id)
    _reconcile()
    assert Refund.objects.count() == 1


def test_a_session_expiry_that_failed_is_retried(stripe_server, stripe_down):
    """The shopper cancelled while Stripe was down: reconcile closes the session on
    Stripe's side, so nobody can pay for pieces the shop has given back."""
    piece = _piece()
    order = _checkout(piece)
    stripe_down.off()
    services.cancel_order(order_id=order.pk)
    order.refresh_from_db()
    assert order.session_expiry_pending
    stripe_down.on()

    output = _reconcile()

    order.refresh_from_db()
    assert not order.session_expiry_pending
    assert _status(piece) == StockStatus.AVAILABLE
    assert CheckoutSession.objects.get(stripe_id=order.stripe_session_id).status == "expired"
    assert "Session expiries retried: 1" in output
    assert "Session expiries retried: 0" in _reconcile()


def test_since_limits_the_sessions_looked_at(webhook_lost):
    """A session created before the window is not listed; a wider window finds it."""
    piece = _piece()
    order = _checkout(piece)
    _pay(order.checkout_url)
    five_hours_ago = int(time.time()) - 5 * 3600
    CheckoutSession.objects.filter(stripe_id=order.stripe_session_id).update(created=five_hours_ago)

    narrow = _reconcile("--since", "4")
    order.refresh_from_db()
    assert order.status == Order.Status.PENDING
    assert "Checkout Sessions seen (last 4 h): 0" in narrow

    _reconcile("--since", "6")
    order.refresh_from_db()
    assert order.status == Order.Status.PAID


def test_sessions_of_no_order_of_this_shop_are_counted_not_fatal(stripe_server):
    """A session made elsewhere on the same Stripe account is counted and skipped."""
    stripe_client.create_checkout_session(
        {
            "mode": "payment",
            "line_items": [
                {
                    "quantity": 1,
                    "price_data": {
                        "currency": "eur",
                        "unit_amount": 500,
                        "product_data": {"name": "Autre boutique"},
                    },
                }
            ],
            "success_url": "https://example.com/ok",
        },
        idempotency_key="other-shop",
    )

    output = _reconcile()

    assert "Sessions of no order of this shop: 1" in output
    assert "Errors: 0" in output


def test_stripe_unreachable_is_a_clear_command_error(db, settings):
    """Stripe down: the command fails (non-zero exit) with a plain message, nothing done."""
    settings.STRIPE_API_BASE = f"http://127.0.0.1:{_closed_port()}"

    with pytest.raises(CommandError, match="Stripe could not be reached, no Checkout Session"):
        _reconcile()


def test_a_retry_still_failing_makes_the_run_fail(stripe_server, stripe_down, monkeypatch):
    """Sessions listed but the refund still refused: the summary names the order and the
    command exits non-zero, so a scheduler shows it."""
    piece = _piece()
    order = _checkout(piece)
    _pay(order.checkout_url)
    stripe_down.off()
    services.refund_paid_order(order_id=order.pk, put_back_on_sale=False)
    stripe_down.on()

    def refuse(*args, **kwargs):
        raise exceptions.StripeUnavailable("create refund: connection reset")

    monkeypatch.setattr(stripe_client, "refund_payment", refuse)
    out = io.StringIO()

    with pytest.raises(CommandError, match="1 error"):
        call_command("reconcile", stdout=out)

    assert f"{order.reference}: refund still pending" in out.getvalue()
    order.refresh_from_db()
    assert order.refund_pending


def test_since_must_be_positive(db):
    with pytest.raises(CommandError, match="positive"):
        _reconcile("--since", "0")


def test_holds_left_behind_by_a_taken_order_are_released(stripe_server, monkeypatch):
    """A payment takes one piece from another shopper's checkout, a SEPA debit in progress
    whose hold waits 14 days for the bank; that order's other piece is released after
    commit. If the process stops right after the commit, nothing flags it: reconcile finds
    the holds of orders that are no longer open and releases them."""
    taken, other = _piece(), _piece()
    first = _checkout(taken, shopper_id="s1")
    Product.objects.filter(pk=taken.pk).update(held_until=None)  # the first hold lapsed
    second = _checkout(taken, other, shopper_id="s2")
    assert _pay(second.checkout_url, method="sepa_debit") == 303
    second.refresh_from_db()
    assert second.status == Order.Status.PROCESSING

    with monkeypatch.context() as stopped:
        stopped.setattr(services.payment, "after_commit", lambda fn, order_id: None)  # process gone
        assert _pay(first.checkout_url) == 303

    first.refresh_from_db()
    second.refresh_from_db()
    assert (first.status, second.status) == (Order.Status.PAID, Order.Status.CANCELLED)
    assert _status(other) == StockStatus.RESERVED  # by a cancelled order, for 14 days

    _reconcile()

    assert _status(other) == StockStatus.AVAILABLE
    assert Product.objects.get(pk=other.pk).held_by is None
    assert _status(taken) == StockStatus.SOLD


def test_a_failed_delayed_payment_the_webhook_missed_releases_the_hold(webhook_lost):
    """SEPA debit: the shop heard neither the completed session nor the bank's refusal.
    Reconcile first makes the order `processing`; once the debit has failed, the next run
    fails the order and gives the piece back, instead of holding it for 14 days."""
    piece = _piece()
    order = _checkout(piece)
    assert _pay(order.checkout_url, method="sepa_debit") == 303
    _reconcile()
    order.refresh_from_db()
    assert order.status == Order.Status.PROCESSING

    assert _pay(order.checkout_url, "transfer_failed") == 303
    output = _reconcile()

    order.refresh_from_db()
    assert order.status == Order.Status.FAILED
    assert _status(piece) == StockStatus.AVAILABLE
    assert f"Delayed payments refused by the bank: 1\n  - {order.reference}" in output
    again = _reconcile()
    assert "Nothing to reconcile." in again


def test_a_session_whose_creation_answer_was_lost_is_expired(stripe_server, monkeypatch):
    """Stripe created the session but its answer never reached the shop (every try timed
    out): the order failed and its piece went back on sale, yet the session is open and
    payable. Reconcile finds it by the order's reference and expires it. (Had it been paid
    meanwhile, the payment would have been applied like any other.)"""
    piece = _piece()
    create = stripe_client.create_checkout_session
    created: list[stripe_client.CheckoutSession] = []

    def answer_lost(params, *, idempotency_key):
        created.append(create(params, idempotency_key=idempotency_key))
        raise exceptions.StripeUnavailable("create checkout session: read timed out")

    with monkeypatch.context() as lost:
        lost.setattr(stripe_client, "create_checkout_session", answer_lost)
        with pytest.raises(exceptions.CheckoutError):
            _checkout(piece)
    order = Order.objects.get()
    assert order.status == Order.Status.FAILED
    assert _status(piece) == StockStatus.AVAILABLE
    [session] = created
    assert stripe_client.retrieve_checkout_session(session.id)["status"] == "open"

    output = _reconcile()

    assert stripe_client.retrieve_checkout_session(session.id)["status"] == "expired"
    order.refresh_from_db()
    assert (order.status, order.stripe_session_id) == (Order.Status.FAILED, session.id)
    assert not order.session_expiry_pending
    assert f"Lost sessions expired: 1\n  - {order.reference}" in output
    assert "Nothing to reconcile." in _reconcile()


def test_a_pending_order_that_never_got_its_session_is_released(stripe_server):
    """The worker creating the session was stopped (killed at its timeout, a deploy) before
    it could record the session or fail the order: after a few minutes, reconcile gives the
    pieces back. A younger one may still be waiting for Stripe's answer: left alone."""
    old_piece, young_piece = _piece(), _piece()
    old, young = (
        Order.objects.create(total=p.price, items_total=p.price, shopper_id="s")
        for p in (old_piece, young_piece)
    )
    for order, piece in ((old, old_piece), (young, young_piece)):
        order.items.create(product=piece, name=piece.name, price=piece.price)
        Product.objects.filter(pk=piece.pk).update(
            held_by=order, held_until=timezone.now() + timedelta(minutes=33)
        )
    Order.objects.filter(pk=old.pk).update(created_at=timezone.now() - timedelta(minutes=6))

    output = _reconcile()

    old.refresh_from_db()
    assert old.status == Order.Status.FAILED
    assert _status(old_piece) == StockStatus.AVAILABLE
    assert f"Pending orders that never got a session, released: 1\n  - {old.reference}" in output
    assert Order.objects.get(pk=young.pk).status == Order.Status.PENDING
    assert _status(young_piece) == StockStatus.RESERVED
    assert "never got a session, released: 0" in _reconcile()
