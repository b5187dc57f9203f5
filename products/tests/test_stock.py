"""Owner stock actions and the single-sale flag (products/stock.py)."""

import pytest

from payments.models import Order
from products import stock
from products.models import Product

pytestmark = pytest.mark.django_db


def test_put_back_on_sale_keeps_the_pieces_the_caller_says_are_owned(make_product):
    """The orders' side says, under the lock, which pieces a paid order owns: those stay
    sold, the others go back on sale with no hold."""
    owned, free = make_product(in_stock=False), make_product(in_stock=False)
    asked = []

    def owned_by_paid_order(ids: list[int]) -> set[int]:
        asked.append(ids)
        return {owned.pk}

    done, refused = stock.put_back_on_sale([owned.pk, free.pk], owned=owned_by_paid_order)

    assert (done, refused) == ([free], [owned])
    assert asked == [sorted([owned.pk, free.pk])]
    assert list(Product.objects.filter(in_stock=True)) == [free]


def test_withdraw_from_sale_ends_any_hold(make_product):
    order = Order.objects.create(total=1)
    piece = make_product()
    Product.objects.filter(pk=piece.pk).update(held_by=order)
    assert stock.withdraw_from_sale([piece.pk]) == 1
    piece.refresh_from_db()
    assert (piece.in_stock, piece.held_by) == (False, None)
