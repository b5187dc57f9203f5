"""The buyer's online withdrawal (SPEC §12; Code de la consommation L221-21, D221-5).

A declaration names the contract (the order's reference and the e-mail it was paid with) and,
optionally, the buyer's name. Recorded once, under the order's lock, with its acknowledgement
and the owner's note queued in the same transaction (payments/outbox.py, one message per key):
however often and however concurrently it is submitted, the order has one withdrawal and the
buyer one acknowledgement. Nothing is recorded for a pair that names no order (the same
refusal whether the reference is unknown or the e-mail another), an order not paid, already
refunded, or whose period has closed (payments/withdrawal_period.py).

The refund is the owner's (the admin lists the withdrawals to handle), as is putting the
pieces back on sale once they are back.
"""

import logging
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from payments import notifications, withdrawal_period
from payments.exceptions import WithdrawalRefused
from payments.models import Order
from payments.services.locking import lock_order_alone

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class Withdrawal:
    order: Order
    # The declaration as recorded (Order.withdrawal_declaration).
    declaration: dict[str, Any]
    # Recorded by an earlier submission: nothing new was recorded or sent.
    already_recorded: bool


def withdraw(*, reference: str, email: str, name: str = "") -> Withdrawal:
    """Record the buyer's withdrawal from the order `reference` paid with `email` (compared
    without regard to case), and queue its acknowledgement; raises WithdrawalRefused."""
    order = Order.objects.filter(reference=reference).first()
    if order is None or not _same_address(order.customer_email, email):
        raise WithdrawalRefused(WithdrawalRefused.NO_MATCH)
    with transaction.atomic():
        order = lock_order_alone(order.pk)
        if order.withdrawn_at is not None:
            return Withdrawal(order, order.withdrawal_declaration or {}, already_recorded=True)
        _refuse_unless_open(order)
        now = timezone.now()
        order.withdrawn_at = now
        order.withdrawal_declaration = declaration(order, email=email, name=name, at=now)
        order.save(update_fields=["withdrawn_at", "withdrawal_declaration", "updated_at"])
        notifications.withdrawal(
            order=order,
            declaration=order.withdrawal_declaration,
            refund_by=withdrawal_period.refund_deadline(now),
        )
    logger.info("Withdrawal recorded", extra={"order": order.reference})
    return Withdrawal(order, order.withdrawal_declaration, already_recorded=False)


def _refuse_unless_open(order: Order) -> None:
    window = {"shipped_at": order.shipped_at, "delivered_at": order.delivered_at}
    days = settings.WITHDRAWAL_DAYS
    last_day = withdrawal_period.last_day(**window, days=days)
    if order.status == Order.Status.REFUNDED:
        raise WithdrawalRefused(
            WithdrawalRefused.REFUNDED, reference=order.reference, closes_on=last_day
        )
    if order.status != Order.Status.PAID:
        raise WithdrawalRefused(WithdrawalRefused.NOT_PAID, reference=order.reference)
    if not withdrawal_period.is_open(**window, days=days, now=timezone.now()):
        raise WithdrawalRefused(
            WithdrawalRefused.CLOSED, reference=order.reference, closes_on=last_day
        )


def declaration(order: Order, *, email: str, name: str, at: datetime) -> dict[str, Any]:
    """What the buyer declared, as recorded and acknowledged: the contract (reference, date,
    pieces), who (name, e-mail) and when, to the second, in Paris time. A buyer who gave no
    name is named as the order's address names them."""
    shipping_name = ((order.shipping_address or {}).get("name") or "").strip()
    return {
        "reference": order.reference,
        "name": name.strip() or shipping_name,
        "email": email.strip(),
        "pieces": [
            {"name": item.name, "price": str(item.price)} for item in order.items.order_by("pk")
        ],
        "ordered_at": order.paid_at.isoformat() if order.paid_at else None,
        "submitted_at": at.astimezone(withdrawal_period.PARIS).isoformat(),
    }


def _same_address(known: str, given: str) -> bool:
    return bool(known) and known.strip().casefold() == given.strip().casefold()
