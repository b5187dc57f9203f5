"""Invoices and credit notes, issued in the transaction that decides them (SPEC §12): an
invoice when an order becomes a sale (services/payment.py), a credit note for each refund of
a sale (services/refunds.py). A payment refunded because it never became a sale (a piece
already sold, a wrong amount) has neither.

Each is numbered under its yearly counter's lock (`locking.insert_numbered`), which the
caller takes as its LAST write: every sale waits on the invoices' counter from the moment it
takes it until its commit. Its content is decided here, once (payments/document_content.py).
"""

from collections.abc import Iterable
from datetime import datetime
from decimal import Decimal

from django.db import transaction
from django.db.models import Q, QuerySet
from django.utils import timezone

from payments.document_content import credit_note_content, document_year, invoice_content
from payments.models import CreditNote, Invoice, Order, OrderItem, Refund
from payments.services.locking import insert_numbered, lock_order


def issue_invoice(*, order: Order, lines: Iterable[tuple[str, Decimal]]) -> Invoice:
    """The invoice of a sale that just happened (`order.paid_at` set): `lines` are its
    pieces as paid (name, price). Inside the sale's transaction, as its last write."""
    lines = list(lines)
    paid_at = order.paid_at or timezone.now()
    content = invoice_content(
        issued_at=paid_at,
        reference=order.reference,
        email=order.customer_email,
        shipping_address=order.shipping_address,
        lines=lines,
        shipping_cost=order.shipping_cost,
        paid_at=paid_at,
        payment_reference=order.stripe_payment_intent_id,
    )
    invoice = insert_numbered(
        Invoice,
        kind=Invoice.KIND,
        year=document_year(paid_at),
        values={
            "order": order,
            "issued_at": paid_at,
            "content": content,
            "total": Decimal(content["totals"]["ttc"]),
        },
    )
    return invoice


def issue_credit_note(*, refund: Refund, invoice: Invoice, at: datetime) -> CreditNote:
    """The credit note of a refund of a sale (`invoice`, the sale's): the amount refunded,
    the invoice it corrects. Inside the refund's transaction, as its last write."""
    content = credit_note_content(
        issued_at=at,
        invoice_number=invoice.number,
        invoice=invoice.content,
        amount=refund.amount,
        reason=refund.note,
    )
    note = insert_numbered(
        CreditNote,
        kind=CreditNote.KIND,
        year=document_year(at),
        values={
            "invoice": invoice,
            "refund": refund,
            "issued_at": at,
            "content": content,
            "total": refund.amount,
        },
    )
    return note


def complete_invoice_buyer(*, order: Order) -> None:
    """A sale's invoice issued before the buyer's e-mail or address were known (Stripe's
    PaymentIntent, which carries neither, came before the Checkout Session): the event that
    brings them completes the invoice's buyer, once, before the buyer receives it (the
    confirmation goes once the e-mail is known). Nothing else of an issued invoice ever
    changes; PostgreSQL's trigger allows this and only this (migration 0013). Under the
    order's lock."""
    invoice = Invoice.objects.filter(order=order).first()
    if invoice is None:
        return
    content = dict(invoice.content)
    buyer = dict(content["buyer"])
    address = order.shipping_address or None
    if not buyer.get("email") and order.customer_email:
        buyer["email"] = order.customer_email
    if not content.get("shipping_address") and address:
        content["shipping_address"] = address
        buyer["name"] = buyer.get("name") or address.get("name") or ""
    content["buyer"] = buyer
    if content != invoice.content:
        QuerySet.update(Invoice.objects.filter(pk=invoice.pk), content=content)


def issue_missing_invoices() -> list[str]:
    """Sales without their invoice: paid by a process still running the code from before
    invoices, during a deploy (the migration issued the earlier ones). Each gets it now, in
    a transaction of its own under the order's lock, dated its payment. Returns their
    references. `reconcile` runs it."""
    missing = Order.objects.filter(
        Q(status=Order.Status.PAID)
        | Q(status=Order.Status.REFUNDED, refund_reason=Order.RefundReason.ADMIN),
        paid_at__isnull=False,
        invoice__isnull=True,
    ).order_by("paid_at", "pk")
    issued = []
    for order_id in missing.values_list("pk", flat=True):
        with transaction.atomic():
            order, _, _ = lock_order(order_id)
            if Invoice.objects.filter(order=order).exists():
                continue
            items = OrderItem.objects.filter(order=order).order_by("product_id")
            issue_invoice(order=order, lines=[(item.name, item.price) for item in items])
        issued.append(order.reference)
    return issued
