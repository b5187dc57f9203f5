"""`gunicorn bare.wsgi --pythonpath bench`, from the project's folder (its gunicorn.conf.py)."""

import os

from django.core.wsgi import get_wsgi_application

os.environ["DJANGO_SETTINGS_MODULE"] = "bare.settings"

application = get_wsgi_application()
