"""The shop's data for a run: a throwaway database, pieces (some sold, some held), open
checkouts, and the signed events that pay them (built as the tests build them:
payments/offline/testing.py)."""

import os
import secrets
from datetime import timedelta
from decimal import Decimal
from urllib.parse import urlsplit, urlunsplit

from clients import get

WEBHOOK_SECRET = "whsec_bench_" + "0" * 32


def create_database(server_url: str) -> tuple[str, str]:
    """A fresh database beside the one named in `server_url`; returns (name, its URL)."""
    import psycopg

    parts = urlsplit(server_url)
    name = f"bench_{os.getpid()}"
    with psycopg.connect(server_url, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        conn.execute(f'CREATE DATABASE "{name}"')
    return name, urlunsplit(parts._replace(path="/" + name))


def drop_database(server_url: str, name: str) -> None:
    import psycopg

    with psycopg.connect(server_url, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def load_pieces(count: int, *, start: int = 0, prefix: str = "piece") -> list[int]:
    """`count` pieces: one in ten sold, one in ten held by an open checkout, the rest free."""
    from django.utils import timezone

    from payments.models import Order
    from products.models import Product

    now = timezone.now()
    pieces = [
        Product(
            name=f"Pièce n° {i}",
            slug=f"{prefix}-{i}",
            description="Une pièce unique, décrite en quelques lignes. " * 4,
            price=Decimal("10.00") + i % 500,
            image=f"products/{prefix}-{i}.jpg",
            in_stock=i % 10 != 3,
        )
        for i in range(start, start + count)
    ]
    pieces = Product.objects.bulk_create(pieces, batch_size=1000)
    held = [p for p in pieces if int(p.slug.rsplit("-", 1)[1]) % 10 == 7]
    orders = Order.objects.bulk_create(
        Order(
            total=p.price,
            shopper_id=f"held-{p.pk}",
            stripe_session_id=f"cs_held_{p.pk}",
            checkout_expires_at=now + timedelta(hours=2),
        )
        for p in held
    )
    _hold(held, orders, until=now + timedelta(hours=2), batch_size=1000)
    return [p.pk for p in pieces]


def open_orders(count: int) -> list:
    """`count` open checkouts, each holding one piece of its own, as after Commander."""
    from django.utils import timezone

    from payments.models import Order
    from products.models import Product

    now = timezone.now()
    tag = secrets.token_hex(3)
    pieces = Product.objects.bulk_create(
        Product(name=f"Pièce payée n° {i}", slug=f"paid-{tag}-{i}", price=Decimal("42.00"))
        for i in range(count)
    )
    orders = Order.objects.bulk_create(
        Order(
            total=Decimal("42.00"),
            shopper_id=f"buyer-{tag}-{i}",
            stripe_session_id=f"cs_test_bench_{tag}_{i}",
            checkout_url="https://checkout.stripe.com/c/pay/x",
            checkout_expires_at=now + timedelta(hours=1),
        )
        for i in range(count)
    )
    _hold(pieces, orders, until=now + timedelta(hours=1))
    return orders


def _hold(pieces: list, orders: list, *, until, batch_size: int | None = None) -> None:
    """Each piece in its order (the order's one item) and held by it until `until`, as
    Commander leaves them."""
    from payments.models import OrderItem
    from products.models import Product

    OrderItem.objects.bulk_create(
        OrderItem(order=o, product=p, name=p.name, price=p.price)
        for o, p in zip(orders, pieces, strict=True)
    )
    for order, piece in zip(orders, pieces, strict=True):
        piece.held_by = order
        piece.held_until = until
    Product.objects.bulk_update(pieces, ["held_by", "held_until"], batch_size=batch_size)


def completed_event(order) -> tuple[str, str]:
    """A signed `checkout.session.completed` for an order, as Stripe sends it."""
    from payments.offline.testing import paid_session, signed_event

    payload, header = signed_event(
        "checkout.session.completed", paid_session(order), secret=WEBHOOK_SECRET
    )
    return payload.decode("utf-8"), header


def webhook_request(order) -> tuple[str, str, str, dict]:
    payload, header = completed_event(order)
    return (
        "POST",
        "/api/webhooks/stripe",
        payload,
        {"Content-Type": "application/json; charset=utf-8", "Stripe-Signature": header},
    )


def catalogue_ids(port: int, page: int = 1) -> list[int]:
    from django.conf import settings

    from products.models import Product

    size = settings.CATALOGUE_PAGE_SIZE
    offset = (page - 1) * size
    return list(Product.objects.values_list("pk", flat=True)[offset : offset + size])


def etag_of(port: int, path: str) -> str:
    status, headers, _ = get(port, path)
    if status != 200:
        raise RuntimeError(f"{path}: HTTP {status}")
    return headers["ETag"]
