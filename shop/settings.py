"""Settings for Boutique, read from the environment (see README and .env.example).

One module for every environment: production behaviour is switched on by the
environment, never by a second settings file. Tests use `shop.tests.settings`,
which sets test values in the environment and then imports this module.
"""

import sys
from datetime import timedelta
from decimal import Decimal, InvalidOperation
from pathlib import Path
from urllib.parse import urlsplit

import environ
from csp.constants import NONE, SELF
from django.core.exceptions import ImproperlyConfigured

from shop.csp import admin_inline_style_hashes
from shop.logs import build_logging_config, running_management_command
from shop.public_url import check_public_app_url
from shop.senders import named_sender

BASE_DIR = Path(__file__).resolve().parent.parent

env = environ.Env()
if (BASE_DIR / ".env").is_file():
    environ.Env.read_env(BASE_DIR / ".env")

DEBUG = env.bool("DEBUG", default=False)

# Used only when DEBUG is on and no SECRET_KEY is given, so `make run` works as is.
_DEVELOPMENT_SECRET_KEY = "django-insecure-boutique-development-only"
SECRET_KEY = env.str("SECRET_KEY", default="") or (_DEVELOPMENT_SECRET_KEY if DEBUG else "")

ALLOWED_HOSTS = env.list("ALLOWED_HOSTS", default=["localhost", "127.0.0.1"])
# The shop's public address: canonical links, OpenGraph, JSON-LD, the sitemap, the product
# feed and Stripe's return URLs are built on it, whatever host a request came in on.
APP_URL = env.str("APP_URL", default="").rstrip("/")
if not DEBUG:
    # Production refuses an address nobody else can reach: every published link would point
    # at this machine (shop/public_url.py).
    check_public_app_url(APP_URL)
APP_URL = APP_URL or "http://127.0.0.1:8000"

INSTALLED_APPS = [
    # Django's admin on the shop's own site: the owner's sections first, « Technique » last.
    "shop.apps.ShopAdminConfig",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    "django.contrib.sites",
    "shop.apps.PagesConfig",  # django.contrib.flatpages
    "django.contrib.sitemaps",
    "imagekit",
    "django_countries",
    "import_export",
    "axes",
    "csp",
    "products",
    "cart",
    "payments",
    "payments.offline",
]

MIDDLEWARE = [
    # First, so that every log line of a request, even a redirect, carries its id.
    "shop.middleware.RequestIdMiddleware",
    # Work deferred until the response has left (shop/after_response.py): order e-mails.
    "shop.after_response.AfterResponseMiddleware",
    "django.middleware.security.SecurityMiddleware",
    # Permissions-Policy on every response (django-permissions-policy), the polls' included.
    "django_permissions_policy.PermissionsPolicyMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    # The stock API's polls, answered here without the rest of the stack (products/middleware.py).
    "products.middleware.StockPollMiddleware",
    # After the polls' early path: a NUL in an admin list's parameters is a 400, not a 500.
    "shop.middleware.AdminNullCharacterMiddleware",
    # Pages compressed for clients that accept gzip (Django's middleware at level 1,
    # shop/compression.py), after the polls' early path: a poll's answer is small, and a CDN
    # in front compresses it.
    "shop.compression.GZipMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    # No LocaleMiddleware: the shop speaks French only (LANGUAGE_CODE), to every visitor.
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    # django-csp's, with the policy header built once (shop/middleware.py).
    "shop.middleware.CSPMiddleware",
    # Turns a rate-limited request (django-ratelimit) into the French 429 page.
    "django_ratelimit.middleware.RatelimitMiddleware",
    # Last, as django-axes asks: it turns a locked-out login into its lockout response.
    "axes.middleware.AxesMiddleware",
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
                "products.context_processors.pages",
            ],
        },
    },
]

WSGI_APPLICATION = "shop.wsgi.application"

# Database: SQLite by default, any django-environ URL otherwise. Connections are kept open
# between requests and checked before reuse (CONN_HEALTH_CHECKS, SPEC §4 and §13): after a
# database restart or failover, the first request of each worker finds its connection broken
# and opens a new one instead of answering 500. The check is one `SELECT 1` on the first query
# of a request; the cached answers (stock polls, pages from the shared cache) run no query and
# pay nothing (docs/decisions/0013-faults-outbox-and-timeouts.md).
DATABASES = {"default": env.db("DATABASE_URL", default=f"sqlite:///{BASE_DIR / 'db.sqlite3'}")}
DATABASES["default"]["CONN_MAX_AGE"] = env.int("CONN_MAX_AGE", default=600)
DATABASES["default"]["CONN_HEALTH_CHECKS"] = env.bool("CONN_HEALTH_CHECKS", default=True)
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # Wait for a writer instead of failing at once with "database is locked";
    # IMMEDIATE takes the write lock when a transaction starts, so two
    # checkouts queue up instead of deadlocking on a lock upgrade.
    DATABASES["default"].setdefault("OPTIONS", {}).update(
        {"timeout": 20, "transaction_mode": "IMMEDIATE"}
    )

# The cache: per process by default; Redis (CACHE_URL=redis://...) shares it between
# processes and machines, which is what lets the stock API answer from it
# (products/stock_version.py). Correctness never depends on it.
CACHES = {"default": env.cache("CACHE_URL", default="locmemcache://")}
# Redis answers in well under a millisecond: a connection or an answer that takes longer than
# this is a Redis in trouble, and the request goes on without it (shop/cache.py skips it for
# REDIS_PAUSE_SECONDS after a failure, so that only one request per process waits).
REDIS_TIMEOUT = env.float("REDIS_TIMEOUT", default=0.25)
REDIS_PAUSE_SECONDS = env.float("REDIS_PAUSE_SECONDS", default=5.0)
if CACHES["default"]["BACKEND"] == "django.core.cache.backends.redis.RedisCache":
    # Django's Redis backend, keeping its redis-py client between calls and skipping a Redis
    # that does not answer (shop/cache.py).
    CACHES["default"]["BACKEND"] = "shop.cache.RedisCache"
    CACHES["default"].setdefault("OPTIONS", {}).update(
        {"socket_connect_timeout": REDIS_TIMEOUT, "socket_timeout": REDIS_TIMEOUT}
    )

DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# django.contrib.sites, for the legal pages (django.contrib.flatpages): one site.
SITE_ID = 1

# django-axes first: it counts failed logins and refuses them once locked out. It needs the
# request in authenticate(), so tests log in with client.force_login().
AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",
    "django.contrib.auth.backends.ModelBackend",
]

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
STATIC_ROOT = env.path("STATIC_ROOT", default=BASE_DIR / "staticfiles")
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

# Photo renditions (django-imagekit) are written once, when a photo is saved, and
# their URLs are then built without touching the storage (see docs/decisions/0004).
IMAGEKIT_DEFAULT_CACHEFILE_STRATEGY = "products.photos.GenerateOnSave"
IMAGEKIT_CACHEFILE_DIR = "rendus"

# Spreadsheets of pieces in the admin (django-import-export, products/imports.py). The file
# waits between the preview and the confirmation in the photos' storage, which every process
# of every machine shares (a temporary folder or a per-process cache would not be found by
# the process that receives the confirmation). Importing takes the right to change pieces.
IMPORT_EXPORT_TMP_STORAGE_CLASS = "import_export.tmp_storages.MediaStorage"
IMPORT_EXPORT_IMPORT_PERMISSION_CODE = "change"
IMPORT_EXPORT_EXPORT_PERMISSION_CODE = "view"

ADMIN_URL = env.str("ADMIN_URL", default="admin/").strip("/") + "/"

# Mail: the console by default, any django-environ email URL otherwise.
vars().update(env.email_url("EMAIL_URL", default="consolemail://"))
OWNER_EMAIL = env.str("OWNER_EMAIL", default="")
# Every e-mail is a row of the outbox (payments/outbox.py), written with the decision that
# causes it. Off (default): the web worker sends it right after the response, giving up after
# MAIL_REQUEST_TIMEOUT seconds per exchange with the mail server and not trying again for
# MAIL_PAUSE_SECONDS after a failure. On: a separate `python manage.py send_mails` process sends
# them (the web workers spend no time on them). `reconcile` sends whatever is still waiting.
MAIL_WORKER = env.bool("MAIL_WORKER", default=False)
# Seconds to wait for the mail server at each step of an exchange (Django's smtp backend);
# within gunicorn's 30 s, and never on a path a shopper waits for (SPEC §13).
EMAIL_TIMEOUT = env.float("EMAIL_TIMEOUT", default=10.0)
MAIL_REQUEST_TIMEOUT = env.float("MAIL_REQUEST_TIMEOUT", default=0.5)
MAIL_PAUSE_SECONDS = env.float("MAIL_PAUSE_SECONDS", default=60.0)
# How long a sender holds a message it is sending; a sender stopped dead (a killed worker)
# leaves it to the next sender after this.
MAIL_CLAIM_SECONDS = env.float("MAIL_CLAIM_SECONDS", default=120.0)
if not 0 < EMAIL_TIMEOUT <= 10 or not 0 < MAIL_REQUEST_TIMEOUT <= EMAIL_TIMEOUT:
    raise ImproperlyConfigured(
        "EMAIL_TIMEOUT must be between 0 and 10 seconds, and MAIL_REQUEST_TIMEOUT at most "
        "EMAIL_TIMEOUT (gunicorn stops a worker after 30 s)."
    )

# Shop behaviour.
SHOP_NAME = env.str("SHOP_NAME", default="Boutique")
# Who the shop's e-mails come from: a bare address is sent under the shop's name
# (« Atelier Lune <contact@atelier-lune.fr> »), one given with a name keeps it (shop/senders.py).
DEFAULT_FROM_EMAIL = named_sender(
    env.str("DEFAULT_FROM_EMAIL", default="boutique@localhost"), SHOP_NAME
)
SERVER_EMAIL = DEFAULT_FROM_EMAIL
SHOP_TAGLINE = env.str("SHOP_TAGLINE", default="pièces uniques")
CATALOGUE_PAGE_SIZE = env.int("CATALOGUE_PAGE_SIZE", default=12)
STOCK_POLL_SECONDS = env.int("STOCK_POLL_SECONDS", default=30)
# How long a shared cache (a CDN, a caching proxy) may keep a stock answer (s-maxage): an
# open page shows a sale within STOCK_POLL_SECONDS + STOCK_SHARED_SECONDS.
STOCK_SHARED_SECONDS = env.int("STOCK_SHARED_SECONDS", default=5)
if STOCK_SHARED_SECONDS < 0:
    raise ImproperlyConfigured("STOCK_SHARED_SECONDS must be 0 or more seconds.")
CHECKOUT_HOLD_MINUTES = env.int("CHECKOUT_HOLD_MINUTES", default=30)
SHOP_CURRENCY = "eur"


def _euros(name: str, default: str) -> Decimal:
    """A non-negative amount in euros from the environment, to the cent."""
    value = env.str(name, default=default).strip().replace(",", ".")
    try:
        amount = Decimal(value)
    except InvalidOperation:
        amount = Decimal(-1)
    if not amount.is_finite() or amount < 0:
        raise ImproperlyConfigured(
            f"{name} must be an amount in euros, such as 8.00 (got {value!r})."
        )
    return amount.quantize(Decimal("0.01"))


# Shipping (SPEC §4, §7): where Checkout lets the shopper ship to, what it costs (0: free),
# and from what total of pieces it is free (0: never).
SHIPPING_COUNTRIES = [
    code.strip().upper() for code in env.list("SHIPPING_COUNTRIES", default=["FR"])
]
if not SHIPPING_COUNTRIES or not all(len(c) == 2 and c.isalpha() for c in SHIPPING_COUNTRIES):
    raise ImproperlyConfigured("SHIPPING_COUNTRIES must list ISO country codes, such as FR,BE.")
SHIPPING_FLAT_EUR = _euros("SHIPPING_FLAT_EUR", "8.00")
SHIPPING_FREE_ABOVE_EUR = _euros("SHIPPING_FREE_ABOVE_EUR", "150")


def _days(name: str, default: str) -> tuple[int, int]:
    """A number of days, or a range such as 1-3, from the environment."""
    value = env.str(name, default=default).strip()
    low, _, high = value.partition("-")
    try:
        days = (int(low), int(high or low))
    except ValueError:
        days = (-1, -1)
    if not 0 <= days[0] <= days[1]:
        raise ImproperlyConfigured(f"{name} must be days, such as 2 or 1-3 (got {value!r}).")
    return days


# What search engines and product feeds tell shoppers about delivery (products/seo.py,
# products/feed.py): business days to prepare a parcel, then days in transit.
SHIPPING_HANDLING_DAYS = _days("SHIPPING_HANDLING_DAYS", "1-2")
SHIPPING_TRANSIT_DAYS = _days("SHIPPING_TRANSIT_DAYS", "2-4")

# The right of withdrawal, in days from delivery (SPEC §4, §12): the CGV, the order page and
# the return policy that search engines read.
WITHDRAWAL_DAYS = env.int("WITHDRAWAL_DAYS", default=14)
if WITHDRAWAL_DAYS < 14:
    raise ImproperlyConfigured("WITHDRAWAL_DAYS must be 14 or more: French law asks 14 days.")

# Who sells (SPEC §4, §12): the identity invoices, legal pages and e-mails carry. Empty
# values are shown on the owner's dashboard as what is missing before opening.
SELLER_NAME = env.str("SELLER_NAME", default="")
SELLER_ADDRESS = env.str("SELLER_ADDRESS", default="")
SELLER_SIREN = env.str("SELLER_SIREN", default="")
# Empty: VAT franchise (« TVA non applicable, art. 293 B du CGI »). Set: prices include VAT
# at VAT_RATE percent and invoices show HT / TVA / TTC.
SELLER_VAT_NUMBER = env.str("SELLER_VAT_NUMBER", default="")
try:
    VAT_RATE = Decimal(env.str("VAT_RATE", default="20").strip().replace(",", "."))
except InvalidOperation:
    VAT_RATE = Decimal(-1)
if not VAT_RATE.is_finite() or not 0 <= VAT_RATE < 100:
    raise ImproperlyConfigured("VAT_RATE must be a percentage, such as 20 or 5.5.")
# Where buyers write: the reply-to of every e-mail to a buyer, the contact of the legal pages.
SELLER_EMAIL = env.str("SELLER_EMAIL", default="") or OWNER_EMAIL
# The consumer mediator the seller joined (Code de la consommation L612-1).
MEDIATOR_NAME = env.str("MEDIATOR_NAME", default="")
MEDIATOR_URL = env.str("MEDIATOR_URL", default="")

# A piece's condition when the owner does not choose one (Product.condition): neuf,
# occasion or vintage.
PRODUCT_CONDITION_DEFAULT = env.str("PRODUCT_CONDITION_DEFAULT", default="vintage")
if PRODUCT_CONDITION_DEFAULT not in {"neuf", "occasion", "vintage"}:
    raise ImproperlyConfigured("PRODUCT_CONDITION_DEFAULT must be neuf, occasion or vintage.")

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

# HSTS preload is left off on purpose (security.W021): the preload list is a commitment for
# the whole domain and every subdomain that takes months to undo, a decision for the owner of
# the domain, not a default. Set SECURE_HSTS_PRELOAD=true once decided; the check then passes.
SILENCED_SYSTEM_CHECKS = [] if SECURE_HSTS_PRELOAD else ["security.W021"]


def _origin(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}"


def _media_origins() -> list[str]:
    """Where product photos are served from when they live in object storage (img-src)."""
    if not AWS_STORAGE_BUCKET_NAME:
        return []
    options = STORAGES["default"]["OPTIONS"]
    if options["custom_domain"]:
        return [f"https://{options['custom_domain']}"]
    if options["endpoint_url"]:
        # Path-style (https://host/bucket/...) or virtual-host style (https://bucket.host/...).
        endpoint = urlsplit(options["endpoint_url"])
        return [
            _origin(options["endpoint_url"]),
            f"{endpoint.scheme}://{AWS_STORAGE_BUCKET_NAME}.{endpoint.netloc}",
        ]
    region = options["region_name"]
    if "." in AWS_STORAGE_BUCKET_NAME:
        # A dotted name cannot be a TLS host name: AWS URLs are then path-style.
        return ["https://s3.amazonaws.com"] + (
            [f"https://s3.{region}.amazonaws.com"] if region else []
        )
    origins = [f"https://{AWS_STORAGE_BUCKET_NAME}.s3.amazonaws.com"]
    if region:
        origins.append(f"https://{AWS_STORAGE_BUCKET_NAME}.s3.{region}.amazonaws.com")
    return origins


# Content-Security-Policy (django-csp): scripts, styles, fonts and requests from this origin
# only, no inline script or style, no framing. Checkout's form posts to /commande/, which
# answers 303 to Stripe's hosted page: browsers (Chrome) apply form-action to that redirect,
# so Stripe Checkout's origin is allowed there unless payments are simulated on this origin.
STRIPE_CHECKOUT_ORIGIN = env.str("STRIPE_CHECKOUT_ORIGIN", default="https://checkout.stripe.com")
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": [SELF],
        "script-src": [SELF],
        # The admin's change list has one inline <style> (when a model has no actions): it is
        # allowed by its hash, computed from Django's own template (shop/csp.py).
        "style-src": [SELF, *admin_inline_style_hashes()],
        "img-src": [SELF, "data:", *_media_origins()],
        "font-src": [SELF],
        "connect-src": [SELF],
        "object-src": [NONE],
        "base-uri": [NONE],
        "form-action": list(
            dict.fromkeys(
                [SELF, _origin(APP_URL)] + ([] if STRIPE_OFFLINE else [STRIPE_CHECKOUT_ORIGIN])
            )
        ),
        "frame-ancestors": [NONE],
    },
}

# Permissions-Policy (django-permissions-policy): the shop uses none of these browser features,
# so no page, and nothing a page could embed, may ask for them.
PERMISSIONS_POLICY = {
    feature: []
    for feature in (
        "accelerometer",
        "autoplay",
        "browsing-topics",
        "camera",
        "display-capture",
        "encrypted-media",
        "fullscreen",
        "geolocation",
        "gyroscope",
        "hid",
        "idle-detection",
        "magnetometer",
        "microphone",
        "midi",
        "payment",
        "picture-in-picture",
        "publickey-credentials-get",
        "screen-wake-lock",
        "serial",
        "usb",
        "xr-spatial-tracking",
    )
}

# django-axes: lock the admin login after repeated failures. Counted per (address, username):
# an attacker cannot lock the owner out from another address. The client address is read by
# shop.client (SPEC §4), the same rule as the checkout limits and the rate limits: the
# X-Forwarded-For entry appended by the platform's router (one proxy, as on Heroku or
# Scalingo); set TRUSTED_PROXY_COUNT to the number of proxies that append to it, 0 when
# gunicorn faces clients directly (X-Forwarded-For is then ignored, as it could be forged).
AXES_FAILURE_LIMIT = env.int("AXES_FAILURE_LIMIT", default=5)
AXES_COOLOFF_TIME = timedelta(minutes=env.int("AXES_COOLOFF_MINUTES", default=15))
AXES_LOCKOUT_PARAMETERS = [["ip_address", "username"]]
AXES_RESET_ON_SUCCESS = True
AXES_LOCKOUT_TEMPLATE = "admin/locked_out.html"
AXES_CLIENT_IP_CALLABLE = "shop.client.client_address"
TRUSTED_PROXY_COUNT = env.int("TRUSTED_PROXY_COUNT", default=0 if DEBUG else 1)

# Nobody can freeze the shop (docs/decisions/0006): a client address has at most
# CHECKOUT_LIMIT_PER_CLIENT open checkouts (counted in the database), a checkout at most
# CHECKOUT_MAX_PIECES pieces, and the POSTs a bot would hammer are rate-limited per client
# address (django-ratelimit, counted in the default cache: per process with the local-memory
# cache, shared with Redis). "N/m" means N requests a minute; empty turns a limit off.
CHECKOUT_LIMIT_PER_CLIENT = env.int("CHECKOUT_LIMIT_PER_CLIENT", default=3)
CHECKOUT_MAX_PIECES = env.int("CHECKOUT_MAX_PIECES", default=10)
RATE_LIMIT_CART = env.str("RATE_LIMIT_CART", default="60/m")
RATE_LIMIT_CHECKOUT = env.str("RATE_LIMIT_CHECKOUT", default="12/m")
# The withdrawal form (/retractation/): a buyer sends it once or twice; a bot trying pairs of
# reference and e-mail is held to this.
RATE_LIMIT_WITHDRAWAL = env.str("RATE_LIMIT_WITHDRAWAL", default="10/m")
RATELIMIT_VIEW = "shop.views.too_many_requests"
# A cache that does not answer lets requests through: the limits that protect the stock are
# the database's, the rate limits only spare the server.
RATELIMIT_FAIL_OPEN = True

# Logging: readable lines in development, JSON lines in production (shop/logs.py); to stdout,
# except in management commands, whose stdout is their output (`dumpdata > backup.json`).
LOG_FORMAT = env.str("LOG_FORMAT", default="plain" if DEBUG else "json")
LOG_LEVEL = env.str("LOG_LEVEL", default="INFO")
LOGGING = build_logging_config(
    log_format=LOG_FORMAT,
    level=LOG_LEVEL,
    stream="stderr" if running_management_command(sys.argv) else "stdout",
)
