"""Helpers for the after-sale tests: a paid order as the webhook leaves it, and the links an
e-mail carries."""

import re
from datetime import datetime, timedelta
from typing import Any

from django.core import mail
from django.utils import timezone

from payments.models import Order, OrderItem

ADDRESS = {
    "name": "Camille Martin",
    "address": {
        "line1": "3 rue des Lilas",
        "line2": "",
        "postal_code": "69003",
        "city": "Lyon",
        "state": "",
        "country": "FR",
    },
    "phone": "+33600000000",
}


def paid_order(make_product, make_order, *, paid_at: datetime | None = None, **fields: Any):
    """A paid order of two pieces with its buyer's e-mail and address, as a sale leaves it."""
    pieces = [
        make_product(name="Lampe « champignon »", price="120.00", in_stock=False),
        make_product(name="Vase bleu", price="45.50", in_stock=False),
    ]
    values: dict[str, Any] = {
        "status": Order.Status.PAID,
        "shipping_cost": "8.00",
        "customer_email": "camille@example.com",
        "shipping_address": ADDRESS,
        "paid_at": paid_at or timezone.now() - timedelta(hours=2),
        "stripe_payment_intent_id": "pi_after_sale",
        "hold": False,
    }
    values.update(fields)
    order = make_order(products=pieces, **values)
    order.amount_received = order.total
    order.currency_received = "eur"
    order.save(update_fields=["amount_received", "currency_received"])
    OrderItem.objects.filter(order=order).update(sold=True)
    return order


ORDER_PAGE_LINK = re.compile(r"https?://[^\s\"<>]+/suivi/[^\s\"<>/]+/")


def order_page_links(message: mail.EmailMessage) -> set[str]:
    """The order page links in an e-mail, text and HTML alike."""
    bodies = [message.body] + [content for content, _ in getattr(message, "alternatives", [])]
    return {link for body in bodies for link in ORDER_PAGE_LINK.findall(body)}


def mails_to(address: str) -> list[mail.EmailMessage]:
    return [message for message in mail.outbox if address in message.to]
