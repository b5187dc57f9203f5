from django.conf import settings
from django.contrib.auth.views import redirect_to_login
from django.contrib.flatpages.models import FlatPage
from django.core.paginator import EmptyPage, Paginator
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, render
from django.utils.cache import get_conditional_response, patch_cache_control
from django.views.decorators.http import require_safe

from products import feed, page_cache, pages, seo
from products.models import Category, Product
from products.selectors import CatalogueForm, CatalogueQuery, Sort, catalogue_products


def _catalogue(
    request: HttpRequest,
    extra: dict,
    *,
    categories: list[Category],
    category: Category | None = None,
) -> tuple[HttpResponse, bool]:
    query = CatalogueQuery.from_params(request.GET)
    paginator = Paginator(
        catalogue_products(query=query, category=category), settings.CATALOGUE_PAGE_SIZE
    )
    try:
        page = paginator.page(_page_number(request))
    except EmptyPage:  # past the last page (or page 0): that page does not exist
        raise Http404("Page introuvable") from None
    if category is not None:
        structured_data = [seo.category_breadcrumbs(category)]
    elif page.number == 1 and not query.is_filtered and not query.sort:
        structured_data = seo.home_structured_data()
    else:
        structured_data = []
    context = {
        "page": page,
        "query": query,
        # Links keep the known parameters only, cleaned: a cached page shows no visitor's own.
        "params": query.params(),
        "sort_choices": Sort.CHOICES,
        "search_max_length": CatalogueForm.base_fields["q"].max_length,
        "categories": categories,
        "category": category,
        "canonical_url": seo.absolute_url(
            request.path + (f"?page={page.number}" if page.number > 1 else "")
        ),
        "structured_data": structured_data,
        **extra,
    }
    return render(request, "products/product_list.html", context), True


def _page_number(request: HttpRequest) -> int:
    """The page number asked for: 1 when none, or when the value is not a number (ignored,
    as any bad parameter); a number past the last page is a 404 (`EmptyPage`)."""
    value = request.GET.get("page", "")
    if not (value.isascii() and value.isdigit()):
        return 1
    # No catalogue has a billion pages: a longer number is past the end (and int() of a
    # few thousand digits would refuse it anyway).
    return int(value) if len(value) < 10 else 0


def _catalogue_key(request: HttpRequest) -> tuple | None:
    """What makes one catalogue page differ from another, besides its path; None for a page
    never kept: a search (the words are the visitor's, unbounded in number: one entry per
    distinct search would let anyone grow the cache without limit, SPEC §13)."""
    query = CatalogueQuery.from_params(request.GET)
    if query.words:
        return None
    return (query.sort, query.show_sold, _page_number(request))


@require_safe
def product_list(request: HttpRequest) -> HttpResponse:
    """The catalogue, newest first; sold pieces stay visible and say so.

    `q` searches, `tri` sorts, `vendues=0` hides sold pieces (SPEC §6)."""
    return page_cache.serve(
        request,
        _catalogue_key(request),
        lambda extra: _catalogue(request, extra, categories=list(Category.objects.all())),
    )


@require_safe
def category_detail(request: HttpRequest, slug: str) -> HttpResponse:
    """A category's pieces, with the catalogue's cards and parameters."""

    def render_page(extra: dict) -> tuple[HttpResponse, bool]:
        # The page lists every category anyway: the one asked for is found among them.
        categories = list(Category.objects.all())
        category = next((c for c in categories if c.slug == slug), None)
        if category is None:
            raise Http404("Catégorie introuvable")
        return _catalogue(request, extra, categories=categories, category=category)

    return page_cache.serve(request, _catalogue_key(request), render_page)


@require_safe
def product_detail(request: HttpRequest, slug: str) -> HttpResponse:
    def render_page(extra: dict) -> tuple[HttpResponse, bool]:
        product = get_object_or_404(
            Product.objects.with_status().select_related("category").prefetch_related("images"),
            slug=slug,
        )
        context = {
            "product": product,
            "photos": seo.gallery(product),
            "canonical_url": seo.absolute_url(product.get_absolute_url()),
            "structured_data": [
                seo.product_structured_data(product),
                seo.product_breadcrumbs(product),
            ],
            "og_image": seo.og_image(product),
            **extra,
        }
        return render(request, "products/product_detail.html", context), True

    return page_cache.serve(request, (), render_page)


@require_safe
def legal_page(request: HttpRequest, slug: str) -> HttpResponse:
    """A page the owner edits in the admin (django.contrib.flatpages): /pages/<slug>/, its
    text in light markup rendered to cleaned HTML (products/pages.py)."""
    page = get_object_or_404(FlatPage, url=pages.url_for(slug), sites=settings.SITE_ID)
    if page.registration_required and not request.user.is_authenticated:
        return redirect_to_login(request.path)
    return render(
        request,
        page.template_name or "flatpages/default.html",
        {"flatpage": page, "body": pages.render_markup(page.content)},
    )


@require_safe
def robots_txt(request: HttpRequest) -> HttpResponse:
    return render(
        request,
        "robots.txt",
        {"admin_path": seo.robots_admin_path()},
        content_type="text/plain; charset=utf-8",
    )


@require_safe
def product_feed(request: HttpRequest) -> HttpResponse:
    """/feeds/produits.xml: every piece for Google Merchant Center and Meta's catalogues
    (products/feed.py). Revalidated at every fetch: a sold piece is out of stock at once."""
    body, etag = feed.feed_answer()
    response = get_conditional_response(request, etag=etag) or HttpResponse(
        body, content_type=feed.MerchantFeed.content_type
    )
    response.headers["ETag"] = etag
    patch_cache_control(response, no_cache=True, max_age=0)
    return response
