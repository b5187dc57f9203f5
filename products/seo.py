"""What search engines and link previews read: absolute URLs, the gallery, JSON-LD.

The JSON-LD follows Google's merchant listing documentation (Product, Offer with its
shipping details and return policy), its breadcrumb documentation (BreadcrumbList) and its
organization and site name documentation (an OnlineStore, Google's subtype of Organization
for shops, and WebSite, on the home page). Everything comes from what the shop already
knows: the piece, its status and condition, and the shipping and withdrawal settings.
"""

from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from django.conf import settings
from django.urls import reverse

from products.models import Category, Condition, Product, StockStatus
from shop.shipping import shipping_cost_for

AVAILABILITY = {
    StockStatus.AVAILABLE: "https://schema.org/InStock",
    StockStatus.RESERVED: "https://schema.org/LimitedAvailability",
    StockStatus.SOLD: "https://schema.org/SoldOut",
}

# Google knows new, used, refurbished and damaged: a vintage piece is a used one.
ITEM_CONDITION = {
    Condition.NEW: "https://schema.org/NewCondition",
    Condition.USED: "https://schema.org/UsedCondition",
    Condition.VINTAGE: "https://schema.org/UsedCondition",
}

# Where returned pieces go: the seller is in France (French law governs the sale, SPEC §12).
RETURN_COUNTRY = "FR"
# The page that describes delivery and returns (a legal page the owner edits).
RETURNS_PAGE = "livraison-retours"


def absolute_url(url: str) -> str:
    """`url` on APP_URL, unless it is absolute already (photos in object storage)."""
    if url.startswith(("https://", "http://")):
        return url
    return settings.APP_URL + "/" + url.lstrip("/")


@dataclass(frozen=True)
class Photo:
    """One photo of the gallery: its renditions (imagekit files) and its text."""

    source: Any  # a Product or a ProductImage: both carry the renditions
    alt: str
    anchor: str


def gallery(product: Product) -> list[Photo]:
    """The main photo, then the others in the owner's order (`images` prefetched)."""
    photos = []
    if product.image:
        photos.append(Photo(source=product, alt=product.name, anchor="photo-1"))
    for extra in product.images.all():
        n = len(photos) + 1
        photos.append(
            Photo(source=extra, alt=extra.alt or f"{product.name}, photo {n}", anchor=f"photo-{n}")
        )
    return photos


def og_image(product: Product) -> str:
    return absolute_url(product.photo_large.url) if product.image else ""


def product_structured_data(product: Product) -> dict[str, Any]:
    """schema.org `Product` with its one offer; availability follows the status, the
    condition the piece's, shipping and returns the shop's settings."""
    url = absolute_url(product.get_absolute_url())
    data: dict[str, Any] = {
        "@context": "https://schema.org",
        "@type": "Product",
        "name": product.name,
        "description": product.description,
        "sku": product.slug,
        "url": url,
        "offers": {
            "@type": "Offer",
            "url": url,
            "price": f"{product.price:.2f}",
            "priceCurrency": "EUR",
            "availability": AVAILABILITY[StockStatus(product.status)],
            "itemCondition": ITEM_CONDITION[Condition(product.condition)],
            "shippingDetails": shipping_details(product.price),
            "hasMerchantReturnPolicy": return_policy(),
            "seller": {"@type": "Organization", "name": settings.SHOP_NAME},
        },
    }
    images = [absolute_url(photo.source.photo_large.url) for photo in gallery(product)]
    if images:
        data["image"] = images
    if product.category is not None:
        data["category"] = product.category.name
    return data


def robots_admin_path() -> str:
    """The admin's path for robots.txt, only when it is the well-known default: a custom
    ADMIN_URL is kept out of sight rather than published."""
    return "/admin/" if settings.ADMIN_URL == "admin/" else ""


def _days(low_high: tuple[int, int]) -> dict[str, Any]:
    low, high = low_high
    return {"@type": "QuantitativeValue", "minValue": low, "maxValue": high, "unitCode": "DAY"}


def shipping_details(price: Decimal) -> dict[str, Any]:
    """`OfferShippingDetails` for one piece bought alone: the flat rate, or nothing once the
    piece reaches the free-shipping threshold; the countries Checkout ships to; the time to
    prepare the parcel and to carry it (SHIPPING_HANDLING_DAYS, SHIPPING_TRANSIT_DAYS)."""
    return {
        "@type": "OfferShippingDetails",
        "shippingRate": {
            "@type": "MonetaryAmount",
            "value": float(shipping_cost_for(price)),
            "currency": "EUR",
        },
        "shippingDestination": [
            {"@type": "DefinedRegion", "addressCountry": country}
            for country in settings.SHIPPING_COUNTRIES
        ],
        "deliveryTime": {
            "@type": "ShippingDeliveryTime",
            "handlingTime": _days(settings.SHIPPING_HANDLING_DAYS),
            "transitTime": _days(settings.SHIPPING_TRANSIT_DAYS),
        },
    }


def return_policy() -> dict[str, Any]:
    """`MerchantReturnPolicy`: the right of withdrawal, WITHDRAWAL_DAYS from delivery, by
    post, return postage paid by the buyer (as the CGV say), from the countries the shop
    ships to."""
    return {
        "@type": "MerchantReturnPolicy",
        "applicableCountry": list(settings.SHIPPING_COUNTRIES),
        "returnPolicyCountry": RETURN_COUNTRY,
        "returnPolicyCategory": "https://schema.org/MerchantReturnFiniteReturnWindow",
        "merchantReturnDays": settings.WITHDRAWAL_DAYS,
        "returnMethod": "https://schema.org/ReturnByMail",
        "returnFees": "https://schema.org/ReturnFeesCustomerResponsibility",
        "merchantReturnLink": absolute_url(reverse("legal-page", args=[RETURNS_PAGE])),
    }


def breadcrumbs(*trail: tuple[str, str]) -> dict[str, Any]:
    """`BreadcrumbList` from the catalogue down to the page: (name, path) pairs."""
    return {
        "@context": "https://schema.org",
        "@type": "BreadcrumbList",
        "itemListElement": [
            {"@type": "ListItem", "position": n, "name": name, "item": absolute_url(path)}
            for n, (name, path) in enumerate(trail, start=1)
        ],
    }


CATALOGUE_CRUMB = "Catalogue"


def product_breadcrumbs(product: Product) -> dict[str, Any]:
    """Catalogue › the piece's category, if any › the piece."""
    category = product.category
    return breadcrumbs(
        (CATALOGUE_CRUMB, reverse("products:list")),
        *([(category.name, category.get_absolute_url())] if category else []),
        (product.name, product.get_absolute_url()),
    )


def category_breadcrumbs(category: Category) -> dict[str, Any]:
    """Catalogue › the category."""
    return breadcrumbs(
        (CATALOGUE_CRUMB, reverse("products:list")), (category.name, category.get_absolute_url())
    )


def home_structured_data() -> list[dict[str, Any]]:
    """The shop itself, on its home page: an `OnlineStore` (Google's Organization subtype for
    shops) with its return policy, and the `WebSite` whose name Google shows."""
    home = absolute_url(reverse("products:list"))
    return [
        {
            "@context": "https://schema.org",
            "@type": "OnlineStore",
            "name": settings.SHOP_NAME,
            "url": home,
            "hasMerchantReturnPolicy": return_policy(),
        },
        {
            "@context": "https://schema.org",
            "@type": "WebSite",
            "name": settings.SHOP_NAME,
            "url": home,
            "inLanguage": "fr",
        },
    ]
