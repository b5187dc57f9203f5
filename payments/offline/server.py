"""What the offline Stripe server does: Checkout Sessions, PaymentIntents and refunds,
with the checks Stripe makes that matter to the shop.

Every function that changes state does it in one transaction and returns the events
it recorded there; the caller delivers them after commit (`events.deliver_events`).
State changes of a session are conditional updates (`status = open` in the WHERE
clause), so two requests racing on one session (Payer twice, Payer against expiry)
change it once, on SQLite and PostgreSQL alike.
"""

import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

from django.db import transaction
from django.db.models import Q, QuerySet, Sum

from payments.offline import params as p
from payments.offline.errors import invalid, missing
from payments.offline.events import record_event
from payments.offline.models import CheckoutSession, Event, PaymentIntent, Refund, new_id
from payments.offline.objects import (
    SESSION_EXPANDABLE,
    line_items_list,
    list_object,
    payment_intent_object,
    refund_object,
    session_object,
)

MAX_AMOUNT = 99_999_999  # Stripe's ceiling for one payment in EUR, in cents
MAX_SESSION_SECONDS = 24 * 60 * 60

SESSION_CREATE_PARAMS = {
    "cancel_url",
    "client_reference_id",
    "currency",
    "customer_email",
    "expand",
    "expires_at",
    "line_items",
    "locale",
    "metadata",
    "mode",
    "payment_intent_data",
    "shipping_address_collection",
    "success_url",
    # Accepted and without effect here (they only change the look of Stripe's page):
    "allow_promotion_codes",
    "billing_address_collection",
    "customer_creation",
    "custom_text",
    "payment_method_types",
    "phone_number_collection",
    "submit_type",
    "ui_mode",
}
PAYMENT_INTENT_DATA_PARAMS = {
    "description",
    "metadata",
    "receipt_email",
    "statement_descriptor",
    "statement_descriptor_suffix",
}
LINE_ITEM_PARAMS = {"metadata", "price_data", "quantity"}
PRICE_DATA_PARAMS = {"currency", "product_data", "tax_behavior", "unit_amount"}
PRODUCT_DATA_PARAMS = {"description", "images", "metadata", "name", "tax_code"}
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
REFUND_CREATE_PARAMS = {
    "amount",
    "expand",
    "instructions_email",
    "metadata",
    "payment_intent",
    "reason",
}
REFUND_LIST_PARAMS = {
    "created",
    "ending_before",
    "expand",
    "limit",
    "payment_intent",
    "starting_after",
}
REFUND_REASONS = {"duplicate", "fraudulent", "requested_by_customer"}


@dataclass
class Result:
    """An API answer and the events recorded with it, to deliver after commit."""

    body: dict[str, Any]
    events: list[Event] = field(default_factory=list)


class SessionNotPayable(Exception):
    """The hosted page cannot do what was asked; the message is for the shopper (French)."""


def now() -> int:
    return int(time.time())


# --- Checkout Sessions -------------------------------------------------------------------


@transaction.atomic
def create_session(params: Mapping[str, Any], *, page_url: Callable[[str], str]) -> Result:
    """`POST /v1/checkout/sessions`. `page_url(session_id)` gives the hosted page's URL."""
    p.reject_unknown(params, SESSION_CREATE_PARAMS)
    expand = _session_expand(params)
    mode = p.get_str(params, "mode", param="mode", required=True)
    if mode != "payment":
        raise invalid(
            f"The offline Stripe server only supports mode=payment, not {mode!r}.", param="mode"
        )
    if params.get("ui_mode", "hosted") != "hosted":
        raise invalid("The offline Stripe server only supports ui_mode=hosted.", param="ui_mode")
    lines = _line_items(params)
    currency = _session_currency(params, lines)
    amount = _session_amount(lines)
    created = now()
    expires_at = _expires_at(params, created=created)
    intent_data = _payment_intent_data(params)
    session = CheckoutSession(
        status=CheckoutSession.Status.OPEN,
        payment_status=CheckoutSession.PaymentStatus.UNPAID,
        mode=mode,
        currency=currency,
        amount_subtotal=amount,
        amount_total=amount,
        line_items=lines,
        success_url=_url(params, "success_url", required=True),
        cancel_url=_url(params, "cancel_url"),
        client_reference_id=p.get_str(
            params, "client_reference_id", param="client_reference_id", max_length=200
        ),
        customer_email=p.get_str(params, "customer_email", param="customer_email"),
        shipping_address_collection=_shipping_collection(params),
        metadata=p.get_metadata(params),
        payment_intent_data=intent_data,
        locale=p.get_str(params, "locale", param="locale", max_length=16),
        created=created,
        expires_at=expires_at,
    )
    session.url = page_url(session.stripe_id)
    session.save()
    return Result(session_object(session, expand=expand))


def retrieve_session(session_id: str, params: Mapping[str, Any]) -> Result:
    """`GET /v1/checkout/sessions/<id>`; a session past its `expires_at` expires now."""
    p.reject_unknown(params, {"expand"})
    expand = _session_expand(params)
    events = expire_overdue_sessions(session_id=session_id)
    return Result(session_object(get_session(session_id), expand=expand), events)


def list_sessions(params: Mapping[str, Any]) -> Result:
    """`GET /v1/checkout/sessions`, newest first; sessions past their time expire first."""
    p.reject_unknown(params, SESSION_LIST_PARAMS)
    expand = _session_list_expand(params)
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
    sessions = _filter_created(sessions, params)
    page, has_more = _paginate(sessions, params, object_name="checkout.session")
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
    expand = _session_expand(params)
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
            customer_details=_customer_details(email=email, name=name, address=shipping_address),
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


def _not_payable_message(session: CheckoutSession) -> str:
    if session.status == CheckoutSession.Status.COMPLETE:
        return "Cette session de paiement est déjà réglée : aucun nouveau paiement n'est possible."
    return "Cette session de paiement a expiré : retournez à la boutique pour commander à nouveau."


def _customer_details(*, email: str, name: str, address: dict[str, Any] | None) -> dict[str, Any]:
    return {
        "address": address,
        "business_name": None,
        "email": email,
        "individual_name": None,
        "name": name,
        "phone": None,
        "tax_exempt": "none",
        "tax_ids": [],
    }


def _session_event(type: str, session: CheckoutSession) -> Event:
    return record_event(type=type, obj=session_object(session), session=session)


def _payment_succeeded_event(intent: PaymentIntent, session: CheckoutSession) -> Event:
    return record_event(
        type="payment_intent.succeeded", obj=payment_intent_object(intent), session=session
    )


# --- PaymentIntents and refunds -----------------------------------------------------------


def retrieve_payment_intent(intent_id: str, params: Mapping[str, Any]) -> Result:
    p.reject_unknown(params, {"expand"})
    p.reject_expand(params)
    intent = PaymentIntent.objects.filter(stripe_id=intent_id).first()
    if intent is None:
        raise missing("payment_intent", intent_id, param="intent")
    return Result(payment_intent_object(intent))


@transaction.atomic
def create_refund(params: Mapping[str, Any]) -> Result:
    """`POST /v1/refunds`: the whole remaining amount unless `amount` is given. Runs inside
    the idempotency transaction."""
    if "charge" in params:
        raise invalid("The offline Stripe server refunds by payment_intent only.", param="charge")
    p.reject_unknown(params, REFUND_CREATE_PARAMS)
    p.reject_expand(params)
    intent_id = p.get_str(params, "payment_intent", param="payment_intent", required=True)
    intent, remaining = _lock_refundable_intent(intent_id)
    refund = Refund.objects.create(
        payment_intent=intent,
        amount=_refund_amount(params, remaining=remaining),
        currency=intent.currency,
        reason=_refund_reason(params),
        metadata=p.get_metadata(params),
        created=now(),
    )
    return Result(refund_object(refund))


def _lock_refundable_intent(intent_id: str) -> tuple[PaymentIntent, int]:
    """The succeeded PaymentIntent and what is left to refund on it. The row stays locked
    until commit, so that two refunds never exceed what was received."""
    intent = PaymentIntent.objects.select_for_update().filter(stripe_id=intent_id).first()
    if intent is None:
        raise invalid(
            f"No such payment_intent: '{intent_id}'",
            param="payment_intent",
            code="resource_missing",
        )
    if intent.status != PaymentIntent.Status.SUCCEEDED:
        raise invalid(
            f"This PaymentIntent ({intent_id}) does not have a successful charge to refund.",
            param="payment_intent",
            code="charge_not_refundable",
        )
    refunded = intent.refunds.aggregate(total=Sum("amount"))["total"] or 0
    remaining = intent.amount_received - refunded
    if remaining <= 0:
        raise invalid(
            f"Charge for PaymentIntent {intent_id} has already been refunded.",
            code="charge_already_refunded",
        )
    return intent, remaining


def _refund_amount(params: Mapping[str, Any], *, remaining: int) -> int:
    amount = p.get_int(params, "amount", param="amount", minimum=1)
    if amount is None:
        return remaining
    if amount > remaining:
        raise invalid(
            f"Refund amount ({amount}) is greater than unrefunded amount on charge ({remaining})",
            param="amount",
            code="amount_too_large",
        )
    return amount


def _refund_reason(params: Mapping[str, Any]) -> str | None:
    reason = p.get_str(params, "reason", param="reason")
    if reason is not None and reason not in REFUND_REASONS:
        raise invalid(
            f"Invalid reason: must be one of {', '.join(sorted(REFUND_REASONS))}", param="reason"
        )
    return reason


def list_refunds(params: Mapping[str, Any]) -> Result:
    p.reject_unknown(params, REFUND_LIST_PARAMS)
    p.reject_expand(params)
    refunds = Refund.objects.select_related("payment_intent")
    intent_id = p.get_str(params, "payment_intent", param="payment_intent")
    if intent_id is not None:
        refunds = refunds.filter(payment_intent__stripe_id=intent_id)
    refunds = _filter_created(refunds, params)
    page, has_more = _paginate(refunds, params, object_name="refund")
    return Result(
        list_object([refund_object(r) for r in page], url="/v1/refunds", has_more=has_more)
    )


def retrieve_refund(refund_id: str, params: Mapping[str, Any]) -> Result:
    p.reject_unknown(params, {"expand"})
    refund = Refund.objects.select_related("payment_intent").filter(stripe_id=refund_id).first()
    if refund is None:
        raise missing("refund", refund_id, param="id")
    return Result(refund_object(refund))


# --- Helpers ------------------------------------------------------------------------------


def find_session(session_id: str) -> CheckoutSession | None:
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


def _session_expand(params: Mapping[str, Any]) -> list[str]:
    expand = p.get_expand(params)
    for item in expand:
        if item not in SESSION_EXPANDABLE:
            raise invalid(
                f"This property cannot be expanded ({item}). The offline Stripe server expands: "
                f"{', '.join(sorted(SESSION_EXPANDABLE))}.",
                param="expand",
            )
    return expand


def _session_list_expand(params: Mapping[str, Any]) -> list[str]:
    """A list expands each session's fields under `data.`; returns them without the prefix."""
    requested = p.get_expand(params)
    expand = [item.removeprefix("data.") for item in requested]
    if any(not item.startswith("data.") for item in requested) or not set(expand).issubset(
        SESSION_EXPANDABLE
    ):
        raise invalid(
            "This property cannot be expanded: a list expands data.line_items, "
            "data.payment_intent.",
            param="expand",
        )
    return expand


def _session_currency(params: Mapping[str, Any], lines: list[dict[str, Any]]) -> str:
    """The one currency of all lines (and of `currency`, if given)."""
    currency = lines[0]["currency"]
    requested = p.get_str(params, "currency", param="currency")
    if any(line["currency"] != currency for line in lines) or (
        requested and requested.lower() != currency
    ):
        raise invalid("All line items must use the same currency.", param="line_items")
    return currency


def _session_amount(lines: list[dict[str, Any]]) -> int:
    amount = sum(line["unit_amount"] * line["quantity"] for line in lines)
    if amount > MAX_AMOUNT:
        raise invalid(
            f"Amount must be no more than {MAX_AMOUNT} (in the currency's smallest unit).",
            param="line_items",
            code="amount_too_large",
        )
    return amount


def _expires_at(params: Mapping[str, Any], *, created: int) -> int:
    expires_at = p.get_int(params, "expires_at", param="expires_at")
    if expires_at is None:
        return created + MAX_SESSION_SECONDS
    if expires_at <= created:
        # Stripe also asks for 30 minutes at least; not here, so tests can use short holds.
        raise invalid("The `expires_at` timestamp must be in the future.", param="expires_at")
    if expires_at > created + MAX_SESSION_SECONDS:
        raise invalid(
            "The `expires_at` timestamp must be less than 24 hours from Checkout Session creation.",
            param="expires_at",
        )
    return expires_at


def _payment_intent_data(params: Mapping[str, Any]) -> dict[str, Any]:
    """What the PaymentIntent created at payment will carry (`metadata` cleaned)."""
    data = p.get_dict(params, "payment_intent_data", param="payment_intent_data")
    p.reject_unknown(data, PAYMENT_INTENT_DATA_PARAMS, where="payment_intent_data")
    return {**data, "metadata": p.get_metadata(data, param="payment_intent_data[metadata]")}


def _line_items(params: Mapping[str, Any]) -> list[dict[str, Any]]:
    items = p.get_list(params, "line_items", param="line_items")
    if not items:
        raise invalid(
            "You must provide at least one line item in payment mode.",
            param="line_items",
            code="parameter_missing",
        )
    if len(items) > 100:
        raise invalid("A Checkout Session has at most 100 line items.", param="line_items")
    return [_line_item(item, where=p.path("line_items", index)) for index, item in enumerate(items)]


def _line_item(item: Any, *, where: str) -> dict[str, Any]:
    """One `line_items[i]`, as `CheckoutSession.line_items` keeps it."""
    if not isinstance(item, dict):
        raise invalid(f"Invalid hash: {where}", param=where)
    if "price" in item:
        raise invalid(
            "The offline Stripe server has no Prices: give price_data instead.",
            param=f"{where}[price]",
        )
    p.reject_unknown(item, LINE_ITEM_PARAMS, where=where)
    quantity = p.get_int(item, "quantity", param=f"{where}[quantity]", required=True, minimum=1)
    price_where = f"{where}[price_data]"
    price_data = p.get_dict(item, "price_data", param=price_where)
    if not price_data:
        raise p.missing_param(price_where)
    p.reject_unknown(price_data, PRICE_DATA_PARAMS, where=price_where)
    currency = p.get_str(
        price_data, "currency", param=f"{price_where}[currency]", required=True
    ).lower()
    if len(currency) != 3 or not currency.isalpha():
        raise invalid(f"Invalid currency: {currency}", param=f"{price_where}[currency]")
    unit_amount = p.get_int(
        price_data, "unit_amount", param=f"{price_where}[unit_amount]", required=True
    )
    if unit_amount <= 0:
        raise invalid(
            "The unit amount must be greater than 0.", param=f"{price_where}[unit_amount]"
        )
    product = _product_data(price_data, where=f"{price_where}[product_data]")
    return {
        "id": new_id("li"),
        "description": product["name"],
        "quantity": quantity,
        "unit_amount": unit_amount,
        "currency": currency,
        "price_id": new_id("price"),
        "product_id": new_id("prod"),
        "product_data": product,
        "metadata": p.get_metadata(item, param=f"{where}[metadata]"),
    }


def _product_data(price_data: Mapping[str, Any], *, where: str) -> dict[str, Any]:
    """`price_data[product_data]`: the offline server has no Products to refer to."""
    product_data = p.get_dict(price_data, "product_data", param=where)
    if not product_data:
        raise invalid(
            f"Missing required param: {where}. The offline Stripe server has no "
            "Products: give product_data.",
            param=where,
            code="parameter_missing",
        )
    p.reject_unknown(product_data, PRODUCT_DATA_PARAMS, where=where)
    return {
        "name": p.get_str(product_data, "name", param=f"{where}[name]", required=True),
        "description": product_data.get("description"),
        "images": p.get_list(product_data, "images", param=f"{where}[images]"),
        "metadata": p.get_metadata(product_data, param=f"{where}[metadata]"),
    }


def _url(params: Mapping[str, Any], key: str, *, required: bool = False) -> str | None:
    value = p.get_str(params, key, param=key, required=required, max_length=5000)
    if value is None:
        return None
    parts = urlsplit(value)
    if parts.scheme not in {"http", "https"} or not parts.netloc:
        raise invalid("Not a valid URL", param=key, code="url_invalid")
    return value


def _shipping_collection(params: Mapping[str, Any]) -> dict[str, Any] | None:
    collection = p.get_dict(
        params, "shipping_address_collection", param="shipping_address_collection"
    )
    if not collection:
        return None
    where = "shipping_address_collection[allowed_countries]"
    p.reject_unknown(collection, {"allowed_countries"}, where="shipping_address_collection")
    countries = p.get_list(collection, "allowed_countries", param=where)
    if not countries or not all(isinstance(c, str) and len(c) == 2 for c in countries):
        raise invalid(f"Missing or invalid param: {where}.", param=where)
    return {"allowed_countries": [c.upper() for c in countries]}


def _filter_created(queryset: QuerySet, params: Mapping[str, Any]) -> QuerySet:
    """`created=<ts>` or `created[gt|gte|lt|lte]=<ts>`."""
    created = params.get("created")
    if created is None:
        return queryset
    if isinstance(created, str):
        return queryset.filter(created=p.get_int(params, "created", param="created"))
    if not isinstance(created, dict):
        raise invalid("Invalid created: an integer or a hash of gt, gte, lt, lte", param="created")
    p.reject_unknown(created, {"gt", "gte", "lt", "lte"}, where="created")
    for op in created:
        bound = p.get_int(created, op, param=f"created[{op}]")
        if bound is not None:
            queryset = queryset.filter(**{f"created__{op}": bound})
    return queryset


def _paginate(
    queryset: QuerySet, params: Mapping[str, Any], *, object_name: str
) -> tuple[list[Any], bool]:
    """Stripe's cursor pagination, newest first (`created`, then insertion order): one page
    and whether there is more beyond it, in the direction of travel."""
    limit = p.get_int(params, "limit", param="limit", minimum=1)
    if limit is None:
        limit = 10
    if limit > 100:
        raise invalid("Invalid limit: must be between 1 and 100", param="limit")
    after = p.get_str(params, "starting_after", param="starting_after")
    before = p.get_str(params, "ending_before", param="ending_before")
    if after and before:
        raise invalid(
            "You may only specify one of these parameters: ending_before, starting_after."
        )
    if after:
        cursor = _cursor(queryset, after, param="starting_after", object_name=object_name)
        older = Q(created__lt=cursor.created) | Q(created=cursor.created, id__lt=cursor.id)
        rows = queryset.filter(older).order_by("-created", "-id")
    elif before:
        # Walk up from the cursor, oldest first, then show the page newest first.
        cursor = _cursor(queryset, before, param="ending_before", object_name=object_name)
        newer = Q(created__gt=cursor.created) | Q(created=cursor.created, id__gt=cursor.id)
        rows = queryset.filter(newer).order_by("created", "id")
    else:
        rows = queryset.order_by("-created", "-id")
    page = list(rows[: limit + 1])
    has_more = len(page) > limit
    page = page[:limit]
    return (page[::-1] if before else page), has_more


def _cursor(queryset: QuerySet, stripe_id: str, *, param: str, object_name: str) -> Any:
    cursor = queryset.model.objects.filter(stripe_id=stripe_id).first()
    if cursor is None:
        raise invalid(f"No such {object_name}: '{stripe_id}'", param=param, code="resource_missing")
    return cursor
