"""The offline server's Stripe API (`/_stripe/v1/...`), for the stripe library over HTTP.

Each view checks `settings.STRIPE_OFFLINE` at request time (404 when off), the secret key
(`Authorization: Bearer <STRIPE_SECRET_KEY>`, else 401), parses Stripe's form encoding,
calls one function of `server`, answers JSON, and delivers the events that call recorded
once its transaction has committed.
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

from payments.offline import server
from payments.offline.errors import StripeApiError
from payments.offline.events import API_VERSION, deliver_events, webhook_url_for
from payments.offline.idempotency import Answer, run_idempotent
from payments.offline.models import new_id
from payments.offline.params import Params, parse_query

logger = logging.getLogger(__name__)

ApiView = Callable[..., Answer]


def stripe_api(view: ApiView) -> Callable[..., JsonResponse]:
    @csrf_exempt
    @transaction.non_atomic_requests
    @wraps(view)
    def wrapper(request: HttpRequest, *args: Any, **kwargs: Any) -> JsonResponse:
        if not settings.STRIPE_OFFLINE:
            raise Http404("The offline Stripe server is off (STRIPE_OFFLINE).")
        try:
            _authenticate(request)
            answer = view(request, *args, **kwargs)
        except StripeApiError as error:
            return _respond(request, error.as_json(), status=error.status)
        except Exception:
            logger.exception("Offline Stripe server failed on %s %s", request.method, request.path)
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


@stripe_api
def checkout_sessions(request: HttpRequest) -> Answer:
    if request.method == "GET":
        return _answer(server.list_sessions(_params(request)))
    if request.method == "POST":
        params = _params(request)
        return _idempotent(
            request,
            params,
            lambda: server.create_session(params, page_url=lambda sid: _page_url(request, sid)),
        )
    raise _unrecognized(request)


@stripe_api
def checkout_session(request: HttpRequest, session_id: str) -> Answer:
    if request.method == "GET":
        return _answer(server.retrieve_session(session_id, _params(request)))
    raise _unrecognized(request)


@stripe_api
def checkout_session_expire(request: HttpRequest, session_id: str) -> Answer:
    if request.method == "POST":
        params = _params(request)
        return _idempotent(request, params, lambda: server.expire_session(session_id, params))
    raise _unrecognized(request)


@stripe_api
def checkout_session_line_items(request: HttpRequest, session_id: str) -> Answer:
    if request.method == "GET":
        return _answer(server.list_session_line_items(session_id, _params(request)))
    raise _unrecognized(request)


@stripe_api
def payment_intent(request: HttpRequest, intent_id: str) -> Answer:
    if request.method == "GET":
        return _answer(server.retrieve_payment_intent(intent_id, _params(request)))
    raise _unrecognized(request)


@stripe_api
def refunds(request: HttpRequest) -> Answer:
    if request.method == "GET":
        return _answer(server.list_refunds(_params(request)))
    if request.method == "POST":
        params = _params(request)
        return _idempotent(request, params, lambda: server.create_refund(params))
    raise _unrecognized(request)


@stripe_api
def refund(request: HttpRequest, refund_id: str) -> Answer:
    if request.method == "GET":
        return _answer(server.retrieve_refund(refund_id, _params(request)))
    raise _unrecognized(request)


@stripe_api
def unrecognized(request: HttpRequest, rest: str = "") -> Answer:
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


def _idempotent(
    request: HttpRequest, params: Params, handler: Callable[[], server.Result]
) -> Answer:
    return run_idempotent(
        key=request.headers.get("Idempotency-Key"),
        method=request.method or "POST",
        path=request.path,
        params=params,
        handler=handler,
    )


def _answer(result: server.Result) -> Answer:
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
