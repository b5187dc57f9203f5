import logging

from django.db import DatabaseError, connection
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_safe

logger = logging.getLogger(__name__)


@never_cache
@require_safe
def healthz(request: HttpRequest) -> HttpResponse:
    """`200 ok` when the database answers, `503` otherwise (for the platform's checks)."""
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
            cursor.fetchone()
    except DatabaseError:
        logger.exception("Health check: the database does not answer")
        return HttpResponse("database unavailable", status=503, content_type="text/plain")
    return HttpResponse("ok", content_type="text/plain")


def too_many_requests(request: HttpRequest, exception: Exception) -> HttpResponse:
    """django-ratelimit's answer (RATELIMIT_VIEW): a French page, 429, retry in a minute.
    shop.ratelimits logs the first refusal of each window, not each one."""
    response = render(request, "429.html", status=429)
    response["Retry-After"] = "60"
    return response
