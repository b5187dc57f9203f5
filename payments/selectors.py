"""Reads of orders: the order a Stripe object names, the pieces a paid order owns, an
order's history, and the owner's day (what sold, what to ship, what is held, what needs a
look). No writes, no locks."""

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal

from django.db.models import Count, Q, QuerySet, Sum
from django.utils import timezone

from payments import wording
from payments.exceptions import UnknownOrder
from payments.models import Invoice, Order, OrderItem, StripeEvent
from products.models import Product, StockStatus
from products.templatetags.money import euros

# Paid, not yet shipped: the owner's default view of the orders.
TO_SHIP = Q(status=Order.Status.PAID, shipped_at__isnull=True)
STRIPE_CALL_PENDING = Q(refund_pending=True) | Q(session_expiry_pending=True)
CONFLICT = Q(
    status=Order.Status.REFUNDED,
    refund_reason__in=(Order.RefundReason.CONFLICT, Order.RefundReason.AMOUNT_MISMATCH),
)


def find_order(*, reference: str = "", session_id: str = "") -> Order:
    """The order with this reference, else the one with this Checkout Session; raises
    UnknownOrder when there is none."""
    order = None
    if reference:
        order = Order.objects.filter(reference=reference).first()
    if order is None and session_id:
        order = Order.objects.filter(stripe_session_id=session_id).first()
    if order is None:
        raise UnknownOrder(reference or session_id or "no order reference")
    return order


def sold_to_paid_order(product_ids: Iterable[int]) -> set[int]:
    """The ids, among these, of pieces that belong to a paid order.

    A piece whose order was refunded without being put back on sale keeps its item's
    `sold` flag until the owner puts it back; it no longer belongs to anyone.
    """
    return set(
        OrderItem.objects.filter(
            product_id__in=list(product_ids), sold=True, order__status=Order.Status.PAID
        ).values_list("product_id", flat=True)
    )


# --- An order's history ---------------------------------------------------------------------


@dataclass(frozen=True)
class TimelineEntry:
    """One step of an order's history, in the owner's words."""

    at: datetime
    label: str
    detail: str = ""
    event_pk: int | None = None  # the Stripe event it tells of, if any
    url: str = ""  # where the detail leads (the parcel's tracking page)


def order_events(order: Order) -> QuerySet[StripeEvent]:
    """The Stripe events of an order: those linked to it, and those naming its session or
    payment intent (an event whose handling failed may not be linked yet)."""
    stripe_ids = [i for i in (order.stripe_session_id, order.stripe_payment_intent_id) if i]
    return StripeEvent.objects.filter(
        Q(order=order) | Q(payload__data__object__id__in=stripe_ids)
    ).order_by("received_at", "id")


def order_timeline(order: Order) -> list[TimelineEntry]:
    """What happened to an order, oldest first: its creation, payment, shipment, delivery
    and refund, and every Stripe event about it with what came of it, in French (the
    events' stored outcomes stay the services' own, payments/wording.py)."""
    entries = [TimelineEntry(order.created_at, "Commande créée, pièces réservées")]
    if order.paid_at:
        entries.append(TimelineEntry(order.paid_at, "Paiement enregistré, pièces vendues"))
    if order.shipped_at:
        entries.append(
            TimelineEntry(
                order.shipped_at,
                "Expédiée, client prévenu par e-mail",
                f"{order.carrier_name} · suivi {order.tracking_number}",
                url=order.tracking_url,
            )
        )
    if order.delivered_at:
        entries.append(
            TimelineEntry(
                order.delivered_at,
                "Livrée (marquée par la boutique)",
                "Le délai de rétractation court à partir de cette date.",
            )
        )
    invoice = Invoice.objects.filter(order=order).only("number", "issued_at").first()
    if invoice is not None:
        entries.append(TimelineEntry(invoice.issued_at, f"Facture {invoice.number} émise"))
    refunds = list(order.refunds.select_related("credit_note"))
    for refund in refunds:
        note = getattr(refund, "credit_note", None)
        what = f"Remboursement de {euros(refund.amount)} décidé"
        if refund.note:
            what += f" ({refund.note})"
        entries.append(TimelineEntry(refund.created_at, what, note.number if note else ""))
        if refund.sent_at:
            entries.append(TimelineEntry(refund.sent_at, "Remboursement accepté par Stripe"))
    if order.refunded_at and not any(refund.sent_at for refund in refunds):
        entries.append(
            TimelineEntry(
                order.refunded_at,
                "Remboursement accepté par Stripe",
                order.get_refund_reason_display(),
            )
        )
    for event in order_events(order):
        detail = wording.event_result(event)
        if event.error:
            detail = f"{detail} (détail technique : {event.error[:200]})"
        entries.append(
            TimelineEntry(event.received_at, wording.event_label(event.type), detail, event.pk)
        )
    return sorted(entries, key=lambda entry: entry.at)


# --- The owner's day ------------------------------------------------------------------------


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
