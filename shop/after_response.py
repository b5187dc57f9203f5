"""Work that can wait until the response has left: `defer(fn, *args)`.

Inside a request (AfterResponseMiddleware is in the stack), the call runs when the WSGI
server closes the response, after the last byte was written: the client (Stripe's webhook
delivery, a shopper) has its answer without waiting for it. Outside a request (management
commands, the shell, tests calling services directly) it runs at once. Failures are logged,
never raised: by then the response is gone.

It runs in the same worker, before that worker takes its next request: it shortens
responses, it does not make the work cheaper.
"""

import logging
import threading
from collections.abc import Callable
from functools import partial

from django.core.signals import request_finished
from django.http import HttpRequest, HttpResponse

logger = logging.getLogger(__name__)

_state = threading.local()


def defer(fn: Callable, *args, **kwargs) -> None:
    pending = getattr(_state, "pending", None)
    if pending is None:
        fn(*args, **kwargs)
    else:
        pending.append(partial(fn, *args, **kwargs))


def _run_pending(**kwargs) -> None:
    pending, _state.pending = getattr(_state, "pending", None), None
    for call in pending or ():
        try:
            call()
        except Exception:
            logger.exception("Deferred work failed after the response: %r", call.func)


request_finished.connect(_run_pending, dispatch_uid="shop-after-response")


class AfterResponseMiddleware:
    """Collects the request's deferred work; the `request_finished` signal, sent when the
    server closes the response, runs it."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        _state.pending = []
        return self.get_response(request)
