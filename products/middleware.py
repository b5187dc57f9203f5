"""The stock API's early path: polls answered before most of the middleware.

Every open page polls `GET /api/products` every `STOCK_POLL_SECONDS`: with a few thousand
open tabs it is most of what the shop serves. The poll needs no session, user, CSRF token,
messages or language, and its answer is usually one read from the cache (see
products/api.py), so running it through the whole stack would cost several times the
answer itself. This middleware sits right after SecurityMiddleware and whitenoise (which
have already redirected plain HTTP and will add their headers on the way out) and sends
the poll to the view directly, adding what the skipped middleware would have added to such
a response: the Host check (CommonMiddleware), Content-Length, X-Frame-Options and the CSP.
Anything else, including other methods on that path, goes down the stack as usual.
"""

from collections.abc import Callable

from django.conf import settings
from django.http import HttpRequest, HttpResponse
from django.urls import reverse

from products.api import stock_api
from shop.middleware import csp_headers


class StockPollMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response
        self.path = ""

    def __call__(self, request: HttpRequest) -> HttpResponse:
        if request.method != "GET":
            return self.get_response(request)
        if not self.path:
            self.path = reverse("stock-api")
        if request.path != self.path:
            return self.get_response(request)
        request.get_host()  # refuses a host not in ALLOWED_HOSTS (400), as CommonMiddleware
        response = stock_api(request)
        response.headers.setdefault("Content-Length", str(len(response.content)))
        response.headers.setdefault("X-Frame-Options", settings.X_FRAME_OPTIONS)
        for name, value in csp_headers():
            response.headers.setdefault(name, value)
        return response
