"""Pages are sent compressed to clients that accept gzip (GZipMiddleware); the stock API's
early path is not (its answers are small, and a CDN in front compresses them itself)."""

import gzip

import pytest
from django.test import Client
from django.urls import reverse

pytestmark = pytest.mark.django_db

GZIP = {"Accept-Encoding": "gzip, deflate, br"}


@pytest.fixture
def piece(make_product):
    return make_product(name="Vase céladon")


@pytest.mark.parametrize("path", ["/", "/?q=vase", "piece", "/feeds/produits.xml", "/panier/"])
def test_pages_are_compressed_for_clients_that_accept_gzip(path, piece):
    path = piece.get_absolute_url() if path == "piece" else path
    shopper = Client()
    shopper.post(reverse("cart:add", args=[piece.pk]))
    plain = shopper.get(path)
    compressed = shopper.get(path, headers=GZIP)

    assert plain.status_code == compressed.status_code == 200
    assert "Content-Encoding" not in plain
    assert compressed["Content-Encoding"] == "gzip"
    assert "Accept-Encoding" in compressed["Vary"]
    body = gzip.decompress(compressed.content)
    assert int(compressed["Content-Length"]) == len(compressed.content) < len(body)
    assert "Vase céladon" in body.decode()


def test_the_stock_polls_are_not_compressed(piece):
    response = Client().get("/api/products", {"ids": piece.pk}, headers=GZIP)

    assert response.status_code == 200
    assert "Content-Encoding" not in response
    assert "Vary" not in response


def test_the_feeds_etag_is_weak_once_compressed_and_still_gives_304(piece):
    """A compressed body is not the one the strong ETag named: it becomes weak, and a
    fetcher that sends it back still gets 304."""
    first = Client().get("/feeds/produits.xml", headers=GZIP)
    assert first["ETag"].startswith('W/"')

    again = Client().get("/feeds/produits.xml", headers={**GZIP, "If-None-Match": first["ETag"]})

    assert again.status_code == 304


def test_compressed_sizes_vary_against_breach(piece):
    """Django's mitigation of BREACH is kept: a random-length field in the gzip header, so
    the size of a page does not tell what its secret parts compress to."""
    plain = {Client().get("/feeds/produits.xml").content for _ in range(3)}
    sizes = {len(Client().get("/feeds/produits.xml", headers=GZIP).content) for _ in range(12)}

    assert len(plain) == 1  # the same feed each time...
    assert len(sizes) > 1  # ...never the same size twice in a row, or rarely


def test_small_answers_are_left_alone(db):
    response = Client().get("/healthz", headers=GZIP)

    assert response.content == b"ok"
    assert "Content-Encoding" not in response
