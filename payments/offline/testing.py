"""Drive the simulated Checkout page over real HTTP, as a shopper's browser would, from tests.

    from payments.offline.testing import submit_hosted_page

    session = client.v1.checkout.sessions.create(...)        # through the shop's code
    response = submit_hosted_page(session.url)                 # Payer (card)
    assert response.status_code == 303                        # to success_url; the shop's
                                                               # webhook has had both events
    submit_hosted_page(session.url, method="sepa_debit")       # completes unpaid
    submit_hosted_page(session.url, "transfer_succeeded")      # or "transfer_failed"
    submit_hosted_page(session.url, "cancel")                  # 303 to cancel_url

The server must be a real one (pytest-django's `live_server`, `django_db(transaction=True)`),
since the page posts the signed events to `/api/webhooks/stripe` on its own host.

Also Stripe's side of a payment without the page, for the tests and the bench:
`paid_session(order)` (a Checkout Session as Stripe sends it in its events) and
`signed_event(type, obj, secret=...)` (the event's body and its `Stripe-Signature`).
"""

import itertools
import json
import re
import time
from typing import Any, Protocol

import requests
import stripe

from payments.offline.forms import DEFAULT_ADDRESS, DEFAULT_EMAIL, DEFAULT_NAME, DEFAULT_PHONE

ACTIONS = {
    "pay": "payer/",
    "cancel": "annuler/",
    "transfer_succeeded": "virement/reussi/",
    "transfer_failed": "virement/echoue/",
    "resend": "renvoyer/",
}
_TOKEN = re.compile(r'name="csrfmiddlewaretoken" value="([^"]+)"')


def submit_hosted_page(
    url: str,
    action: str = "pay",
    *,
    method: str = "card",
    email: str = DEFAULT_EMAIL,
    country: str = "FR",
    timeout: float = 30,
) -> requests.Response:
    """GET the page at `url` (a session's `url`), then POST one of its forms with the CSRF
    token, like the browser. Redirects are not followed: Payer answers 303 to `success_url`.

    The CSRF cookie is sent by hand: with DEBUG off (pytest) it is `Secure`, which
    `requests` would not send back over plain HTTP.
    """
    page = requests.get(url, timeout=timeout)
    page.raise_for_status()
    token = _TOKEN.search(page.text)
    if token is None:
        raise AssertionError(f"No form on the simulated Checkout page {url}:\n{page.text[:2000]}")
    data = {"csrfmiddlewaretoken": token.group(1)}
    if action == "pay":
        data |= {"email": email, "name": DEFAULT_NAME, "method": method, "country": country}
        data |= {"phone": DEFAULT_PHONE}
        data |= DEFAULT_ADDRESS
    return requests.post(
        url.split("?")[0].rstrip("/") + "/" + ACTIONS[action],
        data=data,
        headers={"Cookie": f"csrftoken={page.cookies['csrftoken']}"},
        allow_redirects=False,
        timeout=timeout,
    )


# --- Stripe's events for an order of the shop, signed as Stripe signs them -----------------


class OrderLike(Protocol):
    """What the builders read of an order (payments.models.Order): the offline server itself
    imports nothing of the shop."""

    reference: str
    stripe_session_id: str | None
    total_cents: int
    currency: str


_numbers = itertools.count(1)


def paid_session(order: OrderLike, **overrides: Any) -> dict[str, Any]:
    """A Checkout Session for an order, as Stripe sends it in its events: complete and paid,
    with the buyer's e-mail and shipping address, unless told otherwise
    (`paid_session(order, payment_status="unpaid")`)."""
    session = {
        "id": order.stripe_session_id or f"cs_test_paid_{next(_numbers):06d}",
        "object": "checkout.session",
        "mode": "payment",
        "status": "complete",
        "payment_status": "paid",
        "amount_total": order.total_cents,
        "currency": order.currency,
        "client_reference_id": order.reference,
        "metadata": {"order_id": order.reference},
        "payment_intent": f"pi_{order.reference}",
        "customer_details": {"email": "cliente@example.com", "name": "Camille Martin"},
        "collected_information": {
            "shipping_details": {
                "name": "Camille Martin",
                "address": {"line1": "3 rue des Lilas", "city": "Lyon", "country": "FR"},
            }
        },
    }
    session.update(overrides)
    return session


def signed_event(
    event_type: str,
    obj: dict[str, Any],
    *,
    secret: str,
    event_id: str | None = None,
    timestamp: int | None = None,
) -> tuple[bytes, str]:
    """A Stripe event around `obj`, and its `Stripe-Signature` header signed with `secret`
    at `timestamp` (default now), as Stripe delivers it."""
    payload = json.dumps(
        {
            "id": event_id or f"evt_test_{next(_numbers):06d}",
            "object": "event",
            "api_version": stripe.api_version,
            "created": int(time.time()),
            "data": {"object": obj},
            "livemode": False,
            "pending_webhooks": 1,
            "type": event_type,
        }
    )
    header = stripe.WebhookSignature.generate_signature_header(payload, secret, timestamp=timestamp)
    return payload.encode("utf-8"), header
