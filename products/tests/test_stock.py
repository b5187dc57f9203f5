"""Owner stock actions and the single-sale flag (products/stock.py)."""

import pytest

from payments.models import Order, OrderItem
from products import stock
from products.models import Product

pytestmark = pytest.mark.django_db


def test_a_piece_of_a_paid_order_is_not_put_back_on_sale(make_product, sell_to_paid_order):
    piece = make_product()
    sell_to_paid_order(piece)
    done, refused = stock.put_back_on_sale([piece.pk])
    assert (done, refused) == ([], [piece])
    piece.refresh_from_db()
    assert not piece.in_stock


def test_a_piece_of_a_refunded_order_goes_back_on_sale_and_can_sell_again(
    make_product, sell_to_paid_order
):
    """A refund kept the piece aside; putting it back clears the old sale so a new one fits
    under the single-sale constraint."""
    piece = make_product()
    first = sell_to_paid_order(piece)
    Order.objects.filter(pk=first.pk).update(status=Order.Status.REFUNDED)

    done, refused = stock.put_back_on_sale([piece.pk])

    assert (done, refused) == ([piece], [])
    piece.refresh_from_db()
    assert piece.in_stock
    assert not OrderItem.objects.filter(product=piece, sold=True).exists()
    second = Order.objects.create(total=piece.price, status=Order.Status.PAID)
    OrderItem.objects.create(order=second, product=piece, name="x", price=piece.price, sold=True)


def test_withdraw_from_sale_ends_any_hold(make_product):
    order = Order.objects.create(total=1)
    piece = make_product()
    Product.objects.filter(pk=piece.pk).update(held_by=order)
    assert stock.withdraw_from_sale([piece.pk]) == 1
    piece.refresh_from_db()
    assert (piece.in_stock, piece.held_by) == (False, None)
