"""The session cart: add, remove, the cart page and what it says about each piece."""

from datetime import timedelta
from decimal import Decimal

import pytest
from django.urls import reverse
from django.utils import timezone

from cart.cart import shopper_id
from payments.models import Order, OrderItem

pytestmark = pytest.mark.django_db


def shopper_of(client) -> str:
    """The shopper's anonymous id, as checkout records it on their orders."""
    session = client.session
    shopper = shopper_id(session)
    session.save()
    return shopper


def add(client, product, **extra):
    return client.post(reverse("cart:add", args=[product.pk]), extra)


def test_add_puts_a_piece_in_the_cart_once(client, make_product):
    """Adding twice keeps one line: every piece exists once."""
    product = make_product(price="1250.00")
    add(client, product)
    response = add(client, product)
    assert response.status_code == 302
    assert client.session["cart"] == [product.pk]
    page = client.get(reverse("cart:detail"))
    assert page.context["summary"].total == Decimal("1250.00")
    assert "1\u00a0250,00\u00a0€" in page.content.decode()


def test_extra_form_fields_never_set_a_price(client, make_product):
    """Only the id lives in the session; a posted price or amount is ignored."""
    product = make_product(price="80.00")
    add(client, product, price="1.00", amount="1", unit_amount="100")
    assert client.session["cart"] == [product.pk]
    assert client.get(reverse("cart:detail")).context["summary"].total == Decimal("80.00")


def test_add_redirects_back_to_a_local_page_only(client, make_product):
    product = make_product()
    assert add(client, product, next="/produits/x/")["Location"] == "/produits/x/"
    assert add(client, product, next="https://evil.example/")["Location"] == "/panier/"


def test_adding_a_sold_piece_is_refused_in_french(client, make_product):
    product = make_product(in_stock=False)
    response = add(client, product)
    assert response.status_code == 302
    assert client.session.get("cart", []) == []
    messages = [str(m) for m in response.wsgi_request._messages]
    assert any("déjà vendue" in m for m in messages)


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("Pichet en grès", "Ajouté au panier : « Pichet en grès »."),
        ("Lampe champignon", "Ajouté au panier : « Lampe champignon »."),
        (
            "Gravure « Jardin des Plantes »",
            "Ajouté au panier : « Gravure “Jardin des Plantes” ».",
        ),
    ],
)
def test_the_added_message_reads_right_whatever_the_name(client, make_product, name, expected):
    """Nothing agrees with a name whose gender the shop cannot know, and guillemets in a
    name are nested as French writes them."""
    product = make_product(name=name)

    response = client.post(reverse("cart:add", args=[product.pk]))

    assert [str(m) for m in response.wsgi_request._messages] == [expected]


def test_the_sold_message_agrees_with_the_piece(client, make_product):
    product = make_product(name="Pichet en grès", in_stock=False)

    response = client.post(reverse("cart:add", args=[product.pk]))

    assert [str(m) for m in response.wsgi_request._messages] == [
        "La pièce « Pichet en grès » est déjà vendue."
    ]


def test_unknown_piece_is_404_and_get_is_refused(client, make_product):
    assert client.post(reverse("cart:add", args=[999999])).status_code == 404
    assert client.get(reverse("cart:add", args=[make_product().pk])).status_code == 405


def test_forms_need_a_csrf_token(make_product):
    from django.test import Client

    strict = Client(enforce_csrf_checks=True)
    product = make_product()
    assert strict.post(reverse("cart:add", args=[product.pk])).status_code == 403
    assert strict.post(reverse("cart:remove", args=[product.pk])).status_code == 403
    assert strict.post(reverse("payments:checkout")).status_code == 403


def test_remove(client, make_product):
    first, second = make_product(), make_product()
    add(client, first)
    add(client, second)
    client.post(reverse("cart:remove", args=[first.pk]))
    assert client.session["cart"] == [second.pk]


def test_header_shows_the_cart_count(client, make_product):
    add(client, make_product())
    add(client, make_product())
    page = client.get(reverse("products:list")).content.decode()
    assert '<span class="cart-count">2</span><span class="visually-hidden"> pièces</span>' in page


def _hold(product, order, minutes=30):
    product.held_by = order
    product.held_until = timezone.now() + timedelta(minutes=minutes)
    product.save()


def test_cart_flags_sold_and_reserved_pieces_and_disables_commander(client, make_product):
    """A piece sold meanwhile, or being bought by someone else, blocks "Commander"."""
    sold, reserved, free = make_product(), make_product(), make_product()
    for product in (sold, reserved, free):
        add(client, product)
    Order.objects.create(total=1, shopper_id="someone-else")
    _hold(reserved, Order.objects.get(shopper_id="someone-else"))
    sold.in_stock = False
    sold.save()

    page = client.get(reverse("cart:detail"))
    html = page.content.decode()
    assert page.context["summary"].blocked
    assert f'data-product-id="{sold.pk}" data-stock-status="sold"' in html
    assert f'data-product-id="{reserved.pk}" data-stock-status="reserved"' in html
    assert "Cette pièce vient d'être vendue." in html
    assert "Cette pièce est en cours d'achat par un autre client." in html
    assert "data-checkout-button disabled" in html


def test_a_piece_held_by_my_own_checkout_does_not_block(client, make_product):
    product = make_product()
    add(client, product)
    order = Order.objects.create(total=product.price, shopper_id=shopper_of(client))
    _hold(product, order)
    page = client.get(reverse("cart:detail"))
    assert not page.context["summary"].blocked
    assert "data-held-by-me" in page.content.decode()
    assert "data-checkout-button disabled" not in page.content.decode()


def test_a_lapsed_hold_no_longer_blocks(client, make_product):
    product = make_product()
    add(client, product)
    _hold(product, Order.objects.create(total=1, shopper_id="other"), minutes=-1)
    assert not client.get(reverse("cart:detail")).context["summary"].blocked


def test_pieces_i_bought_leave_my_cart(client, make_product):
    """Once paid, the shopper's cart drops the pieces of that order."""
    bought, other = make_product(), make_product()
    add(client, bought)
    add(client, other)
    order = Order.objects.create(
        total=bought.price, shopper_id=shopper_of(client), status=Order.Status.PAID
    )
    OrderItem.objects.create(order=order, product=bought, name="x", price=bought.price, sold=True)
    bought.in_stock = False
    bought.save()
    client.get(reverse("cart:detail"))
    assert client.session["cart"] == [other.pk]


def test_deleted_pieces_leave_the_cart(client, make_product):
    product = make_product()
    add(client, product)
    product.delete()
    page = client.get(reverse("cart:detail"))
    assert "Votre panier est vide." in page.content.decode()
