"""The client address (SPEC §4): one rule for the login lockout, the rate limits and the
checkout limits."""

import pytest
from axes.helpers import get_client_ip_address
from django.test import RequestFactory

from shop.client import client_address, limit_key, truncated


def request_from(remote_addr: str, forwarded: str | None = None):
    headers = {"X-Forwarded-For": forwarded} if forwarded is not None else {}
    return RequestFactory().get("/", REMOTE_ADDR=remote_addr, headers=headers)


@pytest.mark.parametrize(
    ("proxies", "remote_addr", "forwarded", "expected"),
    [
        # gunicorn faces clients: the header is the client's own words, ignored.
        (0, "81.2.69.142", "192.0.2.1", "81.2.69.142"),
        # One router: the entry it appended, whatever the client wrote before it.
        (1, "10.1.2.3", "81.2.69.142", "81.2.69.142"),
        (1, "10.1.2.3", "192.0.2.1, 198.51.100.7 ,81.2.69.142", "81.2.69.142"),
        # Two proxies: the first appended the client, the second appended the first.
        (2, "10.1.2.3", "192.0.2.1, 81.2.69.142, 10.0.0.9", "81.2.69.142"),
        # No header, a shorter chain than the proxies promise, or garbage: REMOTE_ADDR.
        (1, "10.1.2.3", None, "10.1.2.3"),
        (2, "10.1.2.3", "81.2.69.142", "10.1.2.3"),
        (1, "10.1.2.3", "192.0.2.1, not-an-address", "10.1.2.3"),
        # Normalised, so that one client has one spelling.
        (1, "10.1.2.3", "2001:DB8:0:0::1", "2001:db8::1"),
        (0, "::ffff:81.2.69.142", None, "81.2.69.142"),
    ],
)
def test_client_address_follows_the_trusted_proxies(
    settings, proxies, remote_addr, forwarded, expected
):
    settings.TRUSTED_PROXY_COUNT = proxies
    assert client_address(request_from(remote_addr, forwarded)) == expected


def test_the_login_lockout_reads_the_same_address(settings):
    """django-axes asks shop.client, so the lockout and the limits agree on who the client is."""
    settings.TRUSTED_PROXY_COUNT = 1
    request = request_from("10.1.2.3", "192.0.2.1, 81.2.69.142")
    assert get_client_ip_address(request) == client_address(request) == "81.2.69.142"


def test_limits_count_an_ipv6_client_by_its_network():
    """A host on IPv6 holds a whole /64: changing the last bits does not make a new client."""
    assert limit_key("81.2.69.142") == "81.2.69.142"
    assert limit_key("2001:db8:1:2::1") == limit_key("2001:db8:1:2:ffff::9") == "2001:db8:1:2::/64"
    assert limit_key("2001:db8:1:3::1") != limit_key("2001:db8:1:2::1")


def test_logs_keep_a_truncated_address():
    assert truncated("81.2.69.142") == "81.2.69.0"
    assert truncated("2001:db8:1:2:3:4:5:6") == "2001:db8:1::"
    assert truncated("garbage") == "?"
