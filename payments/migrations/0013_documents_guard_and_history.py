"""Issued documents are never changed or deleted (PostgreSQL refuses it, whatever the
client), and what was refunded or sold before refunds and invoices had rows gets them:

- every refunded order gets one `Refund` (its whole payment, with the idempotency key it was
  sent with, `order-<reference>-refund`, and its state: sent, failed or waiting);
- every sale (an order paid, or refunded by the owner after its payment) gets its invoice,
  numbered in the order of the payments, before any sale to come: the sequence stays
  continuous and chronological; every refund of a sale gets its credit note, in the order
  of the refunds. Their content states the seller's settings at the time of the migration.
"""

from collections import defaultdict
from decimal import Decimal

from django.db import migrations

from payments.document_content import (
    credit_note_content,
    document_year,
    format_number,
    invoice_content,
)

GUARD = """
CREATE OR REPLACE FUNCTION payments_issued_document_guard() RETURNS trigger AS $$
BEGIN
    -- The one change allowed: an invoice issued before the buyer's e-mail or address were
    -- known gets them once (payments.services.documents.complete_invoice_buyer).
    IF TG_OP = 'UPDATE'
       AND (to_jsonb(NEW) - 'content') = (to_jsonb(OLD) - 'content')
       AND (NEW.content - 'buyer' - 'shipping_address')
           = (OLD.content - 'buyer' - 'shipping_address')
       AND (COALESCE(OLD.content->'buyer'->>'email', '') = ''
            OR OLD.content->'shipping_address' IS NULL
            OR OLD.content->'shipping_address' = 'null'::jsonb)
    THEN
        RETURN NEW;
    END IF;
    RAISE EXCEPTION 'issued document % is never changed or deleted', OLD.number;
END
$$ LANGUAGE plpgsql;
CREATE TRIGGER payments_invoice_issued BEFORE UPDATE OR DELETE ON payments_invoice
    FOR EACH ROW EXECUTE FUNCTION payments_issued_document_guard();
CREATE TRIGGER payments_creditnote_issued BEFORE UPDATE OR DELETE ON payments_creditnote
    FOR EACH ROW EXECUTE FUNCTION payments_issued_document_guard();
"""

UNGUARD = """
DROP TRIGGER IF EXISTS payments_invoice_issued ON payments_invoice;
DROP TRIGGER IF EXISTS payments_creditnote_issued ON payments_creditnote;
DROP FUNCTION IF EXISTS payments_issued_document_guard();
"""


def guard(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(GUARD, params=None)


def unguard(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(UNGUARD, params=None)


def history(apps, schema_editor):
    Order = apps.get_model("payments", "Order")
    OrderItem = apps.get_model("payments", "OrderItem")
    Refund = apps.get_model("payments", "Refund")
    Invoice = apps.get_model("payments", "Invoice")
    CreditNote = apps.get_model("payments", "CreditNote")
    Counter = apps.get_model("payments", "DocumentCounter")

    refunds = {}
    for order in Order.objects.filter(status="refunded").order_by("pk"):
        if order.stripe_refund_id:
            state = "sent"
        elif order.refund_pending and order.last_error:
            state = "failed"
        else:
            state = "pending"
        paid = order.amount_received if order.amount_received is not None else order.total
        refunds[order.pk] = Refund.objects.create(
            order=order,
            amount=paid,
            reason=order.refund_reason or "admin",
            created_at=order.refunded_at or order.updated_at,
            state=state,
            idempotency_key=f"order-{order.reference}-refund",
            stripe_refund_id=order.stripe_refund_id,
            sent_at=order.refunded_at if state == "sent" else None,
            last_error=order.last_error if state == "failed" else "",
        )

    counters = defaultdict(int)
    for counter in Counter.objects.all():
        counters[(counter.kind, counter.year)] = counter.last

    def take(kind, moment):
        year = document_year(moment)
        counters[(kind, year)] += 1
        return format_number(kind, year, counters[(kind, year)])

    sales = Order.objects.filter(paid_at__isnull=False, invoice__isnull=True).filter(
        status="paid"
    ) | Order.objects.filter(
        paid_at__isnull=False, invoice__isnull=True, status="refunded", refund_reason="admin"
    )
    invoices = {}
    for order in sales.order_by("paid_at", "pk"):
        lines = [
            (item.name, item.price)
            for item in OrderItem.objects.filter(order=order).order_by("product_id")
        ]
        content = invoice_content(
            issued_at=order.paid_at,
            reference=order.reference,
            email=order.customer_email,
            shipping_address=order.shipping_address,
            lines=lines,
            shipping_cost=order.shipping_cost,
            paid_at=order.paid_at,
            payment_reference=order.stripe_payment_intent_id,
        )
        invoices[order.pk] = Invoice.objects.create(
            number=take("F", order.paid_at),
            order=order,
            issued_at=order.paid_at,
            content=content,
            total=Decimal(content["totals"]["ttc"]),
        )

    admin_refunds = [refunds[pk] for pk in invoices if pk in refunds]
    for refund in sorted(admin_refunds, key=lambda r: (r.created_at, r.pk)):
        invoice = invoices[refund.order_id]
        at = max(refund.created_at, invoice.issued_at)
        CreditNote.objects.create(
            number=take("A", at),
            invoice=invoice,
            refund=refund,
            issued_at=at,
            content=credit_note_content(
                issued_at=at,
                invoice_number=invoice.number,
                invoice=invoice.content,
                amount=refund.amount,
                reason="",
            ),
            total=refund.amount,
        )

    for (kind, year), last in counters.items():
        Counter.objects.update_or_create(kind=kind, year=year, defaults={"last": last})


class Migration(migrations.Migration):
    dependencies = [
        ("payments", "0012_refunds_and_documents"),
    ]

    operations = [
        migrations.RunPython(guard, unguard),
        migrations.RunPython(history, migrations.RunPython.noop),
    ]
