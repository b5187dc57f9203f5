"""WSGI entry point: `gunicorn shop.wsgi`."""

import os

from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "shop.settings")

application = get_wsgi_application()

# Under gunicorn's preload_app this runs once, in the master, before the workers fork.
from shop.warmup import warm_up  # noqa: E402

warm_up()
