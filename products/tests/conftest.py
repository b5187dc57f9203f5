"""Fixtures for the catalogue's tests (make_product lives in the root conftest)."""

from collections.abc import Callable
from decimal import Decimal

import pytest
from django.contrib.auth.models import Permission, User
from django.test import Client

from payments.models import Order, OrderItem
from products.demo import demo_image
from products.models import Category, Product, ProductImage


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


@pytest.fixture
def photographed(make_product) -> Product:
    """A piece with a main photo and two more, in a category."""
    category = Category.objects.create(name="Luminaires", slug="luminaires")
    product = make_product(
        name="Lampe champignon",
        slug="lampe-champignon",
        description="Opaline blanche et pied laiton.",
        price="145.00",
        category=category,
    )
    product.image.save("lampe.jpg", demo_image("Lampe"), save=True)
    for position, alt in [(2, "Le pied en laiton"), (1, "La lampe allumée")]:
        extra = ProductImage(product=product, alt=alt, position=position)
        extra.image.save(f"lampe-{position}.jpg", demo_image(alt), save=True)
    return product


LISTING_APP_URL = "https://boutique.example"


@pytest.fixture
def listing_settings(settings) -> None:
    """What search engines and the feed are told, fixed for the tests that read them: the shop
    on LISTING_APP_URL, shipping to FR and BE at 8 €, free from 150 €, in 1-2 + 2-4 days."""
    settings.APP_URL = LISTING_APP_URL
    settings.SHIPPING_COUNTRIES = ["FR", "BE"]
    settings.SHIPPING_FLAT_EUR = Decimal("8.00")
    settings.SHIPPING_FREE_ABOVE_EUR = Decimal("150.00")
    settings.SHIPPING_HANDLING_DAYS = (1, 2)
    settings.SHIPPING_TRANSIT_DAYS = (2, 4)
    settings.WITHDRAWAL_DAYS = 14
