"""The JSON-LD search engines read, checked against Google's documented property names.

Google Search Central, as of December 2026:
- merchant listings (Product, Offer, OfferShippingDetails, MerchantReturnPolicy):
  developers.google.com/search/docs/appearance/structured-data/merchant-listing
- return policy (MerchantReturnPolicy, under an Offer or an Organization):
  developers.google.com/search/docs/appearance/structured-data/return-policy
- breadcrumb (BreadcrumbList):
  developers.google.com/search/docs/appearance/structured-data/breadcrumb
- organization (Organization and its subtype OnlineStore) and site names (WebSite):
  .../structured-data/organization, .../appearance/site-names
"""

import json
from datetime import timedelta
from decimal import Decimal
from html.parser import HTMLParser

import pytest
from django.utils import timezone

from products.models import Category, Condition
from products.tests.conftest import LISTING_APP_URL

pytestmark = pytest.mark.usefixtures("listing_settings")

APP_URL = LISTING_APP_URL

# Required, then recommended properties that apply to a one-of-a-kind piece (no brand, gtin,
# mpn, size, colour, reviews: a vintage piece has none of them).
PRODUCT = {"name", "image", "offers"} | {"description", "sku"}
OFFER = {"price", "priceCurrency"} | {
    "availability",
    "itemCondition",
    "shippingDetails",
    "hasMerchantReturnPolicy",
}
SHIPPING = {"shippingRate", "shippingDestination", "deliveryTime"}
SHIPPING_RATE = {"value", "currency"}
DELIVERY_TIME = {"handlingTime", "transitTime"}
QUANTITATIVE_VALUE = {"minValue", "maxValue", "unitCode"}
RETURN_POLICY = {"applicableCountry", "returnPolicyCategory", "returnPolicyCountry"} | {
    "merchantReturnDays",
    "returnMethod",
    "returnFees",
}
LIST_ITEM = {"position", "name", "item"}


class _LdJson(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.blocks: list[str] = []
        self._inside = False

    def handle_starttag(self, tag, attrs) -> None:
        if tag == "script" and dict(attrs).get("type") == "application/ld+json":
            self._inside = True
            self.blocks.append("")

    def handle_endtag(self, tag) -> None:
        self._inside = False

    def handle_data(self, data) -> None:
        if self._inside:
            self.blocks[-1] += data


def ld_json(client, path: str) -> dict[str, dict]:
    """The page's JSON-LD blocks, by @type (each type once)."""
    response = client.get(path)
    assert response.status_code == 200
    parser = _LdJson()
    parser.feed(response.content.decode())
    blocks = [json.loads(text) for text in parser.blocks]
    by_type = {block["@type"]: block for block in blocks}
    assert len(by_type) == len(blocks), "one block per type"
    assert all(block["@context"] == "https://schema.org" for block in blocks)
    return by_type


def assert_has(data: dict, names: set[str]) -> None:
    assert names <= data.keys(), f"missing {sorted(names - data.keys())}"


def assert_offer_complete(offer: dict) -> None:
    """Every property Google documents for a merchant listing's offer, well formed."""
    assert offer["@type"] == "Offer"
    assert_has(offer, OFFER)
    shipping = offer["shippingDetails"]
    assert shipping["@type"] == "OfferShippingDetails"
    assert_has(shipping, SHIPPING)
    assert shipping["shippingRate"]["@type"] == "MonetaryAmount"
    assert_has(shipping["shippingRate"], SHIPPING_RATE)
    assert shipping["shippingRate"]["currency"] == offer["priceCurrency"] == "EUR"
    assert [d["addressCountry"] for d in shipping["shippingDestination"]] == ["FR", "BE"]
    assert all(d["@type"] == "DefinedRegion" for d in shipping["shippingDestination"])
    delivery = shipping["deliveryTime"]
    assert delivery["@type"] == "ShippingDeliveryTime"
    assert_has(delivery, DELIVERY_TIME)
    for part, expected in [("handlingTime", (1, 2)), ("transitTime", (2, 4))]:
        assert delivery[part]["@type"] == "QuantitativeValue"
        assert_has(delivery[part], QUANTITATIVE_VALUE)
        assert (delivery[part]["minValue"], delivery[part]["maxValue"]) == expected
        assert delivery[part]["unitCode"] == "DAY"
    assert_return_policy(offer["hasMerchantReturnPolicy"])


def assert_return_policy(policy: dict, days: int = 14) -> None:
    assert policy["@type"] == "MerchantReturnPolicy"
    assert_has(policy, RETURN_POLICY)
    assert policy["applicableCountry"] == ["FR", "BE"]
    assert policy["returnPolicyCountry"] == "FR"
    assert policy["returnPolicyCategory"] == "https://schema.org/MerchantReturnFiniteReturnWindow"
    assert policy["merchantReturnDays"] == days
    assert policy["returnMethod"] == "https://schema.org/ReturnByMail"
    # The CGV: the buyer pays for sending a piece back.
    assert policy["returnFees"] == "https://schema.org/ReturnFeesCustomerResponsibility"
    assert policy["merchantReturnLink"] == f"{APP_URL}/pages/livraison-retours/"


def crumbs(data: dict) -> list[tuple[int, str, str]]:
    assert data["@type"] == "BreadcrumbList"
    for item in data["itemListElement"]:
        assert item["@type"] == "ListItem"
        assert_has(item, LIST_ITEM)
    return [(i["position"], i["name"], i["item"]) for i in data["itemListElement"]]


# A product, a sold product


def test_a_product_carries_every_property_google_documents(client, photographed):
    lamp = photographed
    lamp.condition = Condition.VINTAGE
    lamp.save()

    blocks = ld_json(client, lamp.get_absolute_url())

    product = blocks["Product"]
    assert_has(product, PRODUCT)
    assert product["image"][0] == f"{APP_URL}{lamp.photo_large.url}"
    assert len(product["image"]) == 3
    offer = product["offers"]
    assert_offer_complete(offer)
    assert offer["availability"] == "https://schema.org/InStock"
    assert offer["itemCondition"] == "https://schema.org/UsedCondition"
    assert offer["shippingDetails"]["shippingRate"]["value"] == 8.0  # under 150 €
    assert crumbs(blocks["BreadcrumbList"]) == [
        (1, "Catalogue", f"{APP_URL}/"),
        (2, "Luminaires", f"{APP_URL}/categories/luminaires/"),
        (3, "Lampe champignon", f"{APP_URL}/produits/lampe-champignon/"),
    ]
    assert set(blocks) == {"Product", "BreadcrumbList"}


def test_a_sold_product_keeps_its_listing_and_says_sold_out(client, make_product):
    """A sold piece's page stays (it is in the sitemap); its offer says SoldOut, with the
    rest of the listing unchanged."""
    carafe = make_product(name="Carafe", slug="carafe", price="65.00", in_stock=False)

    blocks = ld_json(client, carafe.get_absolute_url())

    offer = blocks["Product"]["offers"]
    assert_offer_complete(offer)
    assert offer["availability"] == "https://schema.org/SoldOut"
    assert crumbs(blocks["BreadcrumbList"]) == [
        (1, "Catalogue", f"{APP_URL}/"),
        (2, "Carafe", f"{APP_URL}/produits/carafe/"),
    ]


def test_a_reserved_product_is_in_limited_availability(client, make_product):
    vase = make_product(held_until=timezone.now() + timedelta(minutes=10))

    offer = ld_json(client, vase.get_absolute_url())["Product"]["offers"]

    assert offer["availability"] == "https://schema.org/LimitedAvailability"


@pytest.mark.parametrize(
    ("condition", "item_condition"),
    [
        (Condition.NEW, "https://schema.org/NewCondition"),
        (Condition.USED, "https://schema.org/UsedCondition"),
        (Condition.VINTAGE, "https://schema.org/UsedCondition"),
    ],
)
def test_item_condition_follows_the_pieces_condition(
    client, make_product, condition, item_condition
):
    piece = make_product(condition=condition)

    offer = ld_json(client, piece.get_absolute_url())["Product"]["offers"]

    assert offer["itemCondition"] == item_condition


def test_a_piece_created_without_condition_takes_the_shops_default(make_product, settings):
    """SPEC §5: a piece can be created from the original fields alone."""
    settings.PRODUCT_CONDITION_DEFAULT = "neuf"
    assert make_product().condition == Condition.NEW

    settings.PRODUCT_CONDITION_DEFAULT = "vintage"
    assert make_product().condition == Condition.VINTAGE


@pytest.mark.parametrize(("price", "rate"), [("149.99", 8.0), ("150.00", 0.0), ("980.00", 0.0)])
def test_shipping_rate_is_what_checkout_would_charge_for_the_piece_alone(
    client, make_product, price, rate
):
    piece = make_product(price=price)

    shipping = ld_json(client, piece.get_absolute_url())["Product"]["offers"]["shippingDetails"]

    assert shipping["shippingRate"] == {"@type": "MonetaryAmount", "value": rate, "currency": "EUR"}


def test_settings_drive_delivery_time_and_the_return_window(client, make_product, settings):
    settings.SHIPPING_HANDLING_DAYS = (3, 3)
    settings.SHIPPING_TRANSIT_DAYS = (1, 5)
    settings.WITHDRAWAL_DAYS = 30
    settings.SHIPPING_FLAT_EUR = Decimal("0.00")
    piece = make_product()

    offer = ld_json(client, piece.get_absolute_url())["Product"]["offers"]

    delivery = offer["shippingDetails"]["deliveryTime"]
    assert (delivery["handlingTime"]["minValue"], delivery["handlingTime"]["maxValue"]) == (3, 3)
    assert (delivery["transitTime"]["minValue"], delivery["transitTime"]["maxValue"]) == (1, 5)
    assert offer["shippingDetails"]["shippingRate"]["value"] == 0.0
    assert_return_policy(offer["hasMerchantReturnPolicy"], days=30)


# A category, the home page


def test_a_category_page_has_its_breadcrumbs_and_no_product_listing(client, make_product):
    lights = Category.objects.create(name="Luminaires", slug="luminaires")
    make_product(category=lights)

    blocks = ld_json(client, "/categories/luminaires/")

    assert set(blocks) == {"BreadcrumbList"}
    assert crumbs(blocks["BreadcrumbList"]) == [
        (1, "Catalogue", f"{APP_URL}/"),
        (2, "Luminaires", f"{APP_URL}/categories/luminaires/"),
    ]


def test_the_home_page_describes_the_shop_and_the_site(client, make_product, settings):
    settings.SHOP_NAME = "Brocante des Lilas"
    make_product()

    blocks = ld_json(client, "/")

    store = blocks["OnlineStore"]  # Google's subtype of Organization for shops
    assert store["name"] == "Brocante des Lilas"
    assert store["url"] == f"{APP_URL}/"
    assert_return_policy(store["hasMerchantReturnPolicy"])
    site = blocks["WebSite"]
    assert site["name"] == "Brocante des Lilas"
    assert (site["url"], site["inLanguage"]) == (f"{APP_URL}/", "fr")


@pytest.mark.parametrize("query", ["?page=2", "?q=piece", "?tri=prix", "?vendues=0"])
def test_the_shop_is_described_on_the_home_page_only(client, make_products, settings, query):
    settings.CATALOGUE_PAGE_SIZE = 1
    make_products(2, description="Un vase.")

    assert ld_json(client, "/" + query) == {}
