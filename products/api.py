"""The stock API polled by every open page (SPEC §6).

`GET /api/products?ids=1,2,3` answers the status of the pieces that exist, in
one small SQL query. Pages poll it every `STOCK_POLL_SECONDS`, so it is built
to be cheap: an `ETag` over the exact body, `304 Not Modified` when the page
already has it, and `Cache-Control: public, max-age=0, s-maxage=STOCK_SHARED_SECONDS`:
browsers revalidate every poll, a shared cache (a CDN, a caching proxy) may answer the
polls of every open tab from one answer for a few seconds. Nothing in an answer depends
on the visitor (no session, no cookie, no Vary: Cookie), so one answer serves them all;
an open page shows a sale within STOCK_POLL_SECONDS + STOCK_SHARED_SECONDS.

With a shared cache (Redis), the body and its ETag are cached by ids, with the stock
version they were computed under (products/stock_version.py): a poll whose version is
still current costs one round trip to the cache and no SQL.
The ETag stays a hash of the body, so a sale elsewhere in the shop changes the version
without making every open page download its unchanged answer again. Polls are answered
before most of the middleware (products/middleware.py).
"""

import hashlib
import json
import logging
from typing import TypedDict

from django.conf import settings
from django.http import HttpRequest, HttpResponse, HttpResponseNotModified, JsonResponse
from django.utils.cache import patch_cache_control
from django.utils.http import parse_etags
from django.views.decorators.http import require_GET

from products import stock_version
from products.exceptions import InvalidIds
from products.models import Product

logger = logging.getLogger(__name__)

MAX_IDS = 200
# A cached body unread for this long leaves the cache.
BODY_SECONDS = 3600
MAX_ID = 2**63 - 1  # a PostgreSQL bigint: anything larger cannot be a product id
_MAX_ID_DIGITS = len(str(MAX_ID))


class StockEntry(TypedDict):
    id: int
    slug: str
    status: str
    in_stock: bool


def parse_ids(raw: str | None) -> list[int]:
    """Read `ids=1,2,3`: positive integers that fit a bigint, at most `MAX_IDS`.

    Duplicates are accepted (and dropped); anything else raises `InvalidIds`.
    """
    if raw is None or not raw.strip():
        raise InvalidIds("Le paramètre « ids » est requis, par exemple ?ids=1,2,3.")
    # Split at most MAX_IDS times: a very long list costs no more than the cap.
    parts = raw.split(",", MAX_IDS)
    if len(parts) > MAX_IDS:
        raise InvalidIds(f"Au plus {MAX_IDS} identifiants par requête.")
    ids: dict[int, None] = {}
    for part in parts:
        text = part.strip()
        if not (text.isascii() and text.isdigit()):
            raise InvalidIds(
                "Les identifiants doivent être des nombres entiers positifs, "
                "séparés par des virgules."
            )
        digits = text.lstrip("0")
        if not digits or len(digits) > _MAX_ID_DIGITS or int(digits) > MAX_ID:
            raise InvalidIds(f"Identifiant hors limites : {text[: _MAX_ID_DIGITS + 1]}.")
        ids[int(digits)] = None
    return list(ids)


def stock_entries(*, ids: list[int]) -> list[StockEntry]:
    """The global status of the pieces among `ids` that exist, by id; one SQL query."""
    rows = (
        Product.objects.with_status()
        .filter(pk__in=ids)
        .order_by("pk")
        .values_list("pk", "slug", "stock_status", "in_stock")
    )
    return [
        {"id": pk, "slug": slug, "status": status, "in_stock": in_stock}
        for pk, slug, status, in_stock in rows
    ]


def stock_answer(ids: list[int]) -> tuple[bytes, str]:
    """The JSON body for these ids and its ETag: from the cache when it was computed under
    the current stock version, else from the database (and then cached with that version)."""
    wanted = ",".join(map(str, sorted(ids))).encode()
    key = f"stock:answer:{hashlib.blake2b(wanted, digest_size=16).hexdigest()}"
    answer = stock_version.read_through(key, lambda: (_answer(ids), True), seconds=BODY_SECONDS)
    return answer if answer is not None else _answer(ids)


def _answer(ids: list[int]) -> tuple[bytes, str]:
    body = json.dumps(
        {"products": stock_entries(ids=ids)}, ensure_ascii=False, separators=(",", ":")
    ).encode()
    return body, _etag(body)


def _etag(body: bytes) -> str:
    return '"' + hashlib.blake2b(body, digest_size=16).hexdigest() + '"'


def _matches(if_none_match: str, etag: str) -> bool:
    """Weak comparison, as RFC 9110 asks for If-None-Match."""
    if not if_none_match:
        return False
    tags = parse_etags(if_none_match)
    return "*" in tags or any(tag.removeprefix("W/") == etag for tag in tags)


def _shared_cache(response: HttpResponse) -> HttpResponse:
    # Browsers revalidate every poll (max-age=0, with the ETag); a shared cache may serve the
    # answer to everyone for STOCK_SHARED_SECONDS.
    patch_cache_control(response, public=True, max_age=0, s_maxage=settings.STOCK_SHARED_SECONDS)
    return response


@require_GET
def stock_api(request: HttpRequest) -> HttpResponse:
    """`{"products": [{"id", "slug", "status", "in_stock"}]}` for the ids that exist."""
    try:
        ids = parse_ids(request.GET.get("ids"))
    except InvalidIds as error:
        response = JsonResponse(
            {"error": str(error)}, status=400, json_dumps_params={"ensure_ascii": False}
        )
        return _shared_cache(response)

    body, etag = stock_answer(ids)
    if _matches(request.headers.get("If-None-Match", ""), etag):
        response: HttpResponse = HttpResponseNotModified()
    else:
        response = HttpResponse(body, content_type="application/json")
    response.headers["ETag"] = etag
    return _shared_cache(response)
