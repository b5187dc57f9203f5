"""The offline server's Stripe API (`/_stripe/v1/...`), for the stripe library over HTTP.

Each view checks `settings.STRIPE_OFFLINE` at request time (404 when off), the secret key
(`Authorization: Bearer <STRIPE_SECRET_KEY>`, else 401) and the method, parses Stripe's form
encoding, calls one function of `sessions` or `refunds`, answers JSON, and delivers the
events that call recorded once its transaction has committed.
"""

import base64
import hmac
import logging
from collections.abc import Callable
from functools import wraps
from typing import Any

from django.conf import settings
from django.db import transaction
from django.http import Http404, HttpRequest, JsonResponse
from django.urls import reverse
from django.views.decorators.csrf import csrf_exempt

from payments.offline.errors import StripeApiError
from payments.offline.events import API_VERSION, Result, deliver_events, webhook_url_for
from payments.offline.idempotency import Answer, run_idempotent
from payments.offline.models import new_id
from payments.offline.params import Params, parse_query
from payments.offline.refunds import (
    create_refund,
    list_refunds,
    retrieve_payment_intent,
    retrieve_refund,
)
from payments.offline.sessions import (
    create_session,
    expire_session,
    list_session_line_items,
    list_sessions,
    retrieve_session,
)

logger = logging.getLogger(__name__)

ApiView = Callable[..., Answer]


def stripe_api(*methods: str) -> Callable[[ApiView], Callable[..., JsonResponse]]:
    """An endpoint of the offline API that answers `methods` (any other method gets Stripe's
    404). The view is called as `view(request, params, **url_kwargs)`, `params` being the
    request's Stripe parameters, parsed."""

    def decorate(view: ApiView) -> Callable[..., JsonResponse]:
        @csrf_exempt
        @transaction.non_atomic_requests
        @wraps(view)
        def wrapper(request: HttpRequest, *args: Any, **kwargs: Any) -> JsonResponse:
            if not settings.STRIPE_OFFLINE:
                raise Http404("The offline Stripe server is off (STRIPE_OFFLINE).")
            try:
                _authenticate(request)
                if request.method not in methods:
                    raise _unrecognized(request)
                answer = view(request, _params(request), *args, **kwargs)
            except StripeApiError as error:
                return _respond(request, error.as_json(), status=error.status)
            except Exception:
                logger.exception(
                    "Offline Stripe server failed on %s %s", request.method, request.path
                )
                error = StripeApiError(
                    "The offline Stripe server failed: see the shop's log.",
                    status=500,
                    type="api_error",
                )
                return _respond(request, error.as_json(), status=500)
            if answer.events:
                deliver_events(answer.events, url=webhook_url_for(request))
            return _respond(request, answer.body, status=answer.status, replayed=answer.replayed)

        return wrapper

    return decorate


@stripe_api("GET", "POST")
def checkout_sessions(request: HttpRequest, params: Params) -> Answer:
    if request.method == "GET":
        return _answer(list_sessions(params))
    return _idempotent(
        request,
        params,
        lambda: create_session(params, page_url=lambda sid: _page_url(request, sid)),
    )


@stripe_api("GET")
def checkout_session(request: HttpRequest, params: Params, session_id: str) -> Answer:
    return _answer(retrieve_session(session_id, params))


@stripe_api("POST")
def checkout_session_expire(request: HttpRequest, params: Params, session_id: str) -> Answer:
    return _idempotent(request, params, lambda: expire_session(session_id, params))


@stripe_api("GET")
def checkout_session_line_items(request: HttpRequest, params: Params, session_id: str) -> Answer:
    return _answer(list_session_line_items(session_id, params))


@stripe_api("GET")
def payment_intent(request: HttpRequest, params: Params, intent_id: str) -> Answer:
    return _answer(retrieve_payment_intent(intent_id, params))


@stripe_api("GET", "POST")
def refunds(request: HttpRequest, params: Params) -> Answer:
    if request.method == "GET":
        return _answer(list_refunds(params))
    return _idempotent(request, params, lambda: create_refund(params))


@stripe_api("GET")
def refund(request: HttpRequest, params: Params, refund_id: str) -> Answer:
    return _answer(retrieve_refund(refund_id, params))


@stripe_api()  # no method: every request is Stripe's 404 for an unknown URL
def unrecognized(request: HttpRequest, params: Params, rest: str = "") -> Answer:
    raise _unrecognized(request)


def _authenticate(request: HttpRequest) -> None:
    header = request.headers.get("Authorization", "")
    scheme, _, credentials = header.partition(" ")
    if scheme.lower() == "basic":  # curl -u sk_test_...:
        try:
            credentials = base64.b64decode(credentials).decode().partition(":")[0]
        except ValueError:
            credentials = ""
    elif scheme.lower() != "bearer":
        raise StripeApiError(
            "You did not provide an API key. You need to provide your API key in the "
            "Authorization header, using Bearer auth (e.g. 'Authorization: Bearer "
            "YOUR_SECRET_KEY').",
            status=401,
        )
    expected = settings.STRIPE_SECRET_KEY or ""
    if not expected or not hmac.compare_digest(credentials.encode(), expected.encode()):
        shown = f"{credentials[:8]}****{credentials[-4:]}" if len(credentials) > 12 else "****"
        raise StripeApiError(f"Invalid API Key provided: {shown}", status=401)


def _params(request: HttpRequest) -> Params:
    if request.method == "GET":
        return parse_query(request.META.get("QUERY_STRING", ""))
    try:
        body = request.body.decode("utf-8")
    except UnicodeDecodeError as error:
        raise StripeApiError("The request body is not UTF-8 form data.") from error
    return parse_query(body)


def _idempotent(request: HttpRequest, params: Params, handler: Callable[[], Result]) -> Answer:
    return run_idempotent(
        key=request.headers.get("Idempotency-Key"),
        method=request.method or "POST",
        path=request.path,
        params=params,
        handler=handler,
    )


def _answer(result: Result) -> Answer:
    return Answer(result.body, events=result.events)


def _page_url(request: HttpRequest, session_id: str) -> str:
    return request.build_absolute_uri(reverse("stripe_offline:pay", args=[session_id]))


def _unrecognized(request: HttpRequest) -> StripeApiError:
    api_path = request.path.split("/_stripe", 1)[-1]
    return StripeApiError(
        f"Unrecognized request URL ({request.method}: {api_path}). The offline Stripe server "
        "implements only what the shop calls (see payments/offline).",
        status=404,
    )


def _respond(
    request: HttpRequest, body: dict[str, Any], *, status: int, replayed: bool = False
) -> JsonResponse:
    response = JsonResponse(body, status=status)
    response["Request-Id"] = new_id("req", 14)
    response["Stripe-Version"] = API_VERSION
    key = request.headers.get("Idempotency-Key")
    if key and request.method == "POST":
        response["Idempotency-Key"] = key
    if replayed:
        response["Idempotent-Replayed"] = "true"
    return response
