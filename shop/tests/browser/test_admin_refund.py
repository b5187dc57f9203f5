"""The owner refunds part of a shipped order in a real browser, from the order's own page:
the confirmation warns that the parcel has left, offers all that is left, shows the amount
typed the French way, and refunds through the offline Stripe over HTTP (SPEC §5, §7)."""

import os
from decimal import Decimal
from pathlib import Path

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from payments import order_page, services
from payments.models import CreditNote, Order
from payments.offline.models import Refund as StripeRefund
from payments.offline.testing import submit_hosted_page
from products.models import Product, StockStatus
from shop.tests.browser.test_admin_price import log_in

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

NBSP = "\N{NO-BREAK SPACE}"
# Set it to keep pictures of the pages for a review (the tests' own only keep failures).
SCREENSHOTS = os.environ.get("BOUTIQUE_SCREENSHOTS", "")


def _shot(page, name: str) -> None:
    if SCREENSHOTS:
        Path(SCREENSHOTS).mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(Path(SCREENSHOTS) / f"{name}.png"), full_page=True)


def _typed(amount: Decimal) -> str:
    return f"{amount:.2f}".replace(".", ",")


def _shipped_sale() -> tuple[Order, Product, Product]:
    vase = Product.objects.create(name="Vase œuf bleu", slug="vase-oeuf", price=Decimal("89.50"))
    pichet = Product.objects.create(
        name="Pichet en grès « Jardin des Plantes »", slug="pichet", price=Decimal("240.00")
    )
    order = services.start_checkout(product_ids=[vase.pk, pichet.pk], shopper_id="s-browser")
    assert submit_hosted_page(order.checkout_url).status_code == 303
    Order.objects.filter(pk=order.pk).update(shipped_at=timezone.now(), carrier="Colissimo")
    order.refresh_from_db()
    assert order.status == Order.Status.PAID
    return order, vase, pichet


def test_a_partial_refund_of_a_shipped_order_is_confirmed_then_sent(
    page, step, settings, allow_console_error
):
    settings.SELLER_NAME = "Claire Martin EI"
    order, vase, pichet = _shipped_sale()
    log_in(page)
    page.set_viewport_size({"width": 1280, "height": 900})
    page.goto(f"/admin/payments/order/{order.pk}/change/")

    page.get_by_role("link", name="Rembourser…").click()

    expect(page).to_have_url(f"/admin/payments/order/{order.pk}/rembourser/")
    expect(page.get_by_role("alert")).to_contain_text("Le colis est parti : attendez le retour ?")
    amount = page.get_by_label("Montant à rembourser")
    preview = page.locator('output[for="id_montant"]')
    expect(amount).to_have_value(_typed(order.total))  # all that was paid
    expect(page.get_by_label("Vase œuf bleu")).not_to_be_checked()  # the parcel is away
    page.get_by_label("Motif").fill("Pièce abîmée pendant le transport")
    amount.fill("1.000")
    expect(preview).to_contain_text("Ambigu")
    amount.fill("89,5")
    expect(preview).to_have_text(f"89,50{NBSP}€")
    page.get_by_label("Vase œuf bleu").check()
    step(page, "refund confirmation filled")
    _shot(page, "refund-confirmation")
    page.set_viewport_size({"width": 390, "height": 844})
    _shot(page, "refund-confirmation-phone")
    page.set_viewport_size({"width": 1280, "height": 900})

    page.get_by_role("button", name="Confirmer le remboursement").click()

    expect(page).to_have_url(f"/admin/payments/order/{order.pk}/change/")
    expect(page.locator(".messagelist")).to_contain_text(
        f"Remboursement de 89,50{NBSP}€ enregistré pour la commande {order.reference}"
    )
    expect(page.locator(".messagelist")).to_contain_text("remboursement partiel")
    note = CreditNote.objects.get()
    expect(page.get_by_role("link", name=f"Avoir {note.number}")).to_be_visible()
    _shot(page, "order-after-partial-refund")
    assert list(
        StripeRefund.objects.filter(
            payment_intent__stripe_id=order.stripe_payment_intent_id
        ).values_list("amount", flat=True)
    ) == [8950]
    statuses = dict(Product.objects.with_status().values_list("pk", "stock_status"))
    assert statuses == {vase.pk: StockStatus.AVAILABLE, pichet.pk: StockStatus.SOLD}
    order.refresh_from_db()
    assert order.status == Order.Status.PAID

    page.get_by_role("link", name="Rembourser…").click()
    # A refused form is answered 400, which Chromium reports in its console.
    allow_console_error(r"rembourser/.*|status of 400")
    left = order.total - Decimal("89.50")
    expect(page.get_by_label("Montant à rembourser")).to_have_value(_typed(left))
    page.get_by_label("Montant à rembourser").fill(_typed(left + Decimal("0.01")))
    page.get_by_label("Motif").fill("Rétractation")
    page.get_by_role("button", name="Confirmer le remboursement").click()
    expect(page.locator(".errorlist")).to_contain_text(f"Il ne reste que {_typed(left)}{NBSP}€")
    assert CreditNote.objects.count() == 1


def test_the_accountant_s_export_is_one_click_from_the_invoices(page, settings):
    """*Factures* lists the invoices, read-only, with the export; the export's form gives a
    CSV for the period."""
    order, _, _ = _shipped_sale()
    log_in(page)
    page.set_viewport_size({"width": 1280, "height": 900})
    page.goto("/admin/payments/invoice/")
    expect(page.get_by_role("link", name=order.invoice.number)).to_be_visible()
    expect(page.locator(".object-tools a.addlink")).to_have_count(0)
    _shot(page, "invoices-list")

    page.get_by_role("link", name="Exporter pour le comptable (CSV)").click()
    today = timezone.localdate().isoformat()
    page.get_by_label("Du").fill(today)
    page.get_by_label("Au").fill(today)
    _shot(page, "invoices-export")
    with page.expect_download() as download:
        page.get_by_role("button", name="Télécharger le fichier CSV").click()

    content = Path(download.value.path()).read_text(encoding="utf-8-sig")
    assert content.splitlines()[1].startswith(f"{order.invoice.number};Facture;")


def test_the_buyer_finds_the_invoice_and_credit_note_on_the_order_page(page):
    """The buyer's order page, as its link in the e-mails opens it: « Facture F-… » and the
    credit note of a partial refund, each a PDF."""
    order, vase, _ = _shipped_sale()
    services.refund_sale(order_id=order.pk, amount=Decimal("89.50"), note="Pièce retournée")
    page.set_viewport_size({"width": 1280, "height": 900})
    page.goto(order_page.path_for(order.reference))

    invoice = page.get_by_role("link", name=order.invoice.number, exact=False)
    expect(invoice).to_have_text(f"Facture {order.invoice.number}")
    note = CreditNote.objects.get()
    expect(page.get_by_role("link", name=f"Avoir {note.number}")).to_be_visible()
    expect(page.locator("[data-buyer-status]")).to_have_text("Remboursée partiellement")
    _shot(page, "order-page-documents")
    page.set_viewport_size({"width": 390, "height": 844})
    _shot(page, "order-page-documents-phone")

    answer = page.request.get(invoice.get_attribute("href"))
    assert answer.status == 200
    assert answer.headers["content-type"] == "application/pdf"
    assert answer.body().startswith(b"%PDF")
