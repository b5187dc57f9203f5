"""The owner types a price in the admin, in a real browser: the French comma, the amount shown
back before saving, the ambiguous refused (shop/euros.py, static/js/euros-input.js)."""

from decimal import Decimal

import pytest
from django.contrib.auth.models import User
from playwright.sync_api import expect

from products.models import Product

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

NBSP = "\N{NO-BREAK SPACE}"
PASSWORD = "un-mot-de-passe-assez-long"


def log_in(page) -> None:
    User.objects.create_superuser("proprietaire", "proprietaire@example.com", PASSWORD)
    page.goto("/admin/login/?next=/admin/products/product/add/")
    page.get_by_label("Nom d’utilisateur").fill("proprietaire")
    page.get_by_label("Mot de passe").fill(PASSWORD)
    page.get_by_role("button", name="Connexion").click()
    expect(page).to_have_url("/admin/products/product/add/")


def test_a_french_price_is_shown_back_and_stored_as_meant(page, step):
    log_in(page)
    page.locator("#id_name").fill("Pichet en grès")
    price = page.locator("#id_price")
    preview = page.locator('output[for="id_price"]')

    price.fill("320,50")
    expect(preview).to_have_text(f"320,50{NBSP}€")
    step(page, "price typed with a comma")

    price.fill("320.5")
    expect(preview).to_have_text(f"320,50{NBSP}€")

    price.fill("1 250")
    expect(preview).to_have_text(f"1{NBSP}250,00{NBSP}€")

    price.fill("1,250")
    expect(preview).to_contain_text("Ambigu")
    expect(preview).to_have_attribute("data-invalid", "")

    price.fill("1.250,00")
    expect(preview).to_contain_text("Ambigu")
    step(page, "ambiguous price")
    page.get_by_role("button", name="Enregistrer", exact=True).click()
    expect(page.locator(".errorlist")).to_contain_text("« 1.250,00 » est ambigu")
    assert not Product.objects.exists()

    page.locator("#id_price").fill("320,50")
    expect(preview).to_have_text(f"320,50{NBSP}€")
    expect(preview).not_to_have_attribute("data-invalid", "")
    page.get_by_role("button", name="Enregistrer", exact=True).click()

    expect(page.locator(".messagelist")).to_contain_text("ajouté avec succès")
    assert Product.objects.get(slug="pichet-en-gres").price == Decimal("320.50")
