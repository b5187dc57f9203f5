"""E-mails about orders, in French, plain text with an HTML alternative, each rendered from
`templates/payments/email/<name>.txt` and `.html`. They are sent after commit (the services
register them with `transaction.on_commit`), and after the response when in a request
(shop/after_response.py: the webhook answers Stripe without waiting for the mail server).
A mail failure is logged, never raised: the sale stands whether or not the message goes
out. The backend is `EMAIL_URL`'s.

A sale's e-mails are also flagged on the order (`paid_mail_pending`, written with the sale):
the flag is lowered once the buyer's confirmation is sent, so a worker killed before sending
or a mail server down leaves it up, and `send_mails` or `reconcile` send it later. With
MAIL_WORKER on, the web process leaves them to `manage.py send_mails` entirely."""

import logging
from datetime import datetime
from typing import Any

from django.conf import settings
from django.core.mail import EmailMultiAlternatives, get_connection
from django.core.mail.backends.base import BaseEmailBackend
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


def _send(
    *,
    subject: str,
    template: str,
    order: Order,
    to: list[str],
    connection: BaseEmailBackend | None = None,
    **extra: Any,
) -> bool:
    """Send one message; False (and an error in the log) if it could not go."""
    recipients = [address for address in to if address]
    if not recipients:
        return True
    try:
        text, html = render_email(template, order, **extra)
        message = EmailMultiAlternatives(
            subject, text, settings.DEFAULT_FROM_EMAIL, recipients, connection=connection
        )
        message.attach_alternative(html, "text/html")
        message.send()
    except Exception:
        logger.exception("Mail not sent: %s", subject, extra={"order": order.reference})
        return False
    return True


def _admin_url(name: str, order: Order) -> str:
    return settings.APP_URL + reverse(name, args=[order.pk])


def order_paid(order_id: int, *, to_owner: bool = True) -> None:
    """The buyer's confirmation (pieces, shipping, address); the owner's note of what to ship."""
    defer(_order_paid, order_id, to_owner=to_owner)


def sale_mails(order_id: int) -> None:
    """After a sale commits: its e-mails, flagged on the order (`paid_mail_pending`). Sent
    after the response, unless MAIL_WORKER says that a `send_mails` process sends them (the
    web worker then spends no CPU on them)."""
    if settings.MAIL_WORKER:
        return
    defer(_send_sale_mails, order_id)


def _send_sale_mails(order_id: int) -> None:
    order = _order(order_id)
    if order.paid_mail_pending:
        deliver_sale_mails([order])


def send_pending_sale_mails(*, paid_before: datetime | None = None, limit: int = 100) -> list[str]:
    """Send the e-mails of sales still flagged, oldest first, at most `limit`; returns the
    references of the orders whose confirmation went out (`send_mails`, `reconcile`)."""
    orders = Order.objects.filter(paid_mail_pending=True, status=Order.Status.PAID)
    if paid_before is not None:
        orders = orders.filter(paid_at__lt=paid_before)
    return deliver_sale_mails(list(orders.prefetch_related("items").order_by("paid_at")[:limit]))


def deliver_sale_mails(orders: list[Order]) -> list[str]:
    """The buyer's confirmation and the owner's note for each order, over one connection to
    the mail server; the flag is lowered for the orders whose confirmation went out (a
    failure keeps it up: the next run sends it, at least once, never silently lost)."""
    sent: list[Order] = []
    try:
        with get_connection() as connection:
            for order in orders:
                if _order_paid_messages(order, to_owner=True, connection=connection):
                    sent.append(order)
    except Exception:  # the mail server refused the connection, or closing it failed
        logger.exception("Mail server unavailable; %s sale e-mails wait", len(orders) - len(sent))
    if sent:
        Order.objects.filter(pk__in=[o.pk for o in sent]).update(paid_mail_pending=False)
    return [o.reference for o in sent]


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
    _order_paid_messages(_order(order_id), to_owner=to_owner)


def _order_paid_messages(
    order: Order, *, to_owner: bool, connection: BaseEmailBackend | None = None
) -> bool:
    """Whether the buyer's confirmation went out (the owner's note is best effort)."""
    confirmed = _send(
        subject=f"Votre commande {order.reference} est confirmée",
        template="order_paid",
        order=order,
        to=[order.customer_email],
        connection=connection,
    )
    if to_owner:
        _send(
            subject=f"Pièce vendue : commande {order.reference}",
            template="owner_sale",
            order=order,
            to=[settings.OWNER_EMAIL],
            connection=connection,
            admin_url=_admin_url("admin:payments_order_change", order),
            packing_slip_url=_admin_url("admin:payments_order_packing_slip", order),
        )
    return confirmed


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
