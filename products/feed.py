"""The product feed, `/feeds/produits.xml`: every piece in Google Merchant Center's RSS 2.0
format (the `g:` namespace), which Meta's catalogues (Facebook, Instagram) read too.

Merchant Center and Commerce Manager fetch it on a schedule; what they read must be what
the pages say at that moment. The feed is built from the database and kept in the shared
cache under the stock version (products/stock_version.py): a sale, a price or a photo
changes the version, and the next fetch builds the feed again, so a sold piece says
`out_of_stock` at once. With the per-process default cache it is built for each fetch.

Attributes, as Google documents them (support.google.com/merchants, "Product data
specification"): id, title, description, link, image_link, additional_image_link,
availability, price, condition, identifier_exists (a one-of-a-kind piece has no GTIN or
MPN), product_type (the category) and one shipping per country, with its price and the
handling and transit days. A reserved piece is `in_stock`, as its page's JSON-LD says
LimitedAvailability: the hold lapses within half an hour, and a feed fetched a few times a
day would otherwise drop it for hours.
"""

import hashlib
import io
from decimal import Decimal

from django.conf import settings
from django.urls import reverse
from django.utils.feedgenerator import Rss201rev2Feed
from django.utils.xmlutils import SimplerXMLGenerator

from products import stock_version
from products.models import Condition, Product, StockStatus
from products.seo import absolute_url
from shop.shipping import shipping_cost_for

GOOGLE_NS = "http://base.google.com/ns/1.0"
CACHE_KEY = "feed:produits"  # the entry: (version, (body, ETag))
# A feed nobody fetched for this long leaves the cache (Merchant Center fetches daily).
CACHE_SECONDS = 24 * 3600

AVAILABILITY = {
    StockStatus.AVAILABLE: "in_stock",
    StockStatus.RESERVED: "in_stock",
    StockStatus.SOLD: "out_of_stock",
}
CONDITION = {Condition.NEW: "new", Condition.USED: "used", Condition.VINTAGE: "used"}
# Google's limits: longer text is refused, not cut.
MAX_TITLE = 150
MAX_DESCRIPTION = 5000
MAX_ADDITIONAL_IMAGES = 10


class MerchantFeed(Rss201rev2Feed):
    """RSS 2.0 whose items are made of `g:` elements only; one item per line (Meta refuses
    a line over 5 MB, and a catalogue of a few thousand pieces on one line would be)."""

    def rss_attributes(self) -> dict[str, str]:
        return {**super().rss_attributes(), "xmlns:g": GOOGLE_NS}

    def write_items(self, handler: SimplerXMLGenerator) -> None:
        for item in self.items:
            handler.ignorableWhitespace("\n")
            handler.startElement("item", self.item_attributes(item))
            self.add_item_elements(handler, item)
            handler.endElement("item")
        handler.ignorableWhitespace("\n")

    def add_item_elements(self, handler: SimplerXMLGenerator, item: dict) -> None:
        for name, value in item["g"]:
            if isinstance(value, list):  # a group such as g:shipping
                handler.startElement(f"g:{name}", {})
                for sub_name, sub_value in value:
                    handler.addQuickElement(f"g:{sub_name}", sub_value)
                handler.endElement(f"g:{name}")
            else:
                handler.addQuickElement(f"g:{name}", value)


def _price(amount: Decimal) -> str:
    return f"{amount:.2f} EUR"


def _shipping(price: Decimal) -> list[tuple[str, list[tuple[str, str]]]]:
    """One g:shipping per country: what Checkout would charge for this piece alone."""
    cost = _price(shipping_cost_for(price))
    handling, transit = settings.SHIPPING_HANDLING_DAYS, settings.SHIPPING_TRANSIT_DAYS
    return [
        (
            "shipping",
            [
                ("country", country),
                ("service", "Standard"),
                ("price", cost),
                ("min_handling_time", str(handling[0])),
                ("max_handling_time", str(handling[1])),
                ("min_transit_time", str(transit[0])),
                ("max_transit_time", str(transit[1])),
            ],
        )
        for country in settings.SHIPPING_COUNTRIES
    ]


def _item(product: Product) -> list[tuple[str, object]]:
    photos = [product.photo_large.url] if product.image else []
    photos += [extra.photo_large.url for extra in product.images.all()]
    fields: list[tuple[str, object]] = [
        ("id", str(product.pk)),
        ("title", product.name[:MAX_TITLE]),
        ("description", (product.description or product.name)[:MAX_DESCRIPTION]),
        ("link", absolute_url(product.get_absolute_url())),
    ]
    if photos:
        fields.append(("image_link", absolute_url(photos[0])))
        fields += [
            ("additional_image_link", absolute_url(url))
            for url in photos[1 : 1 + MAX_ADDITIONAL_IMAGES]
        ]
    fields += [
        ("availability", AVAILABILITY[StockStatus(product.status)]),
        ("price", _price(product.price)),
        ("condition", CONDITION[Condition(product.condition)]),
        ("identifier_exists", "no"),
    ]
    if product.category is not None:
        fields.append(("product_type", product.category.name))
    return fields + _shipping(product.price)


def build_feed() -> bytes:
    """The whole feed, from the database: every piece, sold ones too, by id."""
    feed = MerchantFeed(
        title=settings.SHOP_NAME,
        link=absolute_url(reverse("products:list")),
        description=settings.SHOP_TAGLINE or settings.SHOP_NAME,
        language="fr",
    )
    products = (
        Product.objects.with_status()
        .select_related("category")
        .prefetch_related("images")
        .order_by("pk")
    )
    for product in products:
        feed.add_item(
            title=product.name,
            link=product.get_absolute_url(),
            description=None,
            updateddate=product.updated_at,
            g=_item(product),
        )
    out = io.StringIO()
    feed.write(out, "utf-8")
    return out.getvalue().encode()


def feed_answer() -> tuple[bytes, str]:
    """The feed and its ETag: from the cache when built under the current stock version,
    else built now (and kept under that version)."""
    answer = stock_version.read_through(CACHE_KEY, lambda: (_answer(), True), seconds=CACHE_SECONDS)
    return answer if answer is not None else _answer()


def _answer() -> tuple[bytes, str]:
    body = build_feed()
    return body, '"' + hashlib.blake2b(body, digest_size=16).hexdigest() + '"'
