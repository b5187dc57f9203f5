"""The shipment of a paid order, which the buyer hears about once, and its delivery, which
the owner records (the withdrawal period runs from it, SPEC §12). What shipping costs is
payments/pricing.py; carriers and their tracking links are payments/carriers.py."""

import logging

from django.db import transaction
from django.db.models import QuerySet
from django.utils import formats, timezone

from payments import carriers, notifications
from payments.exceptions import ShipmentRefused
from payments.models import Order
from payments.services.locking import lock_order_alone

logger = logging.getLogger(__name__)


def ship_order(
    *,
    order_id: int,
    carrier: str,
    tracking_number: str,
    other_carrier: str = "",
    tracking_url: str = "",
) -> Order:
    """Record that a paid order left, and send the buyer the tracking, once.

    `carrier` is one of `carriers.Carrier`: a listed carrier's tracking link is built from
    the number; « autre » needs its name (`other_carrier`) and the link (`tracking_url`).
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
        _set_tracking(order, carrier, tracking_number, other_carrier, tracking_url)
        order.shipped_at = timezone.now()
        order.save(update_fields=[*TRACKING_FIELDS, "shipped_at", "updated_at"])
        notifications.shipment(order=order)
    logger.info("Order shipped", extra={"order": order.reference})
    return order


def update_tracking(
    *,
    order_id: int,
    carrier: str,
    tracking_number: str,
    other_carrier: str = "",
    tracking_url: str = "",
) -> Order:
    """Correct the carrier or tracking of a shipped order; the buyer is not written to again."""
    with transaction.atomic():
        order = lock_order_alone(order_id)
        if order.shipped_at is None:
            raise ShipmentRefused(
                f"La commande {order.reference} n'est pas encore expédiée : "
                "enregistrez d'abord l'expédition."
            )
        _set_tracking(order, carrier, tracking_number, other_carrier, tracking_url)
        order.save(update_fields=[*TRACKING_FIELDS, "updated_at"])
    return order


def delivery_refusal(order: Order) -> str:
    """Why this order cannot be marked delivered, in French; empty when it can."""
    if order.status != Order.Status.PAID:
        return (
            f"La commande {order.reference} est {order.get_status_display().lower()} : "
            "elle ne peut pas être marquée livrée."
        )
    if order.shipped_at is None:
        return (
            f"La commande {order.reference} n'est pas encore expédiée : enregistrez d'abord "
            "l'expédition, puis la livraison."
        )
    if order.delivered_at is not None:
        day = formats.date_format(timezone.localtime(order.delivered_at), "j F Y")
        return (
            f"La commande {order.reference} est déjà marquée livrée, le {day} : cette date "
            "est conservée."
        )
    return ""


def mark_delivered(*, order_id: int) -> Order:
    """Record that the buyer received a shipped order, now (« marquer livrée »), once.

    The withdrawal period runs from this date (SPEC §12). Refused, in French, for an order
    not shipped, not paid (refunded, cancelled...), or already delivered: the first date
    stays, as the buyer's period must not move."""
    with transaction.atomic():
        order = lock_order_alone(order_id)
        refusal = delivery_refusal(order)
        if refusal:
            raise ShipmentRefused(refusal)
        order.delivered_at = timezone.now()
        order.save(update_fields=["delivered_at", "updated_at"])
    logger.info("Order delivered", extra={"order": order.reference})
    return order


TRACKING_FIELDS = ["carrier", "other_carrier", "tracking_number", "tracking_url"]


def _set_tracking(
    order: Order, carrier: str, tracking_number: str, other_carrier: str, tracking_url: str
) -> None:
    """The carrier, its number, and the link: built for a listed carrier, pasted for
    « autre » (which also needs the carrier's name). Raises ShipmentRefused, in French."""
    chosen = carriers.check_carrier(carrier)
    number = carriers.clean_number(chosen, tracking_number)
    if chosen == carriers.Carrier.OTHER:
        name, url = other_carrier.strip(), tracking_url.strip()
        if not name:
            raise ShipmentRefused("Indiquez le nom du transporteur.")
        if not url.startswith(("https://", "http://")):
            raise ShipmentRefused(
                "Collez le lien de suivi donné par le transporteur (une adresse qui commence "
                "par https://) : c'est le lien « Suivre le colis » de l'e-mail au client."
            )
    else:
        address = (order.shipping_address or {}).get("address") or {}
        name = ""
        url = carriers.tracking_url(chosen, number, postal_code=address.get("postal_code") or "")
    order.carrier = chosen
    order.other_carrier = name
    order.tracking_number = number
    order.tracking_url = url


def mark_orders_delivered(*, orders: QuerySet[Order]) -> tuple[list[str], list[str]]:
    """Owner action on several orders: `mark_delivered` each, in its own transaction.
    Returns the references marked delivered, and the French reason of each refusal."""
    delivered, refused = [], []
    for order_id in orders.order_by("pk").values_list("pk", flat=True):
        try:
            delivered.append(mark_delivered(order_id=order_id).reference)
        except ShipmentRefused as refusal:
            refused.append(refusal.message)
    return delivered, refused
