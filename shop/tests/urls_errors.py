"""The shop's URLs plus a view that fails, for the error page and logging tests."""

import logging

from django.http import HttpRequest, HttpResponse
from django.urls import path

from shop.urls import urlpatterns as shop_urlpatterns

logger = logging.getLogger("payments.services")


def fail(request: HttpRequest) -> HttpResponse:
    """Log as payment code does, then fail as a bug would."""
    logger.info(
        "Marking order paid",
        extra={"order": "B-1042", "event_id": "evt_1", "event_type": "checkout.session.completed"},
    )
    raise RuntimeError("something broke")


urlpatterns = [path("boom/", fail), *shop_urlpatterns]
