"""The client address (SPEC §4): who is asking, as far as the shop can tell.

One rule, used by the admin login lockout (django-axes, `AXES_CLIENT_IP_CALLABLE`), the rate
limits and the open-checkout limit. Behind `TRUSTED_PROXY_COUNT` proxies that append to
`X-Forwarded-For` (the platform's router), the client is the entry they added last: the
proxy nearest to gunicorn is `REMOTE_ADDR` and the entries before it are the ones the other
trusted proxies appended, so the client is the `TRUSTED_PROXY_COUNT`-th entry from the end.
Entries further left were written by the client itself and could be anything. Without
trusted proxies, or when the header is missing or malformed, the client is `REMOTE_ADDR`.
"""

import ipaddress

from django.conf import settings
from django.http import HttpRequest

UNKNOWN = "0.0.0.0"
# A host on IPv6 usually holds a whole /64 and picks addresses in it at will: limits count
# the network, as django-ratelimit does by default.
IPV6_LIMIT_PREFIX = 64
# What logs keep of an address: IPv4 with its last byte zeroed, IPv6 cut to its /48.
IPV4_LOG_PREFIX = 24
IPV6_LOG_PREFIX = 48


def client_address(request: HttpRequest) -> str:
    """The client's IP address, normalised (`2001:db8::1`, not `2001:DB8:0::1`)."""
    proxies = settings.TRUSTED_PROXY_COUNT
    if proxies > 0:
        forwarded = request.META.get("HTTP_X_FORWARDED_FOR", "")
        entries = [entry.strip() for entry in forwarded.split(",") if entry.strip()]
        if len(entries) >= proxies:
            address = _parse(entries[-proxies])
            if address is not None:
                return str(address)
    address = _parse(request.META.get("REMOTE_ADDR", ""))
    return str(address) if address is not None else UNKNOWN


def limit_key(address: str) -> str:
    """What the limits count by: the address itself (IPv4), or its /64 network (IPv6)."""
    parsed = _parse(address)
    if parsed is None:
        return address
    if parsed.version == 6:
        return str(ipaddress.ip_network(f"{parsed}/{IPV6_LIMIT_PREFIX}", strict=False))
    return str(parsed)


def truncated(address: str) -> str:
    """The address as logs keep it: `81.2.69.0` for `81.2.69.142`, a /48 for IPv6."""
    parsed = _parse(address)
    if parsed is None:
        return "?"
    prefix = IPV4_LOG_PREFIX if parsed.version == 4 else IPV6_LOG_PREFIX
    return str(ipaddress.ip_network(f"{parsed}/{prefix}", strict=False).network_address)


def _parse(value: str) -> ipaddress.IPv4Address | ipaddress.IPv6Address | None:
    try:
        address = ipaddress.ip_address(value.strip())
    except ValueError:
        return None
    if address.version == 6 and address.ipv4_mapped is not None:
        return address.ipv4_mapped  # ::ffff:81.2.69.142 is 81.2.69.142
    return address
