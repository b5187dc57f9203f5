"""E-mails about orders, in French, plain text with an HTML alternative, each rendered from
`templates/payments/email/<name>.txt` and `.html`. They are sent after commit (the services
register them with `transaction.on_commit`), and after the response when in a request
(shop/after_response.py: the webhook answers Stripe without waiting for the mail server).
A mail failure is logged, never raised: the sale stands whether or not the message goes
out. The backend is `EMAIL_URL`'s."""

import logging
from typing import Any

from django.conf import settings
from django.core.mail import EmailMultiAlternatives
from django.template.loader import render_to_string
from django.urls import reverse

from payments.models import Order
from shop.after_response import defer

logger = logging.getLogger(__name__)


def render_email(template: str, order: Order, **extra: Any) -> tuple[str, str]:
    """The text and HTML bodies of `payments/email/<template>` for an order."""
    context = {
        "order": order,
        "items": list(order.items.all()),
        "shipping": order.shipping_address or None,
        "shop_name": settings.SHOP_NAME,
        "shop_url": settings.APP_URL,
        **extra,
    }
    text = render_to_string(f"payments/email/{template}.txt", context)
    html = render_to_string(f"payments/email/{template}.html", context)
    return text, html


def _send(*, subject: str, template: str, order: Order, to: list[str], **extra: Any) -> None:
    recipients = [address for address in to if address]
    if not recipients:
        return
    try:
        text, html = render_email(template, order, **extra)
        message = EmailMultiAlternatives(subject, text, settings.DEFAULT_FROM_EMAIL, recipients)
        message.attach_alternative(html, "text/html")
        message.send()
    except Exception:
        logger.exception("Mail not sent: %s", subject, extra={"order": order.reference})


def _admin_url(name: str, order: Order) -> str:
    return settings.APP_URL + reverse(name, args=[order.pk])


def order_paid(order_id: int, *, to_owner: bool = True) -> None:
    """The buyer's confirmation (pieces, shipping, address); the owner's note of what to ship."""
    defer(_order_paid, order_id, to_owner=to_owner)


def order_shipped(order_id: int) -> None:
    """The buyer's parcel left: carrier and tracking."""
    defer(_order_shipped, order_id)


def order_refunded(order_id: int, *, to_owner: bool = True) -> None:
    """A refund: one the shop could not avoid (piece already sold, wrong amount), which the
    owner hears about too, or one the owner decided."""
    defer(_order_refunded, order_id, to_owner=to_owner)


def _order(order_id: int) -> Order:
    # The items are read once for every message about the order.
    return Order.objects.prefetch_related("items").get(pk=order_id)


def _order_paid(order_id: int, *, to_owner: bool) -> None:
    order = _order(order_id)
    _send(
        subject=f"Votre commande {order.reference} est confirmée",
        template="order_paid",
        order=order,
        to=[order.customer_email],
    )
    if to_owner:
        _send(
            subject=f"Pièce vendue : commande {order.reference}",
            template="owner_sale",
            order=order,
            to=[settings.OWNER_EMAIL],
            admin_url=_admin_url("admin:payments_order_change", order),
            packing_slip_url=_admin_url("admin:payments_order_packing_slip", order),
        )


def _order_shipped(order_id: int) -> None:
    order = _order(order_id)
    _send(
        subject=f"Votre commande {order.reference} est expédiée",
        template="order_shipped",
        order=order,
        to=[order.customer_email],
    )


def _order_refunded(order_id: int, *, to_owner: bool) -> None:
    order = _order(order_id)
    _send(
        subject=f"Votre commande {order.reference} a été remboursée",
        template="order_refunded",
        order=order,
        to=[order.customer_email],
    )
    if to_owner:
        _send(
            subject=f"Incident : commande {order.reference} remboursée automatiquement",
            template="owner_incident",
            order=order,
            to=[settings.OWNER_EMAIL],
            admin_url=_admin_url("admin:payments_order_change", order),
        )
