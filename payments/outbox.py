"""The outbox: every e-mail the shop sends, durable (SPEC §13, docs/decisions/0013).

**Queue** a message inside the transaction of the decision that causes it:

    from payments import outbox

    outbox.queue(
        outbox.Mail(
            key=f"sale:{order.reference}:buyer",  # one message per key, ever
            to=[order.customer_email],
            subject=f"Votre commande {order.reference} est confirmée",
            template="payments/email/order_paid",  # .txt (and .html), rendered when sent
            order=order,  # the template gets `order`, `items`, `shipping`
            context={"admin_url": "..."},  # JSON values, added to the template's context
            attachments=[outbox.Attachment("payments.invoices.invoice_pdf", invoice.pk)],
            reply_to=[settings.OWNER_EMAIL],
        ),
        ...,  # any number of mails: one INSERT for all
    )

`queue()` writes one row per mail, in one statement, in the caller's transaction: if it rolls
back, no message exists; once it commits, the message exists until it is sent or refused. A
key already queued is left as it is, so the owner's note about one event goes once however
often the event is handled. A mail with no recipient is not queued. The template's context
also holds `shop_name`, `shop_url`, `seller` (payments/seller.py), `withdrawal_url`,
`withdrawal_days`, `refund_days` and `cgv_url`, and for a message about an order `order`,
`items`, `shipping` and `order_page_url` (the buyer's page, payments/order_page.py).

An **attachment** is made when the message is sent, never stored: `Attachment(maker,
object_id)` names a function by its dotted path, `maker(object_id) -> (filename, content:
bytes, mimetype)`, which the sender calls (an invoice's PDF generated from its row, say).
A maker that fails counts as a failed attempt of the message.

**Senders** (payments/services/mail.py). Whichever claims a message first sends it: a claim
takes the messages a request queued (a sale's two), or one message for the other senders
(`services.locking.lock_waiting_messages`: SKIP LOCKED, then a hold of `MAIL_CLAIM_SECONDS`),
each message is marked sent as soon as the mail server took it, and what a sender claimed but
did not try is released at once: two senders never send one message twice and a sender
stopped between two messages re-sends nothing. Once the queuing transaction commits,
`mails_queued` is sent with the keys; the senders' module listens (payments/apps.py).

- right after the response, in the web worker that queued it (`send_after_response`; the
  default, unless `MAIL_WORKER`): at most `MAIL_REQUEST_TIMEOUT` seconds per exchange with the
  mail server, and after a mail server that did not answer, this process leaves mail alone for
  `MAIL_PAUSE_SECONDS`: the message waits for the next sender, the worker goes back to shoppers;
- `python manage.py send_mails` (`MAIL_WORKER=on`), with `EMAIL_TIMEOUT`;
- `python manage.py reconcile`, which sends every message no other sender holds, whatever its
  age or its next try.

A message the server refuses (an address it rejects) is tried again after 1, 4, 16 and 64
minutes, then ends `refused`, shown to the owner in the admin (*Ventes → E-mails*), where
*Renvoyer* queues it again. A mail server that does not answer refuses nothing: the messages
wait, however long. Sending is at least once: the mail server took a message and the database
could not record it (it was restarting for longer than the sender's retries) is the one case
of a second copy, which carries the same `Message-ID`.
"""

import hashlib
import logging
from collections.abc import Sequence
from dataclasses import dataclass, field
from functools import partial
from typing import Any
from urllib.parse import urlsplit

from django.conf import settings
from django.core.mail import EmailMultiAlternatives
from django.db import transaction
from django.dispatch import Signal
from django.template import TemplateDoesNotExist
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils.module_loading import import_string

from payments import order_page, withdrawal_period
from payments.models import Order, OutboxMessage
from payments.seller import seller

logger = logging.getLogger(__name__)

# Sent once a transaction that queued mails has committed, with `keys`: the web worker's
# sender listens (payments/apps.py, payments/services/mail.py).
mails_queued = Signal()


@dataclass(frozen=True)
class Attachment:
    """A file made when its message is sent: `maker(object_id) -> (name, bytes, mimetype)`."""

    maker: str
    object_id: Any


@dataclass(frozen=True)
class Mail:
    key: str
    to: Sequence[str]
    subject: str
    template: str
    order: Order | None = None
    context: dict[str, Any] = field(default_factory=dict)
    attachments: Sequence[Attachment] = ()
    reply_to: Sequence[str] = ()


def queue(*mails: Mail) -> None:
    """Write these mails to the outbox in the current transaction; they are sent after it
    commits (see the module's docstring)."""
    rows = [_row(mail) for mail in mails if any(mail.to)]
    if not rows:
        return
    OutboxMessage.objects.bulk_create(rows, ignore_conflicts=True)
    keys = [row.key for row in rows]
    transaction.on_commit(partial(mails_queued.send, sender=OutboxMessage, keys=keys), robust=True)


def _row(mail: Mail) -> OutboxMessage:
    for attachment in mail.attachments:
        import_string(attachment.maker)  # a wrong path fails the decision, not the send
    return OutboxMessage(
        key=mail.key,
        to=[address for address in mail.to if address],
        reply_to=[address for address in mail.reply_to if address],
        subject=mail.subject[:255],
        template=mail.template,
        context=dict(mail.context),
        attachments=[[a.maker, a.object_id] for a in mail.attachments],
        order=mail.order,
    )


def build(message: OutboxMessage) -> EmailMultiAlternatives:
    """The e-mail of an outbox message, rendered now, with its attachments made now."""
    context: dict[str, Any] = {
        "shop_name": settings.SHOP_NAME,
        "shop_url": settings.APP_URL,
        "seller": seller(),
        "withdrawal_url": settings.APP_URL + reverse("payments:withdrawal"),
        "withdrawal_days": settings.WITHDRAWAL_DAYS,
        "refund_days": withdrawal_period.REFUND_DAYS,
        "cgv_url": settings.APP_URL + reverse("legal-page", args=["cgv"]),
    }
    if message.order_id is not None:
        order = Order.objects.prefetch_related("items").get(pk=message.order_id)
        context |= {
            "order": order,
            "items": list(order.items.all()),
            "shipping": order.shipping_address or None,
            "order_page_url": order_page.url_for(order.reference),
        }
    context |= message.context
    email = EmailMultiAlternatives(
        message.subject,
        render_to_string(f"{message.template}.txt", context),
        settings.DEFAULT_FROM_EMAIL,
        list(message.to),
        reply_to=list(message.reply_to) or None,
        headers={"Message-ID": message_id(message)},
    )
    try:
        html = render_to_string(f"{message.template}.html", context)
    except TemplateDoesNotExist:  # a text-only message
        html = ""
    if html:
        email.attach_alternative(html, "text/html")
    for maker, object_id in message.attachments:
        name, content, mimetype = import_string(maker)(object_id)
        email.attach(name, content, mimetype)
    return email


def message_id(message: OutboxMessage) -> str:
    """The same for every copy of one message: a receiver can tell a second copy."""
    digest = hashlib.blake2b(message.key.encode(), digest_size=8).hexdigest()
    domain = urlsplit(settings.APP_URL).hostname or "localhost"
    return f"<outbox.{message.pk}.{digest}@{domain}>"
