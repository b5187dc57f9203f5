"""Payment services called directly: decisions that no single webhook test shows."""

import socket

import pytest

from payments import services
from payments.models import Order, OrderItem

pytestmark = pytest.mark.django_db


@pytest.fixture
def stripe_unreachable(settings):
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    settings.STRIPE_API_BASE = f"http://127.0.0.1:{port}"


def test_a_refund_decided_before_the_payment_id_is_known_is_sent_once_it_is(
    make_product,
    make_order,
    stripe_session,
    stripe_intent,
    stripe_unreachable,
    django_capture_on_commit_callbacks,
):
    """A conflict found from a session that names no PaymentIntent cannot be refunded yet;
    the PaymentIntent's own event supplies the id and the refund is then due."""
    piece = make_product(in_stock=False)
    order = make_order(products=[piece], status=Order.Status.PENDING, hold=False)

    with django_capture_on_commit_callbacks(execute=True):
        services.apply_checkout_session(stripe_session(order, payment_intent=None))
    order.refresh_from_db()
    assert (order.status, order.refund_reason) == (Order.Status.REFUNDED, "conflict")
    assert not order.refund_pending

    with django_capture_on_commit_callbacks(execute=True):
        services.apply_payment_intent_succeeded(stripe_intent(order))
    order.refresh_from_db()
    assert order.stripe_payment_intent_id == f"pi_{order.reference}"
    assert order.refund_pending  # Stripe is unreachable here: reconcile will retry
    assert order.last_error.startswith("refund:")


def test_a_piece_of_a_paid_order_is_not_put_back_on_sale(make_product, make_order):
    piece = make_product(in_stock=False)
    order = make_order(products=[piece], status=Order.Status.PAID, hold=False)
    order.items.update(sold=True)

    done, refused = services.put_back_on_sale(product_ids=[piece.pk])

    assert (done, refused) == ([], [piece])
    piece.refresh_from_db()
    assert not piece.in_stock


def test_a_piece_of_a_refunded_order_goes_back_on_sale_and_can_sell_again(make_product, make_order):
    """A refund kept the piece aside; putting it back clears the old sale so a new one fits
    under the single-sale constraint."""
    piece = make_product(in_stock=False)
    first = make_order(products=[piece], status=Order.Status.REFUNDED, hold=False)
    first.items.update(sold=True)

    done, refused = services.put_back_on_sale(product_ids=[piece.pk])

    assert (done, refused) == ([piece], [])
    piece.refresh_from_db()
    assert piece.in_stock
    assert not OrderItem.objects.filter(product=piece, sold=True).exists()
    second = make_order(products=[piece], status=Order.Status.PAID, hold=False)
    second.items.update(sold=True)
