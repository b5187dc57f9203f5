"""The simulated Stripe Checkout page (`/_stripe/pay/<session id>/`): Payer, Annuler, a SEPA
debit with its delayed outcome, and a resend of the events the shop did not receive.

Every action commits its own state first, then sends the signed events to the shop's
webhook over HTTP (no transaction is open while the shop handles them), then redirects.
"""

import logging
from collections.abc import Callable
from datetime import UTC, datetime
from decimal import Decimal
from functools import wraps
from typing import Any

from django.conf import settings
from django.contrib import messages
from django.db import transaction
from django.http import Http404, HttpRequest, HttpResponse
from django.http.response import HttpResponseRedirectBase
from django.shortcuts import render
from django.urls import reverse
from django.utils import formats, translation
from django.views.decorators.http import require_GET, require_POST

from payments.offline import sessions
from payments.offline.events import deliver_events, undelivered_events, webhook_url_for
from payments.offline.forms import PaymentForm
from payments.offline.models import CheckoutSession, Event, PaymentIntent

logger = logging.getLogger(__name__)


class HttpResponseSeeOther(HttpResponseRedirectBase):
    """After a POST, as Stripe's page does: the browser follows with a GET."""

    status_code = 303


def offline_only(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
    """404 unless `settings.STRIPE_OFFLINE`, read at request time (tests switch it)."""

    @transaction.non_atomic_requests
    @wraps(view)
    def wrapper(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        if not settings.STRIPE_OFFLINE:
            raise Http404("Le serveur Stripe hors ligne est désactivé.")
        return view(request, *args, **kwargs)

    return wrapper


@offline_only
@require_GET
def pay_page(request: HttpRequest, session_id: str) -> HttpResponse:
    session = _session_or_404(request, session_id)
    form = PaymentForm(initial=PaymentForm.initial_for(session), session=session)
    return _render_page(request, session, form=form)


@offline_only
@require_POST
def pay(request: HttpRequest, session_id: str) -> HttpResponse:
    """Payer (by card) or Payer par virement SEPA: complete the session, then notify the shop."""
    session = _session_or_404(request, session_id)
    form = PaymentForm(request.POST, session=session)
    if not form.is_valid():
        return _render_page(request, session, form=form, status=400)
    try:
        result = sessions.pay_session(
            session_id,
            email=form.cleaned_data["email"],
            name=form.cleaned_data["name"],
            delayed=form.delayed,
            shipping_address=form.shipping_address(),
            phone=form.cleaned_data.get("phone") or None,
        )
    except sessions.SessionNotPayable as refusal:
        return _refused(request, session_id, refusal)
    _deliver(request, result.events)
    if form.delayed:
        messages.info(
            request,
            "Virement SEPA initié : la boutique a reçu checkout.session.completed (non payé). "
            "Simulez maintenant la réponse de la banque.",
        )
        return _back_to_page(session_id)
    return HttpResponseSeeOther(sessions.success_redirect_url(sessions.find_session(session_id)))


@offline_only
@require_POST
def cancel(request: HttpRequest, session_id: str) -> HttpResponse:
    """Annuler: back to the shop's cancel_url; the session stays open, as on Stripe."""
    session = _session_or_404(request, session_id)
    if not session.cancel_url:
        return _back_to_page(session_id)
    return HttpResponseSeeOther(session.cancel_url)


@offline_only
@require_POST
def settle_transfer(request: HttpRequest, session_id: str, *, succeeded: bool) -> HttpResponse:
    """The bank's answer to a SEPA debit: paid, or failed."""
    _session_or_404(request, session_id)
    try:
        result = sessions.settle_delayed_payment(session_id, succeeded=succeeded)
    except sessions.SessionNotPayable as refusal:
        return _refused(request, session_id, refusal)
    _deliver(request, result.events)
    messages.info(
        request,
        "Virement réussi : la boutique a été prévenue."
        if succeeded
        else "Virement échoué : la boutique a été prévenue.",
    )
    return _back_to_page(session_id)


@offline_only
@require_POST
def resend_events(request: HttpRequest, session_id: str) -> HttpResponse:
    """Renvoyer les événements that the shop's webhook did not accept."""
    session = _session_or_404(request, session_id)
    events = undelivered_events(session=session)
    deliveries = deliver_events(events, url=webhook_url_for(request))
    delivered = sum(delivery.ok for delivery in deliveries)
    if deliveries:
        messages.info(
            request, f"{delivered} événement(s) sur {len(deliveries)} livré(s) à la boutique."
        )
    else:
        messages.info(request, "Aucun événement en attente.")
    return _back_to_page(session_id)


def _session_or_404(request: HttpRequest, session_id: str) -> CheckoutSession:
    """The session, expired first (and the shop told) if its time has passed."""
    if sessions.find_session(session_id) is None:
        raise Http404("Session de paiement inconnue.")
    _deliver(request, sessions.expire_overdue_sessions(session_id=session_id))
    return sessions.find_session(session_id)


def _deliver(request: HttpRequest, events: list[Event]) -> None:
    """Send the events to the shop; say on the page if some were not accepted."""
    if not events:
        return
    deliveries = deliver_events(events, url=webhook_url_for(request))
    failed = [delivery for delivery in deliveries if not delivery.ok]
    if failed:
        messages.warning(
            request,
            f"Paiement simulé : {len(failed)} événement(s) n'ont pas été acceptés par la "
            "boutique ; ils peuvent être renvoyés depuis la page de paiement simulée.",
        )


def _back_to_page(session_id: str) -> HttpResponse:
    return HttpResponseSeeOther(reverse("stripe_offline:pay", args=[session_id]))


def _refused(
    request: HttpRequest, session_id: str, refusal: sessions.SessionNotPayable
) -> HttpResponse:
    """The page again, saying why (409: the session is not, or no longer, in a state for it)."""
    return _render_page(request, sessions.find_session(session_id), error=str(refusal), status=409)


def _render_page(
    request: HttpRequest,
    session: CheckoutSession,
    *,
    form: PaymentForm | None = None,
    error: str = "",
    status: int = 200,
) -> HttpResponse:
    intent = session.payment_intent
    is_open = session.status == CheckoutSession.Status.OPEN
    context = {
        "session": session,
        "form": form if is_open else None,
        "error": error,
        "lines": [
            {
                "description": line["description"],
                "quantity": line["quantity"],
                "amount": format_amount(line["unit_amount"] * line["quantity"], line["currency"]),
            }
            for line in session.line_items
        ],
        "shipping": [
            {
                "name": option["shipping_rate"]["display_name"],
                "amount": format_amount(option["shipping_amount"], session.currency),
            }
            for option in session.shipping_options[:1]
        ],
        "total": format_amount(session.amount_total, session.currency),
        "expires_at": datetime.fromtimestamp(session.expires_at, tz=UTC),
        "is_open": is_open,
        "is_expired": session.status == CheckoutSession.Status.EXPIRED,
        "is_paid": session.payment_status == CheckoutSession.PaymentStatus.PAID,
        "transfer_pending": intent is not None and intent.status == PaymentIntent.Status.PROCESSING,
        "transfer_failed": intent is not None
        and intent.status == PaymentIntent.Status.REQUIRES_PAYMENT_METHOD,
        "return_url": (
            sessions.success_redirect_url(session)
            if session.status == CheckoutSession.Status.COMPLETE
            else session.cancel_url
        ),
        "events": list(session.events.order_by("id")),
        "has_undelivered": session.events.filter(delivered_at__isnull=True).exists(),
    }
    return render(request, "stripe_offline/pay.html", context, status=status)


def format_amount(cents: int, currency: str) -> str:
    """`125000, "eur"` -> `1 250,00 €` (French grouping, U+00A0), other currencies by code."""
    with translation.override("fr"):
        amount = formats.number_format(
            Decimal(cents) / 100, decimal_pos=2, use_l10n=True, force_grouping=True
        )
    symbol = "€" if currency == "eur" else currency.upper()
    return f"{amount}\N{NO-BREAK SPACE}{symbol}"
