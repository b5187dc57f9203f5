"""The one module that talks to Stripe.

Everything else in the shop handles plain dicts (read by payments/stripe_shapes.py) and
the exceptions raised here (StripeUnavailable, StripeRejected, InvalidSignature: kept in
payments/exceptions.py), so tests point at a single boundary: `STRIPE_API_BASE` (a
Stripe-compatible server in offline mode and in tests) and `STRIPE_SECRET_KEY`.
"""

import json
import logging
from dataclasses import dataclass
from typing import Any

import stripe
from django.conf import settings

from payments.exceptions import InvalidSignature, StripeRejected, StripeUnavailable

logger = logging.getLogger(__name__)

# Seconds to wait for Stripe (to connect, then for each read): a shopper is waiting on the
# other side of "Commander", and gunicorn stops a worker after 30 s. One retry (stripe-python
# waits 0.5 s before it, and sends the same idempotency key): at worst
# 2 × (1.5 + 3) + 0.5 = 9.5 s for a call, within BUDGET_SECONDS (SPEC §13). Stripe answers a
# Checkout Session's creation in 0.3-0.5 s (BENCHMARKS.md).
TIMEOUT = (1.5, 3.0)
NETWORK_RETRIES = 1
RETRY_DELAY = 0.5  # stripe-python's first delay (HTTPClient.INITIAL_DELAY)
BUDGET_SECONDS = 10.0


def worst_case_seconds() -> float:
    """The longest one call can take, every attempt timing out."""
    return (NETWORK_RETRIES + 1) * sum(TIMEOUT) + NETWORK_RETRIES * RETRY_DELAY


@dataclass(frozen=True)
class CheckoutSession:
    id: str
    url: str


def _client() -> stripe.StripeClient:
    return stripe.StripeClient(
        settings.STRIPE_SECRET_KEY,
        base_addresses={"api": settings.STRIPE_API_BASE},
        max_network_retries=NETWORK_RETRIES,
        http_client=stripe.RequestsClient(timeout=TIMEOUT),
    )


def _call(description: str, fn, *args, **kwargs) -> Any:
    try:
        return fn(*args, **kwargs)
    except stripe.InvalidRequestError as error:
        logger.warning("Stripe refused %s: %s", description, error)
        raise StripeRejected(f"{description}: {error.user_message or error}") from error
    except stripe.StripeError as error:
        logger.warning("Stripe call failed: %s: %s", description, error)
        raise StripeUnavailable(f"{description}: {error.user_message or error}") from error


def create_checkout_session(params: dict[str, Any], *, idempotency_key: str) -> CheckoutSession:
    session = _call(
        "create checkout session",
        _client().v1.checkout.sessions.create,
        params,
        {"idempotency_key": idempotency_key},
    )
    return CheckoutSession(id=session.id, url=session.url)


def retrieve_checkout_session(session_id: str) -> dict[str, Any]:
    session = _call(
        "retrieve checkout session",
        _client().v1.checkout.sessions.retrieve,
        session_id,
        {"expand": ["line_items"]},
    )
    return session.to_dict(recursive=True)


def list_checkout_sessions(*, created_after: int) -> list[dict[str, Any]]:
    """Every Checkout Session created since `created_after` (Unix seconds), newest first,
    each with its PaymentIntent expanded (a delayed payment's outcome shows only there)."""
    page = _call(
        "list checkout sessions",
        _client().v1.checkout.sessions.list,
        {"created": {"gte": created_after}, "limit": 100, "expand": ["data.payment_intent"]},
    )
    return [session.to_dict(recursive=True) for session in page.auto_paging_iter()]


def expire_checkout_session(session_id: str, *, idempotency_key: str) -> None:
    _call(
        "expire checkout session",
        _client().v1.checkout.sessions.expire,
        session_id,
        options={"idempotency_key": idempotency_key},
    )


def refund_payment(
    payment_intent: str,
    *,
    idempotency_key: str,
    metadata: dict[str, str],
    amount_cents: int | None = None,
) -> str:
    """Refund a PaymentIntent: `amount_cents` of it, or all that is left of it when None.
    Returns the refund's id."""
    params: dict[str, Any] = {
        "payment_intent": payment_intent,
        "reason": "requested_by_customer",
        "metadata": metadata,
    }
    if amount_cents is not None:
        params["amount"] = amount_cents
    refund = _call(
        "create refund", _client().v1.refunds.create, params, {"idempotency_key": idempotency_key}
    )
    return refund.id


def refunded_by(payment_intent: str, *, key: str, whole: bool, known: set[str]) -> str | None:
    """The id of a succeeded (or pending) refund of this PaymentIntent that is the one the
    shop sent under `key` (its metadata says so); for a refund of all that was left
    (`whole`), any such refund that no other refund of the shop already accounts for
    (`known`): one made by the owner in Stripe's dashboard, say."""
    page = _call("list refunds", _client().v1.refunds.list, {"payment_intent": payment_intent})
    others = []
    for refund in page.auto_paging_iter():
        if refund.status not in ("succeeded", "pending"):
            continue
        metadata = refund.metadata.to_dict() if refund.metadata else {}
        if metadata.get("refund") == key:
            return refund.id
        if refund.id not in known:
            others.append(refund.id)
    return others[0] if whole and others else None


def verify_webhook(payload: bytes, signature: str) -> dict[str, Any]:
    """Check `Stripe-Signature` over the raw body (tolerance 300 s, any `v1` may match).

    Returns the decoded JSON body. Raises InvalidSignature, or ValueError for a
    body that is not JSON.
    """
    try:
        stripe.WebhookSignature.verify_header(
            payload.decode("utf-8"),
            signature,
            settings.STRIPE_WEBHOOK_SECRET,
            stripe.Webhook.DEFAULT_TOLERANCE,
        )
    except stripe.SignatureVerificationError as error:
        raise InvalidSignature(str(error)) from error
    except UnicodeDecodeError as error:
        raise InvalidSignature("body is not UTF-8") from error
    return json.loads(payload)
