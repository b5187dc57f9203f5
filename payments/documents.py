"""Reading issued invoices and credit notes: their PDF (for the buyer's order page, the
admin and the e-mails' attachments) and the period's documents for the accountant. No
writes: they are issued by payments/services/documents.py."""

import csv
import io
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from decimal import Decimal
from typing import Any

from django.urls import reverse

from payments import pdf
from payments.document_content import PARIS
from payments.models import CreditNote, Invoice, Order
from payments.order_page import token_for

PDF = "application/pdf"


def pdf_of(document: Invoice | CreditNote) -> bytes:
    return pdf.render(document.content, document.number)


def filename_of(document: Invoice | CreditNote) -> str:
    word = "avoir" if isinstance(document, CreditNote) else "facture"
    return f"{word}-{document.number}.pdf"


@dataclass(frozen=True)
class DocumentLink:
    label: str  # « Facture F-2026-00012 », « Avoir A-2026-00003 »
    amount: Decimal
    url: str  # under the order page's signed token


def buyer_links(order: Order) -> list[DocumentLink]:
    """The order's invoice and credit notes as its buyer reaches them from the order page
    (`/suivi/<token>/`): the invoice first, then the credit notes in their order."""
    invoice = Invoice.objects.filter(order=order).first()
    if invoice is None:
        return []
    token = token_for(order.reference)
    links = [
        DocumentLink(
            f"Facture {invoice.number}",
            invoice.total,
            reverse("payments:order-invoice", args=[token]),
        )
    ]
    for note in CreditNote.objects.filter(invoice=invoice).order_by("issued_at", "number"):
        links.append(
            DocumentLink(
                f"Avoir {note.number}",
                note.total,
                reverse("payments:order-credit-note", args=[token, note.number]),
            )
        )
    return links


# --- Attachments of the outbox's e-mails (payments/outbox.py): made when the mail is sent.


def invoice_attachment(order_id: int) -> tuple[str, bytes, str]:
    """The invoice of an order, for its confirmation e-mail."""
    invoice = Invoice.objects.get(order_id=order_id)
    return filename_of(invoice), pdf_of(invoice), PDF


def credit_note_attachment(refund_id: int) -> tuple[str, bytes, str]:
    """The credit note of a refund, for the refund's e-mail."""
    note = CreditNote.objects.get(refund_id=refund_id)
    return filename_of(note), pdf_of(note), PDF


# --- For the accountant ---------------------------------------------------------------------


@dataclass(frozen=True)
class LedgerRow:
    number: str
    kind: str
    day: date
    order: str
    buyer: str
    email: str
    ht: Decimal
    vat: Decimal
    ttc: Decimal
    vat_rate: str
    invoice: str
    payment_reference: str


def period_bounds(start: date, end: date) -> tuple[datetime, datetime]:
    """From `start` 00:00 to the day after `end` 00:00, in Europe/Paris."""
    return (
        datetime.combine(start, time.min, tzinfo=PARIS),
        datetime.combine(end + timedelta(days=1), time.min, tzinfo=PARIS),
    )


def ledger(start: date, end: date) -> list[LedgerRow]:
    """The invoices and credit notes dated from `start` to `end` (included), in date and
    number order; a credit note's amounts are negative (money given back)."""
    since, until = period_bounds(start, end)
    rows = [
        _row(invoice, "Facture", sign=1, invoice_number=invoice.number)
        for invoice in Invoice.objects.filter(issued_at__gte=since, issued_at__lt=until)
    ]
    rows += [
        _row(note, "Avoir", sign=-1, invoice_number=note.invoice.number)
        for note in CreditNote.objects.filter(
            issued_at__gte=since, issued_at__lt=until
        ).select_related("invoice")
    ]
    return sorted(rows, key=lambda row: (row.day, row.kind != "Facture", row.number))


def _row(document: Any, kind: str, *, sign: int, invoice_number: str) -> LedgerRow:
    content = document.content
    totals = content["totals"]
    vat = content["vat"]
    return LedgerRow(
        number=document.number,
        kind=kind,
        day=date.fromisoformat(content["date"]),
        order=content["order"],
        buyer=content["buyer"]["name"],
        email=content["buyer"]["email"],
        ht=sign * Decimal(totals["ht"]),
        vat=sign * Decimal(totals["vat"]),
        ttc=sign * Decimal(totals["ttc"]),
        vat_rate=_rate(vat),
        invoice=invoice_number,
        payment_reference=content["payment"].get("reference") or "",
    )


def _rate(vat: dict[str, Any]) -> str:
    if not vat["applies"]:
        return "non applicable (art. 293 B du CGI)"
    return f"{Decimal(vat['rate']).normalize():f}".replace(".", ",") + " %"


LEDGER_HEADINGS = [
    "Numéro",
    "Type",
    "Date",
    "Commande",
    "Client",
    "E-mail",
    "Montant HT",
    "TVA",
    "Montant TTC",
    "Taux de TVA",
    "Facture",
    "Référence du paiement",
]


def ledger_csv(rows: Iterable[LedgerRow]) -> bytes:
    """The rows as a CSV that French Excel opens as it is: UTF-8 with a BOM, « ; » between
    fields, decimal commas, dates as dd/mm/yyyy."""
    out = io.StringIO()
    writer = csv.writer(out, delimiter=";", lineterminator="\r\n")
    writer.writerow(LEDGER_HEADINGS)
    for row in rows:
        writer.writerow(
            [
                row.number,
                row.kind,
                row.day.strftime("%d/%m/%Y"),
                row.order,
                _text(row.buyer),
                _text(row.email),
                _amount(row.ht),
                _amount(row.vat),
                _amount(row.ttc),
                row.vat_rate,
                row.invoice,
                row.payment_reference,
            ]
        )
    return ("\ufeff" + out.getvalue()).encode("utf-8")


def _text(value: str) -> str:
    """A buyer's name is typed by the buyer: one that starts like a formula is kept as text
    (OWASP's advice on CSV injection)."""
    return f"'{value}" if value[:1] in ("=", "+", "-", "@", "\t", "\r") else value


def _amount(value: Decimal) -> str:
    return f"{value + 0:.2f}".replace(".", ",")  # + 0: no « -0,00 »
