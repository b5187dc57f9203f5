"""A payment sells the order's pieces, once, whatever the event that reports it and
whatever the order of events (SPEC §7, §8); a delayed method first makes it `processing`."""

import logging
from datetime import timedelta
from decimal import Decimal

from django.db import transaction
from django.utils import timezone

from payments import notifications
from payments.exceptions import UnknownOrder
from payments.models import Order, OrderItem
from payments.services.documents import complete_invoice_buyer, issue_invoice
from payments.services.locking import after_commit, db_now_plus, lock_order, lock_paid_order
from payments.services.refunds import refund_in_transaction
from payments.services.release import release_leftover_holds
from payments.services.stripe_calls import expire_session_now, refund_now
from payments.stripe_shapes import Payment
from products import stock
from products.models import Product

logger = logging.getLogger(__name__)

# A delayed payment method (SEPA...) can take days to settle; its hold waits for it.
DELAYED_PAYMENT_HOLD = timedelta(days=14)


def mark_order_paid(*, payment: Payment) -> tuple[Order, str]:
    """Record a payment: sell the order's pieces, once, whatever the event and its order.

    A payment beats an unpaid hold: pieces held by another open order are taken from
    it (its session is expired after commit). A piece already sold, or an amount that
    does not match the order, makes it a conflict refunded in full after commit.
    Returns the order and what was done.

    No savepoint of its own (`savepoint=False`): inside the webhook's transaction an
    exception here rolls back the whole delivery anyway, and UnknownOrder is raised once
    the block is left, having written nothing.
    """
    with transaction.atomic(savepoint=False):
        locked = lock_paid_order(reference=payment.reference, session_id=payment.session_id)
        if locked is not None:
            order, products, orders = locked
            outcome = _apply_payment(order, products, orders, payment)
    if locked is None:
        raise UnknownOrder(payment.reference or payment.session_id or "no order reference")
    logger.info("Payment recorded: %s", outcome, extra={"order": order.reference})
    return order, outcome


def _apply_payment(
    order: Order, products: list[Product], orders: dict[int, Order], payment: Payment
) -> str:
    if order.status in (Order.Status.PAID, Order.Status.REFUNDED):
        _complete_payment_details(order, payment)
        return f"already {order.status}"
    _record_payment(order, payment)
    if (payment.amount, payment.currency) != (order.total_cents, order.currency):
        return refund_in_transaction(order, products, reason=Order.RefundReason.AMOUNT_MISMATCH)
    if any(not p.in_stock for p in products):
        return refund_in_transaction(order, products, reason=Order.RefundReason.CONFLICT)
    return _sell(order, products, orders)


# What `_record_payment` writes on the order.
PAYMENT_FIELDS = (
    "stripe_payment_intent_id",
    "amount_received",
    "currency_received",
    "customer_email",
    "shipping_address",
    "stripe_session_id",
)


def _record_payment(order: Order, payment: Payment) -> None:
    order.stripe_payment_intent_id = payment.payment_intent or order.stripe_payment_intent_id
    order.amount_received = Decimal(payment.amount) / 100
    order.currency_received = payment.currency
    order.customer_email = payment.email or order.customer_email
    order.shipping_address = payment.shipping or order.shipping_address
    if payment.session_id and not order.stripe_session_id:
        order.stripe_session_id = payment.session_id


def _complete_payment_details(order: Order, payment: Payment) -> None:
    """A later event for a paid (or refunded) order keeps what the first one lacked: a
    PaymentIntent carries no shipping address and often no e-mail, the session does. The
    buyer's message, which had nowhere to go, goes once the e-mail is known."""
    changed = []
    if payment.email and not order.customer_email:
        order.customer_email = payment.email
        changed.append("customer_email")
    if payment.shipping and not order.shipping_address:
        order.shipping_address = payment.shipping
        changed.append("shipping_address")
    if payment.payment_intent and not order.stripe_payment_intent_id:
        order.stripe_payment_intent_id = payment.payment_intent
        changed.append("stripe_payment_intent_id")
        if order.status == Order.Status.REFUNDED and not order.stripe_refund_id:
            # The refund was decided before the payment's id was known: send it now.
            order.refund_pending = True
            changed.append("refund_pending")
            after_commit(refund_now, order.pk)
    if not changed:
        return
    order.save(update_fields=[*changed, "updated_at"])
    if order.status == Order.Status.PAID and {"customer_email", "shipping_address"} & {*changed}:
        complete_invoice_buyer(order=order)
    if "customer_email" in changed:
        if order.status == Order.Status.PAID:
            notifications.confirmation(order=order)
        else:
            notifications.refund(order=order, to_owner=False)


def _sell(order: Order, products: list[Product], orders: dict[int, Order]) -> str:
    for other in orders.values():
        if other.pk != order.pk and other.status in Order.OPEN_STATUSES:
            _take_holds_from(other, products)
    stock.mark_sold(p.pk for p in products)
    OrderItem.objects.filter(order=order).update(sold=True)
    order.status = Order.Status.PAID
    order.paid_at = timezone.now()
    order.save(update_fields=[*PAYMENT_FIELDS, "status", "paid_at", "updated_at"])
    notifications.sale(order=order)
    # Last: the invoices' counter stays locked from here to the commit (services/locking.py).
    issue_invoice(order=order, lines=_lines_as_paid(order, products))
    return "paid"


def _lines_as_paid(order: Order, products: list[Product]) -> list[tuple[str, Decimal]]:
    """The order's pieces as paid (name and price of each line), in the pieces' order. The
    webhook's lock by reference read them with the pieces; the other path reads them."""
    if all(hasattr(p, "item_price") for p in products):
        return [(p.item_name, p.item_price) for p in products]
    items = OrderItem.objects.filter(order=order).order_by("product_id")
    return [(item.name, item.price) for item in items]


def _take_holds_from(other: Order, products: list[Product]) -> None:
    """Another shopper's unpaid checkout loses its pieces to a payment.

    Only the pieces locked here change hands now; the other order's remaining
    holds are released right after commit, in a transaction of their own that
    keeps the lock order."""
    stock.release_holds(products, order_id=other.pk)
    other.status = Order.Status.CANCELLED
    other.session_expiry_pending = bool(other.stripe_session_id)
    other.save(update_fields=["status", "session_expiry_pending", "updated_at"])
    after_commit(expire_session_now, other.pk)
    after_commit(release_leftover_holds, other.pk)
    logger.warning(
        "A payment took this order's held pieces; its session is expired",
        extra={"order": other.reference},
    )


def mark_order_processing(*, order_id: int) -> str:
    """A delayed method (SEPA...) completed the session unpaid: keep the hold until it settles."""
    with transaction.atomic():
        order, products, _ = lock_order(order_id)
        if order.status != Order.Status.PENDING:
            return f"unchanged ({order.status})"
        stock.extend_hold(products, order_id=order.pk, until=db_now_plus(DELAYED_PAYMENT_HOLD))
        order.status = Order.Status.PROCESSING
        order.save(update_fields=["status", "updated_at"])
    return "processing"
