"""/sitemap.xml: the catalogue, every piece (sold ones too: their pages stay), the
categories and the legal pages, as absolute URLs on APP_URL.

`lastmod` is when what the page shows last changed, to the second (templates/sitemap.xml),
so that a crawler that came in the morning comes back for an afternoon sale: a piece's own
`updated_at` (moved by every save and by a sale, products/stock.py) or its category's (the
breadcrumbs show its name); a category page's, its own or its latest piece's; the
catalogue's, its latest piece's or category's. A hold changes none of them: it lapses by
itself within half an hour, long before a crawler would return. A deleted piece moves
nothing (pieces are sold, rarely deleted)."""

from datetime import datetime
from urllib.parse import urlsplit

from django.conf import settings
from django.contrib.flatpages.models import FlatPage
from django.contrib.sitemaps import Sitemap
from django.db.models import F, Max, QuerySet
from django.db.models.functions import Coalesce, Greatest
from django.urls import reverse

from products.models import Category, Product


def _to_the_second(when: datetime | None) -> datetime | None:
    return when.replace(microsecond=0) if when is not None else None


class _OnAppUrl(Sitemap):
    """URLs on APP_URL, whatever host the request came in on."""

    def get_protocol(self, protocol: str | None = None) -> str:
        return urlsplit(settings.APP_URL).scheme

    def get_domain(self, site=None) -> str:
        return urlsplit(settings.APP_URL).netloc


class CatalogueSitemap(_OnAppUrl):
    changefreq = "daily"

    def items(self) -> list[str]:
        return ["products:list"]

    def location(self, item: str) -> str:
        return reverse(item)

    def lastmod(self, item: str) -> datetime | None:
        latest = [
            Product.objects.aggregate(latest=Max("updated_at"))["latest"],
            Category.objects.aggregate(latest=Max("updated_at"))["latest"],
        ]
        return _to_the_second(max((when for when in latest if when is not None), default=None))


class ProductSitemap(_OnAppUrl):
    def items(self) -> QuerySet[Product]:
        return (
            Product.objects.order_by("pk")
            .annotate(
                changed=Greatest(
                    F("updated_at"), Coalesce(F("category__updated_at"), F("updated_at"))
                )
            )
            .only("slug")
        )

    def lastmod(self, product: Product) -> datetime:
        return _to_the_second(product.changed)


class CategorySitemap(_OnAppUrl):
    def items(self) -> QuerySet[Category]:
        return Category.objects.order_by("pk").annotate(latest_piece=Max("products__updated_at"))

    def lastmod(self, category: Category) -> datetime:
        return _to_the_second(max(filter(None, [category.updated_at, category.latest_piece])))


class LegalPageSitemap(_OnAppUrl):
    def items(self) -> QuerySet[FlatPage]:
        return FlatPage.objects.filter(
            sites=settings.SITE_ID, registration_required=False
        ).order_by("url")


SITEMAPS = {
    "catalogue": CatalogueSitemap,
    "pieces": ProductSitemap,
    "categories": CategorySitemap,
    "pages": LegalPageSitemap,
}
