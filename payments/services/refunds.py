"""Refunds: a payment the shop cannot honour (a piece already sold, a wrong amount) is
refunded in the transaction that finds it; the owner refunds a paid order from the admin.
The refund itself reaches Stripe after commit (`stripe_calls.refund_now`)."""

import logging
from collections.abc import Iterable

from django.db import transaction
from django.db.models import QuerySet

from payments import notifications
from payments.models import Order, OrderItem
from payments.selectors import sold_to_paid_order
from payments.services.locking import after_commit, lock_order
from payments.services.stripe_calls import refund_now
from products import stock
from products.models import Product

logger = logging.getLogger(__name__)


def refund_in_transaction(order: Order, products: list[Product], *, reason: str) -> str:
    """Inside the transaction that locked them: refund a payment the shop cannot honour (a
    piece already sold, a wrong amount) and release the order's holds."""
    stock.release_holds(products, order_id=order.pk)
    order.status = Order.Status.REFUNDED
    order.refund_reason = reason
    order.refund_pending = bool(order.stripe_payment_intent_id)
    order.save()
    after_commit(refund_now, order.pk)
    notifications.refund(order=order, to_owner=True)
    logger.error("Paid order refunded automatically (%s)", reason, extra={"order": order.reference})
    return f"refunded ({reason})"


def refund_paid_order(*, order_id: int, put_back_on_sale: bool) -> str:
    """Owner action: refund a paid order in full, and if asked, put its pieces back on sale."""
    with transaction.atomic():
        order, products, _ = lock_order(order_id)
        if order.status != Order.Status.PAID:
            return f"unchanged ({order.status})"
        if put_back_on_sale:
            OrderItem.objects.filter(order=order).update(sold=False)
            stock.put_back_on_sale([p.pk for p in products], owned=sold_to_paid_order)
        order.status = Order.Status.REFUNDED
        order.refund_reason = Order.RefundReason.ADMIN
        order.refund_pending = bool(order.stripe_payment_intent_id)
        order.save()
        after_commit(refund_now, order.pk)
        notifications.refund(order=order, to_owner=False)
    return "refunded (admin)"


def refund_paid_orders(
    *, orders: QuerySet[Order], put_back_on_sale: bool
) -> tuple[list[str], list[str], list[str]]:
    """Owner action on several orders: refund each paid one (`refund_paid_order`), each in
    its own transaction. Returns the references refunded, those left alone (not paid), and
    those refunded whose refund Stripe has not taken yet (flagged: reconcile retries it)."""
    refunded, skipped, pending = [], [], []
    for order_id, reference in orders.values_list("pk", "reference"):
        outcome = refund_paid_order(order_id=order_id, put_back_on_sale=put_back_on_sale)
        if not outcome.startswith("refunded"):
            skipped.append(reference)
            continue
        refunded.append(reference)
        # The refund reaches Stripe after the commit; a refused call leaves the flag up.
        if Order.objects.filter(pk=order_id, refund_pending=True).exists():
            pending.append(reference)
    return refunded, skipped, pending


@transaction.atomic
def put_back_on_sale(*, product_ids: Iterable[int]) -> tuple[list[Product], list[Product]]:
    """Owner action: put sold pieces back on sale, except those a paid order owns.

    The items of refunded orders let go of the pieces put back, so that they can sell
    again under the single-sale constraint. Returns (put back, refused).
    """
    done, refused = stock.put_back_on_sale(product_ids, owned=sold_to_paid_order)
    OrderItem.objects.filter(product_id__in=[p.pk for p in done], sold=True).update(sold=False)
    return done, refused
