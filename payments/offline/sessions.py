"""Checkout Sessions: the API's calls on them, and what the hosted page does to them (pay,
settle a SEPA debit), each change with the events Stripe would send about it.

A change runs in one transaction and returns the events it recorded there; the caller
delivers them after commit (`events.deliver_events`). A session changes state through a
conditional update (`status = open` in the WHERE clause), so two requests racing on one
session (Payer twice, Payer against expiry) change it once, on SQLite and PostgreSQL alike.
"""

from collections.abc import Callable, Mapping
from typing import Any

from django.db import transaction

from payments.offline import params as p
from payments.offline.errors import invalid, missing
from payments.offline.events import Result, record_event
from payments.offline.lists import filter_created, paginate
from payments.offline.models import CheckoutSession, Event, PaymentIntent, now
from payments.offline.objects import (
    line_items_list,
    list_object,
    payment_intent_object,
    session_object,
)
from payments.offline.session_params import (
    SESSION_CREATE_PARAMS,
    session_expand,
    session_fields,
    session_list_expand,
)

SESSION_LIST_PARAMS = {
    "created",
    "customer_details",
    "ending_before",
    "expand",
    "limit",
    "payment_intent",
    "starting_after",
    "status",
}


class SessionNotPayable(Exception):
    """The hosted page cannot do what was asked; the message is for the shopper (French)."""


@transaction.atomic
def create_session(params: Mapping[str, Any], *, page_url: Callable[[str], str]) -> Result:
    """`POST /v1/checkout/sessions`. `page_url(session_id)` gives the hosted page's URL."""
    p.reject_unknown(params, SESSION_CREATE_PARAMS)
    expand = session_expand(params)
    session = CheckoutSession(
        status=CheckoutSession.Status.OPEN,
        payment_status=CheckoutSession.PaymentStatus.UNPAID,
        **session_fields(params, created=now()),
    )
    session.url = page_url(session.stripe_id)
    session.save()
    return Result(session_object(session, expand=expand))


def retrieve_session(session_id: str, params: Mapping[str, Any]) -> Result:
    """`GET /v1/checkout/sessions/<id>`; a session past its `expires_at` expires now."""
    p.reject_unknown(params, {"expand"})
    expand = session_expand(params)
    events = expire_overdue_sessions(session_id=session_id)
    return Result(session_object(get_session(session_id), expand=expand), events)


def list_sessions(params: Mapping[str, Any]) -> Result:
    """`GET /v1/checkout/sessions`, newest first; sessions past their time expire first."""
    p.reject_unknown(params, SESSION_LIST_PARAMS)
    expand = session_list_expand(params)
    events = expire_overdue_sessions()
    sessions = CheckoutSession.objects.select_related("payment_intent")
    status = p.get_str(params, "status", param="status")
    if status is not None:
        if status not in CheckoutSession.Status.values:
            raise invalid("Invalid status: must be one of open, complete, expired", param="status")
        sessions = sessions.filter(status=status)
    intent_id = p.get_str(params, "payment_intent", param="payment_intent")
    if intent_id is not None:
        sessions = sessions.filter(payment_intent__stripe_id=intent_id)
    details = p.get_dict(params, "customer_details", param="customer_details")
    p.reject_unknown(details, {"email"}, where="customer_details")
    if "email" in details:
        sessions = sessions.filter(customer_details__email=details["email"])
    sessions = filter_created(sessions, params)
    page, has_more = paginate(sessions, params, object_name="checkout.session")
    body = list_object(
        [session_object(session, expand=expand) for session in page],
        url="/v1/checkout/sessions",
        has_more=has_more,
    )
    return Result(body, events)


def list_session_line_items(session_id: str, params: Mapping[str, Any]) -> Result:
    """`GET /v1/checkout/sessions/<id>/line_items` (all lines fit in one page here)."""
    p.reject_unknown(params, {"expand", "limit", "starting_after", "ending_before"})
    expand = p.get_expand(params)
    if not set(expand).issubset({"data.price.product"}):
        raise invalid("This property cannot be expanded.", param="expand")
    session = get_session(session_id)
    return Result(line_items_list(session, expand_product=bool(expand)))


@transaction.atomic
def expire_session(session_id: str, params: Mapping[str, Any]) -> Result:
    """`POST /v1/checkout/sessions/<id>/expire`: only an open session can be expired.
    Runs inside the idempotency transaction; the event goes out after commit."""
    p.reject_unknown(params, {"expand"})
    expand = session_expand(params)
    session = get_session(session_id)
    event = _expire_if_open(session.pk)
    if event is None:
        session.refresh_from_db()
        raise invalid(
            'Only Checkout Sessions with a status in ["open"] can be expired. This Checkout '
            f'Session has a status of "{session.status}".',
            param="session",
        )
    return Result(session_object(event.session, expand=expand), [event])


def expire_overdue_sessions(*, session_id: str | None = None) -> list[Event]:
    """Expire open sessions whose `expires_at` has passed (all, or just one); return the
    `checkout.session.expired` events to deliver."""
    overdue = CheckoutSession.objects.filter(
        status=CheckoutSession.Status.OPEN, expires_at__lte=now()
    )
    if session_id is not None:
        overdue = overdue.filter(stripe_id=session_id)
    pks = list(overdue.values_list("pk", flat=True))
    if not pks:
        return []
    events = []
    with transaction.atomic():
        for pk in pks:
            event = _expire_if_open(pk)
            if event is not None:
                events.append(event)
    return events


def _expire_if_open(pk: int) -> Event | None:
    """Open -> expired; the `checkout.session.expired` event (its `session` is the expired
    row), or None if another request paid or expired the session first."""
    if not CheckoutSession.objects.filter(pk=pk, status=CheckoutSession.Status.OPEN).update(
        status=CheckoutSession.Status.EXPIRED
    ):
        return None
    session = CheckoutSession.objects.select_related("payment_intent").get(pk=pk)
    return _session_event("checkout.session.expired", session)


# --- The hosted page's actions -----------------------------------------------------------


def pay_session(
    session_id: str,
    *,
    email: str,
    name: str,
    delayed: bool = False,
    shipping_address: dict[str, Any] | None = None,
    phone: str | None = None,
) -> Result:
    """The shopper pays: the session completes, a PaymentIntent carries the amount and
    `payment_intent_data.metadata`. By card it is `paid` at once (`checkout.session.completed`
    and `payment_intent.succeeded`); by SEPA debit (`delayed`) it completes `unpaid` with the
    PaymentIntent `processing` (`checkout.session.completed` only)."""
    with transaction.atomic():
        session = get_session(session_id)
        if session.status != CheckoutSession.Status.OPEN or session.expires_at <= now():
            raise SessionNotPayable(_not_payable_message(session))
        intent_data = session.payment_intent_data
        intent = PaymentIntent.objects.create(
            status=(PaymentIntent.Status.PROCESSING if delayed else PaymentIntent.Status.SUCCEEDED),
            amount=session.amount_total,
            amount_received=0 if delayed else session.amount_total,
            currency=session.currency,
            payment_method_type="sepa_debit" if delayed else "card",
            metadata=intent_data.get("metadata", {}),
            description=intent_data.get("description"),
            receipt_email=intent_data.get("receipt_email"),
            created=now(),
        )
        if not CheckoutSession.objects.filter(
            pk=session.pk, status=CheckoutSession.Status.OPEN, expires_at__gt=now()
        ).update(
            status=CheckoutSession.Status.COMPLETE,
            payment_status=(
                CheckoutSession.PaymentStatus.UNPAID
                if delayed
                else CheckoutSession.PaymentStatus.PAID
            ),
            payment_intent=intent,
            customer_details=_customer_details(
                email=email, name=name, address=shipping_address, phone=phone
            ),
            shipping_details=(
                {"name": name, "address": shipping_address} if shipping_address else None
            ),
        ):
            raise SessionNotPayable("Cette session vient de changer d'état : rechargez la page.")
        session.refresh_from_db()
        events = [_session_event("checkout.session.completed", session)]
        if not delayed:
            events.append(_payment_succeeded_event(intent, session))
    return Result(session_object(session), events)


def settle_delayed_payment(session_id: str, *, succeeded: bool) -> Result:
    """The bank answers for a SEPA debit: `checkout.session.async_payment_succeeded` and
    `payment_intent.succeeded`, or `checkout.session.async_payment_failed`."""
    with transaction.atomic():
        session = get_session(session_id)
        intent = session.payment_intent
        if intent is None or intent.status != PaymentIntent.Status.PROCESSING:
            raise SessionNotPayable("Aucun virement en attente pour cette session.")
        changed = PaymentIntent.objects.filter(
            pk=intent.pk, status=PaymentIntent.Status.PROCESSING
        ).update(
            status=(
                PaymentIntent.Status.SUCCEEDED
                if succeeded
                else PaymentIntent.Status.REQUIRES_PAYMENT_METHOD
            ),
            amount_received=intent.amount if succeeded else 0,
        )
        if not changed:
            raise SessionNotPayable("Ce virement vient d'être réglé : rechargez la page.")
        if succeeded:
            CheckoutSession.objects.filter(pk=session.pk).update(
                payment_status=CheckoutSession.PaymentStatus.PAID
            )
        session = get_session(session_id)
        if succeeded:
            events = [
                _session_event("checkout.session.async_payment_succeeded", session),
                _payment_succeeded_event(session.payment_intent, session),
            ]
        else:
            events = [_session_event("checkout.session.async_payment_failed", session)]
    return Result(session_object(session), events)


def success_redirect_url(session: CheckoutSession) -> str:
    return session.success_url.replace("{CHECKOUT_SESSION_ID}", session.stripe_id)


# --- Lookups and events --------------------------------------------------------------------


def find_session(session_id: str) -> CheckoutSession | None:
    if "\x00" in session_id:  # PostgreSQL refuses it in a query; no session has one
        return None
    return (
        CheckoutSession.objects.select_related("payment_intent")
        .filter(stripe_id=session_id)
        .first()
    )


def get_session(session_id: str) -> CheckoutSession:
    """The session, or Stripe's 404 (`resource_missing`)."""
    session = find_session(session_id)
    if session is None:
        raise missing("checkout.session", session_id, param="session")
    return session


def _not_payable_message(session: CheckoutSession) -> str:
    if session.status == CheckoutSession.Status.COMPLETE:
        return "Cette session de paiement est déjà réglée : aucun nouveau paiement n'est possible."
    return "Cette session de paiement a expiré : retournez à la boutique pour commander à nouveau."


def _customer_details(
    *, email: str, name: str, address: dict[str, Any] | None, phone: str | None
) -> dict[str, Any]:
    return {
        "address": address,
        "business_name": None,
        "email": email,
        "individual_name": None,
        "name": name,
        "phone": phone,
        "tax_exempt": "none",
        "tax_ids": [],
    }


def _session_event(type: str, session: CheckoutSession) -> Event:
    return record_event(type=type, obj=session_object(session), session=session)


def _payment_succeeded_event(intent: PaymentIntent, session: CheckoutSession) -> Event:
    return record_event(
        type="payment_intent.succeeded", obj=payment_intent_object(intent), session=session
    )
