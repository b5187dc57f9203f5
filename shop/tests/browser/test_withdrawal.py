"""A buyer withdraws online, in a real browser (SPEC §12): the order page opened from the
confirmation e-mail's link in a browser that never saw the shop, « Renoncer au contrat ici »,
the form filled in for them, « Confirmer la rétractation », and the acknowledgement e-mail with
the date and time shown on the page."""

import re
import time

import pytest
from django.core import mail
from playwright.sync_api import expect

from payments.models import Order
from payments.tests.after_sale import order_page_links
from shop.words import paris_moment

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def wait_for_mail(subject_start: str, seconds: float = 10) -> mail.EmailMessage:
    """The e-mail the live server sends right after its response."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        found = [m for m in mail.outbox if m.subject.startswith(subject_start)]
        if found:
            return found[0]
        time.sleep(0.1)
    raise AssertionError(f"no e-mail « {subject_start}… » was sent")


def test_a_buyer_withdraws_from_the_order_page_of_their_email(
    browser, live_server, shop_settings, make_product, sell_through_webhook, step
):
    order = sell_through_webhook(make_product(name="Lampe champignon"))
    confirmation = wait_for_mail(f"Votre commande {order.reference} est confirmée")
    [link] = order_page_links(confirmation)
    assert link.startswith(live_server.url + "/suivi/")

    # A browser that never visited the shop, as from a mail client.
    context = browser.new_context(locale="fr-FR")
    context.set_default_timeout(10_000)
    errors: list[str] = []
    page = context.new_page()
    page.on("pageerror", lambda error: errors.append(str(error)))
    page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    try:
        page.goto(link)
        expect(page.locator("[data-buyer-status]")).to_have_text("Payée")
        expect(page.get_by_role("heading", name=f"Commande {order.reference}")).to_be_visible()
        expect(page.get_by_text("Lampe champignon")).to_be_visible()
        step(page, "order page")

        page.locator("main").get_by_role("link", name="Renoncer au contrat ici").click()
        expect(page).to_have_url(re.compile(r"/retractation/\?commande="))
        form_url = page.url
        expect(page.get_by_label("Référence de la commande")).to_have_value(order.reference)
        expect(page.get_by_label("Adresse e-mail utilisée pour la commande")).to_have_value(
            "a@example.com"
        )
        page.get_by_label("Votre nom (facultatif)").fill("Camille Martin")
        step(page, "withdrawal form")
        page.get_by_role("button", name="Confirmer la rétractation").click()

        expect(
            page.get_by_role("heading", name="Votre rétractation est enregistrée")
        ).to_be_visible()
        order.refresh_from_db()
        assert order.withdrawn_at is not None
        when = paris_moment(order.withdrawn_at)
        expect(page.locator("[data-submitted-at]")).to_have_text(when)
        step(page, "withdrawal recorded")

        ack = wait_for_mail("Accusé de réception de votre rétractation")
        assert ack.to == ["a@example.com"]
        assert f"Envoyée le {when}" in ack.body
        assert "Camille Martin" in ack.body
        assert "Lampe champignon" in ack.body

        # Sent again (the button of an older e-mail, a second try): one withdrawal, kindly said.
        page.goto(form_url)
        page.get_by_role("button", name="Confirmer la rétractation").click()
        expect(page.get_by_text("Votre rétractation nous était déjà parvenue")).to_be_visible()
        time.sleep(0.5)  # an e-mail would leave right after the response
        assert len([m for m in mail.outbox if m.subject.startswith("Accusé")]) == 1

        page.goto(link)
        expect(page.locator("[data-buyer-status]")).to_have_text("Rétractation reçue")
        expect(
            page.locator("main").get_by_role("link", name="Renoncer au contrat ici")
        ).to_have_count(0)
        assert Order.objects.filter(withdrawn_at__isnull=False).count() == 1
        assert errors == []
    finally:
        context.close()


def test_the_footer_of_any_page_leads_to_the_form(page, make_product):
    product = make_product()
    page.goto(product.get_absolute_url())
    page.locator("footer").get_by_role("link", name="Renoncer au contrat ici").click()
    expect(page).to_have_url(re.compile(r"/retractation/$"))
    expect(page.get_by_role("heading", name="Renoncer au contrat")).to_be_visible()
    expect(page.get_by_role("button", name="Confirmer la rétractation")).to_be_visible()
