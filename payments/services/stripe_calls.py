"""Calls to Stripe that follow a decision (refund, expire a session), made after the
deciding transaction commits, with idempotency keys derived from the order. A call that
fails leaves its flag up on the order (`refund_pending`, `session_expiry_pending`) and
`reconcile` or the admin's retry sends it again."""

import logging

from django.db.models import QuerySet
from django.utils import timezone

from payments import stripe_client
from payments.exceptions import StripeRejected, StripeUnavailable
from payments.models import Order
from payments.selectors import STRIPE_CALL_PENDING

logger = logging.getLogger(__name__)


def refund_now(*, order_id: int) -> bool:
    """Send a decided refund to Stripe (idempotent). True once Stripe has it."""
    order = Order.objects.get(pk=order_id)
    if not order.refund_pending:
        return True
    try:
        refund_id = _refund_once(order)
    except StripeUnavailable as error:
        _note_error(order, f"refund: {error}")
        logger.error("Refund not sent, reconcile will retry", extra={"order": order.reference})
        return False
    Order.objects.filter(pk=order_id).update(
        refund_pending=False,
        stripe_refund_id=refund_id,
        refunded_at=timezone.now(),
        last_error="",
        updated_at=timezone.now(),
    )
    logger.info("Refund sent: %s", refund_id, extra={"order": order.reference})
    return True


def _refund_once(order: Order) -> str:
    """Refund the order's payment; a payment Stripe says is already refunded (from the
    dashboard, say) counts as done, with that refund's id."""
    try:
        return stripe_client.refund_payment(
            order.stripe_payment_intent_id,
            idempotency_key=f"order-{order.reference}-refund",
            metadata={"order_id": order.reference, "reason": order.refund_reason},
        )
    except StripeRejected:
        existing = stripe_client.refunded_by(order.stripe_payment_intent_id)
        if existing is None:
            raise
        return existing


def expire_session_now(*, order_id: int) -> bool:
    """Expire a cancelled order's Checkout Session (idempotent). True once it is closed."""
    order = Order.objects.get(pk=order_id)
    if not order.session_expiry_pending:
        return True
    try:
        stripe_client.expire_checkout_session(
            order.stripe_session_id, idempotency_key=f"order-{order.reference}-expire"
        )
    except StripeRejected as error:
        # The session is no longer open (completed or expired): nothing left to close.
        logger.info("Session already closed: %s", error, extra={"order": order.reference})
    except StripeUnavailable as error:
        _note_error(order, f"expire: {error}")
        return False
    Order.objects.filter(pk=order_id).update(
        session_expiry_pending=False, updated_at=timezone.now()
    )
    return True


def send_pending_stripe_calls(*, order_id: int) -> bool:
    """Send the refund and the session expiry still flagged on an order, both even if the
    first fails. True once neither is pending."""
    sent = [refund_now(order_id=order_id), expire_session_now(order_id=order_id)]
    return all(sent)


def retry_pending_stripe_calls(*, orders: QuerySet[Order]) -> tuple[list[str], list[str]]:
    """Send the refunds and session expiries still flagged on these orders, both even if the
    first fails. Returns (references done, references still pending)."""
    done, failed = [], []
    for order in orders.filter(STRIPE_CALL_PENDING).order_by("pk"):
        sent = send_pending_stripe_calls(order_id=order.pk)
        (done if sent else failed).append(order.reference)
    return done, failed


def _note_error(order: Order, error: str) -> None:
    Order.objects.filter(pk=order.pk).update(last_error=error[:2000], updated_at=timezone.now())
