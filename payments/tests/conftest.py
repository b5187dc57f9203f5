"""Fixtures for the payment tests."""

import pytest


@pytest.fixture
def stripe_server(live_server, settings):
    """The offline Stripe-compatible server, reached over real HTTP by the stripe library.

    Also makes the shop's own URLs (success, cancel, webhook) point at the live server.
    Tests using it need `@pytest.mark.django_db(transaction=True)`.
    """
    settings.STRIPE_OFFLINE = True
    settings.STRIPE_API_BASE = f"{live_server.url}/_stripe"
    settings.APP_URL = live_server.url
    settings.ALLOWED_HOSTS = ["*"]
    return live_server
