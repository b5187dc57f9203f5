"""How every order transition takes its locks: the one place the lock order is stated.

Lock order, everywhere: products by ascending id, then orders by ascending id (the
webhook's event row, when there is one, comes before both; Commander's first transaction
takes the client address's lock before them, see `payments.limits`). A transition reads without
locks to learn the ids, locks with `lock_order`, then re-checks under the lock what it
read. No call to Stripe is made while a lock is held: calls that follow a decision
(expire a session, refund) and e-mails run after commit (`after_commit`), the Stripe
ones flagged on the order until they succeed, so `reconcile` can retry them.
"""

from collections.abc import Callable
from datetime import timedelta

from django.db import transaction
from django.db.models import DateTimeField, ExpressionWrapper
from django.db.models.functions import Now

from payments.models import Order, OrderItem
from products import stock
from products.models import Product


def lock_order(order_id: int, *, with_holders: bool = False) -> tuple[Order, list[Product], dict]:
    """Inside a transaction: lock the order's pieces, then the order (and, if asked, the
    other orders holding those pieces), in the shop's lock order. Returns the locked order,
    its locked products and {order id: locked order} for every order locked."""
    product_ids = OrderItem.objects.filter(order_id=order_id).values_list("product_id", flat=True)
    products = stock.lock_products(product_ids)
    order_ids = {order_id}
    if with_holders:
        order_ids |= {p.held_by_id for p in products if p.held_by_id is not None}
    orders = {
        o.pk: o for o in Order.objects.filter(pk__in=order_ids).order_by("pk").select_for_update()
    }
    return orders[order_id], products, orders


def lock_order_alone(order_id: int) -> Order:
    """Inside a transaction: lock only the order row, for changes that touch no piece
    (its session id, its shipment). Taking no product lock keeps the lock order."""
    return Order.objects.select_for_update().get(pk=order_id)


def after_commit(fn: Callable[[int], object], order_id: int) -> None:
    """Run `fn(order_id)` once the current transaction commits; a failure is logged by
    Django (`robust`) and never undoes what committed."""
    transaction.on_commit(lambda: fn(order_id), robust=True)


def db_now_plus(delta: timedelta) -> ExpressionWrapper:
    """`now + delta` on the database's clock, the clock that statuses are read with."""
    return ExpressionWrapper(Now() + delta, output_field=DateTimeField())
