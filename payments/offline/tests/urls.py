"""Test URLs: the shop's, with a stand-in for its webhook that records what it receives
(the shop's own webhook is tested in payments/tests)."""

import json
import threading

from django.http import HttpRequest, HttpResponse
from django.urls import include, path
from django.views.decorators.csrf import csrf_exempt

from payments.offline.models import CheckoutSession, PaymentIntent

received: list[dict] = []
answer = {"status": 200}
_lock = threading.Lock()


def _committed_status(body: bytes) -> str | None:
    """The state the offline server had committed when the event arrived."""
    try:
        obj = json.loads(body)["data"]["object"]
    except (ValueError, KeyError, TypeError):
        return None
    model = {"checkout.session": CheckoutSession, "payment_intent": PaymentIntent}.get(
        obj.get("object")
    )
    row = model.objects.filter(stripe_id=obj.get("id")).first() if model else None
    return row.status if row else None


@csrf_exempt
def capture_webhook(request: HttpRequest) -> HttpResponse:
    delivery = {
        "method": request.method,
        "host": request.get_host(),
        "body": request.body,
        "signature": request.headers.get("Stripe-Signature", ""),
        "content_type": request.headers.get("Content-Type", ""),
        "committed_status": _committed_status(request.body),
    }
    with _lock:
        received.append(delivery)
    return HttpResponse(status=answer["status"])


urlpatterns = [
    path("api/webhooks/stripe", capture_webhook),
    path("", include("shop.urls")),
]
