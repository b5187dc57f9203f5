"""What search engines and link previews read: absolute URLs, the gallery, JSON-LD."""

from dataclasses import dataclass
from typing import Any

from django.conf import settings

from products.models import Product, StockStatus

AVAILABILITY = {
    StockStatus.AVAILABLE: "https://schema.org/InStock",
    StockStatus.RESERVED: "https://schema.org/LimitedAvailability",
    StockStatus.SOLD: "https://schema.org/SoldOut",
}


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
    """schema.org `Product` with its one offer; availability follows the status."""
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
