"""Request id: one id per request, from the proxy when it gives one, in every log line."""

import re
import uuid
from collections.abc import Callable

from django.http import HttpRequest, HttpResponse

from shop.logs import request_id_var

REQUEST_ID_HEADER = "X-Request-ID"
# Ids from the proxy are kept when they look like ids (Heroku sends a UUID, others a
# hex string); anything else is replaced, so a client cannot write arbitrary text into logs.
_VALID_REQUEST_ID = re.compile(r"^[A-Za-z0-9._:-]{1,200}$")


def request_id_from(request: HttpRequest) -> str:
    """The proxy's `X-Request-ID` when it is a plausible id, else a new random one."""
    given = request.headers.get(REQUEST_ID_HEADER, "")
    if _VALID_REQUEST_ID.match(given):
        return given
    return uuid.uuid4().hex


class RequestIdMiddleware:
    """Give each request an id: on `request.request_id`, in the logs, on the response."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        request_id = request_id_from(request)
        request.request_id = request_id
        token = request_id_var.set(request_id)
        try:
            response = self.get_response(request)
        finally:
            request_id_var.reset(token)
        response[REQUEST_ID_HEADER] = request_id
        return response
