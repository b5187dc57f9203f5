"""Plain fixtures for the catalogue's tests: products, a staff user, a paid order."""

import itertools
from collections.abc import Callable
from decimal import Decimal
from typing import Any

import pytest
from django.contrib.auth.models import Permission, User
from django.test import Client

from payments.models import Order, OrderItem
from products.models import Product

_counter = itertools.count(1)


@pytest.fixture
def make_product(db) -> Callable[..., Product]:
    """Create a product; any field can be overridden (`make_product(price="12.50")`)."""

    def make(**overrides: Any) -> Product:
        n = next(_counter)
        fields: dict[str, Any] = {
            "name": f"Pièce n° {n}",
            "slug": f"piece-{n}",
            "description": "Une pièce unique.",
            "price": Decimal("100.00"),
        }
        fields.update(overrides)
        fields["price"] = Decimal(str(fields["price"]))
        return Product.objects.create(**fields)

    return make


@pytest.fixture
def make_products(make_product) -> Callable[[int], list[Product]]:
    """Create `count` products in one statement (for catalogues of hundreds of pieces)."""

    def make(count: int, **overrides: Any) -> list[Product]:
        start = next(_counter)
        for _ in range(count):
            next(_counter)
        products = [
            Product(
                name=f"Pièce n° {start + i}",
                slug=f"piece-{start + i}",
                price=Decimal("10.00") + i,
                **overrides,
            )
            for i in range(count)
        ]
        return Product.objects.bulk_create(products)

    return make


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
