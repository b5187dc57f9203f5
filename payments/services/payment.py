"""A payment sells the order's pieces, once, whatever the event that reports it and
whatever the order of events (SPEC §7, §8); a delayed method first makes it `processing`."""

import logging
from dataclasses import dataclass
from datetime import timedelta
from decimal import Decimal
from typing import Any

from django.db import connection, transaction
from django.utils import timezone

from payments import notifications
from payments.models import Order, OrderItem
from payments.services.locking import after_commit, db_now_plus, lock_order
from payments.services.refunds import refund_in_transaction
from payments.services.release import release_leftover_holds
from payments.services.stripe_calls import expire_session_now, refund_now
from products import stock
from products.models import Product

logger = logging.getLogger(__name__)

# A delayed payment method (SEPA...) can take days to settle; its hold waits for it.
DELAYED_PAYMENT_HOLD = timedelta(days=14)


class UnknownOrder(Exception):
    """A Stripe object that names no order of this shop."""


@dataclass(frozen=True)
class Payment:
    """What Stripe says was paid, from a Checkout Session or a PaymentIntent."""

    reference: str
    session_id: str
    payment_intent: str
    amount: int
    currency: str
    email: str = ""
    shipping: dict[str, Any] | None = None

    @classmethod
    def from_session(cls, session: dict[str, Any]) -> "Payment":
        details = session.get("customer_details") or {}
        collected = session.get("collected_information") or {}
        return cls(
            reference=order_reference_of(session),
            session_id=session.get("id") or "",
            payment_intent=_id_of(session.get("payment_intent")),
            amount=int(session.get("amount_total") or 0),
            currency=(session.get("currency") or "").lower(),
            email=details.get("email") or session.get("customer_email") or "",
            shipping=shipping_address_of(
                collected.get("shipping_details") or session.get("shipping_details"),
                phone=details.get("phone"),
            ),
        )

    @classmethod
    def from_payment_intent(cls, intent: dict[str, Any]) -> "Payment":
        return cls(
            reference=order_reference_of(intent),
            session_id="",
            payment_intent=intent.get("id") or "",
            amount=int(intent.get("amount_received") or intent.get("amount") or 0),
            currency=(intent.get("currency") or "").lower(),
            email=intent.get("receipt_email") or "",
            shipping=shipping_address_of(
                intent.get("shipping"), phone=(intent.get("shipping") or {}).get("phone")
            ),
        )


def shipping_address_of(details: Any, *, phone: Any = None) -> dict[str, Any] | None:
    """The order's `shipping_address` (SPEC §5) from Stripe's shipping details (a name and
    an address) and the phone Checkout collected; None when Stripe gives no address."""
    if not isinstance(details, dict) or not isinstance(details.get("address"), dict):
        return None
    address = details["address"]
    return {
        "name": details.get("name") or "",
        "address": {
            key: address.get(key) or ""
            for key in ("line1", "line2", "postal_code", "city", "state", "country")
        },
        "phone": phone if isinstance(phone, str) else "",
    }


def order_reference_of(stripe_object: dict[str, Any]) -> str:
    metadata = stripe_object.get("metadata") or {}
    return str(metadata.get("order_id") or stripe_object.get("client_reference_id") or "")


def _id_of(value: Any) -> str:
    if isinstance(value, dict):
        return value.get("id") or ""
    return value or ""


def find_order(*, reference: str = "", session_id: str = "") -> Order:
    order = None
    if reference:
        order = Order.objects.filter(reference=reference).first()
    if order is None and session_id:
        order = Order.objects.filter(stripe_session_id=session_id).first()
    if order is None:
        raise UnknownOrder(reference or session_id or "no order reference")
    return order


def mark_order_paid(payment: Payment) -> tuple[Order, str]:
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


def lock_paid_order(
    *, reference: str, session_id: str
) -> tuple[Order, list[Product], dict[int, Order]] | None:
    """Inside a transaction: the order a payment names (by reference, else by session id),
    locked as `lock_order(..., with_holders=True)` locks it, or None when there is none.

    By reference, two statements: the order's pieces found and locked through their items,
    then the order and the pieces' holders. The lock order is the same (products by id,
    then orders by id); the items of an order never change once it exists."""
    if reference:
        products = stock.lock_products_of_order(reference)
        holder_ids = sorted({p.held_by_id for p in products if p.held_by_id is not None})
        orders = {o.pk: o for o in _lock_orders(reference, holder_ids)}
        order = next((o for o in orders.values() if o.reference == reference), None)
        if order is not None:
            return order, products, orders
    try:
        order = find_order(session_id=session_id)
    except UnknownOrder:
        return None
    return lock_order(order.pk, with_holders=True)


def _lock_orders(reference: str, order_ids: list[int]) -> list[Order]:
    """Lock the order with this reference and these orders, in ascending id order (a raw
    statement: no query compilation on the webhook's hot path)."""
    lock = " FOR UPDATE" if connection.features.has_select_for_update else ""
    ids = "".join(" OR id = %s" for _ in order_ids)
    return list(
        Order.objects.raw(
            f"SELECT * FROM {Order._meta.db_table} WHERE reference = %s{ids} ORDER BY id{lock}",
            [reference, *order_ids],
        )
    )


def _apply_payment(
    order: Order, products: list[Product], orders: dict[int, Order], payment: Payment
) -> str:
    if order.status in (Order.Status.PAID, Order.Status.REFUNDED):
        _complete_payment_details(order, payment)
        return f"already {order.status}"
    _record_payment(order, payment)
    if (payment.amount, payment.currency) != (order.total_cents, order.currency):
        return refund_in_transaction(order, products, Order.RefundReason.AMOUNT_MISMATCH)
    if any(not p.in_stock for p in products):
        return refund_in_transaction(order, products, Order.RefundReason.CONFLICT)
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
    if "customer_email" in changed:
        if order.status == Order.Status.PAID:
            notifications.confirmation(order)
        else:
            notifications.refund(order, to_owner=False)


def _sell(order: Order, products: list[Product], orders: dict[int, Order]) -> str:
    for other in orders.values():
        if other.pk != order.pk and other.status in Order.OPEN_STATUSES:
            _take_holds_from(other, products)
    stock.mark_sold(p.pk for p in products)
    OrderItem.objects.filter(order=order).update(sold=True)
    order.status = Order.Status.PAID
    order.paid_at = timezone.now()
    order.save(update_fields=[*PAYMENT_FIELDS, "status", "paid_at", "updated_at"])
    notifications.sale(order)
    return "paid"


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
