from django.conf import settings
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, render
from django.views.decorators.http import require_GET

from products.models import Product


@require_GET
def product_list(request: HttpRequest) -> HttpResponse:
    """The catalogue, newest first; sold pieces stay visible and say so."""
    paginator = Paginator(Product.objects.with_status(), settings.CATALOGUE_PAGE_SIZE)
    page = paginator.get_page(request.GET.get("page"))
    return render(request, "products/product_list.html", {"page": page})


@require_GET
def product_detail(request: HttpRequest, slug: str) -> HttpResponse:
    product = get_object_or_404(Product.objects.with_status(), slug=slug)
    return render(request, "products/product_detail.html", {"product": product})
