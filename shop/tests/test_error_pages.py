"""French error pages in the shop's look: 404, 500, CSRF 403."""

from decimal import Decimal

import pytest
from django.template import loader
from django.test import Client

from products.models import Product


def test_a_missing_page_is_the_shops_french_404(client, db):
    """404 with the shop's header, a French explanation and the way back to the catalogue."""
    response = client.get("/produits/nexiste-pas/")

    html = response.content.decode()
    assert response.status_code == 404
    assert "Page introuvable" in html
    assert 'class="site-header"' in html
    assert 'href="/"' in html


@pytest.mark.urls("shop.tests.urls_errors")
def test_a_server_error_is_the_shops_french_500(db):
    """An unhandled error answers 500 with the shop's French page, not Django's bare one."""
    client = Client(raise_request_exception=False)
    response = client.get("/boom/")

    html = response.content.decode()
    assert response.status_code == 500
    assert "Un problème est survenu" in html
    assert 'class="site-header"' in html


def test_the_500_page_needs_neither_request_nor_database(django_assert_num_queries, db):
    """It renders bare, as Django's server_error view does, without one query: it must show
    even when the database is what failed."""
    with django_assert_num_queries(0):
        html = loader.get_template("500.html").render()

    assert "Un problème est survenu" in html
    assert "Retour au catalogue" in html


def test_a_refused_form_is_the_shops_french_csrf_page(db):
    """A form posted without its CSRF token: 403 with a French page saying what to do."""
    product = Product.objects.create(
        name="Vase", slug="vase", description="", price=Decimal("10.00")
    )
    client = Client(enforce_csrf_checks=True)
    response = client.post(f"/panier/ajouter/{product.pk}/")

    html = response.content.decode()
    assert response.status_code == 403
    assert "Ce formulaire a expiré" in html
    assert "rechargez la page" in html
    assert 'class="site-header"' in html
