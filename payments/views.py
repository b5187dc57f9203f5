import logging

from django.contrib import messages
from django.http import (
    Http404,
    HttpRequest,
    HttpResponse,
    HttpResponseRedirect,
    JsonResponse,
    UnreadablePostError,
)
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.cache import never_cache
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_GET, require_POST

from cart.cart import Cart, shopper_id
from payments import documents, services, webhooks
from payments.exceptions import CheckoutError, CheckoutLimitReached
from payments.models import CreditNote, Invoice, Order
from payments.tokens import reference_from_token
from shop.client import client_address
from shop.ratelimits import checkout_rate_limit

logger = logging.getLogger(__name__)


@require_POST
@checkout_rate_limit
def checkout_start(request: HttpRequest) -> HttpResponse:
    """ "Commander": hold the cart's pieces and send the shopper to Stripe Checkout."""
    if not request.POST.get("cgv"):
        messages.error(
            request,
            "Pour commander, cochez « J'ai lu et j'accepte les conditions générales de vente ».",
        )
        return redirect("cart:detail")
    cart = Cart(request.session)
    try:
        order = services.start_checkout(
            product_ids=cart.product_ids,
            shopper_id=shopper_id(request.session),
            client_address=client_address(request),
        )
    except CheckoutLimitReached as refusal:
        return render(request, "payments/too_many_checkouts.html", {"refusal": refusal}, status=429)
    except CheckoutError as error:
        cart.remove(*(p.pk for p in error.unavailable))
        messages.error(request, error.message)
        return redirect("cart:detail")
    return HttpResponseRedirect(order.checkout_url, status=303)


@never_cache
@require_GET
def checkout_thanks(request: HttpRequest) -> HttpResponse:
    """Stripe's success URL: the order summary, "Paiement confirmé" once paid."""
    session_id = request.GET.get("session_id", "")
    # PostgreSQL refuses a NUL character in a query: such an id names no order.
    order = (
        Order.objects.filter(stripe_session_id=session_id).first()
        if session_id and "\x00" not in session_id
        else None
    )
    if order is None:
        return render(request, "payments/unknown_order.html", status=404)
    order = services.sync_checkout_session(order=order)
    if order.is_paid:
        Cart(request.session).remove(*order.items.values_list("product_id", flat=True))
    context = {"order": order, "items": order.items.all()}
    return render(request, "payments/thanks.html", context)


@never_cache
@require_GET
def checkout_cancelled(request: HttpRequest) -> HttpResponse:
    """Stripe's cancel URL: the shopper came back without paying; their pieces are released."""
    reference = services.unsign_cancel_reference(request.GET.get("commande", ""))
    order = Order.objects.filter(reference=reference).first() if reference else None
    if order is None:
        return render(request, "payments/unknown_order.html", status=400)
    order = services.cancel_order(order_id=order.pk)
    return render(request, "payments/cancelled.html", {"order": order})


@csrf_exempt
@require_POST
def stripe_webhook(request: HttpRequest) -> HttpResponse:
    """Stripe's events (SPEC §8). The size is checked before the body is read."""
    result = webhooks.refuse_oversized(request.META.get("CONTENT_LENGTH"))
    if result is None:
        try:
            result = webhooks.handle(request.body, request.headers.get("Stripe-Signature"))
        except UnreadablePostError:  # the sender went away in the middle of the body
            result = webhooks.rejected("body cut short")
    return JsonResponse({"outcome": result.outcome, "detail": result.detail}, status=result.status)


@require_GET
@never_cache
def order_invoice(request: HttpRequest, token: str) -> HttpResponse:
    """The buyer's invoice, from the order page's link (`/suivi/<token>/facture/`)."""
    invoice = get_object_or_404(Invoice, order__reference=_reference(token))
    return _pdf(invoice)


@require_GET
@never_cache
def order_credit_note(request: HttpRequest, token: str, number: str) -> HttpResponse:
    """One of the buyer's credit notes (`/suivi/<token>/avoir/<number>/`)."""
    note = get_object_or_404(CreditNote, number=number, invoice__order__reference=_reference(token))
    return _pdf(note)


def _reference(token: str) -> str:
    reference = reference_from_token(token)
    if reference is None:
        raise Http404("Lien de commande invalide.")
    return reference


def _pdf(document: Invoice | CreditNote) -> HttpResponse:
    response = HttpResponse(documents.pdf_of(document), content_type=documents.PDF)
    response["Content-Disposition"] = f'inline; filename="{documents.filename_of(document)}"'
    response["X-Robots-Tag"] = "noindex"
    return response
