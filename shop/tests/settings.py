"""Test settings: test secrets in the environment, then the real settings.

The offline Stripe server is switched on here with DEBUG off (pytest-django
runs tests that way): tests point STRIPE_API_BASE at a live server's /_stripe.
"""

import os
import tempfile
from pathlib import Path

import environ

os.environ.setdefault("SECRET_KEY", "test-secret-key-not-for-production")
os.environ.setdefault("STRIPE_SECRET_KEY", "sk_test_offline")
os.environ.setdefault("STRIPE_WEBHOOK_SECRET", "whsec_test_secret")
os.environ.setdefault("SECURE_SSL_REDIRECT", "false")
os.environ.setdefault("LOG_FORMAT", "plain")
# DEBUG is off here (as pytest-django runs tests), so APP_URL must be a public address: one in
# the .test domain (RFC 6761), which never resolves, whatever a developer's shell or .env says.
# Tests that follow links to a live server point settings.APP_URL at it themselves.
os.environ["APP_URL"] = "https://boutique.test"
os.environ["STRIPE_OFFLINE"] = "false"  # refused with DEBUG off; switched on below

from shop.settings import *  # noqa: F403

STRIPE_OFFLINE = True
PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
STORAGES = {
    **STORAGES,  # noqa: F405
    "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
}
EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
# The per-process memory cache, as by default; TEST_CACHE_URL=redis://127.0.0.1:6379/N runs
# the suite against that cache instead (its database is flushed before each test), to prove
# that cached stock answers stay fresh (products/tests/test_stock_freshness.py, .ci/run).
_TEST_CACHE_URL = os.environ.get("TEST_CACHE_URL", "")
CACHES = {
    "default": environ.Env.cache_url_config(_TEST_CACHE_URL)
    if _TEST_CACHE_URL
    else {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}
}
if CACHES["default"]["BACKEND"] == "django.core.cache.backends.redis.RedisCache":
    CACHES["default"]["BACKEND"] = "shop.cache.RedisCache"
OWNER_EMAIL = "proprietaire@example.com"
# Tests run without collectstatic: WhiteNoise looks files up per request, from the
# source folders, instead of indexing a STATIC_ROOT that does not exist.
WHITENOISE_AUTOREFRESH = True
WHITENOISE_USE_FINDERS = True
# Live-server and race tests handle requests in short-lived threads: a connection kept
# open for reuse would outlive its thread and keep the test database busy at teardown.
DATABASES["default"]["CONN_MAX_AGE"] = 0  # noqa: F405
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":  # noqa: F405
    # On SQLite, a test database in a file rather than in shared-cache memory: there a thread
    # that meets another's write fails at once ("database table is locked"), where a file
    # makes it wait for the lock (the 20 s timeout above), as PostgreSQL would. The offline
    # Stripe's payment page posts its webhooks while the live server's other thread sends
    # the sale's e-mails.
    DATABASES["default"].setdefault("TEST", {})["NAME"] = str(  # noqa: F405
        Path(tempfile.gettempdir()) / f"boutique-test-{os.getpid()}.sqlite3"
    )
# Every test client posts from 127.0.0.1 into one process-wide cache: the rate limits are on
# only in the tests about them (shop/tests/test_ratelimits.py).
RATELIMIT_ENABLE = False
