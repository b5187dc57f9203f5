"""The shipment of a paid order, which the buyer hears about once. What shipping costs is
payments/pricing.py."""

import logging

from django.db import transaction
from django.utils import timezone

from payments import notifications
from payments.exceptions import ShipmentRefused
from payments.models import Order
from payments.services.locking import lock_order_alone

logger = logging.getLogger(__name__)


def ship_order(
    *, order_id: int, carrier: str, tracking_number: str, tracking_url: str = ""
) -> Order:
    """Record that a paid order left, and send the buyer the tracking, once.

    The order row is locked: of two concurrent submissions (two tabs, a double click),
    the second finds `shipped_at` set and is refused; the tracking of a shipped order is
    changed with `update_tracking`, which sends nothing.
    """
    with transaction.atomic():
        order = lock_order_alone(order_id)
        if order.status != Order.Status.PAID:
            raise ShipmentRefused(
                f"La commande {order.reference} n'est pas payée "
                f"({order.get_status_display().lower()}) : rien à expédier."
            )
        if order.shipped_at is not None:
            raise ShipmentRefused(
                f"La commande {order.reference} est déjà expédiée et le client prévenu : "
                "aucun second e-mail n'est envoyé. Modifiez le suivi si besoin."
            )
        order.shipped_at = timezone.now()
        _set_tracking(order, carrier, tracking_number, tracking_url)
        order.save(update_fields=[*TRACKING_FIELDS, "shipped_at", "updated_at"])
        notifications.shipment(order=order)
    logger.info("Order shipped", extra={"order": order.reference})
    return order


def update_tracking(
    *, order_id: int, carrier: str, tracking_number: str, tracking_url: str = ""
) -> Order:
    """Correct the carrier or tracking of a shipped order; the buyer is not written to again."""
    with transaction.atomic():
        order = lock_order_alone(order_id)
        if order.shipped_at is None:
            raise ShipmentRefused(
                f"La commande {order.reference} n'est pas encore expédiée : "
                "enregistrez d'abord l'expédition."
            )
        _set_tracking(order, carrier, tracking_number, tracking_url)
        order.save(update_fields=[*TRACKING_FIELDS, "updated_at"])
    return order


TRACKING_FIELDS = ["carrier", "tracking_number", "tracking_url"]


def _set_tracking(order: Order, carrier: str, tracking_number: str, tracking_url: str) -> None:
    order.carrier = carrier.strip()
    order.tracking_number = tracking_number.strip()
    order.tracking_url = tracking_url.strip()
