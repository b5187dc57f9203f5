"""Work every worker process would otherwise repeat on its first requests, done once by
gunicorn's master before it forks them (`preload_app`, shop/wsgi.py): the URL resolvers
(the admin's are the largest; e-mails reverse them), the template engines and the
templates of the order e-mails, and the cache backend's client library. No connection is
opened here: sockets must not be shared by forked processes.

In the profiles of the webhook under load, these first-request costs were a third of the
workers' CPU in a 20-second run (BENCHMARKS.md).
"""

import importlib
import logging
from pathlib import Path

from django.conf import settings
from django.template import engines
from django.template.loader import get_template
from django.urls import get_resolver, reverse

logger = logging.getLogger(__name__)

EMAIL_TEMPLATES = Path(settings.BASE_DIR) / "templates" / "payments" / "email"


def warm_up() -> None:
    try:
        get_resolver().reverse_dict  # noqa: B018 - populates the root resolver
        reverse("admin:index")  # and the admin's, which the e-mails to the owner link to
        for engine in engines.all():
            engine.engine.template_libraries  # noqa: B018
        for path in sorted(EMAIL_TEMPLATES.glob("*.*")):
            if not path.name.startswith("_"):
                get_template(f"payments/email/{path.name}")
        if "redis" in settings.CACHES["default"]["BACKEND"].lower():
            importlib.import_module("redis")
    except Exception:  # a warm-up never stops the server from starting
        logger.exception("Warm-up failed; the workers will do it on their first requests")
