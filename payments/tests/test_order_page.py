"""The buyer's order page, /suivi/<token>/ (SPEC §12): opened from an e-mail's link with no
cookie, a tampered token is a 404, its status in French through the order's whole life, the
withdrawal button while the period is open, never kept by a cache or a search engine. And the
thank-you page, which links to it and says where the order is now."""

import re
from datetime import timedelta

import pytest
from django.core import signing
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from payments import order_page, services, withdrawal_period
from payments.models import Order, OutboxMessage
from payments.services.checkout import CANCEL_SALT
from payments.tests.after_sale import paid_order
from products.templatetags.money import euros
from shop.words import day_in_words, paris_day

pytestmark = pytest.mark.django_db

WITHDRAW = "Renoncer au contrat ici"


@pytest.fixture
def order(make_product, make_order):
    return paid_order(make_product, make_order)


def page_of(order: Order, client: Client | None = None) -> str:
    response = (client or Client()).get(order_page.path_for(order.reference))
    assert response.status_code == 200, response.status_code
    return response.content.decode()


def buyer_status(html: str) -> str:
    return re.search(r"data-buyer-status>([^<]*)<", html).group(1)


def test_the_page_opens_without_any_cookie_and_sets_none(order):
    """As from an e-mail, in a browser that never visited the shop: no session, no CSRF
    cookie needed or set, and the page is the order's."""
    response = Client().get(order_page.path_for(order.reference))

    assert response.status_code == 200
    assert response.cookies == {}
    page = response.content.decode()
    assert f"Commande {order.reference}" in page
    assert "Lampe « champignon »" in page


def test_a_tampered_or_foreign_token_is_a_404(order, make_product, make_order):
    token = order_page.token_for(order.reference)
    reference, signature = token.split(":")
    other = paid_order(make_product, make_order)
    tampered = [
        f"{reference}:{signature[:-1]}{'A' if signature[-1] != 'A' else 'B'}",
        f"{other.reference}:{signature}",  # another order's reference, this signature
        reference,  # the reference alone
        signing.dumps(order.reference, salt=CANCEL_SALT),  # signed, for another purpose
        signing.Signer().sign(order.reference),  # signed without the page's salt
        "x" * 300,
    ]
    for bad in tampered:
        response = Client().get(reverse("payments:order-page", args=[bad]))
        assert response.status_code == 404, bad
        assert "Page introuvable" in response.content.decode()
        assert order.reference not in response.content.decode()
    missing = order_page.token_for("B-NOTHING1")  # well signed, no such order
    assert Client().get(reverse("payments:order-page", args=[missing])).status_code == 404


def test_the_page_is_kept_by_no_cache_and_no_search_engine(order):
    response = Client().get(order_page.path_for(order.reference))

    assert "no-store" in response["Cache-Control"]
    assert "private" in response["Cache-Control"]
    assert response["X-Robots-Tag"] == "noindex, nofollow"
    assert '<meta name="robots" content="noindex, nofollow">' in response.content.decode()


def test_a_paid_order_shows_its_pieces_address_totals_and_the_withdrawal_button(order):
    page = page_of(order)

    assert buyer_status(page) == "Payée"
    assert f"payée le {paris_day(order.paid_at)}" in page
    for line in ("Lampe « champignon »", euros("120.00"), "Vase bleu", euros("45.50")):
        assert line in page
    assert euros("8.00") in page
    assert euros("173.50") in page
    assert "TVA non applicable, art. 293 B du CGI" in page
    assert "Camille Martin" in page
    assert "3 rue des Lilas" in page
    assert "France" in page
    button = f"{reverse('payments:withdrawal')}?commande={order_page.token_for(order.reference)}"
    assert f'href="{button}"' in page.replace("%3A", ":")
    assert WITHDRAW in page


def test_with_vat_the_total_says_ttc_and_not_the_franchise(order, settings):
    settings.SELLER_VAT_NUMBER = "FR12345678901"
    page = page_of(order)
    assert "Total TTC" in page
    assert "293 B" not in page


def test_a_shipped_order_shows_the_carrier_and_a_working_tracking_link(order):
    services.ship_order(order_id=order.pk, carrier="colissimo", tracking_number="6A12345678901")
    order.refresh_from_db()
    page = page_of(order)

    assert buyer_status(page) == "Expédiée"
    assert "par Colissimo" in page
    assert "6A12345678901" in page
    assert (
        'href="https://www.laposte.fr/outils/suivre-vos-envois?code=6A12345678901" '
        'rel="noreferrer noopener" data-tracking-link' in page
    )
    # Delivery presumed 7 days after shipment, then 14 days (carried past a weekend or holiday).
    last = withdrawal_period.last_day(shipped_at=order.shipped_at, delivered_at=None, days=14)
    assert last >= withdrawal_period.paris_day(order.shipped_at) + timedelta(days=21)
    assert f"sans donner de motif jusqu'au {day_in_words(last)} inclus" in page
    assert WITHDRAW in page


def test_the_status_follows_the_order_through_its_whole_life(order, make_product, make_order):
    now = timezone.now()
    Order.objects.filter(pk=order.pk).update(shipped_at=now - timedelta(days=2))
    assert buyer_status(page_of(order)) == "Expédiée"
    Order.objects.filter(pk=order.pk).update(delivered_at=now - timedelta(days=1))
    page = page_of(order)
    assert buyer_status(page) == "Livrée"
    assert WITHDRAW in page

    services.withdraw(reference=order.reference, email=order.customer_email)
    page = page_of(order)
    assert buyer_status(page) == "Rétractation reçue"
    assert WITHDRAW not in page.split("</main>")[0]  # the footer keeps its link, the page none
    assert "Votre déclaration, telle que nous l'avons enregistrée" in page
    assert "data-declaration" in page
    assert "Nous vous rembourserons au plus tard le" in page

    services.refund_paid_order(order_id=order.pk, put_back_on_sale=False)
    page = page_of(order)
    assert buyer_status(page) == "Remboursée"
    assert f"Vous avez été remboursé de {euros('173.50')}" in page

    waiting = make_order(products=[make_product()], status=Order.Status.PROCESSING)
    assert buyer_status(page_of(waiting)) == "En attente de paiement"
    given_up = make_order(products=[make_product()], status=Order.Status.EXPIRED, hold=False)
    assert buyer_status(page_of(given_up)) == "Non aboutie (aucun paiement)"


def test_a_partial_refund_reads_as_one(order, monkeypatch):
    """The page reads what was refunded from one selector (partial refunds sum there)."""
    from decimal import Decimal

    from payments import selectors

    monkeypatch.setattr(selectors, "refunded_amount", lambda order: Decimal("45.50"))
    page = page_of(order)
    assert buyer_status(page) == "Remboursée partiellement"
    assert f"remboursé de {euros('45.50')} sur {euros('173.50')}" in page
    assert WITHDRAW in page.split("</main>")[0]  # the contract, and the right, still stand


def test_once_the_period_is_over_the_button_is_gone_and_the_page_says_when_it_ended(order):
    Order.objects.filter(pk=order.pk).update(
        shipped_at=timezone.now() - timedelta(days=40),
        delivered_at=timezone.now() - timedelta(days=35),
    )
    page = page_of(order).split("</main>")[0]
    assert WITHDRAW not in page
    assert "Le délai de rétractation a pris fin le" in page


def test_the_thank_you_page_links_the_order_page_and_says_where_the_order_is(order):
    thanks = reverse("payments:thanks") + f"?session_id={order.stripe_session_id}"
    page = Client().get(thanks).content.decode()
    assert f'href="{order_page.path_for(order.reference)}"' in page
    assert "e-mail de confirmation" not in page  # none was queued for this order

    OutboxMessage.objects.create(
        key=f"sale:{order.reference}:buyer", to=[order.customer_email], subject="s", template="t"
    )
    assert (
        f"Un e-mail de confirmation part à {order.customer_email}"
        in Client().get(thanks).content.decode()
    )
    OutboxMessage.objects.filter(order=None).update(status=OutboxMessage.Status.SENT)
    services.ship_order(order_id=order.pk, carrier="colissimo", tracking_number="6A123456")
    page = Client().get(thanks).content.decode()
    assert "Elle est partie le" in page
    assert "par Colissimo" in page
    assert f"Un e-mail de confirmation vous a été envoyé à {order.customer_email}" in page
    assert "part à" not in page
