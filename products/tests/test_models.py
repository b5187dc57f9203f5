"""The Product model: derived status, ordering, and what the database itself refuses."""

from datetime import timedelta
from decimal import Decimal

import pytest
from django.db import IntegrityError, connection, transaction
from django.utils import timezone

from products.models import Product, StockStatus


def test_a_product_can_be_created_from_the_spec_fields_alone(db):
    """Name, slug and price are enough: every other field is optional or has a default."""
    product = Product.objects.create(name="Carafe", slug="carafe", price=Decimal("65.00"))

    product.refresh_from_db()
    assert product.in_stock is True
    assert product.held_by is None
    assert product.held_until is None
    assert not product.image
    assert product.created_at is not None
    assert product.updated_at is not None
    assert str(product) == "Carafe"
    assert product.get_absolute_url() == "/produits/carafe/"


@pytest.mark.parametrize(
    ("in_stock", "held_for", "status"),
    [
        (True, None, StockStatus.AVAILABLE),
        (True, timedelta(minutes=10), StockStatus.RESERVED),
        (True, timedelta(minutes=-10), StockStatus.AVAILABLE),
        (False, None, StockStatus.SOLD),
        (False, timedelta(minutes=10), StockStatus.SOLD),
    ],
)
def test_status_is_the_same_computed_in_python_or_by_the_database(
    make_product, in_stock, held_for, status
):
    """`status` on a plain instance and on a `with_status()` row agree, for every case."""
    held_until = timezone.now() + held_for if held_for is not None else None
    product = make_product(in_stock=in_stock, held_until=held_until)

    plain = Product.objects.get(pk=product.pk)
    annotated = Product.objects.with_status().get(pk=product.pk)

    assert plain.status == status
    assert annotated.stock_status == status
    assert annotated.status == status


def test_status_labels_are_french(make_product):
    """The labels the owner and shoppers read are French."""
    assert make_product().status_label == "Disponible"
    assert make_product(held_until=timezone.now() + timedelta(hours=1)).status_label == "Réservé"
    assert make_product(in_stock=False).status_label == "Vendu"


def test_available_excludes_sold_and_held_pieces(make_product):
    """`available()` keeps pieces in stock with no hold, or a hold already over."""
    now = timezone.now()
    free = make_product()
    hold_over = make_product(held_until=now - timedelta(minutes=1))
    make_product(held_until=now + timedelta(minutes=1))
    make_product(in_stock=False)

    assert set(Product.objects.available()) == {free, hold_over}


def test_default_ordering_is_newest_first_then_highest_id(make_product):
    """Newest first; pieces created in the same instant come out in a stable order."""
    same_instant = timezone.now()
    first, second, third = make_product(), make_product(), make_product()
    Product.objects.update(created_at=same_instant)
    Product.objects.filter(pk=first.pk).update(created_at=same_instant + timedelta(seconds=1))

    assert list(Product.objects.all()) == [first, third, second]


# What the database refuses


@pytest.mark.parametrize("price", ["0", "0.00", "-1.00", "-0.01"])
def test_database_refuses_a_price_that_is_not_positive(db, price):
    """The CHECK constraint refuses a zero or negative price on insert, whatever the ORM does."""
    with pytest.raises(IntegrityError), transaction.atomic():
        Product.objects.create(name="Gratuit", slug="gratuit", price=Decimal(price))

    assert not Product.objects.filter(slug="gratuit").exists()


def test_database_refuses_an_update_to_a_zero_price(make_product):
    """A bulk update cannot set a price to zero either."""
    product = make_product(price="10.00")

    with pytest.raises(IntegrityError), transaction.atomic():
        Product.objects.filter(pk=product.pk).update(price=Decimal("0"))

    product.refresh_from_db()
    assert product.price == Decimal("10.00")


def test_the_smallest_positive_price_is_accepted(db):
    """One cent is a valid price."""
    product = Product.objects.create(name="Bouton", slug="bouton", price=Decimal("0.01"))

    product.refresh_from_db()
    assert product.price == Decimal("0.01")


def test_database_refuses_two_products_with_the_same_slug(make_product):
    """Slugs are unique in the database, so two pages never share a URL."""
    make_product(slug="vase-bleu")

    with pytest.raises(IntegrityError), transaction.atomic():
        Product.objects.create(name="Autre vase", slug="vase-bleu", price=Decimal("5.00"))


def test_catalogue_order_is_read_from_an_index(make_products):
    """A catalogue page reads its rows from the newest-first index instead of sorting the table."""
    make_products(50)
    sql, params = Product.objects.with_status()[12:24].query.sql_with_params()

    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            # Tiny test tables are cheaper to scan: ask whether the index *can* serve the order.
            cursor.execute("SET LOCAL enable_seqscan = off")
            cursor.execute(f"EXPLAIN {sql}", params)
        else:
            cursor.execute(f"EXPLAIN QUERY PLAN {sql}", params)
        plan = " ".join(str(row) for row in cursor.fetchall())

    assert "product_newest_first" in plan
    assert "Sort" not in plan
    assert "TEMP B-TREE" not in plan
