"""What a Stripe object says, applied through the same services whoever brings it: the
webhook, the thank-you page (to show the result sooner) and `reconcile`.

The `apply_*` handlers and `expire_lost_session` take the Stripe object as their one
argument: they are the targets of the webhook's dispatch table and of reconcile's."""

from typing import Any

from django.db import transaction

from payments import stripe_client
from payments.exceptions import StripeUnavailable
from payments.models import Order
from payments.selectors import find_order
from payments.services.locking import after_commit, lock_order_alone
from payments.services.payment import mark_order_paid, mark_order_processing
from payments.services.release import release_order
from payments.services.stripe_calls import expire_session_now
from payments.stripe_shapes import Payment, order_reference_of, pays_its_order


def apply_checkout_session(session: dict[str, Any]) -> tuple[Order, str]:
    """Apply what a Checkout Session says: paid, completed unpaid, or expired."""
    if pays_its_order(session):
        return mark_order_paid(payment=Payment.from_session(session))
    order = find_order(reference=order_reference_of(session), session_id=session.get("id") or "")
    if session.get("status") == "expired":
        return order, release_order(order_id=order.pk, status=Order.Status.EXPIRED)
    if session.get("status") == "complete":
        return order, mark_order_processing(order_id=order.pk)
    return order, "unchanged (session open)"


def apply_async_payment_failed(session: dict[str, Any]) -> tuple[Order, str]:
    order = find_order(reference=order_reference_of(session), session_id=session.get("id") or "")
    return order, release_order(order_id=order.pk, status=Order.Status.FAILED)


def apply_payment_intent_succeeded(intent: dict[str, Any]) -> tuple[Order, str]:
    return mark_order_paid(payment=Payment.from_payment_intent(intent))


def expire_lost_session(session: dict[str, Any]) -> tuple[Order, str]:
    """An open session whose order gave up without knowing it: Stripe created it but its
    answer never reached the shop, which failed the order and released its pieces (or the
    shopper moved on). Record it on the order and expire it, so that nobody pays for pieces
    the order no longer holds."""
    order = find_order(reference=order_reference_of(session), session_id=session.get("id") or "")
    with transaction.atomic():
        order = lock_order_alone(order.pk)
        if order.status == Order.Status.PENDING or order.stripe_session_id:
            return order, f"unchanged ({order.status})"
        order.stripe_session_id = session["id"]
        order.session_expiry_pending = True
        order.save(update_fields=["stripe_session_id", "session_expiry_pending", "updated_at"])
        after_commit(expire_session_now, order.pk)
    return order, "lost session expired"


def sync_checkout_session(*, order: Order) -> Order:
    """Ask Stripe for the order's session and apply it (thank-you page: show the result
    sooner than the webhook). Stripe being down only means the page says "en cours"."""
    if order.status not in Order.OPEN_STATUSES or not order.stripe_session_id:
        return order
    try:
        session = stripe_client.retrieve_checkout_session(order.stripe_session_id)
    except StripeUnavailable:
        return order
    if session.get("status") == "complete":
        order, _ = apply_checkout_session(session)
    return order
