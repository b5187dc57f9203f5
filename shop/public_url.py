"""APP_URL in production: the public address every published link is built on.

Canonical links, OpenGraph tags, JSON-LD, the sitemap, robots.txt, the product feed and
Stripe's return URLs all start with APP_URL. Left unset, or on this machine's own
addresses, a deployed shop would publish links that lead every visitor, crawler and
payment back to their own computer, and nothing would say so: with DEBUG off the settings
refuse it at start-up. Read by shop/settings.py before Django is set up: no Django import
beyond the exception.
"""

import ipaddress
from urllib.parse import urlsplit

from django.core.exceptions import ImproperlyConfigured

EXAMPLE = "https://boutique.example.com"


def check_public_app_url(url: str) -> None:
    """Refuse an empty APP_URL, one that is not an http(s) URL, or one on a local address."""
    if not url:
        raise ImproperlyConfigured(
            "APP_URL must be set when DEBUG is off: the shop's public address, such as "
            f"{EXAMPLE}; every canonical link, the sitemap, the product feed and Stripe's "
            "return URLs are built on it (see README, Configuration)."
        )
    parts = urlsplit(url)
    if parts.scheme not in {"http", "https"} or not parts.hostname:
        raise ImproperlyConfigured(
            f"APP_URL must be a full address such as {EXAMPLE} (got {url!r})."
        )
    if is_local_host(parts.hostname):
        raise ImproperlyConfigured(
            f"APP_URL points at this machine ({url}) while DEBUG is off: links published "
            f"by the shop would lead nowhere. Set it to the shop's public address, such as "
            f"{EXAMPLE}."
        )


def is_local_host(host: str) -> bool:
    """localhost (and *.localhost), a loopback address or the unspecified one (0.0.0.0, ::)."""
    host = host.lower().rstrip(".")
    if host == "localhost" or host.endswith(".localhost"):
        return True
    try:
        address = ipaddress.ip_address(host)
    except ValueError:
        return False
    return address.is_loopback or address.is_unspecified
