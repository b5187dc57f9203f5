"""Reads for the owner's day: what sold, what to ship, what is held, what needs a look."""

from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal

from django.db.models import Count, Q, QuerySet, Sum
from django.utils import timezone

from payments.models import Order
from products.models import Product, StockStatus

# Paid, not yet shipped: the owner's default view of the orders.
TO_SHIP = Q(status=Order.Status.PAID, shipped_at__isnull=True)
STRIPE_CALL_PENDING = Q(refund_pending=True) | Q(session_expiry_pending=True)
CONFLICT = Q(
    status=Order.Status.REFUNDED,
    refund_reason__in=(Order.RefundReason.CONFLICT, Order.RefundReason.AMOUNT_MISMATCH),
)


@dataclass(frozen=True)
class Sales:
    count: int
    amount: Decimal


@dataclass(frozen=True)
class Dashboard:
    today: Sales
    month: Sales
    to_ship: int
    held: list[Product]
    refunds_this_month: int
    stripe_calls_pending: int
    conflicts: int


def day_start(now: datetime) -> datetime:
    """Midnight of `now`'s day, in the shop's time zone."""
    return timezone.localtime(now).replace(hour=0, minute=0, second=0, microsecond=0)


def month_start(now: datetime) -> datetime:
    return day_start(now).replace(day=1)


def next_month_start(now: datetime) -> datetime:
    start = month_start(now)
    if start.month == 12:
        return start.replace(year=start.year + 1, month=1)
    return start.replace(month=start.month + 1)


def paid_since(start: datetime) -> QuerySet[Order]:
    """Sales since `start`: orders paid then and still paid (a refunded one is no sale)."""
    return Order.objects.filter(status=Order.Status.PAID, paid_at__gte=start)


def _sales(orders: QuerySet[Order]) -> Sales:
    figures = orders.aggregate(count=Count("pk"), amount=Sum("total"))
    return Sales(count=figures["count"], amount=figures["amount"] or Decimal("0.00"))


def held_pieces() -> list[Product]:
    """Pieces an open checkout holds right now, soonest to lapse first, with their order."""
    return list(
        Product.objects.with_status()
        .filter(stock_status=StockStatus.RESERVED)
        .select_related("held_by")
        .order_by("held_until", "pk")
    )


def dashboard(*, now: datetime | None = None) -> Dashboard:
    now = now or timezone.now()
    this_month = month_start(now)
    return Dashboard(
        today=_sales(paid_since(day_start(now))),
        month=_sales(paid_since(this_month)),
        to_ship=Order.objects.filter(TO_SHIP).count(),
        held=held_pieces(),
        refunds_this_month=Order.objects.filter(
            status=Order.Status.REFUNDED, refunded_at__gte=this_month
        ).count(),
        stripe_calls_pending=Order.objects.filter(STRIPE_CALL_PENDING).count(),
        conflicts=Order.objects.filter(CONFLICT).count(),
    )
