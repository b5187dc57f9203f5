"""Emails about orders, sent after commit, and after the response when in a request
(shop/after_response.py: the webhook answers Stripe without waiting for the mail server).
A mail failure is logged, never raised: the sale stands whether or not the message goes out."""

import logging

from django.conf import settings
from django.core.mail import send_mail
from django.template.loader import render_to_string

from payments.models import Order
from shop.after_response import defer

logger = logging.getLogger(__name__)


def _send(*, subject: str, template: str, order: Order, to: list[str]) -> None:
    recipients = [address for address in to if address]
    if not recipients:
        return
    # order.items: prefetched by the callers, one query for both messages.
    body = render_to_string(template, {"order": order, "items": list(order.items.all())})
    try:
        send_mail(subject, body, settings.DEFAULT_FROM_EMAIL, recipients)
    except Exception:
        logger.exception("Mail not sent: %s", subject, extra={"order": order.reference})


def order_paid(order_id: int, *, to_owner: bool = True) -> None:
    defer(_order_paid, order_id, to_owner=to_owner)


def order_refunded(order_id: int, *, to_owner: bool = True) -> None:
    """A payment that could not be honoured (piece already sold, wrong amount)."""
    defer(_order_refunded, order_id, to_owner=to_owner)


def _order_paid(order_id: int, *, to_owner: bool) -> None:
    order = Order.objects.prefetch_related("items").get(pk=order_id)
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


def _order_refunded(order_id: int, *, to_owner: bool) -> None:
    order = Order.objects.prefetch_related("items").get(pk=order_id)
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
