from django.http import HttpRequest, HttpResponse
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_GET, require_POST


@require_POST
def checkout_start(request: HttpRequest) -> HttpResponse:
    raise NotImplementedError


@require_GET
def checkout_thanks(request: HttpRequest) -> HttpResponse:
    raise NotImplementedError


@require_GET
def checkout_cancelled(request: HttpRequest) -> HttpResponse:
    raise NotImplementedError


@csrf_exempt
@require_POST
def stripe_webhook(request: HttpRequest) -> HttpResponse:
    raise NotImplementedError
