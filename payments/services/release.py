"""An unpaid order ends and gives its pieces back: Stripe failed at Commander, the shopper
cancelled (or started another cart), the session expired, a delayed payment was refused."""

import logging

from django.db import transaction

from payments.models import Order
from payments.services.locking import after_commit, lock_order
from payments.services.stripe_calls import expire_session_now
from products import stock

logger = logging.getLogger(__name__)


def fail_order(*, order_id: int, error: str) -> None:
    """Stripe refused or never answered the session's creation: the order fails, its
    pieces go back."""
    with transaction.atomic():
        order, products, _ = lock_order(order_id)
        if order.status != Order.Status.PENDING:
            return
        stock.release_holds(products, order_id=order.pk)
        order.status = Order.Status.FAILED
        order.last_error = error[:2000]
        order.save(update_fields=["status", "last_error", "updated_at"])
    logger.warning("Checkout failed at Stripe, holds released", extra={"order": order.reference})


def cancel_order(*, order_id: int) -> Order:
    """The shopper gave up (cancel page, or a new cart): release the holds and expire the
    session. Only a pending order is cancelled; others are returned unchanged: a
    `processing` one has a delayed payment under way, its hold waits for the bank."""
    with transaction.atomic():
        order, products, _ = lock_order(order_id)
        if order.status != Order.Status.PENDING:
            return order
        stock.release_holds(products, order_id=order.pk)
        order.status = Order.Status.CANCELLED
        order.session_expiry_pending = bool(order.stripe_session_id)
        order.save(update_fields=["status", "session_expiry_pending", "updated_at"])
        after_commit(expire_session_now, order.pk)
    logger.info("Order cancelled, holds released", extra={"order": order.reference})
    return order


def release_leftover_holds(*, order_id: int) -> None:
    """Release whatever pieces a closed (no longer open) order still holds."""
    with transaction.atomic():
        order, products, _ = lock_order(order_id)
        if order.status not in Order.OPEN_STATUSES:
            stock.release_holds(products, order_id=order.pk)


def release_order(*, order_id: int, status: str) -> str:
    """End an open order (`expired`, `failed`) and give its pieces back. An expiry ends only
    a pending order: a `processing` one has completed its session and waits for the bank's
    answer. Any other order keeps its status: an `expired` after `paid`, or after the
    shopper cancelled, changes nothing."""
    ends = Order.OPEN_STATUSES if status == Order.Status.FAILED else (Order.Status.PENDING,)
    with transaction.atomic():
        order, products, _ = lock_order(order_id)
        if order.status not in ends:
            return f"unchanged ({order.status})"
        stock.release_holds(products, order_id=order.pk)
        order.status = status
        order.session_expiry_pending = False
        order.save(update_fields=["status", "session_expiry_pending", "updated_at"])
    return f"released ({status})"
