"""The products admin, behind login: list, filters, search, forms and bulk actions."""

import json
import re
from datetime import timedelta
from decimal import Decimal
from unittest import mock

import pytest
from django.contrib.flatpages.models import FlatPage
from django.contrib.messages import get_messages
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from payments.models import Order, OrderItem
from products.admin import ProductAdminForm
from products.demo import demo_image
from products.models import Category, Product, ProductImage
from products.tests.markup import attribute_of

NBSP = "\N{NO-BREAK SPACE}"
CHANGELIST = reverse("admin:products_product_changelist")
ADD = reverse("admin:products_product_add")


def _change_url(product: Product) -> str:
    return reverse("admin:products_product_change", args=[product.pk])


def _listed(response) -> set[str]:
    """Names of the products on a changelist page."""
    assert response.status_code == 200
    return {p.name for p in response.context["cl"].result_list}


@pytest.fixture
def three_statuses(make_product) -> dict[str, Product]:
    return {
        "available": make_product(name="Vase en grès"),
        "reserved": make_product(
            name="Fauteuil bridge", held_until=timezone.now() + timedelta(minutes=20)
        ),
        "sold": make_product(name="Miroir soleil", in_stock=False),
    }


# Login


@pytest.mark.parametrize("url", [CHANGELIST, ADD])
def test_anonymous_visitors_are_sent_to_the_login_page(client, db, url):
    """Without a staff login, the admin redirects to its login page."""
    response = client.get(url)

    assert response.status_code == 302
    assert response["Location"].startswith(reverse("admin:login"))
    assert f"next={url}" in response["Location"]


def test_a_logged_in_shopper_who_is_not_staff_is_refused(client, django_user_model):
    """A customer account is not enough to enter the admin."""
    client.force_login(django_user_model.objects.create_user("client", password="x" * 12))

    response = client.get(CHANGELIST)

    assert response.status_code == 302
    assert response["Location"].startswith(reverse("admin:login"))


# Changelist


def test_changelist_shows_thumbnail_price_and_status(staff_client, make_product):
    """Each row has the photo's thumbnail, the French price and the status label."""
    with_photo = make_product(name="Huile sur toile", price="1250.00")
    with_photo.image.save("huile.jpg", demo_image("Huile sur toile"), save=True)
    make_product(name="Carafe", in_stock=False)
    make_product(name="Lampe", held_until=timezone.now() + timedelta(minutes=5))

    response = staff_client.get(CHANGELIST)

    html = response.content.decode()
    assert _listed(response) == {"Huile sur toile", "Carafe", "Lampe"}
    assert f'<img src="{with_photo.card_small.url}" alt="" width="48" height="48"' in html
    assert f"1{NBSP}250,00{NBSP}€" in html
    for label in ("Disponible", "Réservé", "Vendu"):
        assert f">{label}<" in html


@pytest.mark.parametrize("status", ["available", "reserved", "sold"])
def test_status_filter(staff_client, three_statuses, status):
    """The status filter keeps only the pieces with that derived status."""
    response = staff_client.get(CHANGELIST, {"statut": status})

    assert _listed(response) == {three_statuses[status].name}


@pytest.mark.parametrize(("value", "expected"), [("1", {"available", "reserved"}), ("0", {"sold"})])
def test_in_stock_filter(staff_client, three_statuses, value, expected):
    """The in-stock filter separates pieces in stock (held or not) from sold ones."""
    response = staff_client.get(CHANGELIST, {"in_stock__exact": value})

    assert _listed(response) == {three_statuses[s].name for s in expected}


def test_status_can_be_sorted(staff_client, three_statuses):
    """The status column sorts on the database's status, not on a Python attribute."""
    response = staff_client.get(CHANGELIST, {"o": "4"})

    statuses = [p.stock_status for p in response.context["cl"].result_list]
    assert statuses == sorted(statuses)


def test_search_finds_by_name_slug_and_description(staff_client, make_product):
    """Search looks in the name, the slug and the description."""
    make_product(name="Miroir soleil en rotin", slug="miroir-soleil")
    make_product(name="Panier de marché", description="Osier et anses en rotin.")
    make_product(name="Console", slug="console-fer-forge")

    assert _listed(staff_client.get(CHANGELIST, {"q": "rotin"})) == {
        "Miroir soleil en rotin",
        "Panier de marché",
    }
    assert _listed(staff_client.get(CHANGELIST, {"q": "fer-forge"})) == {"Console"}


# Add and change forms


def test_add_form_prepopulates_the_slug_from_the_name(staff_client):
    """The slug field is filled from the name as the owner types."""
    response = staff_client.get(ADD)

    assert response.status_code == 200
    fields = json.loads(
        attribute_of(
            response.content.decode(),
            tag_id="django-admin-prepopulated-fields-constants",
            attribute="data-prepopulated-fields",
        )
    )
    assert {"id": "#id_slug", "dependency_ids": ["#id_name"]}.items() <= fields[0].items()


def test_owner_adds_a_piece_with_a_photo(staff_client):
    """Posting the add form creates the piece, in stock, with its photo stored."""
    photo = SimpleUploadedFile("vase.jpg", demo_image("Vase").read(), content_type="image/jpeg")

    response = staff_client.post(
        ADD,
        {
            "name": "Vase bleu",
            "slug": "vase-bleu",
            "price": "89.00",  # what a number input sends, whatever the locale
            "description": "Grès émaillé.",
            "image": photo,
            "in_stock": "on",
            **NO_MORE_PHOTOS,
        },
    )

    assert response.status_code == 302, response.context["adminform"].form.errors
    product = Product.objects.get(slug="vase-bleu")
    assert str(product.price) == "89.00"
    assert product.in_stock
    assert product.image.storage.exists(product.image.name)


def test_add_form_refuses_a_zero_price(staff_client):
    """The form says the price must be positive instead of failing in the database."""
    response = staff_client.post(
        ADD,
        {"name": "Gratuit", "slug": "gratuit", "price": "0", "in_stock": "on", **NO_MORE_PHOTOS},
    )

    assert response.status_code == 200
    errors = response.context["adminform"].form.errors
    assert errors["price"] == ["Le prix doit être supérieur à zéro."]
    assert not Product.objects.filter(slug="gratuit").exists()


@pytest.mark.parametrize(("typed", "stored"), [("320,50", "320.50"), ("320.50", "320.50")])
def test_a_price_typed_the_french_way_is_stored_as_meant(staff_client, typed, stored):
    """« 320,50 » is 320.50 €, not 32050 € (a number input dropped the comma)."""
    response = staff_client.post(
        ADD,
        {"name": "Pichet", "slug": "pichet", "price": typed, "in_stock": "on", **NO_MORE_PHOTOS},
    )

    assert response.status_code == 302, response.context["adminform"].form.errors
    assert Product.objects.get(slug="pichet").price == Decimal(stored)


def test_an_ambiguous_price_is_refused_with_the_rule_and_nothing_saved(staff_client):
    response = staff_client.post(
        ADD,
        {"name": "Pichet", "slug": "pichet", "price": "1,250", "in_stock": "on", **NO_MORE_PHOTOS},
    )

    assert response.status_code == 200
    [error] = response.context["adminform"].form.errors["price"]
    assert error.startswith(f"« 1,250 » est ambigu : 1{NBSP}250 € ou 1,25 € ?")
    assert not Product.objects.filter(slug="pichet").exists()


def test_the_change_form_shows_the_price_with_a_comma_and_as_the_shop_shows_it(
    staff_client, make_product
):
    product = make_product(price="1250.50")

    html = staff_client.get(_change_url(product)).content.decode()

    assert 'name="price" value="1250,50"' in html
    assert f"1{NBSP}250,50{NBSP}€</output>" in html
    assert "js/euros-input.js" in html


def test_saving_an_unchanged_french_price_does_not_rewrite_it(staff_client, make_product):
    """« 320,50 » sent back for a price of 320.50 is no change (only changed fields are
    written: a sale recorded meanwhile is never overwritten)."""
    product = make_product(price="320.50")
    form = ProductAdminForm(_change_form_data(product, price="320,50"), instance=product)
    assert form.is_valid(), form.errors
    assert "price" not in form.changed_data

    response = staff_client.post(
        _change_url(product), _change_form_data(product, price="320,50", description="Neuf.")
    )

    assert response.status_code == 302
    product.refresh_from_db()
    assert product.price == Decimal("320.50")
    assert product.description == "Neuf."


# The management form of the "autres photos" inline, with no photo added.
NO_MORE_PHOTOS = {"images-TOTAL_FORMS": "0", "images-INITIAL_FORMS": "0"}


def _change_form_data(product: Product, **overrides: str) -> dict[str, str]:
    data = {
        "name": product.name,
        "slug": product.slug,
        "price": str(product.price),
        "description": product.description,
        **NO_MORE_PHOTOS,
    }
    if product.in_stock:
        data["in_stock"] = "on"
    data.update(overrides)
    return data


def test_change_form_refuses_to_put_back_a_piece_sold_to_a_paid_order(
    staff_client, make_product, sell_to_paid_order
):
    """Ticking "en stock" on a piece a customer paid for is refused, with the reason."""
    product = make_product()
    sell_to_paid_order(product)

    response = staff_client.post(_change_url(product), _change_form_data(product, in_stock="on"))

    assert response.status_code == 200
    errors = response.context["adminform"].form.errors
    assert "commande payée" in errors["in_stock"][0]
    product.refresh_from_db()
    assert product.in_stock is False


def test_change_form_lets_other_edits_through_on_a_sold_piece(
    staff_client, make_product, sell_to_paid_order
):
    """A sold piece's description can still be edited, as long as it stays sold."""
    product = make_product()
    sell_to_paid_order(product)

    response = staff_client.post(
        _change_url(product), _change_form_data(product, description="Vendue en 2026.")
    )

    assert response.status_code == 302
    product.refresh_from_db()
    assert product.description == "Vendue en 2026."
    assert product.in_stock is False


def test_change_form_puts_back_a_piece_sold_outside_the_shop(staff_client, make_product):
    """A piece marked sold by hand, with no paid order, can be ticked back in stock."""
    product = make_product(in_stock=False)

    response = staff_client.post(_change_url(product), _change_form_data(product, in_stock="on"))

    assert response.status_code == 302
    product.refresh_from_db()
    assert product.in_stock is True


# Bulk actions


def _run_action(client, action: str, products: list[Product]):
    return client.post(
        CHANGELIST,
        {"action": action, "_selected_action": [p.pk for p in products]},
        follow=True,
    )


def _messages(response) -> list[tuple[str, str]]:
    return [(m.level_tag, m.message) for m in get_messages(response.wsgi_request)]


def test_put_back_on_sale_refuses_pieces_sold_to_a_paid_order(
    staff_client, make_product, sell_to_paid_order
):
    """The action puts back pieces sold by hand and refuses, by name, those a customer paid."""
    paid = make_product(name="Commode en chêne")
    sell_to_paid_order(paid)
    by_hand = make_product(name="Chaise bistrot", in_stock=False)

    response = _run_action(staff_client, "put_back_on_sale", [paid, by_hand])

    assert response.status_code == 200
    messages = _messages(response)
    assert ("success", "1 pièce(s) remise(s) en vente.") in messages
    [error] = [text for level, text in messages if level == "error"]
    assert "Commode en chêne" in error
    assert "Chaise bistrot" not in error
    paid.refresh_from_db()
    by_hand.refresh_from_db()
    assert paid.in_stock is False
    assert by_hand.in_stock is True


def test_put_back_on_sale_clears_any_hold(staff_client, make_product):
    """A piece put back on sale is available at once, with no leftover hold."""
    product = make_product(in_stock=False, held_until=timezone.now() + timedelta(minutes=10))

    _run_action(staff_client, "put_back_on_sale", [product])

    product = Product.objects.with_status().get(pk=product.pk)
    assert product.status == "available"
    assert product.held_until is None


def test_withdraw_from_sale_marks_pieces_sold_and_ends_holds(staff_client, three_statuses):
    """ "Marquer comme vendues hors boutique" takes the pieces out of stock and drops holds."""
    selected = [three_statuses["available"], three_statuses["reserved"]]

    response = _run_action(staff_client, "withdraw_from_sale", selected)

    assert ("success", "2 pièce(s) retirée(s) de la vente.") in _messages(response)
    for product in selected:
        product.refresh_from_db()
        assert product.in_stock is False
        assert product.held_until is None
        assert product.held_by is None


def test_actions_are_offered_with_french_names(staff_client, make_product):
    """The action menu shows both actions, in French."""
    make_product()

    html = staff_client.get(CHANGELIST).content.decode()

    assert "Remettre en vente les pièces sélectionnées" in html
    assert "Marquer comme vendues hors boutique" in html


# Concurrent checkouts and sales


def _meanwhile(action):
    """Run `action` while the admin form is validated: after the piece was read, before saving."""
    original = ProductAdminForm.clean

    def clean(form):
        cleaned = original(form)
        action()
        return cleaned

    return mock.patch.object(ProductAdminForm, "clean", clean)


def test_editing_a_piece_does_not_undo_a_sale_made_meanwhile(
    staff_client, make_product, sell_to_paid_order
):
    """A sale recorded while the owner saves a description keeps the piece sold."""
    product = make_product()

    with _meanwhile(lambda: sell_to_paid_order(product)):
        response = staff_client.post(
            _change_url(product), _change_form_data(product, description="Nouvelle description.")
        )

    assert response.status_code == 302
    product.refresh_from_db()
    assert product.description == "Nouvelle description."
    assert product.in_stock is False


def test_editing_a_piece_does_not_drop_a_hold_taken_meanwhile(staff_client, make_product):
    """A checkout's hold taken while the owner saves the piece is kept."""
    product = make_product()
    order = Order.objects.create(total=product.price)
    until = timezone.now() + timedelta(minutes=30)

    def hold():
        Product.objects.filter(pk=product.pk).update(held_by=order, held_until=until)

    with _meanwhile(hold):
        response = staff_client.post(_change_url(product), _change_form_data(product, price="120"))

    assert response.status_code == 302
    product.refresh_from_db()
    assert str(product.price) == "120.00"
    assert product.held_by_id == order.pk
    assert product.held_until == until


def test_putting_a_piece_back_in_stock_is_refused_if_it_was_sold_meanwhile(
    staff_client, make_product, sell_to_paid_order
):
    """Ticking "en stock" loses to a paid sale recorded between the check and the save."""
    product = make_product(in_stock=False)

    def sell():
        order = Order.objects.create(total=product.price, status=Order.Status.PAID)
        OrderItem.objects.create(
            order=order, product=product, name=product.name, price=product.price, sold=True
        )

    with _meanwhile(sell):
        response = staff_client.post(
            _change_url(product), _change_form_data(product, in_stock="on"), follow=True
        )

    product.refresh_from_db()
    assert product.in_stock is False
    [error] = [text for level, text in _messages(response) if level == "error"]
    assert "commande payée" in error


def _changelist_queries(client, make_products, count: int) -> int:
    Product.objects.all().delete()
    make_products(count, image="products/photo.jpg")
    with CaptureQueriesContext(connection) as queries:
        assert client.get(CHANGELIST).status_code == 200
    return len(queries)


def test_changelist_runs_a_constant_number_of_queries(staff_client, make_products):
    """The owner's product list costs the same SQL with 5 pieces as with a full page of 60."""
    assert _changelist_queries(staff_client, make_products, 5) == _changelist_queries(
        staff_client, make_products, 60
    )


# Categories and more photos


def _photo(name: str) -> SimpleUploadedFile:
    return SimpleUploadedFile(f"{name}.jpg", demo_image(name).read(), content_type="image/jpeg")


def test_owner_adds_a_piece_in_a_category_with_more_photos(staff_client):
    """The add form takes a category and, inline, more photos with their alt text and
    position; the page shows them in that order, and their renditions are written."""
    category = Category.objects.create(name="Luminaires", slug="luminaires")

    response = staff_client.post(
        ADD,
        {
            "name": "Lampe champignon",
            "slug": "lampe-champignon",
            "category": str(category.pk),
            "price": "145.00",
            "image": _photo("Lampe"),
            "in_stock": "on",
            "images-TOTAL_FORMS": "2",
            "images-INITIAL_FORMS": "0",
            "images-0-image": _photo("Pied"),
            "images-0-alt": "Le pied en laiton",
            "images-0-position": "2",
            "images-1-image": _photo("Allumee"),
            "images-1-alt": "La lampe allumée",
            "images-1-position": "1",
        },
    )

    assert response.status_code == 302, response.context["adminform"].form.errors
    product = Product.objects.get(slug="lampe-champignon")
    assert product.category == category
    assert [i.alt for i in product.images.all()] == ["La lampe allumée", "Le pied en laiton"]
    for photo in product.images.all():
        assert photo.photo_medium.storage.exists(photo.photo_medium.name)
    assert product.card_small.storage.exists(product.card_small.name)


def test_the_change_form_lists_the_photos_inline_in_their_order(staff_client, make_product):
    product = make_product()
    for position, alt in [(2, "Deuxième"), (1, "Première")]:
        extra = ProductImage(product=product, alt=alt, position=position)
        extra.image.save(f"{alt}.jpg", demo_image(alt), save=True)

    html = staff_client.get(_change_url(product)).content.decode()

    assert html.index('value="Première"') < html.index('value="Deuxième"')
    assert "Autres photos" in html


def test_changelist_filters_and_shows_the_category(staff_client, make_product):
    lights = Category.objects.create(name="Luminaires", slug="luminaires")
    make_product(name="Lampe", category=lights)
    make_product(name="Carafe")

    response = staff_client.get(CHANGELIST, {"category__id__exact": str(lights.pk)})

    assert _listed(response) == {"Lampe"}
    assert ">Luminaires<" in response.content.decode()


def test_owner_manages_categories(staff_client, db):
    response = staff_client.post(
        reverse("admin:products_category_add"),
        {"name": "Arts de la table", "slug": "arts-de-la-table", "position": "3"},
    )

    assert response.status_code == 302
    category = Category.objects.get(slug="arts-de-la-table")
    assert category.position == 3
    listing = staff_client.get(reverse("admin:products_category_changelist"))
    assert "Arts de la table" in listing.content.decode()


def test_view_on_site_opens_the_shop_not_the_sites_frameworks_example_com(
    admin_client, make_product
):
    """« Voir sur le site » on a piece, a category and a legal page: a link on this shop."""
    category = Category.objects.create(name="Luminaires", slug="luminaires")
    product = make_product(category=category)
    page = FlatPage.objects.get(url="/pages/cgv/")

    for model, obj in [("product", product), ("category", category), ("flatpage", page)]:
        app = "flatpages" if model == "flatpage" else "products"
        html = admin_client.get(reverse(f"admin:{app}_{model}_change", args=[obj.pk])).content
        [href] = re.findall(r'<a href="([^"]+)" class="viewsitelink"', html.decode())

        assert href == obj.get_absolute_url()
        assert "example.com" not in href


def test_a_legal_page_added_in_the_admin_is_served_without_picking_a_site(admin_client, db):
    """The shop is one site: the owner writes a page (no « Sites » field, no Sites entry in
    the admin) and it is served at its address."""
    form = admin_client.get(reverse("admin:flatpages_flatpage_add")).content.decode()
    assert 'name="sites"' not in form
    assert (
        reverse("admin:index") + "sites/"
        not in admin_client.get(reverse("admin:index")).content.decode()
    )

    response = admin_client.post(
        reverse("admin:flatpages_flatpage_add"),
        {"slug": "a-propos", "title": "À propos", "content": "Notre atelier."},
    )

    assert response.status_code == 302
    assert "Notre atelier." in admin_client.get("/pages/a-propos/").content.decode()
