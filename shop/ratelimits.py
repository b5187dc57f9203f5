"""Rate limits on the POSTs a bot would hammer: cart add/remove, Commander and the
withdrawal form (SPEC §6).

django-ratelimit counts requests per client address (shop.client, the same address as the
login lockout and the checkout limits) in the default cache: one counter per process with
the local-memory cache, one for all processes with Redis. Past its rate a view raises
`Ratelimited`, which `RatelimitMiddleware` hands to `shop.views.too_many_requests` (429, in
French). Never on the Stripe webhook (Stripe signs and retries it) nor on the stock API
(every open tab polls it).
"""

import logging
from collections.abc import Callable
from functools import wraps

from django.conf import settings
from django.http import HttpRequest, HttpResponse
from django_ratelimit.core import get_usage
from django_ratelimit.exceptions import Ratelimited

from shop.client import client_address, limit_key, truncated

logger = logging.getLogger(__name__)


def client_key(group: str, request: HttpRequest) -> str:
    """django-ratelimit's key: the client address (its /64 for IPv6)."""
    return limit_key(client_address(request))


def _rate_from(setting: str) -> Callable[[str, HttpRequest], str | None]:
    """The rate, read from settings on each request ("60/m"; empty: no limit)."""

    def rate(group: str, request: HttpRequest) -> str | None:
        return getattr(settings, setting) or None

    return rate


def limit_posts(*, group: str, rate_setting: str) -> Callable:
    """Decorate a view: POSTs beyond `settings.<rate_setting>` per client address get 429.
    Views decorated with the same `group` share one counter. django-ratelimit's own
    decorator, except that a cache that fails lets the request through: the rate limits
    spare the server, the stock is protected by the database (payments.limits)."""
    rate = _rate_from(rate_setting)

    def decorator(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
        @wraps(view)
        def limited(request: HttpRequest, *args, **kwargs) -> HttpResponse:
            if _over_the_rate(request, group=group, rate=rate):
                request.ratelimit_group = group  # the 429 page's words depend on it
                raise Ratelimited()  # answered by RatelimitMiddleware (RATELIMIT_VIEW)
            return view(request, *args, **kwargs)

        return limited

    return decorator


def _over_the_rate(request: HttpRequest, *, group: str, rate: Callable) -> bool:
    """Count this request; True past the rate. The first refusal of a window is logged (once
    per client and window, so that a bot does not flood the logs)."""
    try:
        usage = get_usage(
            request, group=group, key=client_key, rate=rate, method="POST", increment=True
        )
    except Exception as error:  # any cache backend's own connection errors
        logger.warning("Rate limit not checked, the cache failed: %r", error)
        return False
    if usage is None or not usage["should_limit"]:
        return False
    request.ratelimit_seconds_left = usage["time_left"]  # for the 429's Retry-After
    if usage["count"] == usage["limit"] + 1:
        logger.warning(
            "Rate limit reached: requests refused until the window ends",
            extra={
                "client": truncated(client_address(request)),
                "limit_group": group,
                "seconds_left": usage["time_left"],
            },
        )
    return True


cart_rate_limit = limit_posts(group="cart", rate_setting="RATE_LIMIT_CART")
checkout_rate_limit = limit_posts(group="checkout", rate_setting="RATE_LIMIT_CHECKOUT")
withdrawal_rate_limit = limit_posts(group="withdrawal", rate_setting="RATE_LIMIT_WITHDRAWAL")
