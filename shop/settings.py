"""Settings for Boutique, read from the environment (see README and .env.example).

One module for every environment: production behaviour is switched on by the
environment, never by a second settings file. Tests use `shop.tests.settings`,
which sets test values in the environment and then imports this module.
"""

from pathlib import Path

import environ
from django.core.exceptions import ImproperlyConfigured

BASE_DIR = Path(__file__).resolve().parent.parent

env = environ.Env()
if (BASE_DIR / ".env").is_file():
    environ.Env.read_env(BASE_DIR / ".env")

DEBUG = env.bool("DEBUG", default=False)

# Used only when DEBUG is on and no SECRET_KEY is given, so `make run` works as is.
_DEVELOPMENT_SECRET_KEY = "django-insecure-boutique-development-only"
SECRET_KEY = env.str("SECRET_KEY", default="") or (_DEVELOPMENT_SECRET_KEY if DEBUG else "")

ALLOWED_HOSTS = env.list("ALLOWED_HOSTS", default=["localhost", "127.0.0.1"])
APP_URL = env.str("APP_URL", default="http://127.0.0.1:8000").rstrip("/")

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    "products",
    "cart",
    "payments",
    "payments.offline",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
]

ROOT_URLCONF = "shop.urls"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "cart.context_processors.cart",
                "shop.context_processors.shop",
            ],
        },
    },
]

WSGI_APPLICATION = "shop.wsgi.application"

# Database: SQLite by default, any django-environ URL otherwise. Connections are
# kept open between requests and checked before reuse.
DATABASES = {"default": env.db("DATABASE_URL", default=f"sqlite:///{BASE_DIR / 'db.sqlite3'}")}
DATABASES["default"]["CONN_MAX_AGE"] = env.int("CONN_MAX_AGE", default=600)
DATABASES["default"]["CONN_HEALTH_CHECKS"] = True
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # Wait for a writer instead of failing at once with "database is locked";
    # IMMEDIATE takes the write lock when a transaction starts, so two
    # checkouts queue up instead of deadlocking on a lock upgrade.
    DATABASES["default"].setdefault("OPTIONS", {}).update(
        {"timeout": 20, "transaction_mode": "IMMEDIATE"}
    )

CACHES = {"default": env.cache("CACHE_URL", default="locmemcache://")}

DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

LANGUAGE_CODE = "fr-fr"
LANGUAGES = [("fr", "Français")]
TIME_ZONE = "Europe/Paris"
USE_I18N = True
USE_TZ = True

# Static files: whitenoise serves them, compressed and with hashed names.
STATIC_URL = "static/"
STATIC_ROOT = BASE_DIR / "staticfiles"
STATICFILES_DIRS = [BASE_DIR / "static"]

# Product photos: S3-compatible object storage when a bucket is configured
# (a Procfile host's disk is wiped at each deploy), MEDIA_ROOT otherwise.
MEDIA_URL = "media/"
MEDIA_ROOT = env.path("MEDIA_ROOT", default=BASE_DIR / "media")
AWS_STORAGE_BUCKET_NAME = env.str("AWS_STORAGE_BUCKET_NAME", default="")
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"},
}
if AWS_STORAGE_BUCKET_NAME:
    STORAGES["default"] = {
        "BACKEND": "storages.backends.s3.S3Storage",
        "OPTIONS": {
            "bucket_name": AWS_STORAGE_BUCKET_NAME,
            "endpoint_url": env.str("AWS_S3_ENDPOINT_URL", default="") or None,
            "access_key": env.str("AWS_ACCESS_KEY_ID", default="") or None,
            "secret_key": env.str("AWS_SECRET_ACCESS_KEY", default="") or None,
            "region_name": env.str("AWS_S3_REGION_NAME", default="") or None,
            "custom_domain": env.str("AWS_S3_CUSTOM_DOMAIN", default="") or None,
            "file_overwrite": False,
            "querystring_auth": False,
        },
    }

ADMIN_URL = env.str("ADMIN_URL", default="admin/").strip("/") + "/"

# Mail: the console by default, any django-environ email URL otherwise.
vars().update(env.email_url("EMAIL_URL", default="consolemail://"))
DEFAULT_FROM_EMAIL = env.str("DEFAULT_FROM_EMAIL", default="Boutique <boutique@localhost>")
SERVER_EMAIL = DEFAULT_FROM_EMAIL
OWNER_EMAIL = env.str("OWNER_EMAIL", default="")

# Shop behaviour.
CATALOGUE_PAGE_SIZE = env.int("CATALOGUE_PAGE_SIZE", default=12)
STOCK_POLL_SECONDS = env.int("STOCK_POLL_SECONDS", default=30)
CHECKOUT_HOLD_MINUTES = env.int("CHECKOUT_HOLD_MINUTES", default=30)
SHOP_CURRENCY = "eur"

# Stripe. Empty keys with DEBUG on mean offline mode: a built-in Stripe-compatible
# server under /_stripe/ (payments/offline) plays Stripe's part.
STRIPE_SECRET_KEY = env.str("STRIPE_SECRET_KEY", default="")
STRIPE_WEBHOOK_SECRET = env.str("STRIPE_WEBHOOK_SECRET", default="")
STRIPE_API_BASE = env.str("STRIPE_API_BASE", default="https://api.stripe.com").rstrip("/")
STRIPE_OFFLINE = env.bool("STRIPE_OFFLINE", default=DEBUG and not STRIPE_SECRET_KEY)
STRIPE_OFFLINE_SECRET_KEY = "sk_test_offline"
STRIPE_OFFLINE_WEBHOOK_SECRET = "whsec_boutique_offline_development_secret"
if STRIPE_OFFLINE:
    if not DEBUG:
        raise ImproperlyConfigured(
            "STRIPE_OFFLINE simulates payments and is refused with DEBUG off: "
            "set STRIPE_SECRET_KEY and STRIPE_WEBHOOK_SECRET."
        )
    STRIPE_SECRET_KEY = STRIPE_OFFLINE_SECRET_KEY
    STRIPE_WEBHOOK_SECRET = STRIPE_OFFLINE_WEBHOOK_SECRET
    STRIPE_API_BASE = env.str("STRIPE_API_BASE", default=f"{APP_URL}/_stripe").rstrip("/")

if not DEBUG:
    _missing = [
        name
        for name, value in [
            ("SECRET_KEY", SECRET_KEY),
            ("STRIPE_SECRET_KEY", STRIPE_SECRET_KEY),
            ("STRIPE_WEBHOOK_SECRET", STRIPE_WEBHOOK_SECRET),
        ]
        if not value
    ]
    if _missing:
        raise ImproperlyConfigured(
            f"{', '.join(_missing)} must be set when DEBUG is off (see README, Configuration)."
        )

# Security: HTTPS behind the platform's proxy. /healthz stays reachable over
# plain HTTP so that platform health checks work.
SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
SECURE_SSL_REDIRECT = env.bool("SECURE_SSL_REDIRECT", default=not DEBUG)
SECURE_REDIRECT_EXEMPT = [r"^healthz$"]
SECURE_HSTS_SECONDS = env.int("SECURE_HSTS_SECONDS", default=0 if DEBUG else 31536000)
SECURE_HSTS_INCLUDE_SUBDOMAINS = True
SECURE_HSTS_PRELOAD = env.bool("SECURE_HSTS_PRELOAD", default=False)
SECURE_REFERRER_POLICY = "same-origin"
SESSION_COOKIE_SECURE = not DEBUG
CSRF_COOKIE_SECURE = not DEBUG
CSRF_TRUSTED_ORIGINS = env.list("CSRF_TRUSTED_ORIGINS", default=[APP_URL])
X_FRAME_OPTIONS = "DENY"

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {
        "plain": {"format": "{asctime} {levelname} {name}: {message}", "style": "{"},
    },
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "plain"}},
    "root": {"handlers": ["console"], "level": "INFO"},
    "loggers": {
        "django": {"handlers": ["console"], "level": "INFO", "propagate": False},
    },
}
