"""Fixtures for the catalogue's tests (make_product lives in the root conftest)."""

from collections.abc import Callable

import pytest
from django.contrib.auth.models import Permission, User
from django.test import Client

from payments.models import Order, OrderItem
from products.models import Product


@pytest.fixture
def sell_to_paid_order(db) -> Callable[[Product], Order]:
    """Record the sale of a product to a paid order, as the webhook does."""

    def sell(product: Product) -> Order:
        order = Order.objects.create(total=product.price, status=Order.Status.PAID)
        OrderItem.objects.create(
            order=order, product=product, name=product.name, price=product.price, sold=True
        )
        Product.objects.filter(pk=product.pk).update(in_stock=False)
        product.refresh_from_db()
        return order

    return sell


@pytest.fixture
def staff_user(db) -> User:
    """A shop owner's account: staff, with the product permissions only (not a superuser)."""
    user = User.objects.create_user("proprietaire", "proprietaire@example.com", "motdepasse-long")
    user.is_staff = True
    user.save()
    user.user_permissions.set(Permission.objects.filter(content_type__app_label="products"))
    return user


@pytest.fixture
def staff_client(client: Client, staff_user: User) -> Client:
    client.force_login(staff_user)
    return client


@pytest.fixture
def pieces(make_product) -> list[Product]:
    """Three pieces on sale (the freshness tests change their statuses)."""
    return [make_product(), make_product(), make_product()]
