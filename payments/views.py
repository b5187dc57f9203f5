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
from django.views.decorators.http import (
    require_GET,
    require_http_methods,
    require_POST,
    require_safe,
)

from cart.cart import Cart, shopper_id
from payments import documents, order_page, selectors, services, webhooks, withdrawal_period
from payments.exceptions import CheckoutError, CheckoutLimitReached, WithdrawalRefused
from payments.forms import WithdrawalForm
from payments.models import CreditNote, Invoice, Order
from payments.seller import seller
from shop.client import client_address
from shop.ratelimits import checkout_rate_limit, withdrawal_rate_limit

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
    context = {
        "order": order,
        "items": order.items.all(),
        "view": selectors.buyer_order(order),
        "confirmation": selectors.confirmation_state(order),
        "order_page_path": order_page.path_for(order.reference),
    }
    return render(request, "payments/thanks.html", context)


@never_cache
@require_safe
def buyer_order_page(request: HttpRequest, token: str) -> HttpResponse:
    """The buyer's order page (SPEC §12), opened from any of their e-mails: no login, no
    cookie needed, the signed token is the key (payments/order_page.py). Never kept by any
    cache, never indexed."""
    reference = order_page.reference_from(token)
    order = Order.objects.filter(reference=reference).first() if reference else None
    if order is None:
        raise Http404("Commande introuvable")
    context = {
        "view": selectors.buyer_order(order),
        "order": order,
        "token": token,
        "seller": seller(),
    }
    return _private(render(request, "payments/order_page.html", context))


# What a pair of reference and e-mail that names no order is told: the same words, and the
# same status, whether the reference exists or not.
NO_MATCH = (
    "Nous ne trouvons pas de commande avec cette référence et cette adresse e-mail. Vérifiez "
    "la référence (elle commence par B- et figure dans l'e-mail de confirmation) et l'adresse "
    "e-mail utilisée pour la commande."
)


@never_cache
@require_http_methods(["GET", "HEAD", "POST"])
@withdrawal_rate_limit
def withdrawal(request: HttpRequest) -> HttpResponse:
    """« Renoncer au contrat ici » (SPEC §12): the declaration's form, prefilled from the
    order page (`?commande=<token>`), and « Confirmer la rétractation », which records it
    once and sends its acknowledgement."""
    if request.method != "POST":
        order = _order_of_button(request)
        form = WithdrawalForm(initial=_prefill(order) if order else None)
        return _withdrawal_form(request, form, order=order)
    form = WithdrawalForm(request.POST)
    if not form.is_valid():
        return _withdrawal_form(request, form, status=400)
    try:
        result = services.withdraw(
            reference=form.cleaned_data["reference"],
            email=form.cleaned_data["email"],
            name=form.cleaned_data["nom"],
        )
    except WithdrawalRefused as refusal:
        if refusal.reason == WithdrawalRefused.NO_MATCH:
            form.add_error(None, NO_MATCH)
            return _withdrawal_form(request, form, status=400)
        context = {"refusal": refusal, "seller": seller()}
        return _private(render(request, "payments/withdrawal_refused.html", context, status=409))
    context = {
        "withdrawal": result,
        "order": result.order,
        "view": selectors.buyer_order(result.order),
        "order_page_path": order_page.path_for(result.order.reference),
        "seller": seller(),
    }
    return _private(render(request, "payments/withdrawal_received.html", context))


def _withdrawal_form(
    request: HttpRequest, form: WithdrawalForm, *, status: int = 200, order: Order | None = None
) -> HttpResponse:
    context = {"form": form, "refund_days": withdrawal_period.REFUND_DAYS, "order": order}
    return _private(render(request, "payments/withdrawal_form.html", context, status=status))


def _order_of_button(request: HttpRequest) -> Order | None:
    """The order page's button names its order by its token (`?commande=`)."""
    reference = order_page.reference_from(request.GET.get("commande", ""))
    if not reference:
        return None
    return Order.objects.prefetch_related("items").filter(reference=reference).first()


def _prefill(order: Order) -> dict[str, str]:
    """The form filled in with the order's reference, e-mail and the name on its address."""
    return {
        "reference": order.reference,
        "email": order.customer_email,
        "nom": (order.shipping_address or {}).get("name", ""),
    }


def _private(response: HttpResponse) -> HttpResponse:
    """A page about one buyer's order: kept out of search engines."""
    response["X-Robots-Tag"] = "noindex, nofollow"
    return response


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
    reference = order_page.reference_from(token)
    if reference is None:
        raise Http404("Lien de commande invalide.")
    return reference


def _pdf(document: Invoice | CreditNote) -> HttpResponse:
    response = HttpResponse(documents.pdf_of(document), content_type=documents.PDF)
    response["Content-Disposition"] = f'inline; filename="{documents.filename_of(document)}"'
    response["X-Robots-Tag"] = "noindex"
    return response
