"""The whole purchase in offline mode, in a real browser (SPEC §7, §9)."""

import re

import pytest
from playwright.sync_api import expect

from payments.models import Order
from shop.tests.browser.conftest import POLL_SECONDS, assert_not_reloaded, mark_page

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

WITHIN = (POLL_SECONDS * 4 + 2) * 1000


def test_purchase_in_offline_mode(new_page, step, live_server, make_product):
    """Add to cart, Commander, give the shipping address and Payer on the simulated Stripe
    page: the thank-you page says "Paiement confirmé" with the address, the order has it,
    and the product page, including one left open, says "Vendu"."""
    product = make_product()
    shopper = new_page()
    shopper.goto(product.get_absolute_url())
    shopper.get_by_role("button", name="Ajouter au panier").click()
    expect(shopper.locator(".cart-count")).to_have_text("1")
    # A page left open on the piece, to watch it change without a reload.
    watcher = new_page()
    watcher.goto(product.get_absolute_url())
    watched = watcher.locator(f'.stock[data-product-id="{product.pk}"]')
    expect(watched.get_by_role("button", name="Ajouter au panier")).to_be_visible()
    mark_page(watcher)

    shopper.goto("/panier/")
    expect(shopper.locator(".cart-shipping")).to_contain_text("Livraison")
    shopper.get_by_label("J'ai lu et j'accepte les conditions générales de vente").check()
    step(shopper, "cart")
    shopper.get_by_role("button", name="Commander").click()

    expect(shopper).to_have_url(re.compile(re.escape(live_server.url + "/_stripe/pay/")))
    expect(shopper.get_by_text("Paiement simulé").first).to_be_visible()
    # While the shopper pays, everyone else sees the piece reserved.
    expect(watched.get_by_text("Réservé")).to_be_visible(timeout=WITHIN)
    step(shopper, "simulated Stripe Checkout")
    step(watcher, "product page, reserved")
    fill_if_empty(shopper, "E-mail", "client@example.com")
    fill_if_empty(shopper, "Nom", "Camille Martin")
    # Checkout collects the shipping address (prefilled here) and the phone, and shows the
    # shipping rate in the total.
    expect(shopper.locator("[data-shipping-option]")).to_contain_text("Livraison")
    address = shopper.get_by_label("Adresse", exact=True)
    expect(address).not_to_have_value("")
    expect(shopper.get_by_label("Téléphone", exact=True)).not_to_have_value("")
    address.fill("1 rue de la Paix")
    shopper.get_by_label("Code postal", exact=True).fill("75002")
    shopper.get_by_label("Ville", exact=True).fill("Paris")
    step(shopper, "simulated Stripe Checkout, address")
    shopper.get_by_role("button", name=re.compile(r"^Payer \d")).click()

    expect(shopper).to_have_url(re.compile(re.escape(live_server.url + "/commande/merci/")))
    expect(shopper.get_by_text("Paiement confirmé")).to_be_visible()
    step(shopper, "thank-you page")
    order = Order.objects.get(items__product=product)
    assert order.status == Order.Status.PAID
    expect(shopper.get_by_text(order.reference)).to_be_visible()
    expect(shopper.locator("[data-shipping-address]")).to_contain_text("1 rue de la Paix")
    assert order.shipping_address["address"] == {
        "line1": "1 rue de la Paix",
        "line2": "",
        "postal_code": "75002",
        "city": "Paris",
        "state": "",
        "country": "FR",
    }
    assert order.shipping_address["phone"]
    assert order.amount_received == order.total == order.items_total + order.shipping_cost
    expect(shopper.locator(".cart-count")).to_have_text("0")

    expect(watched.get_by_text("Vendu")).to_be_visible(timeout=WITHIN)
    expect(watched.get_by_role("button", name="Ajouter au panier")).to_be_hidden()
    assert_not_reloaded(watcher)
    shopper.goto(product.get_absolute_url())
    stock = shopper.locator(f'.stock[data-product-id="{product.pk}"]')
    expect(stock.get_by_text("Vendu")).to_be_visible()
    expect(stock.get_by_role("button", name="Ajouter au panier")).to_be_hidden()
    step(shopper, "product page, sold")


def fill_if_empty(page, label: str, value: str) -> None:
    """Fill a field of the simulated page unless it is absent or already filled."""
    field = page.get_by_label(label, exact=True)
    if field.count() == 1 and not field.input_value():
        field.fill(value)


def test_back_from_checkout_keeps_the_shoppers_own_hold_orderable(
    page, step, live_server, make_product
):
    """Coming Back from the Stripe page, the cart shows the piece as held by this shopper:
    "Commander" stays on, even after polls, and leads to the same Checkout Session."""
    product = make_product()
    page.goto(product.get_absolute_url())
    page.get_by_role("button", name="Ajouter au panier").click()
    expect(page.locator(".cart-count")).to_have_text("1")
    page.goto("/panier/")
    page.get_by_label("J'ai lu et j'accepte les conditions générales de vente").check()
    page.get_by_role("button", name="Commander").click()
    expect(page).to_have_url(re.compile(re.escape(live_server.url + "/_stripe/pay/")))
    checkout_url = page.url

    page.go_back(wait_until="commit")  # a page from the bfcache fires no "load"

    expect(page).to_have_url(re.compile(r"/panier/$"))
    line = page.locator(f'li.cart-line[data-product-id="{product.pk}"]')
    expect(line).to_have_attribute("data-stock-status", "reserved")
    expect(line).to_have_attribute("data-held-by-me", "")
    page.wait_for_timeout(POLL_SECONDS * 2500)
    commander = page.get_by_role("button", name="Commander")
    expect(commander).to_be_enabled()
    expect(page.locator("[data-checkout-blocked]")).to_be_hidden()
    expect(line.get_by_text("en cours d'achat par un autre client")).to_be_hidden()
    step(page, "cart after Back")
    page.get_by_label("J'ai lu et j'accepte les conditions générales de vente").check()
    commander.click()
    expect(page).to_have_url(checkout_url)
