"""The owner records a shipment in a real browser: the carrier from the list, the number as
printed; the name and link fields only for a carrier outside the list (CSS :has, no script)."""

import re

import pytest
from django.contrib.auth.models import User
from django.utils import timezone
from playwright.sync_api import expect

from payments.models import Order, OrderItem

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

PASSWORD = "un-mot-de-passe-assez-long"


def log_in(page, next_url: str) -> None:
    User.objects.create_superuser("proprietaire", "proprietaire@example.com", PASSWORD)
    page.goto(f"/admin/login/?next={next_url}")
    page.get_by_label("Nom d’utilisateur").fill("proprietaire")
    page.get_by_label("Mot de passe").fill(PASSWORD)
    page.get_by_role("button", name="Connexion").click()
    expect(page).to_have_url(next_url)


def test_shipping_with_a_listed_carrier_then_marking_it_delivered(page, step, make_product):
    piece = make_product(in_stock=False)
    order = Order.objects.create(
        status=Order.Status.PAID,
        total=piece.price,
        items_total=piece.price,
        paid_at=timezone.now(),
        customer_email="camille@example.com",
        shipping_address={
            "name": "Camille Martin",
            "address": {"line1": "3 rue", "line2": "", "postal_code": "69002", "city": "Lyon"}
            | {"state": "", "country": "FR"},
            "phone": "",
        },
    )
    OrderItem.objects.create(order=order, product=piece, name=piece.name, price=piece.price)
    log_in(page, f"/admin/payments/order/{order.pk}/expedition/")

    other = page.locator("[data-other-carrier]")
    carrier = page.get_by_label("Transporteur :", exact=True)
    expect(other).to_be_hidden()
    carrier.select_option(label="Autre transporteur")
    expect(other).to_be_visible()
    expect(page.get_by_label("Nom du transporteur")).to_be_visible()
    expect(page.get_by_label("Lien de suivi")).to_be_visible()
    step(page, "carrier outside the list")
    carrier.select_option(label="Mondial Relay")
    expect(other).to_be_hidden()
    page.get_by_label("Numéro de suivi").fill("1234 5678")
    step(page, "Mondial Relay")
    page.get_by_role("button", name="Enregistrer l'expédition et prévenir le client").click()

    expect(page).to_have_url(f"/admin/payments/order/{order.pk}/change/")
    expect(page.locator(".messagelist")).to_contain_text("expédiée")
    link = page.get_by_role("link", name="Suivre le colis")
    expect(link).to_have_attribute(
        "href",
        "https://www.mondialrelay.fr/suivi-de-colis/?numeroExpedition=12345678&codePostal=69002",
    )
    page.get_by_role("link", name="Marquer livrée").click()
    expect(page.get_by_text("délai de rétractation de 14 jours")).to_be_visible()
    step(page, "delivery confirmation")
    page.get_by_role("button", name=re.compile("marquer livrée")).click()

    expect(page.locator(".messagelist")).to_contain_text("marquée livrée aujourd'hui")
    order.refresh_from_db()
    assert order.delivered_at is not None
    assert (order.carrier, order.tracking_number) == ("mondial_relay", "12345678")
