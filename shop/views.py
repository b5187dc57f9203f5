import logging
import math

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
    """django-ratelimit's answer (RATELIMIT_VIEW): a French page, 429, saying when the
    client's window ends. shop.ratelimits logs the first refusal of each window."""
    seconds = max(1, int(getattr(request, "ratelimit_seconds_left", 60)))
    minutes = math.ceil(seconds / 60)
    wait = "une minute" if minutes == 1 else f"{minutes} minutes"
    group = getattr(request, "ratelimit_group", "")
    response = render(request, "429.html", {"wait": wait, "group": group}, status=429)
    response["Retry-After"] = str(seconds)
    return response
