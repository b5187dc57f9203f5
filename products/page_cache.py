"""Cached shopper pages: the catalogue, its categories and the product page
(docs/decisions/0007-stock-version-and-caches.md, "Page caches").

A page is rendered once per stock version and kept in the shared cache as HTML in which
every per-visitor part is a marker: the CSRF token of the add-to-cart forms, the cart link
of the header (its count) and the `next` field of those forms (the visitor's own URL).
Each request fills the markers in for its visitor. Messages are not filled in: a visitor
with messages waiting gets a page rendered for them, as without the cache.

Only with a shared cache (`stock_version.shared()`): an entry holds the stock version it was
rendered for, and is served only while that version is current (both read in one round
trip). The version changes after every committed write of what these pages show (pieces,
photos, categories) and when a hold lapses. With the per-process default every page is
rendered for its request, as before.

Keys hold only what changes the page: the path, and for the catalogue its known parameters
normalised (`CatalogueQuery`, a page number). Other parameters are ignored, so a flood of
junk query strings finds one entry; a search (`?q=`) is never kept, since its words are
the visitor's and unbounded in number: the cache holds a bounded set of pages whatever
visitors type. Only a `200` is kept; a 404 is raised before anything is stored.
"""

import functools
import hashlib
import logging
import re
from collections.abc import Callable

from django.conf import settings
from django.contrib.messages import get_messages
from django.http import HttpRequest, HttpResponse
from django.middleware.csrf import get_token
from django.template.loader import get_template
from django.utils.cache import patch_vary_headers
from django.utils.crypto import salted_hmac
from django.utils.functional import SimpleLazyObject
from django.utils.html import escape

from cart.cart import cart_count
from products import stock_version

logger = logging.getLogger(__name__)

# An entry holds the version it was rendered for; one of an old version is never served.
PAGE_SECONDS = 120
KEY_PREFIX = "page"


def _marker(kind: str) -> str:
    # Derived from SECRET_KEY: a visitor cannot type a marker into a search (which the page
    # shows) and have the next visitor's token filled in where their words were.
    return f"pc{kind}{salted_hmac('products.page_cache', kind).hexdigest()[:24]}"


_markers = SimpleLazyObject(
    lambda: {kind: _marker(kind) for kind in ("csrf", "cart", "next")}  # type: ignore[misc]
)


def placeholders() -> dict:
    """The context of a page rendered for the cache: markers for the per-visitor parts."""
    return {
        "csrf_token": _markers["csrf"],
        "page_cache_markers": {"cart": _markers["cart"], "next": _markers["next"]},
        "messages": (),
    }


def serve(
    request: HttpRequest,
    key: tuple | None,
    render: Callable[[dict], tuple[HttpResponse, bool]],
) -> HttpResponse:
    """The page for `key` from the cache, or rendered by `render(extra_context)`.

    `render` returns the response and whether it may be kept (the page asked for is the page
    shown). `key` None: this request's page is never cached (an unusual parameter)."""
    if key is None or _has_messages(request):
        return render({})[0]
    # One round trip: the version and the entry, kept as (version, parts). An entry of
    # another version is never served: rendered again, it replaces the old one.
    parts = stock_version.read_through(
        _cache_key(request.path, key), lambda: _render_parts(render), seconds=PAGE_SECONDS
    )
    if parts is None:  # no shared cache, or it is down; or a page that is not a 200
        return render({})[0]
    response = HttpResponse(fill(parts, request))
    # Filled in from the visitor's cookies (session, CSRF), as Django's rendering would.
    patch_vary_headers(response, ("Cookie",))
    return response


def _render_parts(render: Callable[[dict], tuple[HttpResponse, bool]]) -> tuple[tuple | None, bool]:
    """The page rendered for the cache, as pieces, and whether it may be kept. A page that is
    not a `200` is never kept, and never sent with markers: None."""
    response, keep = render(placeholders())
    if response.status_code != 200:
        return None, False
    return split(response.content.decode(response.charset)), keep


def split(html: str) -> tuple:
    """The page as UTF-8 pieces between its markers, each marker replaced by its kind: filled
    in by a join, without searching the page or encoding it again for each request."""
    kinds = {marker: kind for kind, marker in _markers.items()}
    pieces = re.split("(" + "|".join(kinds) + ")", html)
    return tuple(kinds[p] if i % 2 else p.encode() for i, p in enumerate(pieces))


def fill(parts: tuple, request: HttpRequest) -> bytes:
    """The cached page with this visitor's parts in place of the markers."""
    values: dict[str, bytes] = {}
    filled = []
    for part in parts:
        if isinstance(part, bytes):
            filled.append(part)
            continue
        value = values.get(part)
        if value is None:
            value = values[part] = _visitors_part(part, request).encode()
        filled.append(value)
    return b"".join(filled)


def _visitors_part(kind: str, request: HttpRequest) -> str:
    if kind == "csrf":
        return get_token(request)  # the visitor's masked token; sets the CSRF cookie too
    if kind == "next":
        return escape(request.get_full_path())
    return _cart_link(request)


def _cart_link(request: HttpRequest) -> str:
    return _cart_link_html(cart_count(request))


@functools.lru_cache(maxsize=64)
def _cart_link_html(count: int) -> str:
    return get_template("_cart_link.html").render({"cart_count": count})


def _has_messages(request: HttpRequest) -> bool:
    """Messages are waiting for this visitor (they are not consumed by asking)."""
    if not request.COOKIES:
        return False
    if "messages" not in request.COOKIES and settings.SESSION_COOKIE_NAME not in request.COOKIES:
        return False
    return len(get_messages(request)) > 0


def _cache_key(path: str, key: tuple) -> str:
    digest = hashlib.blake2b(repr((path, key)).encode(), digest_size=16).hexdigest()
    return f"{KEY_PREFIX}:{digest}"
