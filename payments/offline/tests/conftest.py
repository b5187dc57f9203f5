import time
from collections.abc import Callable
from typing import Any

import pytest
import stripe

from payments.offline.tests import urls as capture
from payments.offline.tests.helpers import SECRET_KEY, WEBHOOK_SECRET


@pytest.fixture
def offline_server(live_server, settings) -> str:
    """The offline server on a real HTTP server; returns the shop's base URL.

    The test URLs put a recording stand-in at /api/webhooks/stripe."""
    settings.ROOT_URLCONF = "payments.offline.tests.urls"
    settings.STRIPE_OFFLINE = True
    settings.STRIPE_SECRET_KEY = SECRET_KEY
    settings.STRIPE_WEBHOOK_SECRET = WEBHOOK_SECRET
    settings.STRIPE_API_BASE = live_server.url + "/_stripe"
    capture.received.clear()
    capture.answer["status"] = 200
    return live_server.url


@pytest.fixture
def stripe_client(offline_server, settings) -> stripe.StripeClient:
    """The real stripe library, as payments/stripe_client.py builds it."""
    return stripe.StripeClient(
        settings.STRIPE_SECRET_KEY,
        base_addresses={"api": settings.STRIPE_API_BASE},
        max_network_retries=0,
    )


@pytest.fixture
def webhooks() -> list[dict]:
    """What the stand-in webhook received, in order (body bytes, Stripe-Signature, host)."""
    return capture.received


@pytest.fixture
def session_params(offline_server) -> Callable[..., dict[str, Any]]:
    """Checkout Session parameters shaped like the shop's (STRIPE.md §5)."""

    def make(**overrides: Any) -> dict[str, Any]:
        params = {
            "mode": "payment",
            "line_items": [
                {
                    "quantity": 1,
                    "price_data": {
                        "currency": "eur",
                        "unit_amount": 125000,
                        "product_data": {"name": "Commode Louis XV", "metadata": {"id": "7"}},
                    },
                },
                {
                    "quantity": 1,
                    "price_data": {
                        "currency": "eur",
                        "unit_amount": 2599,
                        "product_data": {"name": "Vase bleu"},
                    },
                },
            ],
            "success_url": offline_server + "/commande/merci/?session_id={CHECKOUT_SESSION_ID}",
            "cancel_url": offline_server + "/commande/annulee/?commande=signed-B-TEST",
            "client_reference_id": "B-TEST1234",
            "metadata": {"order_id": "B-TEST1234"},
            "payment_intent_data": {"metadata": {"order_id": "B-TEST1234"}},
            "expires_at": int(time.time()) + 31 * 60,
            "locale": "fr",
        }
        return params | overrides

    return make
