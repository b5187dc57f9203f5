"""What search engines and link previews read: titles, canonical and OpenGraph tags,
JSON-LD, the gallery's images, /sitemap.xml and /robots.txt."""

import json
import re
from datetime import datetime, timedelta
from html.parser import HTMLParser
from xml.etree import ElementTree

import pytest
from django.test import Client
from django.utils import timezone

from products.demo import demo_image
from products.legal import LEGAL_PAGES
from products.models import Category, Product

APP_URL = "https://boutique.example"


@pytest.fixture(autouse=True)
def _app_url(settings) -> None:
    settings.APP_URL = APP_URL


class _Head(HTMLParser):
    """The page's <meta>, <link> and JSON-LD scripts, and its <img> tags."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.meta: dict[str, str] = {}
        self.links: dict[str, str] = {}
        self.images: list[dict[str, str]] = []
        self.ld_json: list[str] = []
        self._in_ld = False

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        values = {k: v or "" for k, v in attrs}
        if tag == "meta":
            key = values.get("property") or values.get("name")
            if key:
                self.meta[key] = values.get("content", "")
        elif tag == "link":
            self.links[values.get("rel", "")] = values.get("href", "")
        elif tag == "img":
            self.images.append(values)
        elif tag == "script" and values.get("type") == "application/ld+json":
            self._in_ld = True
            self.ld_json.append("")

    def handle_endtag(self, tag: str) -> None:
        if tag == "script":
            self._in_ld = False

    def handle_data(self, data: str) -> None:
        if self._in_ld:
            self.ld_json[-1] += data


def _ld(head: _Head, kind: str) -> dict:
    """The one JSON-LD block of this @type on the page."""
    [data] = [d for d in map(json.loads, head.ld_json) if d["@type"] == kind]
    return data


def _head(client: Client, path: str) -> tuple[_Head, str]:
    response = client.get(path)
    assert response.status_code == 200
    html = response.content.decode()
    parser = _Head()
    parser.feed(html)
    return parser, html


# Product page


def test_product_page_has_title_description_canonical_and_opengraph(client, photographed):
    head, html = _head(client, "/produits/lampe-champignon/")

    assert "<title>Lampe champignon · Boutique</title>" in html
    assert head.meta["description"] == "Opaline blanche et pied laiton."
    assert head.links["canonical"] == f"{APP_URL}/produits/lampe-champignon/"
    assert head.meta["og:type"] == "product"
    assert head.meta["og:title"] == "Lampe champignon"
    assert head.meta["og:description"] == "Opaline blanche et pied laiton."
    assert head.meta["og:url"] == f"{APP_URL}/produits/lampe-champignon/"
    assert head.meta["og:image"] == f"{APP_URL}{photographed.photo_large.url}"
    assert head.meta["og:image"].endswith(".webp")


def test_a_piece_without_photo_has_no_og_image(client, make_product):
    product = make_product(description="")

    head, _ = _head(client, product.get_absolute_url())

    assert "og:image" not in head.meta
    assert head.meta["description"] == product.name


@pytest.mark.parametrize(
    ("state", "availability"),
    [
        ({}, "https://schema.org/InStock"),
        ({"held_until": "future"}, "https://schema.org/LimitedAvailability"),
        ({"held_until": "past"}, "https://schema.org/InStock"),
        ({"in_stock": False}, "https://schema.org/SoldOut"),
    ],
)
def test_json_ld_availability_follows_the_status(client, make_product, state, availability):
    now = timezone.now()
    if state.get("held_until") == "future":
        state = {"held_until": now + timedelta(minutes=10)}
    elif state.get("held_until") == "past":
        state = {"held_until": now - timedelta(minutes=1)}
    product = make_product(name="Carafe", price="65.00", **state)

    head, _ = _head(client, product.get_absolute_url())

    data = _ld(head, "Product")
    assert data["@context"] == "https://schema.org"
    assert data["@type"] == "Product"
    assert data["name"] == "Carafe"
    assert data["url"] == f"{APP_URL}{product.get_absolute_url()}"
    assert data["offers"]["price"] == "65.00"
    assert data["offers"]["priceCurrency"] == "EUR"
    assert data["offers"]["availability"] == availability


def test_json_ld_lists_the_photos_and_the_category(client, photographed):
    head, _ = _head(client, photographed.get_absolute_url())

    data = _ld(head, "Product")
    assert data["category"] == "Luminaires"
    assert data["image"][0] == f"{APP_URL}{photographed.photo_large.url}"
    assert len(data["image"]) == 3
    assert all(url.startswith(f"{APP_URL}/media/") for url in data["image"])


def test_json_ld_cannot_be_closed_by_the_owners_text(client, make_product):
    """A name or description holding `</script>` stays data: escaped as json_script does."""
    product = make_product(name="</script><script>alert(1)</script>", description="<!-- & \u2028 '")

    head, html = _head(client, product.get_absolute_url())

    assert "</script><script>alert(1)" not in html
    assert "\\u003C/script\\u003E\\u003Cscript\\u003Ealert(1)" in html
    data = _ld(head, "Product")
    assert data["name"] == "</script><script>alert(1)</script>"
    assert data["description"] == "<!-- & \u2028 '"


# The gallery


def test_gallery_shows_every_photo_in_order_with_srcset_and_sizes(client, photographed):
    """Main photo first, then the others by position; each image has a srcset of two
    WebP renditions, width and height; only the first loads eagerly."""
    head, html = _head(client, photographed.get_absolute_url())

    slides = [img for img in head.images if "640w" in img.get("srcset", "")]
    assert [img["alt"] for img in slides] == [
        "Lampe champignon",
        "La lampe allumée",
        "Le pied en laiton",
    ]
    extras = list(photographed.images.all())
    for img, source in zip(slides, [photographed, *extras], strict=True):
        assert img["src"] == source.photo_medium.url
        assert img["srcset"] == f"{source.photo_medium.url} 640w, {source.photo_large.url} 1200w"
        assert (img["width"], img["height"]) == ("640", "640")
        assert img["sizes"]
    assert "loading" not in slides[0]
    assert slides[0]["fetchpriority"] == "high"
    assert all(img["loading"] == "lazy" and "fetchpriority" not in img for img in slides[1:])
    # Without JavaScript: each thumbnail links to its photo's anchor.
    for n in (1, 2, 3):
        assert f'id="photo-{n}"' in html
        assert f'<a href="#photo-{n}"><img src="' in html


def test_a_single_photo_needs_no_thumbnails(client, make_product):
    product = make_product()
    product.image.save("seule.jpg", demo_image("Seule"), save=True)

    html = client.get(product.get_absolute_url()).content.decode()

    assert 'id="photo-1"' in html
    assert "gallery__thumbs" not in html


def test_catalogue_cards_use_small_renditions(client, photographed, make_product):
    make_product(name="Sans photo")

    head, html = _head(client, "/")

    [card] = [img for img in head.images if "320w" in img.get("srcset", "")]
    assert card["src"] == photographed.card_small.url
    assert card["srcset"] == (
        f"{photographed.card_small.url} 320w, {photographed.card_large.url} 640w"
    )
    assert (card["width"], card["height"]) == ("320", "320")
    assert card["alt"] == "Lampe champignon"
    # A piece without photo: a neutral placeholder that names the link.
    assert 'role="img" aria-label="Sans photo (photo à venir)"' in html


def test_the_first_row_of_cards_loads_first_and_the_rest_lazily(client, make_products):
    """The first four cards (a row at the widest layout; the first is a phone's largest
    picture) load at once with high priority; the others wait for the scroll."""
    make_products(7, image="products/piece.jpg")

    head, _ = _head(client, "/")

    cards = [img for img in head.images if "320w" in img.get("srcset", "")]
    assert len(cards) == 7
    for card in cards[:4]:
        assert card["fetchpriority"] == "high"
        assert "loading" not in card
    for card in cards[4:]:
        assert card["loading"] == "lazy"
        assert "fetchpriority" not in card


def test_renditions_are_written_when_the_photo_is_saved(photographed):
    """Every rendition exists on disk after the save; pages only build their URLs."""
    from pathlib import Path

    from PIL import Image

    for source in [photographed, *photographed.images.all()]:
        for rendition, size in [("card_small", 320), ("card_large", 640), ("photo_large", 1200)]:
            with Image.open(Path(getattr(source, rendition).path)) as image:
                assert (image.format, image.size) == ("WEBP", (size, size))


# Other pages


def test_catalogue_canonical_drops_search_parameters(client, make_product, settings):
    settings.CATALOGUE_PAGE_SIZE = 1
    make_product(name="Vase")
    make_product(name="Vase bleu")

    first, html = _head(client, "/")
    second, _ = _head(client, "/?page=2&tri=prix&q=vase")

    assert first.links["canonical"] == f"{APP_URL}/"
    assert first.meta["og:type"] == "website"
    assert first.meta["og:title"] == "Boutique"
    assert "<title>Catalogue · Boutique</title>" in html
    assert second.links["canonical"] == f"{APP_URL}/?page=2"


def test_shop_name_and_tagline_come_from_settings(client, make_product, settings):
    settings.SHOP_NAME = "Brocante des Lilas"
    settings.SHOP_TAGLINE = "objets chinés"
    product = make_product(name="Carafe")

    head, html = _head(client, product.get_absolute_url())

    assert "<title>Carafe · Brocante des Lilas</title>" in html
    assert re.search(
        r'class="brand"[^>]*>Brocante des Lilas<span class="brand__tag">objets chinés<', html
    )
    assert head.meta["og:site_name"] == "Brocante des Lilas"
    assert "© Brocante des Lilas" in html
    data = _ld(head, "Product")
    assert data["offers"]["seller"]["name"] == "Brocante des Lilas"


def test_the_catalogue_is_titled_with_the_tagline(client, db, settings):
    settings.SHOP_TAGLINE = "objets chinés"
    assert "<h1>Objets chinés</h1>" in client.get("/").content.decode()

    settings.SHOP_TAGLINE = ""
    assert "<h1>Catalogue</h1>" in client.get("/").content.decode()


# sitemap.xml and robots.txt

SITEMAP_NS = "{http://www.sitemaps.org/schemas/sitemap/0.9}"


def test_sitemap_lists_every_piece_sold_ones_too_categories_and_legal_pages(
    client, make_product, db
):
    available = make_product(slug="vase")
    sold = make_product(slug="carafe", in_stock=False)
    held = make_product(slug="lampe", held_until=timezone.now() + timedelta(minutes=5))
    Category.objects.create(name="Luminaires", slug="luminaires")

    response = client.get("/sitemap.xml")

    assert response.status_code == 200
    assert response["Content-Type"].startswith("application/xml")
    root = ElementTree.fromstring(response.content)
    locations = [url.findtext(f"{SITEMAP_NS}loc") for url in root.iter(f"{SITEMAP_NS}url")]
    assert set(locations) == {
        f"{APP_URL}/",
        *(f"{APP_URL}/produits/{p.slug}/" for p in (available, sold, held)),
        f"{APP_URL}/categories/luminaires/",
        *(f"{APP_URL}{page.url}" for page in LEGAL_PAGES),
    }
    lastmods = _lastmods(client)
    assert lastmods[f"{APP_URL}/produits/carafe/"] == _w3c(sold.updated_at)


def _lastmods(client: Client) -> dict[str, str | None]:
    root = ElementTree.fromstring(client.get("/sitemap.xml").content)
    return {
        url.findtext(f"{SITEMAP_NS}loc"): url.findtext(f"{SITEMAP_NS}lastmod")
        for url in root.iter(f"{SITEMAP_NS}url")
    }


def _w3c(when) -> str:
    """A W3C datetime to the second, in the shop's time zone, as the sitemap writes it."""
    return timezone.localtime(when).replace(microsecond=0).isoformat()


def _a_week_ago(*products: Product) -> None:
    week_ago = timezone.now() - timedelta(days=7)
    Product.objects.filter(pk__in=[p.pk for p in products]).update(updated_at=week_ago)
    Category.objects.update(updated_at=week_ago)


def test_lastmod_moves_with_a_sale_and_a_return_to_sale_not_with_a_hold(client, make_product):
    """`mark_sold` writes with update(), which skips auto_now: the sale's page said « Vendu »
    while the sitemap still named last week. A hold moves nothing: it lapses by itself."""
    from django.db import transaction

    from products import stock

    lights = Category.objects.create(name="Luminaires", slug="luminaires")
    vase = make_product(slug="vase", category=lights)
    other = make_product(slug="lampe", category=lights)
    _a_week_ago(vase, other)
    before = _lastmods(client)
    page = f"{APP_URL}/produits/vase/"

    with transaction.atomic():
        stock.hold_products(
            stock.lock_products([vase.pk]),
            order_id=None,
            until=timezone.now() + timedelta(minutes=30),
        )
    assert _lastmods(client) == before

    started = timezone.now().replace(microsecond=0)
    with transaction.atomic():
        stock.mark_sold(p.pk for p in stock.lock_products([vase.pk]))
    after_sale = _lastmods(client)
    vase.refresh_from_db()
    assert after_sale[page] == _w3c(vase.updated_at)
    assert datetime.fromisoformat(after_sale[page]) >= started
    # The category page and the catalogue show the card: they move too; the other piece not.
    assert after_sale[f"{APP_URL}/categories/luminaires/"] == after_sale[page]
    assert after_sale[f"{APP_URL}/"] == after_sale[page]
    assert after_sale[f"{APP_URL}/produits/lampe/"] == before[f"{APP_URL}/produits/lampe/"]

    _a_week_ago(vase, other)
    stock.put_back_on_sale([vase.pk], owned=lambda ids: set())
    vase.refresh_from_db()
    assert _lastmods(client)[page] == _w3c(vase.updated_at) != before[page]


def test_renaming_a_category_moves_the_lastmod_of_the_pages_that_show_it(client, make_product):
    lights = Category.objects.create(name="Luminaires", slug="luminaires")
    make_product(slug="lampe", category=lights)
    make_product(slug="vase")
    _a_week_ago(*Product.objects.all())
    before = _lastmods(client)

    lights.name = "Lampes et appliques"
    lights.save()

    after = _lastmods(client)
    changed = {loc for loc in after if after[loc] != before[loc]}
    assert changed == {
        f"{APP_URL}/",
        f"{APP_URL}/categories/luminaires/",
        f"{APP_URL}/produits/lampe/",
    }


def test_robots_txt_keeps_crawlers_out_of_cart_checkout_and_admin(client, db):
    response = client.get("/robots.txt")

    assert response.status_code == 200
    assert response["Content-Type"] == "text/plain; charset=utf-8"
    lines = response.content.decode().splitlines()
    assert "User-agent: *" in lines
    for path in ("/panier/", "/commande/", "/admin/"):
        assert f"Disallow: {path}" in lines
    assert f"Sitemap: {APP_URL}/sitemap.xml" in lines
    assert "Disallow: /" not in lines  # the catalogue stays open


def test_robots_txt_does_not_publish_a_custom_admin_url(client, db, settings):
    """A secret ADMIN_URL is not written where anyone can read it."""
    settings.ADMIN_URL = "gestion-a1b2c3/"

    body = client.get("/robots.txt").content.decode()

    assert "gestion-a1b2c3" not in body
    assert "Disallow: /panier/" in body
