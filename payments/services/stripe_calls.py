"""Calls to Stripe that follow a decision (refund, expire a session), made after the
deciding transaction commits, with idempotency keys derived from the order. A call that
fails leaves its flag up on the order (`refund_pending`, `session_expiry_pending`) and
`reconcile` or the admin's retry sends it again."""

import logging

from django.db.models import QuerySet
from django.utils import timezone

from payments import stripe_client
from payments.exceptions import StripeRejected, StripeUnavailable
from payments.models import Order, Refund
from payments.selectors import STRIPE_CALL_PENDING

logger = logging.getLogger(__name__)


def refund_now(*, order_id: int) -> bool:
    """Send the order's decided refunds that Stripe does not have yet, oldest first, each
    with its own idempotency key (Stripe refunds each once however often it is sent).
    True once Stripe has every one."""
    order = Order.objects.get(pk=order_id)
    if not order.refund_pending:
        return True
    _record_unrecorded_refund(order)
    waiting = list(order.refunds.exclude(state=Refund.State.SENT).order_by("pk"))
    known = set(
        order.refunds.filter(state=Refund.State.SENT).values_list("stripe_refund_id", flat=True)
    )
    for refund in waiting:
        try:
            refund_id = _refund_once(order, refund, known)
        except StripeUnavailable as error:
            _note_refund_error(order, refund, f"refund: {error}")
            logger.error("Refund not sent, reconcile will retry", extra={"order": order.reference})
            return False
        now = timezone.now()
        Refund.objects.filter(pk=refund.pk).update(
            state=Refund.State.SENT, stripe_refund_id=refund_id, sent_at=now, last_error=""
        )
        known.add(refund_id)
        # `refunded_at` is the order's: when Stripe took the refund that closed it (a partly
        # refunded order is not « remboursée »); each refund keeps its own `sent_at`.
        closed = {"refunded_at": now} if order.status == Order.Status.REFUNDED else {}
        Order.objects.filter(pk=order_id).update(
            stripe_refund_id=refund_id, last_error="", updated_at=now, **closed
        )
        logger.info("Refund sent: %s", refund_id, extra={"order": order.reference})
    Order.objects.filter(pk=order_id).update(refund_pending=False, updated_at=timezone.now())
    return True


def _record_unrecorded_refund(order: Order) -> None:
    """A refunded order without a `Refund` row (decided before refunds had one, and not
    migrated: written by hand, restored from a backup): its whole payment, under the key it
    was first sent with, so that Stripe refunds it once."""
    if order.status != Order.Status.REFUNDED or order.refunds.exists():
        return
    Refund.objects.get_or_create(
        idempotency_key=f"order-{order.reference}-refund",
        defaults={
            "order": order,
            "amount": order.amount_received if order.amount_received is not None else order.total,
            "reason": order.refund_reason or Order.RefundReason.ADMIN,
            "created_at": order.updated_at,
        },
    )


def _refund_once(order: Order, refund: Refund, known: set[str]) -> str:
    """Send one refund: its amount when it leaves part of the payment, else all that is left
    (what Stripe does without an amount). A refund Stripe refuses because it already has it
    (the same key, or for a refund of the rest, a refund made in Stripe's dashboard) counts
    as done, with that refund's id."""
    try:
        return stripe_client.refund_payment(
            order.stripe_payment_intent_id,
            idempotency_key=refund.idempotency_key,
            metadata={
                "order_id": order.reference,
                "reason": refund.reason,
                "refund": refund.idempotency_key,
            },
            amount_cents=refund.amount_cents if refund.partial else None,
        )
    except StripeRejected:
        existing = stripe_client.refunded_by(
            order.stripe_payment_intent_id,
            key=refund.idempotency_key,
            whole=not refund.partial,
            known=known,
        )
        if existing is None:
            raise
        return existing


def _note_refund_error(order: Order, refund: Refund, error: str) -> None:
    Refund.objects.filter(pk=refund.pk).update(state=Refund.State.FAILED, last_error=error[:2000])
    _note_error(order, error)


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
