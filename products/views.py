from django.conf import settings
from django.contrib.flatpages.models import FlatPage
from django.contrib.flatpages.views import render_flatpage
from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, render
from django.views.decorators.http import require_safe

from products import seo
from products.models import Category, Product
from products.selectors import CatalogueForm, CatalogueQuery, Sort, catalogue_products


def _catalogue(
    request: HttpRequest, *, categories: list[Category], category: Category | None = None
) -> HttpResponse:
    query = CatalogueQuery.from_params(request.GET)
    paginator = Paginator(
        catalogue_products(query=query, category=category), settings.CATALOGUE_PAGE_SIZE
    )
    page = paginator.get_page(request.GET.get("page"))
    context = {
        "page": page,
        "query": query,
        "sort_choices": Sort.CHOICES,
        "search_max_length": CatalogueForm.base_fields["q"].max_length,
        "categories": categories,
        "category": category,
        "canonical_url": seo.absolute_url(
            request.path + (f"?page={page.number}" if page.number > 1 else "")
        ),
    }
    return render(request, "products/product_list.html", context)


@require_safe
def product_list(request: HttpRequest) -> HttpResponse:
    """The catalogue, newest first; sold pieces stay visible and say so.

    `q` searches, `tri` sorts, `vendues=0` hides sold pieces (SPEC §6)."""
    return _catalogue(request, categories=list(Category.objects.all()))


@require_safe
def category_detail(request: HttpRequest, slug: str) -> HttpResponse:
    """A category's pieces, with the catalogue's cards and parameters."""
    # The page lists every category anyway: the one asked for is found among them.
    categories = list(Category.objects.all())
    category = next((c for c in categories if c.slug == slug), None)
    if category is None:
        raise Http404("Catégorie introuvable")
    return _catalogue(request, categories=categories, category=category)


@require_safe
def product_detail(request: HttpRequest, slug: str) -> HttpResponse:
    product = get_object_or_404(
        Product.objects.with_status().select_related("category").prefetch_related("images"),
        slug=slug,
    )
    context = {
        "product": product,
        "photos": seo.gallery(product),
        "canonical_url": seo.absolute_url(product.get_absolute_url()),
        "structured_data": seo.product_structured_data(product),
        "og_image": seo.og_image(product),
    }
    return render(request, "products/product_detail.html", context)


@require_safe
def legal_page(request: HttpRequest, slug: str) -> HttpResponse:
    """A page the owner edits in the admin (django.contrib.flatpages): /pages/<slug>/."""
    page = get_object_or_404(FlatPage, url=f"/pages/{slug}/", sites=settings.SITE_ID)
    return render_flatpage(request, page)


@require_safe
def robots_txt(request: HttpRequest) -> HttpResponse:
    return render(
        request,
        "robots.txt",
        {"admin_path": seo.robots_admin_path()},
        content_type="text/plain; charset=utf-8",
    )
