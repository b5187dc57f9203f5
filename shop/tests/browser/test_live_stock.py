"""Open pages follow the stock without a reload (SPEC §6): product page, catalogue, cart."""

import pytest
from playwright.sync_api import expect

from shop.tests.browser.conftest import (
    POLL_SECONDS,
    assert_not_reloaded,
    hold_for_order,
    mark_page,
)

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

# A few poll intervals: the change must show without waiting for a reload.
WITHIN = (POLL_SECONDS * 4 + 2) * 1000
HOLD_SECONDS = 8


def test_product_page_shows_sold_after_the_webhook(page, step, make_product, sell_through_webhook):
    """A piece sold through Stripe's signed webhook says "Vendu" on an open product page."""
    product = make_product()
    page.goto(product.get_absolute_url())
    stock = page.locator(f'.stock[data-product-id="{product.pk}"]')
    expect(stock.get_by_role("button", name="Ajouter au panier")).to_be_visible()
    expect(stock.get_by_text("Vendu")).to_be_hidden()
    mark_page(page)
    step(page, "product page, available")

    sell_through_webhook(product)

    expect(stock).to_have_attribute("data-stock-status", "sold", timeout=WITHIN)
    expect(stock.get_by_text("Vendu")).to_be_visible()
    expect(stock.get_by_role("button", name="Ajouter au panier")).to_be_hidden()
    step(page, "product page, sold")
    assert_not_reloaded(page)


def test_catalogue_and_cart_follow_a_sale(new_page, step, make_product, sell_through_webhook):
    """On the catalogue the card says "Vendu"; in the cart the line says so and
    "Commander" is disabled with its explanation, all without a reload."""
    product = make_product()
    other = make_product()
    catalogue = new_page()
    catalogue.goto("/")
    card = catalogue.locator(f'.stock[data-product-id="{product.pk}"]')
    card.get_by_role("button", name="Ajouter au panier").click()
    expect(catalogue.locator(".cart-count")).to_have_text("1")
    cart = new_page()
    cart.goto("/panier/")
    line = cart.locator(f'li.cart-line[data-product-id="{product.pk}"]')
    commander = cart.get_by_role("button", name="Commander")
    explanation = cart.locator("[data-checkout-blocked]")
    expect(line).to_have_attribute("data-stock-status", "available")
    expect(commander).to_be_enabled()
    expect(explanation).to_be_hidden()
    for opened in (catalogue, cart):
        mark_page(opened)
    step(catalogue, "catalogue, available")
    step(cart, "cart, can order")

    sell_through_webhook(product)

    expect(card.get_by_text("Vendu")).to_be_visible(timeout=WITHIN)
    expect(card.get_by_role("button", name="Ajouter au panier")).to_be_hidden()
    other_card = catalogue.locator(f'.stock[data-product-id="{other.pk}"]')
    expect(other_card.get_by_role("button", name="Ajouter au panier")).to_be_visible()
    expect(line.get_by_text("Cette pièce vient d'être vendue.")).to_be_visible(timeout=WITHIN)
    expect(commander).to_be_disabled()
    expect(explanation).to_be_visible()
    expect(explanation).to_contain_text("Retirez les pièces vendues")
    step(catalogue, "catalogue, sold")
    step(cart, "cart, blocked")
    for opened in (catalogue, cart):
        assert_not_reloaded(opened)


def test_a_lapsed_hold_offers_the_piece_again(new_page, step, make_product):
    """A piece held by a checkout says "Réservé" and blocks "Commander" in the cart;
    when the hold lapses it offers "Ajouter au panier" again, with a working form."""
    product = make_product()
    product_page = new_page()
    product_page.goto(product.get_absolute_url())
    stock = product_page.locator(f'.stock[data-product-id="{product.pk}"]')
    button = stock.get_by_role("button", name="Ajouter au panier")
    button.click()
    expect(product_page.locator(".cart-count")).to_have_text("1")
    mark_page(product_page)

    hold_for_order(product, seconds=HOLD_SECONDS)
    cart = new_page()
    cart.goto("/panier/")
    mark_page(cart)
    commander = cart.get_by_role("button", name="Commander")
    line = cart.locator(f'li.cart-line[data-product-id="{product.pk}"]')
    reserved_message = line.get_by_text("en cours d'achat par un autre client")
    expect(reserved_message).to_be_visible()
    expect(commander).to_be_disabled()
    expect(stock.get_by_text("Réservé")).to_be_visible(timeout=WITHIN)
    # The shopper learns the piece may come back.
    expect(stock.get_by_text("peut revenir si le paiement échoue")).to_be_visible()
    expect(button).to_be_hidden()
    step(product_page, "product page, reserved")
    step(cart, "cart, reserved by someone else")

    expect(button).to_be_visible(timeout=HOLD_SECONDS * 1000 + WITHIN)
    expect(stock.get_by_text("Réservé")).to_be_hidden()
    expect(stock.get_by_text("peut revenir si le paiement échoue")).to_be_hidden()
    expect(commander).to_be_enabled(timeout=WITHIN)
    expect(cart.locator("[data-checkout-blocked]")).to_be_hidden()
    expect(reserved_message).to_be_hidden()
    step(product_page, "product page, available again")
    step(cart, "cart, can order again")
    for opened in (product_page, cart):
        assert_not_reloaded(opened)

    # The form the script revealed is the server's own: it still works.
    cart.get_by_role("button", name="Retirer").click()
    expect(cart.locator(".cart-count")).to_have_text("0")
    button.click()
    expect(product_page.locator(".cart-count")).to_have_text("1")
    expect(product_page.get_by_text("Ajouté au panier")).to_be_visible()
