"""Project-wide test set-up: PostgreSQL and browser tests skip outside CI, fail inside it."""

import itertools
import os
import shutil
from collections.abc import Callable
from decimal import Decimal
from typing import Any

import pytest

CHROMIUM = "/usr/bin/chromium"
IN_CI = os.environ.get("CI", "").lower() in {"1", "true", "yes"}


def _missing(reason: str) -> None:
    if IN_CI:
        pytest.fail(f"{reason} (CI must run these tests)", pytrace=False)
    pytest.skip(reason)


@pytest.fixture(autouse=True)
def _require_marked_services(request: pytest.FixtureRequest) -> None:
    if request.node.get_closest_marker("postgres"):
        from django.db import connection

        if connection.vendor != "postgresql":
            _missing("needs PostgreSQL: run with DATABASE_URL=postgres://...")
    if request.node.get_closest_marker("browser") and not (
        os.path.exists(CHROMIUM) or shutil.which("chromium")
    ):
        _missing(f"needs Chromium at {CHROMIUM}: apt-get install -y chromium")


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
