"""The buyer's e-mails (SPEC §12): the confirmation is the contract's confirmation on a
durable medium (the order page, the seller, the date, the pieces and totals, shipping, the
right of withdrawal and where to exercise it online, the CGV, the mediator); every e-mail to
the buyer links their order page and answers to SELLER_EMAIL; the sender is named after
SHOP_NAME. Sold through the real webhook, with real signatures."""

import json
from email import message_from_bytes
from email.header import decode_header, make_header

import pytest
from django.core import mail
from django.test import Client

from payments import order_page, outbox, services
from payments.models import Order, OutboxMessage
from payments.tests.after_sale import ADDRESS, mails_to, order_page_links
from products.templatetags.money import euros
from shop.senders import named_sender
from shop.tests.test_deploy import production_env, run_python
from shop.words import paris_day

pytestmark = pytest.mark.django_db(transaction=True)

SELLER = {
    "SELLER_NAME": "Camille Martin EI",
    "SELLER_ADDRESS": "12 rue des Lilas, 75011 Paris",
    "SELLER_SIREN": "123 456 789",
    "SELLER_EMAIL": "bonjour@atelier.example",
    "MEDIATOR_NAME": "Médiateur du e-commerce",
    "MEDIATOR_URL": "https://mediateur.example",
}


@pytest.fixture
def seller(settings):
    for name, value in SELLER.items():
        setattr(settings, name, value)
    return settings


@pytest.fixture
def sold(make_product, make_order, stripe_session, signed_event, post_webhook):
    """An order of two pieces paid through the webhook, with its address."""
    order = make_order(
        products=[
            make_product(name="Lampe « champignon »", price="120.00"),
            make_product(name="Vase bleu", price="45.50"),
        ],
        shipping_cost="8.00",
    )
    session = stripe_session(order)
    session["customer_details"]["email"] = "camille@example.com"
    session["shipping_details"] = {"name": ADDRESS["name"], "address": ADDRESS["address"]}
    session["collected_information"] = {"shipping_details": session["shipping_details"]}
    body, header = signed_event("checkout.session.completed", session)
    assert post_webhook(body, header).status_code == 200
    order.refresh_from_db()
    assert order.status == Order.Status.PAID
    return order


def confirmation_of(order: Order) -> mail.EmailMessage:
    [message] = [m for m in mail.outbox if m.subject.endswith("est confirmée")]
    assert message.to == [order.customer_email]
    return message


def test_the_confirmation_confirms_the_contract_on_a_durable_medium(seller, sold):
    message = confirmation_of(sold)
    text, html = message.body, message.alternatives[0].content

    for body in (text, html):
        # The seller's identity and address.
        for value in ("Camille Martin EI", "12 rue des Lilas, 75011 Paris", "SIREN 123 456 789"):
            assert value in body
        # The date (the payment's), the pieces and totals, the VAT mention, shipping.
        assert f"payée le {paris_day(sold.paid_at)}" in body
        for value in ("Vase bleu", euros("45.50"), euros("120.00"), euros("8.00")):
            assert value in body
        assert euros("173.50") in body
        assert "TVA non applicable, art. 293 B du CGI" in body
        assert "3 rue des Lilas" in body
        assert "69003 Lyon" in body
        assert "France" in body
        # The right of withdrawal: 14 days, where the online function is, with its link.
        assert "pendant 14 jours après avoir reçu votre colis" in body
        assert "« Renoncer au contrat ici »" in body
        assert "https://boutique.test/retractation/" in body
        # The CGV in force, the mediator.
        assert "https://boutique.test/pages/cgv/" in body
        assert "Médiateur du e-commerce" in body
        assert "https://mediateur.example" in body
    assert message.reply_to == ["bonjour@atelier.example"]
    assert order_page_links(message) == {order_page.url_for(sold.reference)}


def test_the_confirmations_link_opens_the_order_page_without_cookies(seller, sold):
    [link] = order_page_links(confirmation_of(sold))
    path = link.removeprefix("https://boutique.test")

    response = Client().get(path)

    assert response.status_code == 200
    assert sold.reference in response.content.decode()
    assert response.cookies == {}
    tampered = path[:-2] + ("x/" if path[-2] != "x" else "y/")
    assert Client().get(tampered).status_code == 404


def test_with_vat_the_totals_say_ttc(seller, settings, sold):
    """The e-mail is rendered when sent: rendered again with VAT, it says TTC."""
    settings.SELLER_VAT_NUMBER = "FR12345678901"
    outbox_row = OutboxMessage.objects.get(key=f"sale:{sold.reference}:buyer")
    body = outbox.build(outbox_row).body
    assert f"Total TTC : {euros('173.50')}" in body
    assert "TVA intracommunautaire FR12345678901" in body
    assert "293 B" not in body


def test_every_email_to_the_buyer_links_the_order_page_and_answers_to_the_seller(seller, sold):
    """Confirmation, shipment, withdrawal acknowledgement, refund: each carries the link."""
    services.ship_order(order_id=sold.pk, carrier="colissimo", tracking_number="6A123456")
    services.withdraw(reference=sold.reference, email=sold.customer_email)
    services.refund_paid_order(order_id=sold.pk, put_back_on_sale=True)

    to_buyer = mails_to(sold.customer_email)
    assert sorted(m.subject.split(" ")[0] for m in to_buyer) == [
        "Accusé",
        "Votre",
        "Votre",
        "Votre",
    ]
    for message in to_buyer:
        assert order_page_links(message) == {order_page.url_for(sold.reference)}, message.subject
        assert message.reply_to == ["bonjour@atelier.example"], message.subject
        assert "Camille Martin EI" in message.body, message.subject


def test_the_sender_is_named_after_the_shop(settings, sold):
    message = confirmation_of(sold)
    assert message.from_email == settings.DEFAULT_FROM_EMAIL == "Boutique <boutique@localhost>"


@pytest.fixture
def accented_sender(settings):
    settings.SHOP_NAME = "Atelier Été"
    settings.DEFAULT_FROM_EMAIL = named_sender("contact@atelier.fr", settings.SHOP_NAME)


def test_an_accented_shop_name_reaches_the_mailbox_encoded(accented_sender, sold):
    """Sent through Django's SMTP message: the From header is RFC 2047 encoded and reads
    back as the shop's name."""
    raw = message_from_bytes(confirmation_of(sold).message().as_bytes())
    assert "Été" not in raw["From"]  # encoded on the wire
    assert str(make_header(decode_header(raw["From"]))) == "Atelier Été <contact@atelier.fr>"


def test_a_bare_sender_address_takes_the_shops_name_and_a_named_one_keeps_its_own():
    assert named_sender("contact@atelier.fr", "Atelier Été") == "Atelier Été <contact@atelier.fr>"
    assert named_sender("contact@atelier.fr", "Chez Jo, Lyon") == (
        '"Chez Jo, Lyon" <contact@atelier.fr>'
    )
    assert named_sender("Ventes <ventes@atelier.fr>", "Atelier") == "Ventes <ventes@atelier.fr>"
    assert named_sender("contact@atelier.fr", "") == "contact@atelier.fr"


@pytest.mark.parametrize(
    ("given", "expected"),
    [
        ({}, "Atelier Été <boutique@localhost>"),
        ({"DEFAULT_FROM_EMAIL": "contact@atelier.fr"}, "Atelier Été <contact@atelier.fr>"),
        ({"DEFAULT_FROM_EMAIL": "Ventes <v@atelier.fr>"}, "Ventes <v@atelier.fr>"),
    ],
)
def test_the_settings_name_the_sender_after_shop_name(tmp_path, given, expected):
    env = production_env(tmp_path, SHOP_NAME="Atelier Été")
    env.pop("DEFAULT_FROM_EMAIL", None)
    env.update(given)
    result = run_python(
        "import json; from django.conf import settings; "
        "print(json.dumps([settings.DEFAULT_FROM_EMAIL, settings.SERVER_EMAIL]))",
        env,
    )
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout.strip().splitlines()[-1]) == [expected, expected]
