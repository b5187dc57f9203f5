"""Shipping at checkout: the rate decided at Commander, the address and phone Checkout
collects, the amount check on pieces + shipping, and the e-mails that carry them."""

import importlib
from decimal import Decimal
from typing import Any

import pytest
from django.core import mail
from django.test import Client
from django.urls import reverse

from payments import stripe_client
from payments.models import Order
from payments.offline.forms import DEFAULT_ADDRESS, DEFAULT_NAME, DEFAULT_PHONE
from payments.offline.testing import submit_hosted_page
from payments.pricing import shipping_cost_for

NBSP = "\N{NO-BREAK SPACE}"

pytestmark = pytest.mark.django_db


@pytest.fixture
def shipping(settings):
    settings.SHIPPING_COUNTRIES = ["FR", "BE"]
    settings.SHIPPING_FLAT_EUR = Decimal("8.00")
    settings.SHIPPING_FREE_ABOVE_EUR = Decimal("150.00")
    return settings


@pytest.fixture
def create_calls(monkeypatch) -> list[dict[str, Any]]:
    """The parameters of every Checkout Session the shop creates (the call still goes to
    the offline server over HTTP)."""
    calls: list[dict[str, Any]] = []
    create = stripe_client.create_checkout_session

    def recording(params, *, idempotency_key):
        calls.append(params)
        return create(params, idempotency_key=idempotency_key)

    monkeypatch.setattr(stripe_client, "create_checkout_session", recording)
    return calls


def commander(*products) -> tuple[Client, Order]:
    client = Client()
    for product in products:
        client.post(reverse("cart:add", args=[product.pk]))
    response = client.post(reverse("payments:checkout"), {"cgv": "on"})
    assert response.status_code == 303
    return client, Order.objects.get()


@pytest.mark.parametrize(
    ("flat", "free_above", "items", "expected"),
    [
        ("8.00", "150.00", "149.99", "8.00"),
        ("8.00", "150.00", "150.00", "0.00"),
        ("8.00", "0.00", "5000.00", "8.00"),  # 0: never free by amount
        ("0.00", "150.00", "20.00", "0.00"),  # 0: always free
    ],
)
def test_shipping_cost_follows_the_settings(settings, flat, free_above, items, expected):
    settings.SHIPPING_FLAT_EUR = Decimal(flat)
    settings.SHIPPING_FREE_ABOVE_EUR = Decimal(free_above)
    assert shipping_cost_for(Decimal(items)) == Decimal(expected)


@pytest.mark.django_db(transaction=True)
def test_the_checkout_session_collects_the_address_and_phone_and_carries_the_flat_rate(
    stripe_server, shipping, make_product, create_calls
):
    """Commander decides shipping from the settings: the order's money is split, and the
    create call asks Checkout for the address (allowed countries), the phone and one inline
    fixed-amount rate, which Stripe adds to the total."""
    piece = make_product(name="Vase bleu", price="45.00")

    _, order = commander(piece)

    assert (order.items_total, order.shipping_cost, order.total) == (
        Decimal("45.00"),
        Decimal("8.00"),
        Decimal("53.00"),
    )
    [params] = create_calls
    assert params["shipping_address_collection"] == {"allowed_countries": ["FR", "BE"]}
    assert params["phone_number_collection"] == {"enabled": True}
    assert params["shipping_options"] == [
        {
            "shipping_rate_data": {
                "type": "fixed_amount",
                "fixed_amount": {"amount": 800, "currency": "eur"},
                "display_name": "Livraison",
            }
        }
    ]
    assert params["line_items"][0]["price_data"]["unit_amount"] == 4500
    session = stripe_client.retrieve_checkout_session(order.stripe_session_id)
    assert session["amount_total"] == order.total_cents == 5300
    assert session["shipping_cost"]["amount_total"] == 800
    assert session["total_details"]["amount_shipping"] == 800


@pytest.mark.django_db(transaction=True)
def test_shipping_is_free_from_the_threshold(stripe_server, shipping, make_product, create_calls):
    """Pieces worth SHIPPING_FREE_ABOVE_EUR ship free: the one option says so, at 0 €."""
    _, order = commander(make_product(price="100.00"), make_product(price="50.00"))

    assert (order.items_total, order.shipping_cost, order.total) == (
        Decimal("150.00"),
        Decimal("0.00"),
        Decimal("150.00"),
    )
    [params] = create_calls
    assert params["shipping_options"][0]["shipping_rate_data"]["display_name"] == (
        "Livraison offerte"
    )
    assert params["shipping_options"][0]["shipping_rate_data"]["fixed_amount"]["amount"] == 0
    session = stripe_client.retrieve_checkout_session(order.stripe_session_id)
    assert session["amount_total"] == 15000


def test_the_cart_shows_the_shipping_line(client, shipping, make_product):
    client.post(reverse("cart:add", args=[make_product(price="45.00").pk]))

    page = client.get(reverse("cart:detail")).content.decode()

    assert f'Livraison : <span class="price">8,00{NBSP}€</span>' in page
    assert f"offerte dès 150,00{NBSP}€" in page
    assert f'Total : <strong class="price">53,00{NBSP}€</strong>' in page


@pytest.mark.django_db(transaction=True)
def test_a_paid_checkout_with_shipping_is_a_clean_sale_with_the_address(
    stripe_server, shipping, make_product
):
    """The whole path over HTTP: Commander, the simulated Checkout page collecting its
    prefilled address and phone, the signed webhook. Stripe's amount (pieces + shipping)
    equals the order's total: the piece is sold, the address and phone are on the order,
    the thank-you page and both e-mails show them, the country by its French name."""
    piece = make_product(name="Lampe laiton", price="45.00")
    client, order = commander(piece)

    page = Client().get(order.checkout_url).content.decode()
    assert f'value="{DEFAULT_ADDRESS["line1"]}"' in page
    assert 'name="phone"' in page
    assert "Livraison" in page
    response = submit_hosted_page(order.checkout_url)
    assert response.status_code == 303

    order.refresh_from_db()
    assert order.status == Order.Status.PAID
    assert order.amount_received == order.total == Decimal("53.00")
    assert order.shipping_address == {
        "name": DEFAULT_NAME,
        "address": {
            "line1": DEFAULT_ADDRESS["line1"],
            "line2": "",
            "postal_code": DEFAULT_ADDRESS["postal_code"],
            "city": DEFAULT_ADDRESS["city"],
            "state": "",
            "country": "FR",
        },
        "phone": DEFAULT_PHONE,
    }
    piece.refresh_from_db()
    assert not piece.in_stock
    thanks = client.get(response.headers["Location"]).content.decode()
    assert "Paiement confirmé" in thanks
    assert f"8,00{NBSP}€" in thanks
    assert DEFAULT_ADDRESS["line1"] in thanks
    assert "France" in thanks

    buyer, owner = sorted(mail.outbox, key=lambda m: m.to[0] != "client@example.com")
    assert buyer.subject == f"Votre commande {order.reference} est confirmée"
    assert f"Livraison : 8,00{NBSP}€" in buyer.body
    assert f"Total : 53,00{NBSP}€" in buyer.body
    assert DEFAULT_ADDRESS["line1"] in buyer.body
    assert "France" in buyer.body
    assert "\nFR" not in buyer.body
    [(html, kind)] = buyer.alternatives
    assert kind == "text/html"
    assert DEFAULT_ADDRESS["line1"] in html
    assert "Boutique" in buyer.body
    assert owner.subject == f"Pièce vendue : commande {order.reference}"
    assert "Lampe laiton" in owner.body
    assert f"Tél. {DEFAULT_PHONE}" in owner.body
    assert "France" in owner.body
    assert reverse("admin:payments_order_packing_slip", args=[order.pk]) in owner.body


def test_an_amount_without_the_shipping_is_refunded(
    make_product,
    make_order,
    stripe_session,
    signed_event,
    post_webhook,
    django_capture_on_commit_callbacks,
):
    """Stripe reporting the pieces alone, when the order also charges shipping, is not the
    sale the shop decided: amount_mismatch, refunded, the piece back on sale."""
    piece = make_product(price="45.00")
    order = make_order(products=[piece], shipping_cost="8.00")
    session = stripe_session(order, amount_total=4500)

    with django_capture_on_commit_callbacks(execute=True):
        response = post_webhook(*signed_event("checkout.session.completed", session))

    assert response.status_code == 200
    order.refresh_from_db()
    assert (order.status, order.refund_reason) == (Order.Status.REFUNDED, "amount_mismatch")
    assert order.amount_received == Decimal("45.00")
    assert Order.objects.get(pk=order.pk).total == Decimal("53.00")
    piece.refresh_from_db()
    assert piece.in_stock
    assert piece.held_by is None


def test_the_address_from_an_older_api_version_and_the_phone_reach_the_order(
    make_product, make_order, stripe_session, signed_event, post_webhook
):
    """Older API versions put the address in `shipping_details`; the phone is always in
    `customer_details`. A paid session with shipping is a clean sale."""
    order = make_order(products=[make_product(price="45.00")], shipping_cost="8.00")
    session = stripe_session(
        order,
        collected_information=None,
        shipping_details={
            "name": "Inès Petit",
            "address": {"line1": "1 quai Rambaud", "postal_code": "69002", "city": "Lyon"},
        },
        customer_details={"email": "ines@example.com", "phone": "+33 4 00 00 00 00"},
    )

    post_webhook(*signed_event("checkout.session.completed", session))

    order.refresh_from_db()
    assert order.status == Order.Status.PAID
    assert order.shipping_address["name"] == "Inès Petit"
    assert order.shipping_address["address"]["city"] == "Lyon"
    assert order.shipping_address["address"]["country"] == ""
    assert order.shipping_address["phone"] == "+33 4 00 00 00 00"


def test_a_later_event_brings_the_address_a_payment_intent_lacked(
    make_product, make_order, stripe_session, stripe_intent, signed_event, post_webhook
):
    """payment_intent.succeeded may arrive first, without the address: the session's event
    that follows completes the order."""
    order = make_order(products=[make_product(price="45.00")], shipping_cost="8.00")

    post_webhook(*signed_event("payment_intent.succeeded", stripe_intent(order)))
    order.refresh_from_db()
    assert (order.status, order.shipping_address) == (Order.Status.PAID, None)

    post_webhook(*signed_event("checkout.session.completed", stripe_session(order)))
    order.refresh_from_db()
    assert order.shipping_address["address"]["line1"] == "3 rue des Lilas"


def test_orders_from_before_shipping_keep_their_total_as_items_total(make_product):
    """The migration's data step: once the new columns exist (at their defaults), an order
    of the pieces alone gets items_total = total and no shipping."""
    from django.apps import apps

    migration = importlib.import_module("payments.migrations.0004_order_shipping")
    earlier = Order.objects.create(total=Decimal("120.00"))
    assert (earlier.items_total, earlier.shipping_cost) == (Decimal("0.00"), Decimal("0.00"))

    migration.items_total_of_earlier_orders(apps, None)

    earlier.refresh_from_db()
    assert (earlier.items_total, earlier.shipping_cost, earlier.total) == (
        Decimal("120.00"),
        Decimal("0.00"),
        Decimal("120.00"),
    )
