"""The catalogue and the product page, through the real URL conf, middleware and templates."""

from datetime import timedelta

import pytest
from django.core.cache import cache
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from cart.cart import Cart
from products.models import Category, Product, ProductImage
from products.pages import FOOTER_KEY, footer_pages
from products.tests.markup import stock_blocks, stock_statuses

NBSP = "\N{NO-BREAK SPACE}"


def _catalogue(client: Client, **params: str) -> str:
    response = client.get(reverse("products:list"), params)
    assert response.status_code == 200
    return response.content.decode()


def _set_created_at(product: Product, *, minutes_ago: int) -> None:
    Product.objects.filter(pk=product.pk).update(
        created_at=timezone.now() - timedelta(minutes=minutes_ago)
    )


# Status markers


def test_catalogue_marks_each_piece_with_its_global_status(client, make_product):
    """Every piece carries data-product-id and the status the database computes."""
    now = timezone.now()
    available = make_product()
    reserved = make_product(held_until=now + timedelta(minutes=10))
    hold_over = make_product(held_until=now - timedelta(seconds=1))
    sold = make_product(in_stock=False)
    sold_while_held = make_product(in_stock=False, held_until=now + timedelta(minutes=10))

    statuses = stock_statuses(_catalogue(client))

    assert statuses == {
        available.pk: "available",
        reserved.pk: "reserved",
        hold_over.pk: "available",
        sold.pk: "sold",
        sold_while_held.pk: "sold",
    }


def test_a_reserved_piece_is_available_again_once_its_hold_has_passed(client, make_product):
    """The same piece reads `reserved` during its hold and `available` after it, without edits."""
    product = make_product(held_until=timezone.now() + timedelta(minutes=5))
    url = product.get_absolute_url()
    assert stock_statuses(client.get(url).content.decode()) == {product.pk: "reserved"}

    Product.objects.filter(pk=product.pk).update(held_until=timezone.now() - timedelta(seconds=1))

    assert stock_statuses(client.get(url).content.decode()) == {product.pk: "available"}
    assert stock_statuses(_catalogue(client)) == {product.pk: "available"}


@pytest.mark.parametrize(
    ("overrides", "status"),
    [
        ({}, "available"),
        ({"held_until": "future"}, "reserved"),
        ({"in_stock": False}, "sold"),
    ],
)
def test_every_stock_element_renders_the_form_and_both_labels(
    client, make_product, overrides, status
):
    """Whatever the status, the add-to-cart form (with CSRF token) and both labels are there."""
    if overrides.get("held_until") == "future":
        overrides = {"held_until": timezone.now() + timedelta(minutes=10)}
    product = make_product(**overrides)

    for html in (_catalogue(client), client.get(product.get_absolute_url()).content.decode()):
        [block] = stock_blocks(html)
        assert block.product_id == product.pk
        assert block.status == status
        [form] = block.forms
        assert form["method"].lower() == "post"
        assert form["action"] == reverse("cart:add", args=[product.pk])
        assert "csrfmiddlewaretoken" in block.input_names
        assert block.buttons == ["Ajouter au panier"]
        assert "Réservé" in block.labels
        assert "Vendu" in block.labels


def test_the_form_posts_back_to_the_page_it_is_on(client, make_product):
    """The hidden `next` field brings the shopper back to the page they were reading."""
    make_product()
    [block] = stock_blocks(_catalogue(client, page="1"))
    [next_field] = [i for i in block.inputs if i.get("name") == "next"]
    assert next_field["value"] == "/?page=1"


# Prices


def test_prices_use_french_format_with_no_break_spaces(client, make_product):
    """1250 reads `1 250,00 €`, with U+00A0 as the thousands separator and before the euro sign."""
    product = make_product(price="1250.00")
    expected = f"1{NBSP}250,00{NBSP}€"

    assert expected in _catalogue(client)
    assert expected in client.get(product.get_absolute_url()).content.decode()


def test_prices_keep_the_cents(client, make_product):
    """Cents are shown, with a comma; small prices have no separator."""
    make_product(price="89.5")
    assert f">89,50{NBSP}€<" in _catalogue(client)


# Order, pagination, sold pieces


def test_catalogue_lists_newest_first(client, make_product):
    """The most recently added piece comes first."""
    old, newest, middle = make_product(), make_product(), make_product()
    _set_created_at(old, minutes_ago=60)
    _set_created_at(newest, minutes_ago=1)
    _set_created_at(middle, minutes_ago=30)

    ids = [block.product_id for block in stock_blocks(_catalogue(client))]

    assert ids == [newest.pk, middle.pk, old.pk]


def test_catalogue_is_paginated(client, make_product, settings):
    """Pages hold CATALOGUE_PAGE_SIZE pieces; the pages together show every piece once."""
    settings.CATALOGUE_PAGE_SIZE = 2
    products = [make_product() for _ in range(5)]
    for age, product in enumerate(products):
        _set_created_at(product, minutes_ago=10 * (len(products) - age))

    pages = [
        [block.product_id for block in stock_blocks(_catalogue(client, page=str(n)))]
        for n in (1, 2, 3)
    ]

    newest_first = [p.pk for p in reversed(products)]
    assert pages == [newest_first[0:2], newest_first[2:4], newest_first[4:5]]
    first = _catalogue(client)
    assert "Page 1 sur 3" in first
    assert 'rel="next" href="?page=2"' in first
    assert 'rel="prev"' not in first
    last = _catalogue(client, page="3")
    assert 'rel="prev" href="?page=2"' in last
    assert 'rel="next"' not in last


@pytest.mark.parametrize(("asked", "shown"), [("abc", 1), ("", 1), ("-2", 1), ("03", 3)])
def test_a_page_parameter_that_is_not_a_number_is_ignored(
    client, make_product, settings, asked, shown
):
    """Garbage in `page` shows the first page, as any bad parameter is ignored."""
    settings.CATALOGUE_PAGE_SIZE = 2
    for _ in range(5):
        make_product()

    assert f"Page {shown} sur 3" in _catalogue(client, page=asked)


@pytest.mark.parametrize("asked", ["4", "99", "0", "9" * 12, "9" * 5000])
@pytest.mark.parametrize("path", ["/", "/categories/luminaires/", "/?q=piece&tri=prix"])
def test_a_page_past_the_last_is_not_found(client, make_product, settings, asked, path):
    """`?page=99` used to answer 200 with the last page's content, a duplicate of another
    URL for crawlers: a page that does not exist is a 404 (the French page), never a 500."""
    settings.CATALOGUE_PAGE_SIZE = 2
    lights = Category.objects.create(name="Luminaires", slug="luminaires")
    for _ in range(5):
        make_product(category=lights, description="Une pièce.")
    separator = "&" if "?" in path else "?"

    response = client.get(f"{path}{separator}page={asked}")

    assert response.status_code == 404
    assert "Page introuvable" in response.content.decode()
    assert client.get(f"{path}{separator}page=3").status_code == 200


def test_sold_pieces_stay_in_the_catalogue(client, make_product):
    """A sold piece is still listed, with its price, and says it is sold."""
    sold = make_product(name="Miroir soleil en rotin", in_stock=False, price="78.00")

    html = _catalogue(client)

    assert stock_statuses(html) == {sold.pk: "sold"}
    assert "Miroir soleil en rotin" in html
    assert f"78,00{NBSP}€" in html


def test_empty_catalogue_says_so(client, db):
    """With no piece at all, the page says the catalogue is empty."""
    assert "Le catalogue est vide" in _catalogue(client)


# Product page


def test_product_page_shows_the_piece(client, make_product):
    """The page shows the name, the description and the price of the piece."""
    product = make_product(
        name="Lampe champignon en opaline",
        slug="lampe-champignon",
        description="Opaline blanche et pied laiton.",
        price="145.00",
    )

    response = client.get("/produits/lampe-champignon/")

    assert response.status_code == 200
    html = response.content.decode()
    assert "<h1>Lampe champignon en opaline</h1>" in html
    assert "Opaline blanche et pied laiton." in html
    assert f"145,00{NBSP}€" in html
    assert stock_statuses(html) == {product.pk: "available"}


def test_unknown_slug_is_404(client, make_product):
    """A slug that matches no piece answers 404."""
    make_product(slug="existe")

    assert client.get("/produits/n-existe-pas/").status_code == 404


@pytest.mark.parametrize("path", ["/", "/produits/une-piece/"])
def test_post_is_refused(client, make_product, path):
    """The catalogue and the product page only answer GET (and HEAD)."""
    make_product(slug="une-piece")

    response = client.post(path)

    assert response.status_code == 405
    assert "GET" in response["Allow"]


# Constant number of SQL queries


# The catalogue (and a category page): the categories, the paginator's COUNT and the page's
# SELECT. The product page: the piece with its category, then its other photos. Counted with
# the footer's list of the owner's pages in the cache, as nearly every request finds it (it
# is read once a minute per process: test_the_footers_pages_cost_one_query_a_minute).
CATALOGUE_QUERIES = 3
PRODUCT_PAGE_QUERIES = 2


def _mixed_catalogue(make_products, count: int) -> list[Product]:
    """`count` pieces, with every status, categories, photos, and more photos the more pieces
    there are: what a real catalogue looks like."""
    products = make_products(count, image="products/photo.jpg")
    footer_pages()  # in the cache, as for nearly every request (see CATALOGUE_QUERIES)
    now = timezone.now()
    Product.objects.filter(pk__in=[p.pk for p in products[::3]]).update(in_stock=False)
    Product.objects.filter(pk__in=[p.pk for p in products[1::3]]).update(
        held_until=now + timedelta(minutes=10)
    )
    categories = Category.objects.bulk_create(
        Category(name=f"Catégorie {n}", slug=f"categorie-{n}", position=n)
        for n in range(count // 10 + 1)
    )
    for n, category in enumerate(categories):
        Product.objects.filter(pk__in=[p.pk for p in products[n :: len(categories)]]).update(
            category=category
        )
    ProductImage.objects.bulk_create(
        ProductImage(product=product, image=f"products/more-{n}.jpg", alt=f"Vue {n}", position=n)
        for product in products
        for n in range(count // 20 + 1)
    )
    return products


@pytest.mark.parametrize("count", [5, 200])
def test_catalogue_runs_a_constant_number_of_queries(
    client, make_products, django_assert_num_queries, count
):
    """The catalogue page costs the same SQL with 5 pieces as with 200."""
    _mixed_catalogue(make_products, count)

    with django_assert_num_queries(CATALOGUE_QUERIES):
        response = client.get("/")

    assert response.status_code == 200


@pytest.mark.parametrize("count", [5, 200])
@pytest.mark.parametrize(
    "params",
    [{"q": "pièce"}, {"tri": "prix"}, {"tri": "prix-desc", "vendues": "0"}, {"page": "2"}],
)
def test_searching_sorting_and_filtering_keep_the_number_of_queries(
    client, make_products, django_assert_num_queries, settings, count, params
):
    """A search, a sort or a filter costs the catalogue's queries, whatever the catalogue."""
    settings.CATALOGUE_PAGE_SIZE = 2  # a page 2 exists with 5 pieces too
    _mixed_catalogue(make_products, count)

    with django_assert_num_queries(CATALOGUE_QUERIES):
        response = client.get("/", params)

    assert response.status_code == 200


@pytest.mark.parametrize("count", [5, 200])
def test_category_page_runs_a_constant_number_of_queries(
    client, make_products, django_assert_num_queries, count
):
    """A category page costs the catalogue's queries: its category is one of the list."""
    _mixed_catalogue(make_products, count)
    category = Category.objects.order_by("position").last()

    with django_assert_num_queries(CATALOGUE_QUERIES):
        response = client.get(category.get_absolute_url())

    assert response.status_code == 200
    assert stock_statuses(response.content.decode())


@pytest.mark.parametrize("count", [5, 200])
def test_product_page_runs_a_constant_number_of_queries(
    client, make_products, django_assert_num_queries, count
):
    """The product page costs the same SQL with 5 pieces in the shop as with 200."""
    products = _mixed_catalogue(make_products, count)

    with django_assert_num_queries(PRODUCT_PAGE_QUERIES):
        response = client.get(products[-1].get_absolute_url())

    assert response.status_code == 200


def _shopper_with_a_cart(client: Client, products: list[Product]) -> Client:
    """A shopper whose session (stored in the database) holds a few pieces."""
    session = client.session
    cart = Cart(session)
    for product in products[:3]:
        cart.add(product.pk)
    session.save()
    return client


@pytest.mark.parametrize("count", [5, 200])
def test_pages_with_a_cart_in_the_session_run_a_constant_number_of_queries(
    client, make_products, django_assert_num_queries, count
):
    """With a cart in the session, each page adds exactly one query: loading the session."""
    products = _mixed_catalogue(make_products, count)
    _shopper_with_a_cart(client, products)

    with django_assert_num_queries(CATALOGUE_QUERIES + 1):
        html = client.get("/").content.decode()
    with django_assert_num_queries(PRODUCT_PAGE_QUERIES + 1):
        client.get(products[0].get_absolute_url())

    assert 'class="cart-count">3</span><span class="visually-hidden"> pièces<' in html


def test_the_footers_pages_cost_one_query_a_minute(client, make_product, django_assert_num_queries):
    """The footer lists the owner's pages: read from the database when the cache has no list
    (once per FOOTER_SECONDS per process, or after a page changed), then from the cache."""
    product = make_product()
    assert cache.get(FOOTER_KEY) is None

    with django_assert_num_queries(PRODUCT_PAGE_QUERIES + 1):
        client.get(product.get_absolute_url())
    with django_assert_num_queries(PRODUCT_PAGE_QUERIES):
        client.get(product.get_absolute_url())


# HEAD: uptime monitors and link checkers ask it before (or instead of) GET.


def test_the_shoppers_pages_answer_head_as_they_answer_get(client, make_product):
    category = Category.objects.create(name="Luminaires", slug="luminaires")
    product = make_product(category=category)
    paths = [
        "/",
        product.get_absolute_url(),
        category.get_absolute_url(),
        "/pages/cgv/",
        "/panier/",
        "/robots.txt",
        "/sitemap.xml",
        "/healthz",
    ]

    for path in paths:
        response = client.head(path, secure=True)
        assert response.status_code == 200, path
        assert response.content == b"", path
