"""Project-wide test set-up: PostgreSQL and browser tests skip outside CI, fail inside it."""

import itertools
import socket
import threading
from collections.abc import Callable, Iterator
from decimal import Decimal
from typing import Any

import pytest

from shop.tests.chromium import missing, require_chromium


@pytest.fixture(autouse=True)
def _require_marked_services(request: pytest.FixtureRequest) -> None:
    if request.node.get_closest_marker("postgres"):
        from django.db import connection

        if connection.vendor != "postgresql":
            missing("needs PostgreSQL: run with DATABASE_URL=postgres://...")
    if request.node.get_closest_marker("browser"):
        require_chromium()


@pytest.fixture(autouse=True)
def _empty_cache() -> None:
    """Each test starts with an empty cache (with TEST_CACHE_URL, a shared Redis database)."""
    from django.core.cache import cache

    cache.clear()


@pytest.fixture(autouse=True)
def _mail_server_not_paused() -> None:
    """A process pauses its mail sending after a mail server failure, and looks for messages
    due again now and then (payments/services/mail.py): each test starts as a new process."""
    from payments.services import mail

    mail._paused_until = 0.0
    mail._due_checked_at = -mail.DUE_CHECK_SECONDS


@pytest.fixture
def silent_port() -> Iterator[int]:
    """A port on the loopback that accepts connections and never says a word: a mail server
    or a Redis that hangs."""
    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen(64)
    accepted, stop = [], threading.Event()

    def accept():
        server.settimeout(0.1)
        while not stop.is_set():
            try:
                accepted.append(server.accept()[0])
            except TimeoutError:
                continue

    thread = threading.Thread(target=accept, daemon=True)
    thread.start()
    yield server.getsockname()[1]
    stop.set()
    thread.join()
    for conn in accepted:
        conn.close()
    server.close()


@pytest.fixture(autouse=True)
def _media_root(settings, tmp_path) -> None:
    """Uploaded and generated images go to a temporary folder, not the project's."""
    settings.MEDIA_ROOT = tmp_path / "media"


_product_numbers = itertools.count(1)


@pytest.fixture
def make_product(db) -> Callable[..., Any]:
    """Create a product; any field can be overridden (`make_product(price="12.50")`)."""

    from products.models import Product

    def make(**overrides: Any) -> Product:
        n = next(_product_numbers)
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
def make_products(db) -> Callable[..., list[Any]]:
    """Create `count` products in one statement (for catalogues of hundreds of pieces)."""
    from products.models import Product

    def make(count: int, **overrides: Any) -> list[Product]:
        numbers = [next(_product_numbers) for _ in range(count)]
        return Product.objects.bulk_create(
            Product(
                name=f"Pièce n° {n}",
                slug=f"piece-{n}",
                price=Decimal("10.00") + i,
                **overrides,
            )
            for i, n in enumerate(numbers)
        )

    return make
