"""/feeds/produits.xml: the product feed for Google Merchant Center and Meta's catalogues
(products/feed.py), in Google's RSS 2.0 format.

The tests commit for real (`transaction=True`): with TEST_CACHE_URL=redis://... (CI runs
this file again with Redis) the feed is kept under the stock version, and a sale must
still show in the very next fetch.
"""

from decimal import Decimal
from xml.etree import ElementTree

import pytest
from django.core.cache import cache
from django.test import Client

from products import feed, stock_version
from products.models import Condition, Product
from products.tests.conftest import LISTING_APP_URL
from products.tests.test_stock_freshness import open_order, send_event, session_of

pytestmark = [
    pytest.mark.django_db(transaction=True),
    pytest.mark.usefixtures("listing_settings"),
]

APP_URL = LISTING_APP_URL
G = "{http://base.google.com/ns/1.0}"
# Google's product data specification: what every item of this feed carries.
REQUIRED = ["id", "title", "description", "link", "availability", "price", "condition"]


def fetch(client: Client, **headers: str):
    return client.get("/feeds/produits.xml", headers=headers)


def items(client: Client) -> dict[str, ElementTree.Element]:
    """The feed's items by g:id, after checking it is RSS 2.0 with Google's namespace."""
    response = fetch(client)
    assert response.status_code == 200
    assert response["Content-Type"] == "application/rss+xml; charset=utf-8"
    body = response.content
    assert body.startswith(b'<?xml version="1.0" encoding="utf-8"?>')
    assert b'xmlns:g="http://base.google.com/ns/1.0"' in body
    assert max(len(line) for line in body.splitlines()) < 100_000  # one item a line
    root = ElementTree.fromstring(body)
    assert (root.tag, root.get("version")) == ("rss", "2.0")
    [channel] = root.findall("channel")
    assert channel.findtext("link") == f"{APP_URL}/"
    return {item.findtext(f"{G}id"): item for item in channel.findall("item")}


def g(item: ElementTree.Element, name: str) -> str | None:
    return item.findtext(f"{G}{name}")


def availability(client: Client, product: Product) -> str:
    return g(items(client)[str(product.pk)], "availability")


def test_the_feed_lists_every_piece_with_googles_attributes(client, make_product, photographed):
    lamp = photographed
    plaid = make_product(
        name="Plaid « tissé » & noué <main>",
        price="180.00",
        condition=Condition.NEW,
        description="",
    )
    sold = make_product(name="Carafe", price="65.00", in_stock=False)

    found = items(client)

    assert set(found) == {str(lamp.pk), str(plaid.pk), str(sold.pk)}
    item = found[str(lamp.pk)]
    assert all(g(item, name) for name in REQUIRED)
    assert g(item, "title") == "Lampe champignon"
    assert g(item, "description") == "Opaline blanche et pied laiton."
    assert g(item, "link") == f"{APP_URL}/produits/lampe-champignon/"
    assert g(item, "image_link") == f"{APP_URL}{lamp.photo_large.url}"
    assert [e.text for e in item.findall(f"{G}additional_image_link")] == [
        f"{APP_URL}{extra.photo_large.url}" for extra in lamp.images.all()
    ]
    assert g(item, "availability") == "in_stock"
    assert g(item, "price") == "145.00 EUR"
    assert g(item, "condition") == "used"  # the shop's default: vintage
    assert g(item, "identifier_exists") == "no"
    assert g(item, "product_type") == "Luminaires"
    shipping = item.findall(f"{G}shipping")
    assert [(g(s, "country"), g(s, "price")) for s in shipping] == [
        ("FR", "8.00 EUR"),
        ("BE", "8.00 EUR"),
    ]
    assert [g(shipping[0], n) for n in ("min_handling_time", "max_handling_time")] == ["1", "2"]
    assert [g(shipping[0], n) for n in ("min_transit_time", "max_transit_time")] == ["2", "4"]

    new = found[str(plaid.pk)]
    assert g(new, "condition") == "new"
    assert g(new, "title") == "Plaid « tissé » & noué <main>"  # escaped, read back as is
    assert g(new, "description") == g(new, "title")  # Google requires one: the name stands in
    assert g(new, "image_link") is None  # no photo yet: nothing made up
    assert {g(s, "price") for s in new.findall(f"{G}shipping")} == {"0.00 EUR"}  # over 150 €
    assert g(found[str(sold.pk)], "availability") == "out_of_stock"


def test_a_sale_by_the_webhook_is_out_of_stock_in_the_next_fetch(client, pieces):
    """The feed follows the stock version: no stale feed after a sale, even when it is kept
    in the shared cache (then the fetches before the sale cost no query)."""
    assert availability(client, pieces[0]) == "in_stock"
    order = open_order(pieces[0])
    # Reserved: the hold lapses within half an hour, the piece stays listed as in stock.
    assert availability(client, pieces[0]) == "in_stock"

    send_event(
        "checkout.session.completed",
        session_of(order, status="complete", payment_status="paid", payment_intent="pi_feed"),
    )

    assert availability(client, pieces[0]) == "out_of_stock"
    assert availability(client, pieces[1]) == "in_stock"


def test_the_owners_edits_are_in_the_next_fetch(client, pieces):
    assert g(items(client)[str(pieces[1].pk)], "price") == "100.00 EUR"

    Product.objects.filter(pk=pieces[1].pk).update(price=Decimal("120.00"), name="Lampe")

    item = items(client)[str(pieces[1].pk)]
    assert (g(item, "price"), g(item, "title")) == ("120.00 EUR", "Lampe")


def test_an_unchanged_feed_answers_304(client, pieces):
    first = fetch(client)
    assert "no-cache" in first["Cache-Control"]

    again = fetch(client, if_none_match=first["ETag"])

    assert again.status_code == 304
    assert again.content == b""
    open_order(pieces[0])  # a hold changes nothing the feed says
    assert fetch(client, if_none_match=first["ETag"]).status_code == 304
    Product.objects.filter(pk=pieces[0].pk).update(in_stock=False)
    assert fetch(client, if_none_match=first["ETag"]).status_code == 200


def test_a_kept_feed_runs_no_query(client, pieces, django_assert_num_queries):
    if not stock_version.shared():
        pytest.skip("no shared cache: the feed is built for each fetch")
    fetch(client)
    with django_assert_num_queries(0):
        assert fetch(client).status_code == 200
    assert cache.get(feed.CACHE_KEY) is not None
