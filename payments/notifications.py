"""Emails about orders, sent after commit. A mail failure is logged, never raised:
the sale stands whether or not the message goes out."""

import logging

from django.conf import settings
from django.core.mail import send_mail
from django.template.loader import render_to_string

from payments.models import Order

logger = logging.getLogger(__name__)


def _send(*, subject: str, template: str, order: Order, to: list[str]) -> None:
    recipients = [address for address in to if address]
    if not recipients:
        return
    body = render_to_string(template, {"order": order, "items": list(order.items.all())})
    try:
        send_mail(subject, body, settings.DEFAULT_FROM_EMAIL, recipients)
    except Exception:
        logger.exception("Mail not sent: %s", subject, extra={"order": order.reference})


def order_paid(order_id: int, *, to_owner: bool = True) -> None:
    order = Order.objects.get(pk=order_id)
    _send(
        subject=f"Votre commande {order.reference} est confirmée",
        template="payments/email/order_paid.txt",
        order=order,
        to=[order.customer_email],
    )
    if to_owner:
        _send(
            subject=f"Pièce vendue : commande {order.reference}",
            template="payments/email/owner_sale.txt",
            order=order,
            to=[settings.OWNER_EMAIL],
        )


def order_refunded(order_id: int, *, to_owner: bool = True) -> None:
    """A payment that could not be honoured (piece already sold, wrong amount)."""
    order = Order.objects.get(pk=order_id)
    _send(
        subject=f"Votre commande {order.reference} a été remboursée",
        template="payments/email/order_refunded.txt",
        order=order,
        to=[order.customer_email],
    )
    if to_owner:
        _send(
            subject=f"Incident : commande {order.reference} remboursée automatiquement",
            template="payments/email/owner_incident.txt",
            order=order,
            to=[settings.OWNER_EMAIL],
        )
