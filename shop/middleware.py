"""The shop's own middleware: the request id in every log line, the admin's lists kept from
NUL characters, and the CSP header built once."""

import functools
import re
import uuid
from collections.abc import Callable

import csp.middleware
from csp.constants import HEADER as CSP_HEADER
from csp.constants import HEADER_REPORT_ONLY as CSP_HEADER_REPORT_ONLY
from csp.utils import build_policy
from django.conf import settings
from django.core.signals import setting_changed
from django.dispatch import receiver
from django.http import HttpRequest, HttpResponse, HttpResponseBadRequest

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


class AdminNullCharacterMiddleware:
    """A NUL character in an admin address's parameters (`?status__exact=%00`, `?q=%00`) is a
    `400`: PostgreSQL refuses it in a query, and the admin's lists and searches would answer
    with a 500. Other pages check their own parameters."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response
        self.prefix = "/" + settings.ADMIN_URL

    def __call__(self, request: HttpRequest) -> HttpResponse:
        if request.path.startswith(self.prefix) and any(
            "\x00" in key or any("\x00" in value for value in values)
            for key, values in request.GET.lists()
        ):
            return HttpResponseBadRequest(
                "Requête invalide : l'adresse contient un caractère nul (%00).",
                content_type="text/plain; charset=utf-8",
            )
        return self.get_response(request)


# --- Content-Security-Policy, built once ---------------------------------------------------

_POLICY_PARTS = ("_csp_config", "_csp_update", "_csp_replace")
_REPORT_ONLY_PARTS = ("_csp_config_ro", "_csp_update_ro", "_csp_replace_ro")


@functools.cache
def csp_headers() -> tuple[tuple[str, str], ...]:
    """The policy headers every response without its own CSP changes gets, built once per
    process from settings (django-csp builds them anew for every response, twice)."""
    headers = []
    policy = build_policy()
    if policy:
        headers.append((CSP_HEADER, policy))
    report_only = build_policy(report_only=True)
    if report_only:
        headers.append((CSP_HEADER_REPORT_ONLY, report_only))
    return tuple(headers)


@receiver(setting_changed)
def _forget_csp(*, setting: str, **kwargs) -> None:
    if setting.startswith("CONTENT_SECURITY_POLICY"):
        csp_headers.cache_clear()


class CSPMiddleware(csp.middleware.CSPMiddleware):
    """django-csp's middleware, with the common case served from `csp_headers()`: a response
    that changes nothing of the policy (no decorator, no nonce) gets the headers built once.
    Anything else goes through django-csp as before."""

    def process_response(self, request: HttpRequest, response: HttpResponse) -> HttpResponse:
        if (
            getattr(request, "_csp_nonce", None) is not None
            or any(getattr(response, part, None) is not None for part in _POLICY_PARTS)
            or any(getattr(response, part, None) is not None for part in _REPORT_ONLY_PARTS)
            or (settings.DEBUG and response.status_code in (404, 500))
        ):
            return super().process_response(request, response)
        for name, value in csp_headers():
            exempt = "_csp_exempt_ro" if name == CSP_HEADER_REPORT_ONLY else "_csp_exempt"
            config_name = (
                "CONTENT_SECURITY_POLICY_REPORT_ONLY"
                if name == CSP_HEADER_REPORT_ONLY
                else "CONTENT_SECURITY_POLICY"
            )
            prefixes = (getattr(settings, config_name, None) or {}).get("EXCLUDE_URL_PREFIXES")
            if (
                name not in response
                and not getattr(response, exempt, False)
                and not request.path_info.startswith(tuple(prefixes or ()))
            ):
                response[name] = value
        # As django-csp does: a nonce asked for after the header is written is an error.
        request.csp_nonce = csp.middleware.CheckableLazyObject(self._csp_nonce_post_response)
        return response
