"""A Redis that hangs or refuses (shop/cache.py): one wait of at most REDIS_TIMEOUT per
process and pause, then none while the pause lasts; one log line a minute, no traceback;
the pages and the stock API answer from the database meanwhile. Real sockets on the
loopback: one that accepts and never answers, one port nobody listens on."""

import logging
import socket
import time

import pytest
from django.core.cache import caches
from django.test import Client

from shop import cache as shop_cache

pytestmark = pytest.mark.django_db


@pytest.fixture
def closed_port() -> int:
    probe = socket.socket()
    probe.bind(("127.0.0.1", 0))
    port = probe.getsockname()[1]
    probe.close()
    return port


@pytest.fixture
def redis_at(settings):
    """Point the default cache at a Redis on this port, with the production settings'
    timeouts, and a fresh breaker."""

    def point(port: int) -> None:
        settings.CACHES = {
            "default": {
                "BACKEND": "shop.cache.RedisCache",
                "LOCATION": f"redis://127.0.0.1:{port}/0",
                "OPTIONS": {
                    "socket_connect_timeout": settings.REDIS_TIMEOUT,
                    "socket_timeout": settings.REDIS_TIMEOUT,
                },
            }
        }
        assert type(caches["default"]) is shop_cache.RedisCache

    shop_cache.breaker = shop_cache.Breaker()
    yield point
    shop_cache.breaker = shop_cache.Breaker()


@pytest.fixture
def pieces(make_product) -> list:
    return [make_product() for _ in range(3)]


def _timed(client: Client, url: str) -> float:
    started = time.monotonic()
    response = client.get(url)
    assert response.status_code == 200, (url, response.status_code)
    return time.monotonic() - started


def test_a_hung_redis_costs_one_short_wait_per_pause(redis_at, silent_port, settings, pieces):
    settings.REDIS_PAUSE_SECONDS = 1.0
    redis_at(silent_port)
    client = Client()
    poll = f"/api/products?ids={pieces[0].pk}"

    first = _timed(client, poll)
    then = [_timed(client, url) for url in (poll, "/", poll, "/") * 5]

    assert settings.REDIS_TIMEOUT <= first < settings.REDIS_TIMEOUT + 0.3
    assert max(then) < 0.2  # skipped while the pause lasts: no wait at all
    time.sleep(settings.REDIS_PAUSE_SECONDS)
    assert _timed(client, poll) >= settings.REDIS_TIMEOUT  # one try again, one wait


def test_a_refused_redis_is_logged_once_a_minute_without_a_traceback(
    redis_at, closed_port, settings, pieces, caplog
):
    settings.REDIS_PAUSE_SECONDS = 0.0  # try Redis on every call: only the log is bounded
    redis_at(closed_port)
    client = Client()
    with caplog.at_level(logging.DEBUG):
        for _ in range(20):
            assert _timed(client, f"/api/products?ids={pieces[0].pk}") < 0.5
            assert _timed(client, "/") < 0.5

    warnings = [r for r in caplog.records if r.levelno >= logging.WARNING]
    assert [r.name for r in warnings] == ["shop.cache"]
    assert "Redis unavailable" in warnings[0].getMessage()
    assert warnings[0].exc_info is None
