from django.contrib import messages
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_POST, require_safe

from cart.cart import Cart
from cart.selectors import cart_summary
from products.models import Product, StockStatus
from shop.ratelimits import cart_rate_limit
from shop.words import guillemets


def _back(request: HttpRequest) -> HttpResponseRedirect:
    """Back to the page the form was on, if it is ours; the cart otherwise."""
    target = request.POST.get("next", "")
    if url_has_allowed_host_and_scheme(
        target, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return HttpResponseRedirect(target)
    return redirect("cart:detail")


# Never from the browser's cache: coming Back from Stripe Checkout must show the
# shopper's own hold (data-held-by-me), or the polling script would block Commander.
@never_cache
@require_safe
def cart_detail(request: HttpRequest) -> HttpResponse:
    summary = cart_summary(request)
    return render(request, "cart/cart_detail.html", {"summary": summary})


@require_POST
@cart_rate_limit
def cart_add(request: HttpRequest, product_id: int) -> HttpResponse:
    product = get_object_or_404(Product.objects.with_status(), pk=product_id)
    if product.status == StockStatus.SOLD:
        messages.error(request, f"La pièce {guillemets(product.name)} est déjà vendue.")
        return _back(request)
    Cart(request.session).add(product.pk)
    # A piece's name has no grammatical gender the shop knows: nothing here agrees with it.
    messages.success(request, f"Ajouté au panier : {guillemets(product.name)}.")
    if product.status == StockStatus.RESERVED:
        messages.warning(
            request,
            "Un autre client est en train de payer cette pièce : "
            "elle redeviendra disponible si son paiement n'aboutit pas.",
        )
    return _back(request)


@require_POST
@cart_rate_limit
def cart_remove(request: HttpRequest, product_id: int) -> HttpResponse:
    Cart(request.session).remove(product_id)
    messages.success(request, "La pièce a été retirée de votre panier.")
    return _back(request)
