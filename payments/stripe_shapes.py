"""What Stripe's objects say, read from plain dicts: no database, no SDK (SPEC §8).

The one place that knows the shape of a Checkout Session, a PaymentIntent and an event: the
webhook, the services, the thank-you page and `reconcile` read them through these functions.
Pure: tested with plain dicts and Stripe's own examples
(payments/offline/tests/stripe_fixtures/).
"""

import json
from dataclasses import dataclass
from typing import Any

# A session's `payment_status` once the money is there.
PAID_PAYMENT_STATUSES = ("paid", "no_payment_required")
# A completed, unpaid session whose PaymentIntent is back to one of these: the bank
# refused the delayed payment (`checkout.session.async_payment_failed`).
FAILED_INTENT_STATUSES = ("requires_payment_method", "canceled")
# Events that report a payment whatever their object says.
PAYMENT_EVENT_TYPES = ("payment_intent.succeeded", "checkout.session.async_payment_succeeded")
# Largest amount an order can hold (`max_digits=10, decimal_places=2`), in cents.
MAX_AMOUNT_CENTS = 10**10 - 1
ADDRESS_KEYS = ("line1", "line2", "postal_code", "city", "state", "country")


# --- Checkout Sessions and PaymentIntents ---------------------------------------------------


def is_paid(session: dict[str, Any]) -> bool:
    """Whether a Checkout Session's money is there (`payment_status`)."""
    return session.get("payment_status") in PAID_PAYMENT_STATUSES


def pays_its_order(session: dict[str, Any]) -> bool:
    """Whether a Checkout Session, as an event or the API gives it, is a payment to apply:
    paid, and complete (an event's object may leave `status` out)."""
    return is_paid(session) and session.get("status") in ("complete", None)


def reports_payment(event_type: str, obj: dict[str, Any]) -> bool:
    """Whether an event of this type, with this object, says money was received."""
    if event_type in PAYMENT_EVENT_TYPES:
        return True
    return event_type == "checkout.session.completed" and is_paid(obj)


def delayed_payment_failed(session: dict[str, Any]) -> bool:
    """Whether the session completed unpaid and the bank has since refused the payment (its
    PaymentIntent expanded, as `reconcile` lists sessions)."""
    intent = session.get("payment_intent")
    return (
        session.get("status") == "complete"
        and not is_paid(session)
        and isinstance(intent, dict)
        and intent.get("status") in FAILED_INTENT_STATUSES
    )


def id_of(value: Any) -> str:
    """The id of an object that Stripe gives either as its id or expanded."""
    if isinstance(value, dict):
        return value.get("id") or ""
    return value or ""


def order_reference_of(stripe_object: dict[str, Any]) -> str:
    """The order a session or a PaymentIntent names: its `metadata.order_id`, else the
    session's `client_reference_id` ("" when neither). Raises AttributeError when
    `metadata` is not an object."""
    metadata = stripe_object.get("metadata") or {}
    return str(metadata.get("order_id") or stripe_object.get("client_reference_id") or "")


def reported_amount(obj: dict[str, Any]) -> Any:
    """The amount an object reports, as Stripe wrote it (a session's total, a PaymentIntent's
    amount received, else its amount); None when there is none."""
    return obj.get("amount_total", obj.get("amount_received", obj.get("amount")))


def shipping_address_of(details: Any, *, phone: Any = None) -> dict[str, Any] | None:
    """The order's `shipping_address` (SPEC §5) from Stripe's shipping details (a name and
    an address) and the phone Checkout collected; None when Stripe gives no address."""
    if not isinstance(details, dict) or not isinstance(details.get("address"), dict):
        return None
    address = details["address"]
    return {
        "name": details.get("name") or "",
        "address": {key: address.get(key) or "" for key in ADDRESS_KEYS},
        "phone": phone if isinstance(phone, str) else "",
    }


@dataclass(frozen=True)
class Payment:
    """What Stripe says was paid, from a Checkout Session or a PaymentIntent."""

    reference: str
    session_id: str
    payment_intent: str
    amount: int
    currency: str
    email: str = ""
    shipping: dict[str, Any] | None = None

    @classmethod
    def from_session(cls, session: dict[str, Any]) -> "Payment":
        details = session.get("customer_details") or {}
        collected = session.get("collected_information") or {}
        return cls(
            reference=order_reference_of(session),
            session_id=session.get("id") or "",
            payment_intent=id_of(session.get("payment_intent")),
            amount=int(session.get("amount_total") or 0),
            currency=(session.get("currency") or "").lower(),
            email=details.get("email") or session.get("customer_email") or "",
            shipping=shipping_address_of(
                collected.get("shipping_details") or session.get("shipping_details"),
                phone=details.get("phone"),
            ),
        )

    @classmethod
    def from_payment_intent(cls, intent: dict[str, Any]) -> "Payment":
        return cls(
            reference=order_reference_of(intent),
            session_id="",
            payment_intent=intent.get("id") or "",
            amount=int(intent.get("amount_received") or intent.get("amount") or 0),
            currency=(intent.get("currency") or "").lower(),
            email=intent.get("receipt_email") or "",
            shipping=shipping_address_of(
                intent.get("shipping"), phone=(intent.get("shipping") or {}).get("phone")
            ),
        )


# --- Events: the webhook's shape checks -----------------------------------------------------


def envelope_problem(event: Any) -> str:
    """Why a decoded body is not a Stripe event we can store, or "" when it is one."""
    if not isinstance(event, dict):
        return "not a JSON object"
    event_id, event_type = event.get("id"), event.get("type")
    if not isinstance(event_id, str) or not 0 < len(event_id) <= 255:
        return "no string id"
    if not isinstance(event_type, str) or not 0 < len(event_type) <= 100:
        return "no string type"
    data = event.get("data")
    if not isinstance(data, dict) or not isinstance(data.get("object"), dict):
        return "no data.object"
    try:
        # What the database will store: strict JSON, valid UTF-8, and no NUL, which
        # PostgreSQL refuses in text and jsonb.
        stored = json.dumps(event, allow_nan=False, ensure_ascii=False)
        stored.encode("utf-8")
    except (ValueError, RecursionError):
        return "cannot be stored as JSON"
    if "\x00" in stored or "\\u0000" in stored:
        return "contains a NUL character"
    return ""


def object_problem(event_type: str, obj: dict[str, Any]) -> str:
    """Why the object of a handled event type does not have the shape its service reads
    (a Stripe event never looks like this), or "" when it does."""
    strings = ["id", "client_reference_id", "currency", "customer_email"]
    dicts = ["metadata"]
    if event_type.startswith("checkout.session."):
        strings += ["payment_status", "status"]
        dicts += ["customer_details", "collected_information", "shipping_details"]
        amounts = ["amount_total"]
    else:
        strings += ["receipt_email"]
        dicts += ["shipping"]
        amounts = ["amount_received", "amount"]
    for key in strings:
        if obj.get(key) is not None and not isinstance(obj[key], str):
            return f"{key} is not a string"
    for key in dicts:
        if obj.get(key) is not None and not isinstance(obj[key], dict):
            return f"{key} is not an object"
    for key in amounts:
        value = obj.get(key)
        if value is not None and (
            type(value) is not int or not 0 <= value <= MAX_AMOUNT_CENTS  # bool is not an amount
        ):
            return f"{key} is not an amount in cents"
    intent = obj.get("payment_intent")
    if intent is not None and not isinstance(intent, str | dict):
        return "payment_intent is neither an id nor an object"
    if isinstance(intent, dict) and not isinstance(intent.get("id") or "", str):
        return "payment_intent.id is not a string"
    details = obj.get("customer_details")
    details = details if isinstance(details, dict) else {}
    emails = [obj.get("customer_email"), obj.get("receipt_email"), details.get("email")]
    if any(email is not None and not isinstance(email, str) for email in emails):
        return "email is not a string"
    if any(len(value) > 254 for value in emails if isinstance(value, str)):
        return "email too long"
    if any(len(obj.get(key) or "") > 255 for key in ("id", "client_reference_id")):
        return "id too long"
    if isinstance(intent, str | dict) and len(id_of(intent)) > 255:
        return "payment_intent id too long"
    return ""
