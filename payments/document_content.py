"""What an invoice or a credit note states, decided once, when it is issued (SPEC §12).

The content is a plain dict of JSON values (amounts as strings with two decimals, dates in
ISO form, Europe/Paris), stored on the document (`Invoice.content`, `CreditNote.content`) and
printed by payments/pdf.py. The number is not in it: it is taken by the statement that
inserts the document and lives in its own column (`payments.documents.printed` joins them).
A later change of the seller's settings, of the VAT rate or of the
order alters no issued document. Pure: settings and plain values in, a dict out; no database.

The mentions (Code général des impôts art. 242 nonies A, Code de commerce L441-9): the
seller (`SELLER_*`), the number, the date, the buyer and the addresses, each piece with its
price, the shipping, the totals, « TVA non applicable, art. 293 B du CGI » without
`SELLER_VAT_NUMBER` or HT / TVA / TTC with it (each line's HT is its TTC divided by
(1 + rate), rounded per line; the VAT is the difference), the payment's date and method, the
consumer mediator. A credit note names its invoice and carries the amount refunded.
"""

from collections.abc import Iterable, Mapping
from datetime import date, datetime
from decimal import ROUND_HALF_UP, Decimal
from typing import Any
from zoneinfo import ZoneInfo

from django.conf import settings

PARIS = ZoneInfo("Europe/Paris")
CENT = Decimal("0.01")
FRANCHISE_MENTION = "TVA non applicable, art. 293 B du CGI"
PAYMENT_METHOD = "Paiement en ligne par Stripe (carte bancaire ou moyen proposé par Stripe)"

INVOICE = "invoice"
CREDIT_NOTE = "credit_note"


def document_year(moment: datetime) -> int:
    """The year a document's number belongs to: its date's, in Europe/Paris."""
    return moment.astimezone(PARIS).year


def format_number(kind: str, year: int, sequence: int) -> str:
    """`F-2026-00012`: the kind's letter, the year, the sequence on five digits at least."""
    return f"{kind}-{year}-{sequence:05d}"


def paris_date(moment: datetime) -> date:
    return moment.astimezone(PARIS).date()


def money(amount: Decimal) -> str:
    return str(Decimal(amount).quantize(CENT, rounding=ROUND_HALF_UP))


def split_vat(ttc: Decimal, rate: Decimal | None) -> tuple[Decimal, Decimal]:
    """(HT, TVA) of an amount including VAT at `rate` percent; without VAT, (TTC, 0)."""
    ttc = Decimal(ttc).quantize(CENT, rounding=ROUND_HALF_UP)
    if rate is None:
        return ttc, Decimal("0.00")
    ht = (ttc / (1 + Decimal(rate) / 100)).quantize(CENT, rounding=ROUND_HALF_UP)
    return ht, ttc - ht


def seller() -> dict[str, str]:
    """Who sells, as the settings say now (SPEC §4)."""
    return {
        "shop_name": settings.SHOP_NAME,
        "name": settings.SELLER_NAME,
        "address": settings.SELLER_ADDRESS,
        "siren": settings.SELLER_SIREN,
        "vat_number": settings.SELLER_VAT_NUMBER,
        "email": settings.SELLER_EMAIL,
        "url": settings.APP_URL,
    }


def vat_terms() -> dict[str, Any]:
    """The VAT as the settings say now: a rate when the seller has a VAT number, else the
    franchise's mention."""
    if settings.SELLER_VAT_NUMBER:
        return {"applies": True, "rate": str(settings.VAT_RATE), "mention": ""}
    return {"applies": False, "rate": None, "mention": FRANCHISE_MENTION}


def mediator() -> dict[str, str]:
    return {"name": settings.MEDIATOR_NAME, "url": settings.MEDIATOR_URL}


def _line(label: str, ttc: Decimal, rate: Decimal | None) -> dict[str, str]:
    ht, vat = split_vat(ttc, rate)
    return {"label": label, "ttc": money(ttc), "ht": money(ht), "vat": money(vat)}


def _totals(lines: Iterable[Mapping[str, str]]) -> dict[str, str]:
    lines = list(lines)
    return {
        key: money(sum((Decimal(line[key]) for line in lines), Decimal("0.00")))
        for key in ("ht", "vat", "ttc")
    }


def invoice_content(
    *,
    issued_at: datetime,
    reference: str,
    email: str,
    shipping_address: Mapping[str, Any] | None,
    lines: Iterable[tuple[str, Decimal]],
    shipping_cost: Decimal,
    paid_at: datetime,
    payment_reference: str,
) -> dict[str, Any]:
    """An invoice's content: `lines` are the pieces as paid (name, price including VAT)."""
    vat = vat_terms()
    rate = Decimal(vat["rate"]) if vat["applies"] else None
    pieces = [_line(name, price, rate) for name, price in lines]
    shipping = _line("Livraison", shipping_cost, rate)
    address = dict(shipping_address or {})
    return {
        "kind": INVOICE,
        "date": paris_date(issued_at).isoformat(),
        "seller": seller(),
        "buyer": {"name": address.get("name") or "", "email": email},
        "shipping_address": address or None,
        "order": reference,
        "lines": pieces,
        "shipping": shipping,
        "totals": _totals([*pieces, shipping]),
        "vat": vat,
        "payment": {
            "date": paris_date(paid_at).isoformat(),
            "method": PAYMENT_METHOD,
            "reference": payment_reference,
        },
        "mediator": mediator(),
        "currency": "EUR",
    }


def credit_note_content(
    *,
    issued_at: datetime,
    invoice_number: str,
    invoice: Mapping[str, Any],
    amount: Decimal,
    reason: str,
) -> dict[str, Any]:
    """A credit note's content: the amount refunded on `invoice` (its content), at the
    invoice's VAT terms (the VAT that was charged is the VAT that is given back)."""
    vat = dict(invoice["vat"])
    rate = Decimal(vat["rate"]) if vat["applies"] else None
    label = f"Remboursement sur la facture {invoice_number}"
    if reason:
        label += f" : {reason}"
    line = _line(label, amount, rate)
    return {
        "kind": CREDIT_NOTE,
        "date": paris_date(issued_at).isoformat(),
        "seller": seller(),
        "buyer": dict(invoice["buyer"]),
        "shipping_address": invoice.get("shipping_address"),
        "order": invoice["order"],
        "invoice": {"number": invoice_number, "date": invoice["date"]},
        "reason": reason,
        "lines": [line],
        "shipping": None,
        "totals": _totals([line]),
        "vat": vat,
        "payment": dict(invoice["payment"]),
        "refund": {"date": paris_date(issued_at).isoformat(), "amount": money(amount)},
        "mediator": mediator(),
        "currency": "EUR",
    }
