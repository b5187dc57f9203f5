"""Cached pages are never stale and never show one visitor's parts to another
(products/page_cache.py, docs/decisions/0007-stock-version-and-caches.md).

Each way a status changes is seen by the very next request of the catalogue and of the
product page, committing for real as production does. With the default per-process cache
pages are not cached and these tests check the plain pages; with TEST_CACHE_URL=redis://...
(CI, .ci/run) the page cache is on, and the tests that only make sense with it run too.
"""

import io
import time
from datetime import timedelta

import pytest
from django.conf import settings
from django.contrib.flatpages.models import FlatPage
from django.contrib.sessions.models import Session
from django.core.cache import cache
from django.core.files.base import ContentFile
from django.db.models import DateTimeField, ExpressionWrapper
from django.db.models.functions import Now
from django.test import Client
from django.urls import reverse
from PIL import Image

from payments import services
from products import page_cache, stock_version
from products.models import Category, Product, ProductImage
from products.tests.markup import stock_blocks, stock_statuses
from products.tests.test_stock_freshness import (
    NO_MORE_PHOTOS,
    open_order,
    send_event,
    session_of,
)

pytestmark = pytest.mark.django_db(transaction=True)


def kept() -> set[bytes]:
    """The keys of the pages in the cache (Redis)."""
    redis = cache._cache.get_client(None)
    return set(redis.keys(cache.make_key(f"{page_cache.KEY_PREFIX}:*")))


def cached() -> bool:
    return stock_version.shared()


def page(client: Client, url: str, **params: str) -> str:
    response = client.get(url, params)
    assert response.status_code == 200, response.status_code
    return response.content.decode()


def statuses(client: Client, product: Product) -> tuple[str, str]:
    """The piece's status on the catalogue and on its own page."""
    on_catalogue = stock_statuses(page(client, "/"))[product.pk]
    on_its_page = stock_statuses(page(client, product.get_absolute_url()))[product.pk]
    return on_catalogue, on_its_page


def test_the_page_cache_is_on_with_a_shared_cache_only(client, pieces):
    import os

    assert cached() == bool(os.environ.get("TEST_CACHE_URL"))
    page(client, "/")
    if cached():
        assert kept()
    else:
        assert stock_version.current() is None


def test_a_hold_is_seen_by_the_next_page(client, pieces):
    assert statuses(client, pieces[0]) == ("available", "available")

    open_order(pieces[0])

    assert statuses(client, pieces[0]) == ("reserved", "reserved")


def test_a_sale_by_the_webhook_is_seen_by_the_next_page(client, pieces):
    order = open_order(pieces[1])
    assert statuses(client, pieces[1]) == ("reserved", "reserved")

    send_event(
        "checkout.session.completed",
        session_of(order, status="complete", payment_status="paid", payment_intent="pi_page"),
    )

    assert statuses(client, pieces[1]) == ("sold", "sold")
    assert statuses(client, pieces[0]) == ("available", "available")


def test_an_expired_session_is_seen_by_the_next_page(client, pieces):
    order = open_order(pieces[2])
    assert statuses(client, pieces[2]) == ("reserved", "reserved")

    send_event("checkout.session.expired", session_of(order, status="expired"))

    assert statuses(client, pieces[2]) == ("available", "available")


def test_a_cancelled_checkout_is_seen_by_the_next_page(client, pieces, settings):
    settings.STRIPE_API_BASE = "http://127.0.0.1:9"  # the session's expiry may fail: no matter
    order = open_order(pieces[0])
    assert statuses(client, pieces[0]) == ("reserved", "reserved")

    services.cancel_order(order_id=order.pk)

    assert statuses(client, pieces[0]) == ("available", "available")


def test_a_lapsing_hold_is_seen_by_the_next_page_without_any_write(client, pieces):
    open_order(pieces[0], until=ExpressionWrapper(Now() + timedelta(seconds=2), DateTimeField()))
    assert statuses(client, pieces[0]) == ("reserved", "reserved")
    assert statuses(client, pieces[0]) == ("reserved", "reserved")  # cached, still right

    lapse = Product.objects.get(pk=pieces[0].pk).held_until
    while time.time() < lapse.timestamp() + 0.05:
        time.sleep(0.05)

    assert statuses(client, pieces[0]) == ("available", "available")


def test_the_owners_actions_are_seen_by_the_next_page(client, pieces, staff_user):
    owner = Client()
    owner.force_login(staff_user)
    changelist = reverse("admin:products_product_changelist")
    assert statuses(client, pieces[0]) == ("available", "available")

    owner.post(changelist, {"action": "withdraw_from_sale", "_selected_action": [pieces[0].pk]})
    assert statuses(client, pieces[0]) == ("sold", "sold")

    owner.post(changelist, {"action": "put_back_on_sale", "_selected_action": [pieces[0].pk]})
    assert statuses(client, pieces[0]) == ("available", "available")


def test_the_owners_change_form_is_seen_by_the_next_page(client, pieces, staff_user):
    owner = Client()
    owner.force_login(staff_user)
    product = pieces[1]
    change = reverse("admin:products_product_change", args=[product.pk])
    form = {
        "name": product.name,
        "slug": product.slug,
        "price": "100.00",
        "description": "",
        **NO_MORE_PHOTOS,
    }
    assert statuses(client, product) == ("available", "available")

    assert owner.post(change, form).status_code == 302  # "en stock" unticked
    assert statuses(client, product) == ("sold", "sold")

    renamed = {**form, "name": "Lampe renommée", "price": "150.00", "in_stock": "on"}
    assert owner.post(change, renamed).status_code == 302
    catalogue = page(client, "/")
    assert "Lampe renommée" in catalogue
    assert "150,00" in catalogue
    assert "Lampe renommée" in page(client, product.get_absolute_url())


def test_a_write_outside_the_services_is_seen_by_the_next_page(client, pieces):
    statuses(client, pieces[2])
    Product.objects.filter(pk=pieces[2].pk).update(in_stock=False)
    assert statuses(client, pieces[2]) == ("sold", "sold")


def _jpeg() -> ContentFile:
    buffer = io.BytesIO()
    Image.new("RGB", (40, 40), "#efe9df").save(buffer, "JPEG")
    return ContentFile(buffer.getvalue())


def test_photos_added_and_removed_are_seen_by_the_next_page(client, pieces):
    product = pieces[0]
    url = product.get_absolute_url()
    assert "Le dos de la pièce" not in page(client, url)

    photo = ProductImage(product=product, alt="Le dos de la pièce")
    photo.image.save("dos.jpg", _jpeg(), save=False)
    photo.save()
    assert "Le dos de la pièce" in page(client, url)

    photo.alt = "Le dessous de la pièce"
    photo.save()
    assert "Le dessous de la pièce" in page(client, url)

    photo.delete()
    assert "Le dessous de la pièce" not in page(client, url)


def test_categories_edited_are_seen_by_the_next_page(client, pieces):
    category = Category.objects.create(name="Luminaires", slug="luminaires")
    Product.objects.filter(pk=pieces[0].pk).update(category=category)
    assert "Luminaires" in page(client, "/")
    assert "Luminaires" in page(client, pieces[0].get_absolute_url())
    assert "Luminaires" in page(client, "/categories/luminaires/")

    category.name = "Lampes"
    category.save()
    assert "Lampes" in page(client, "/")
    assert "Lampes" in page(client, pieces[0].get_absolute_url())
    assert "Lampes" in page(client, "/categories/luminaires/")

    category.delete()
    assert "Lampes" not in page(client, "/")
    assert "Lampes" not in page(client, pieces[0].get_absolute_url())
    assert client.get("/categories/luminaires/").status_code == 404


def test_the_owners_pages_are_seen_in_the_next_pages_footer(client, pieces, staff_user):
    """The footer lists the owner's pages: a page added, renamed or deleted in the admin shows
    in the next catalogue and product page, cached or not."""
    assert "À propos" not in page(client, "/")
    assert "À propos" not in page(client, pieces[0].get_absolute_url())
    staff_user.is_superuser = True
    staff_user.save()
    owner = Client()
    owner.force_login(staff_user)

    added = owner.post(
        reverse("admin:flatpages_flatpage_add"),
        {"title": "À propos", "slug": "a-propos", "content": "Notre atelier."},
    )
    assert added.status_code == 302
    for url in ("/", pieces[0].get_absolute_url()):
        assert '<a href="/pages/a-propos/">À propos</a>' in page(client, url)

    flatpage = FlatPage.objects.get(url="/pages/a-propos/")
    owner.post(
        reverse("admin:flatpages_flatpage_change", args=[flatpage.pk]),
        {"title": "L'atelier", "slug": "a-propos", "content": "Notre atelier."},
    )
    assert '<a href="/pages/a-propos/">L&#x27;atelier</a>' in page(client, "/")

    owner.post(reverse("admin:flatpages_flatpage_delete", args=[flatpage.pk]), {"post": "yes"})
    for url in ("/", pieces[0].get_absolute_url()):
        assert "/pages/a-propos/" not in page(client, url)


# Per-visitor parts


def _add_to_cart(client: Client, product: Product) -> None:
    """Through the page's own form, with its CSRF token: the token must be valid."""
    markup = page(client, product.get_absolute_url())
    [block] = stock_blocks(markup)
    fields = {i["name"]: i.get("value", "") for i in block.inputs}
    response = client.post(reverse("cart:add", args=[product.pk]), fields)
    assert response.status_code == 302, response.status_code


def _token(markup: str) -> str:
    tokens = {
        i["value"]
        for block in stock_blocks(markup)
        for i in block.inputs
        if i["name"] == "csrfmiddlewaretoken"
    }
    assert len(tokens) == 1
    return tokens.pop()


def test_no_visitor_sees_anothers_cart_count_or_csrf_token(pieces):
    alice = Client(enforce_csrf_checks=True)
    bob = Client(enforce_csrf_checks=True)
    _add_to_cart(alice, pieces[0])
    _add_to_cart(alice, pieces[1])
    page(alice, "/")  # the messages of the additions are shown, and consumed

    for url in ("/", pieces[2].get_absolute_url(), "/?page=1&utm_source=x"):
        alices = page(alice, url)
        bobs = page(bob, url)
        assert 'class="cart-count">2</span><span class="visually-hidden"> pièces<' in alices
        assert 'class="cart-count">0</span><span class="visually-hidden"> pièce<' in bobs
        assert "Ajouté au panier" not in bobs
        alice_token, bob_token = _token(alices), _token(bobs)
        assert alice_token != bob_token
        assert alice_token not in bobs
        assert bob_token not in alices
        assert "pccsrf" not in alices + bobs
        assert "pccart" not in alices + bobs

    # Bob's token is his own: his form works with his cookie.
    _add_to_cart(bob, pieces[2])
    assert 'class="cart-count">1</span><span class="visually-hidden"> pièce<' in page(bob, "/")


def test_the_next_field_is_the_visitors_own_url(client, pieces):
    page(client, "/", q="pièce", utm_source="a")  # filled for one visitor...
    markup = page(client, "/", q="pièce", utm_source="b")  # ...then served to another

    for block in stock_blocks(markup):
        [next_field] = [i for i in block.inputs if i["name"] == "next"]
        assert next_field["value"] == "/?q=pi%C3%A8ce&utm_source=b"


def test_a_first_visit_creates_no_session_and_gets_its_csrf_cookie(pieces):
    visitor = Client()
    for url in ("/", "/", pieces[0].get_absolute_url(), pieces[0].get_absolute_url()):
        response = visitor.get(url)
        assert response.status_code == 200
        assert settings.SESSION_COOKIE_NAME not in response.cookies
        assert "Cookie" in response["Vary"]
    assert Session.objects.count() == 0
    assert visitor.cookies[settings.CSRF_COOKIE_NAME].value


def test_messages_are_shown_to_their_visitor_with_the_cache_on(client, pieces):
    page(client, pieces[0].get_absolute_url())  # cached, if the cache is on
    _add_to_cart(client, pieces[0])

    assert "Ajouté au panier" in page(client, pieces[0].get_absolute_url())
    assert "Ajouté au panier" not in page(client, pieces[0].get_absolute_url())


# What is kept


def test_a_cached_page_runs_no_query(client, pieces, django_assert_num_queries):
    if not cached():
        pytest.skip("no shared cache: pages are rendered for each request")
    for url in ("/", "/?tri=prix&page=1", pieces[0].get_absolute_url()):
        page(client, url)
        with django_assert_num_queries(0):
            page(client, url)


def test_junk_parameters_share_the_pages_entry(client, pieces):
    if not cached():
        pytest.skip("no shared cache: nothing is kept")
    page(client, "/", tri="prix")
    before = kept()

    page(client, "/", tri="prix", utm_source="x", fbclid="y")
    page(client, "/", tri="prix", page="1", vendues="n'importe-quoi")
    page(client, "/", tri="prix", page="abc")  # not a number: the first page, its entry
    assert client.get("/", {"tri": "prix", "page": "999"}).status_code == 404  # never kept

    assert kept() == before


def test_searches_are_not_kept_whatever_visitors_type(client, pieces):
    """SPEC §13: nothing a visitor types grows the cache; each search is rendered."""
    if not cached():
        pytest.skip("no shared cache: nothing is kept")
    page(client, "/")
    before = kept()

    for n in range(30):
        markup = page(client, "/", q=f"pièce {n}")
        assert "pièce" in markup

    assert kept() == before


def test_a_404_is_never_kept(client, pieces):
    assert client.get("/produits/introuvable/").status_code == 404
    assert client.get("/categories/introuvable/").status_code == 404
    if cached():
        assert not kept()

    created = Category.objects.create(name="Introuvable", slug="introuvable")
    assert client.get("/categories/introuvable/").status_code == 200
    created.delete()
    assert client.get("/categories/introuvable/").status_code == 404


def test_no_order_page_is_ever_kept_and_no_buyer_shows_in_a_kept_page(client, pieces):
    """The buyer's order page and the withdrawal form are never in the page cache (nor in any
    HTTP cache: no-store); the footer's « Renoncer au contrat ici », in every kept page, is
    the same for everyone, and nothing of a buyer who visited their order reaches a page kept
    for everyone."""
    from decimal import Decimal

    from payments import order_page
    from payments.models import Order, OrderItem

    order = Order.objects.create(
        status=Order.Status.PAID,
        total=Decimal("100.00"),
        items_total=Decimal("100.00"),
        customer_email="camille.secret@example.com",
        paid_at=pieces[0].created_at,
    )
    OrderItem.objects.create(order=order, product=pieces[1], name="Pièce du client", price=1)
    token = order_page.token_for(order.reference)
    page(client, "/")
    page(client, pieces[0].get_absolute_url())
    before = kept() if cached() else set()

    buyer = Client()
    for path in (order_page.path_for(order.reference), f"/retractation/?commande={token}"):
        for _ in range(2):
            response = buyer.get(path)
            assert response.status_code == 200
            assert "no-store" in response["Cache-Control"]
            assert order.reference in response.content.decode()
    posted = buyer.post(
        "/retractation/", {"reference": order.reference, "email": order.customer_email}
    )
    assert posted.status_code == 200
    assert "no-store" in posted["Cache-Control"]

    if cached():
        assert kept() == before
    for visitor in (buyer, Client()):
        for url in ("/", pieces[0].get_absolute_url()):
            html = page(visitor, url)
            assert '<a class="footer-links__withdrawal" href="/retractation/">' in html
            for secret in (order.reference, token, "camille.secret", "commande="):
                assert secret not in html, (url, secret)
