"""/sitemap.xml: the catalogue, every piece (sold ones too: their pages stay), the
categories and the legal pages, as absolute URLs on APP_URL."""

from urllib.parse import urlsplit

from django.conf import settings
from django.contrib.flatpages.models import FlatPage
from django.contrib.sitemaps import Sitemap
from django.db.models import QuerySet
from django.urls import reverse

from products.models import Category, Product


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


class ProductSitemap(_OnAppUrl):
    def items(self) -> QuerySet[Product]:
        return Product.objects.order_by("pk").only("slug", "updated_at")

    def lastmod(self, product: Product):
        return product.updated_at


class CategorySitemap(_OnAppUrl):
    def items(self) -> QuerySet[Category]:
        return Category.objects.order_by("pk")


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
