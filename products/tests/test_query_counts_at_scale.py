"""The shopper's requests run as many queries with 10,000 pieces as with 1,000 (a drop
brings a big catalogue; nothing may grow with it). make bench measures their speed."""

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext

from products.models import Product

pytestmark = pytest.mark.django_db


def queries(client: Client, path: str) -> int:
    client.get(path)  # warm: the same state for both counts (session, caches)
    with CaptureQueriesContext(connection) as captured:
        response = client.get(path)
    assert response.status_code == 200, path
    return len(captured)


def paths() -> dict[str, str]:
    newest = list(Product.objects.values_list("pk", flat=True)[:24])
    piece = Product.objects.order_by("pk").first()
    return {
        "catalogue": "/",
        "catalogue page 3": "/?page=3",
        "product page": piece.get_absolute_url(),
        "stock API, 24 ids": "/api/products?ids=" + ",".join(map(str, newest)),
    }


def test_query_counts_do_not_grow_from_1000_to_10000_pieces(client, make_products):
    make_products(1_000)
    at_1000 = {page: queries(client, path) for page, path in paths().items()}

    make_products(9_000)
    at_10000 = {page: queries(client, path) for page, path in paths().items()}

    assert at_10000 == at_1000
