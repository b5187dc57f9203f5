"""Rate limits on the cart's and Commander's POSTs, per client address (django-ratelimit)."""

import time

import pytest
from django.core.cache import cache
from django.test import Client
from django.urls import reverse
from django_ratelimit import core

from cart.cart import Cart

pytestmark = pytest.mark.django_db


class Clock:
    """django-ratelimit's clock, moved by the test instead of waiting for a window to end."""

    def __init__(self) -> None:
        self.now = time.time()

    def time(self) -> float:
        return self.now


@pytest.fixture
def clock(settings, monkeypatch) -> Clock:
    settings.RATELIMIT_ENABLE = True
    cache.clear()
    clock = Clock()
    monkeypatch.setattr(core, "time", clock)
    yield clock
    cache.clear()


def cart_of(client: Client) -> list[int]:
    return Cart(client.session).product_ids


def test_cart_posts_beyond_the_rate_get_429_until_the_window_ends(
    clock, settings, make_product, caplog
):
    """Adding and removing share one counter per address. Past it: 429, a French page that
    links back to the cart, and the cart unchanged; another address is not affected; a
    minute later the same address is let through again. The refusals of a window are logged
    once, with the address truncated."""
    settings.RATE_LIMIT_CART = "3/m"
    pieces = [make_product() for _ in range(4)]
    bot = Client(REMOTE_ADDR="81.2.69.142")

    assert bot.post(reverse("cart:add", args=[pieces[0].pk])).status_code == 302
    assert bot.post(reverse("cart:add", args=[pieces[1].pk])).status_code == 302
    assert bot.post(reverse("cart:remove", args=[pieces[1].pk])).status_code == 302
    refused = bot.post(reverse("cart:add", args=[pieces[2].pk]))

    assert refused.status_code == 429
    page = refused.content.decode()
    assert "Trop de demandes" in page
    assert f'href="{reverse("cart:detail")}"' in page
    assert 1 <= int(refused["Retry-After"]) <= 60  # until this client's window ends
    assert "patientez une minute" in page
    assert cart_of(bot) == [pieces[0].pk]
    assert bot.post(reverse("cart:add", args=[pieces[2].pk])).status_code == 429
    logged = [r for r in caplog.records if r.name == "shop.ratelimits"]
    assert [(r.levelname, r.client, r.limit_group) for r in logged] == [
        ("WARNING", "81.2.69.0", "cart")
    ]

    neighbour = Client(REMOTE_ADDR="81.2.69.160")
    assert neighbour.post(reverse("cart:add", args=[pieces[3].pk])).status_code == 302

    clock.now += 60
    assert bot.post(reverse("cart:add", args=[pieces[2].pk])).status_code == 302
    assert cart_of(bot) == [pieces[0].pk, pieces[2].pk]


def test_commander_has_its_own_rate(clock, settings):
    """Commander is counted apart from the cart; the page stays French. (An empty cart is
    enough: the limit answers before the checkout service is called.)"""
    settings.RATE_LIMIT_CHECKOUT = "2/m"
    settings.RATE_LIMIT_CART = "100/m"
    client = Client(REMOTE_ADDR="81.2.69.142")

    assert [client.post(reverse("payments:checkout")).status_code for _ in range(3)] == [
        302,
        302,
        429,
    ]
    assert "Trop de demandes" in client.post(reverse("payments:checkout")).content.decode()


def test_an_hourly_rate_says_how_long_to_wait(clock, settings, make_product):
    """Retry-After and the page follow the client's window: refused at the start of an
    hour's window, the client is told to wait an hour, not a minute."""
    settings.RATE_LIMIT_CART = "1/h"
    piece = make_product()
    bot = Client(REMOTE_ADDR="81.2.69.142")
    bot.post(reverse("cart:add", args=[piece.pk]))
    first_refusal = bot.post(reverse("cart:add", args=[piece.pk]))
    clock.now += int(first_refusal["Retry-After"]) + 1  # the next window has begun

    assert bot.post(reverse("cart:add", args=[piece.pk])).status_code == 302
    refused = bot.post(reverse("cart:add", args=[piece.pk]))

    assert refused.status_code == 429
    assert int(refused["Retry-After"]) > 3500
    assert "patientez 60 minutes avant de réessayer" in refused.content.decode()


def test_the_limit_follows_the_client_behind_the_router(clock, settings, make_product):
    """Behind the platform's router, a bot writing its own X-Forwarded-For entries is still
    one client: the address the router appended."""
    settings.TRUSTED_PROXY_COUNT = 1
    settings.RATE_LIMIT_CART = "2/m"
    piece = make_product()
    router = Client(REMOTE_ADDR="10.1.2.3")

    statuses = [
        router.post(
            reverse("cart:add", args=[piece.pk]),
            headers={"X-Forwarded-For": f"192.0.2.{n}, 81.2.69.142"},
        ).status_code
        for n in range(3)
    ]
    assert statuses == [302, 302, 429]
    other = router.post(
        reverse("cart:add", args=[piece.pk]), headers={"X-Forwarded-For": "81.2.69.160"}
    )
    assert other.status_code == 302


def test_reads_the_webhook_and_the_stock_api_are_never_limited(clock, settings, make_product):
    """GET pages, the stock API that every tab polls and Stripe's webhook are outside the
    limits, however low the rates."""
    settings.RATE_LIMIT_CART = settings.RATE_LIMIT_CHECKOUT = "1/m"
    piece = make_product()
    client = Client(REMOTE_ADDR="81.2.69.142")

    for _ in range(5):
        assert client.get(reverse("stock-api"), {"ids": piece.pk}).status_code == 200
        assert client.get(reverse("cart:detail")).status_code == 200
        webhook = client.post(
            reverse("payments:stripe-webhook"), data=b"{}", content_type="application/json"
        )
        assert webhook.status_code == 400  # unsigned: refused by the signature check, not 429


def test_a_failing_cache_lets_requests_through(clock, settings, make_product, monkeypatch, caplog):
    """With Redis down the shop keeps selling: the rate limit is skipped, with a warning."""
    settings.RATE_LIMIT_CART = "1/m"
    piece = make_product()

    def down(*args, **kwargs):
        raise ConnectionError("Error 111 connecting to redis:6379. Connection refused.")

    monkeypatch.setattr(cache, "add", down)
    client = Client(REMOTE_ADDR="81.2.69.142")

    assert [client.post(reverse("cart:add", args=[piece.pk])).status_code for _ in range(3)] == [
        302,
        302,
        302,
    ]
    assert "Rate limit not checked, the cache failed" in caplog.text
