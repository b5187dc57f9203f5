"""E-mails about orders, in French, plain text with an HTML alternative, each rendered from
`templates/payments/email/<name>.txt` and `.html` when it is sent.

Every e-mail to a buyer links their order page (`/suivi/<token>/`), names the seller and
answers to `SELLER_EMAIL` (reply-to); the confirmation is the contract's confirmation on a
durable medium (SPEC §12).

Each function is called inside the transaction of the decision it reports (a sale, a
shipment, a refund, a payment for no known order) and queues its messages in the outbox
(payments/outbox.py): they exist once that transaction commits, and are sent by whichever
sender claims them first (right after the response by default, `send_mails` with MAIL_WORKER,
`reconcile`). A mail failure never undoes the decision. Each message has a key of its own: a
second call for the same event queues nothing more, so the owner hears of one event once.
"""

from datetime import date, datetime
from typing import Any

from django.conf import settings
from django.urls import reverse

from payments import outbox
from payments.models import CreditNote, Order, Refund
from payments.stripe_shapes import order_reference_of, reported_amount
from shop import words

EMAIL = "payments/email/"


def sale(*, order: Order) -> None:
    """The buyer's confirmation (pieces, shipping, address); the owner's note of what to ship."""
    outbox.queue(_confirmation(order), _owner_sale_note(order))


def confirmation(*, order: Order) -> None:
    """The buyer's confirmation alone: the e-mail, unknown at the sale, is known now."""
    outbox.queue(_confirmation(order))


def shipment(*, order: Order) -> None:
    """The buyer's parcel left: carrier and tracking."""
    outbox.queue(
        _to_buyer(
            key=f"shipment:{order.reference}",
            order=order,
            subject=f"Votre commande {order.reference} est expédiée",
            template=EMAIL + "order_shipped",
        )
    )


def withdrawal(*, order: Order, declaration: dict[str, Any], refund_by: date) -> None:
    """A buyer withdrew online: their acknowledgement, with the declaration as recorded and
    the date and time it was sent (D221-5), and the owner's note of what to refund, by when.
    Once per order, however often it is submitted."""
    when = {
        "submitted_at_text": words.paris_moment(
            datetime.fromisoformat(declaration["submitted_at"])
        ),
        "refund_by_text": words.day_in_words(refund_by),
    }
    outbox.queue(
        _to_buyer(
            key=f"withdrawal:{order.reference}:buyer",
            order=order,
            subject=f"Accusé de réception de votre rétractation (commande {order.reference})",
            template=EMAIL + "withdrawal_received",
            context={"declaration": declaration, **when},
        ),
        outbox.Mail(
            key=f"withdrawal:{order.reference}:owner",
            to=[settings.OWNER_EMAIL],
            subject=f"Rétractation : commande {order.reference}, à rembourser au plus tard "
            f"le {refund_by:%d/%m/%Y}",
            template=EMAIL + "owner_withdrawal",
            order=order,
            context={
                "declaration": declaration,
                **when,
                "admin_url": _admin_url("admin:payments_order_change", order),
            },
        ),
    )


def refund(
    *,
    order: Order,
    to_owner: bool,
    refund: Refund | None = None,
    credit_note: CreditNote | None = None,
) -> None:
    """A refund: one the shop could not avoid (piece already sold, wrong amount), which the
    owner hears about too, or one the owner decided (`refund`, in full or in part, with its
    credit note attached when the order was a sale)."""
    key = f"refund:{order.reference}:buyer"
    context: dict[str, Any] = {}
    attachments = []
    if refund is not None and refund.reason == Order.RefundReason.ADMIN:
        key = f"refund:{order.reference}:{refund.pk}:buyer"
        context = {"amount": str(refund.amount), "partial": refund.partial}
    if credit_note is not None:
        context["credit_note"] = credit_note.number
        attachments.append(
            outbox.Attachment("payments.documents.credit_note_attachment", credit_note.refund_id)
        )
    partial = bool(context.get("partial"))
    mails = [
        _to_buyer(
            key=key,
            order=order,
            subject=(
                f"Remboursement partiel de votre commande {order.reference}"
                if partial
                else f"Votre commande {order.reference} a été remboursée"
            ),
            template=EMAIL + "order_refunded",
            context=context,
            attachments=attachments,
        )
    ]
    if to_owner:
        mails.append(
            outbox.Mail(
                key=f"refund:{order.reference}:owner",
                to=[settings.OWNER_EMAIL],
                subject=f"Incident : commande {order.reference} remboursée automatiquement",
                template=EMAIL + "owner_incident",
                order=order,
                context={"admin_url": _admin_url("admin:payments_order_change", order)},
            )
        )
    outbox.queue(*mails)


def payment_without_order(*, event_id: str, event_type: str, obj: dict[str, Any]) -> None:
    """Stripe reports money received for no order of the shop: the owner must look, once."""
    amount = reported_amount(obj)
    try:
        reference = order_reference_of(obj)
    except AttributeError:  # metadata that is not an object
        reference = ""
    outbox.queue(
        outbox.Mail(
            key=f"payment-without-order:{event_id}",
            to=[settings.OWNER_EMAIL],
            subject=f"Paiement sans commande : {event_id}",
            template=EMAIL + "owner_payment_without_order",
            context={
                "event_id": event_id,
                "event_type": event_type,
                "object_id": str(obj.get("id") or "inconnu"),
                "reference": reference[:40] or "aucune",
                "amount": f"{amount / 100:.2f}" if type(amount) is int else "inconnu",
                "currency": str(obj.get("currency") or "").upper(),
            },
        )
    )


def confirmation_key(reference: str) -> str:
    """The key of an order's confirmation in the outbox (one per order, ever)."""
    return f"sale:{reference}:buyer"


def _confirmation(order: Order) -> outbox.Mail:
    """The invoice goes with it: issued in the sale's transaction, made into a PDF when the
    e-mail is sent (found by the order: it is issued after this row is queued)."""
    return _to_buyer(
        key=confirmation_key(order.reference),
        order=order,
        subject=f"Votre commande {order.reference} est confirmée",
        template=EMAIL + "order_paid",
        attachments=[outbox.Attachment("payments.documents.invoice_attachment", order.pk)],
    )


def _to_buyer(
    *,
    key: str,
    order: Order,
    subject: str,
    template: str,
    context: dict | None = None,
    attachments: list[outbox.Attachment] | None = None,
) -> outbox.Mail:
    """An e-mail to the order's buyer, who may answer it: it reaches `SELLER_EMAIL`."""
    return outbox.Mail(
        key=key,
        to=[order.customer_email],
        subject=subject,
        template=template,
        order=order,
        context=context or {},
        attachments=attachments or [],
        reply_to=[settings.SELLER_EMAIL],
    )


def _owner_sale_note(order: Order) -> outbox.Mail:
    return outbox.Mail(
        key=f"sale:{order.reference}:owner",
        to=[settings.OWNER_EMAIL],
        subject=f"Pièce vendue : commande {order.reference}",
        template=EMAIL + "owner_sale",
        order=order,
        context={
            "admin_url": _admin_url("admin:payments_order_change", order),
            "packing_slip_url": _admin_url("admin:payments_order_packing_slip", order),
        },
    )


def _admin_url(name: str, order: Order) -> str:
    return settings.APP_URL + reverse(name, args=[order.pk])
