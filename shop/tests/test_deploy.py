"""Production settings, as a Procfile host starts them: each case runs in a fresh process.

The settings module reads the environment once, at import: these tests start
`manage.py` or a Python process with a production-like environment (DEBUG off, secrets
set, SQLite in a temporary folder) and look at what it says.
"""

import json
import os
import secrets
import subprocess
import sys
from pathlib import Path

import pytest
from django.conf import settings

BASE_DIR = Path(settings.BASE_DIR)


def production_env(tmp_path: Path, **overrides: str) -> dict[str, str]:
    """The environment of a production process, plus `overrides`.

    Every value the settings read is given explicitly, so a developer's `.env` (which only
    fills variables that are not set) cannot change the outcome.
    """
    env = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith(("DJANGO_", "STRIPE_", "AWS_", "SECURE_", "LOG_"))
        and key not in {"DEBUG", "SECRET_KEY", "DATABASE_URL", "ALLOWED_HOSTS", "APP_URL"}
    }
    env.update(
        {
            "DJANGO_SETTINGS_MODULE": "shop.settings",
            "DEBUG": "false",
            "SECRET_KEY": secrets.token_urlsafe(50),
            "STRIPE_SECRET_KEY": "sk_test_deploy_check",
            "STRIPE_WEBHOOK_SECRET": "whsec_deploy_check",
            "STRIPE_OFFLINE": "false",
            "ALLOWED_HOSTS": "boutique.example.com",
            "APP_URL": "https://boutique.example.com",
            "DATABASE_URL": f"sqlite:///{tmp_path / 'db.sqlite3'}",
            "SECURE_SSL_REDIRECT": "true",
            "SECURE_HSTS_PRELOAD": "false",
            "LOG_FORMAT": "json",
        }
    )
    env.update(overrides)
    return env


def run(argv: list[str], env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    """Run a process of the project with this environment, its output captured."""
    return subprocess.run(
        argv, cwd=BASE_DIR, env=env, capture_output=True, text=True, timeout=60, check=False
    )


def run_python(code: str, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return run([sys.executable, "-c", code], env)


LOAD_SETTINGS = "import django; django.setup(); from django.conf import settings; "


def check_deploy(env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    """`manage.py check --deploy --fail-level WARNING` in a process with this environment."""
    return run([sys.executable, "manage.py", "check", "--deploy", "--fail-level", "WARNING"], env)


def test_check_deploy_is_clean_with_production_settings(tmp_path):
    """`manage.py check --deploy --fail-level WARNING` passes: HTTPS, HSTS, secure cookies,
    a strong SECRET_KEY, DEBUG off. The one silenced check is HSTS preload (W021)."""
    result = check_deploy(production_env(tmp_path))

    assert result.returncode == 0, result.stdout + result.stderr
    assert "System check identified no issues (1 silenced)" in result.stdout


def test_check_deploy_silences_nothing_once_preload_is_chosen(tmp_path):
    """With SECURE_HSTS_PRELOAD on, no check is silenced at all and the check still passes."""
    result = check_deploy(production_env(tmp_path, SECURE_HSTS_PRELOAD="true"))

    assert result.returncode == 0, result.stdout + result.stderr
    assert "System check identified no issues (0 silenced)" in result.stdout


def test_check_deploy_fails_when_https_is_switched_off(tmp_path):
    """The check is not vacuous: without the HTTPS redirect it fails."""
    result = check_deploy(production_env(tmp_path, SECURE_SSL_REDIRECT="false"))

    assert result.returncode != 0
    assert "security.W008" in result.stderr + result.stdout


@pytest.mark.parametrize("name", ["SECRET_KEY", "STRIPE_SECRET_KEY", "STRIPE_WEBHOOK_SECRET"])
def test_start_up_refuses_a_missing_secret(tmp_path, name):
    """With DEBUG off, each missing secret stops start-up with ImproperlyConfigured naming it."""
    result = run_python(LOAD_SETTINGS + "print('started')", production_env(tmp_path, **{name: ""}))

    assert result.returncode != 0
    assert "started" not in result.stdout
    assert "django.core.exceptions.ImproperlyConfigured" in result.stderr
    assert f"{name} must be set when DEBUG is off" in result.stderr


@pytest.mark.parametrize(
    ("app_url", "message"),
    [
        ("", "APP_URL must be set when DEBUG is off"),
        ("http://127.0.0.1:8000", "APP_URL points at this machine"),
    ],
)
def test_start_up_refuses_app_url_unset_or_local(tmp_path, app_url, message):
    """With DEBUG off, an APP_URL unset (the README's deployment steps once allowed it) or on
    this machine stops start-up: every canonical link, the sitemap and the feed would lead
    to the visitor's own computer."""
    result = run_python(
        LOAD_SETTINGS + "print('started')", production_env(tmp_path, APP_URL=app_url)
    )

    assert result.returncode != 0
    assert "started" not in result.stdout
    assert "django.core.exceptions.ImproperlyConfigured" in result.stderr
    assert message in result.stderr


@pytest.mark.parametrize(
    ("name", "value", "message"),
    [
        ("WITHDRAWAL_DAYS", "7", "WITHDRAWAL_DAYS must be 14 or more"),
        ("PRODUCT_CONDITION_DEFAULT", "comme neuf", "PRODUCT_CONDITION_DEFAULT must be neuf"),
        ("SHIPPING_TRANSIT_DAYS", "4-2", "SHIPPING_TRANSIT_DAYS must be days"),
        ("STOCK_SHARED_SECONDS", "-1", "STOCK_SHARED_SECONDS must be 0 or more"),
    ],
)
def test_start_up_refuses_a_listing_setting_that_would_mislead(tmp_path, name, value, message):
    """What search engines and CDNs are told comes from settings: a wrong one stops start-up
    with a message saying what is expected, rather than publishing it."""
    result = run_python(
        LOAD_SETTINGS + "print('started')", production_env(tmp_path, **{name: value})
    )

    assert result.returncode != 0
    assert "ImproperlyConfigured" in result.stderr
    assert message in result.stderr


def test_development_starts_without_app_url(tmp_path):
    """`make run` (DEBUG on) needs no APP_URL: links point at the local server."""
    env = production_env(tmp_path, DEBUG="true", APP_URL="")
    result = run_python(LOAD_SETTINGS + "print(settings.APP_URL)", env)

    assert result.returncode == 0, result.stderr
    assert result.stdout.strip().splitlines()[-1] == "http://127.0.0.1:8000"


def test_start_up_refuses_offline_stripe_with_debug_off(tmp_path):
    """STRIPE_OFFLINE (simulated payments) is refused in production (SPEC §9)."""
    result = run_python(
        LOAD_SETTINGS + "print('started')", production_env(tmp_path, STRIPE_OFFLINE="true")
    )

    assert result.returncode != 0
    assert "ImproperlyConfigured" in result.stderr
    assert "STRIPE_OFFLINE simulates payments and is refused with DEBUG off" in result.stderr


def test_production_settings_as_loaded(tmp_path):
    """The values behind the checks: HTTPS behind the proxy, /healthz exempt from the
    redirect, hashed static files, JSON logs, the admin lockout reading the proxy's address,
    offline Stripe off."""
    code = LOAD_SETTINGS + (
        "import json; print(json.dumps({"
        "'proxy': settings.SECURE_PROXY_SSL_HEADER, 'redirect': settings.SECURE_SSL_REDIRECT,"
        "'exempt': settings.SECURE_REDIRECT_EXEMPT, 'hsts': settings.SECURE_HSTS_SECONDS,"
        "'static': settings.STORAGES['staticfiles']['BACKEND'],"
        "'media': settings.STORAGES['default']['BACKEND'],"
        "'formatter': settings.LOGGING['formatters']['default']['()'],"
        "'client_ip': settings.AXES_CLIENT_IP_CALLABLE, 'proxies': settings.TRUSTED_PROXY_COUNT,"
        "'offline': settings.STRIPE_OFFLINE,"
        "'backends': settings.AUTHENTICATION_BACKENDS}))"
    )
    result = run_python(code, production_env(tmp_path))
    assert result.returncode == 0, result.stderr
    loaded = json.loads(result.stdout.strip().splitlines()[-1])

    assert loaded["proxy"] == ["HTTP_X_FORWARDED_PROTO", "https"]
    assert loaded["redirect"] is True
    assert loaded["exempt"] == ["^healthz$"]
    assert loaded["hsts"] >= 31536000
    assert loaded["static"] == "whitenoise.storage.CompressedManifestStaticFilesStorage"
    assert loaded["media"] == "django.core.files.storage.FileSystemStorage"
    assert loaded["formatter"] == "shop.logs.JsonFormatter"
    assert loaded["client_ip"] == "shop.client.client_address"
    assert loaded["proxies"] == 1
    assert loaded["offline"] is False
    assert loaded["backends"][0] == "axes.backends.AxesStandaloneBackend"


def test_media_go_to_object_storage_when_a_bucket_is_set(tmp_path):
    """With AWS_STORAGE_BUCKET_NAME, product photos are stored through django-storages' S3
    backend, at URLs whose origin the Content-Security-Policy allows as an image source."""
    code = LOAD_SETTINGS + (
        "import json; from django.core.files.storage import storages;"
        "storage = storages['default'];"
        "print(json.dumps({'class': type(storage).__module__ + '.' + type(storage).__name__,"
        "'url': storage.url('products/vase.jpg'),"
        "'img_src': settings.CONTENT_SECURITY_POLICY['DIRECTIVES']['img-src']}))"
    )
    cases = {
        "custom domain": {"AWS_S3_CUSTOM_DOMAIN": "photos.example.com"},
        "S3-compatible endpoint": {
            "AWS_S3_ENDPOINT_URL": "https://s3.fr-par.scw.cloud",
            "AWS_S3_REGION_NAME": "fr-par",
        },
        "AWS S3": {"AWS_S3_REGION_NAME": "eu-west-3"},
        "AWS S3, dotted bucket name": {
            "AWS_S3_REGION_NAME": "eu-west-3",
            "AWS_STORAGE_BUCKET_NAME": "photos.boutique.example",
        },
    }
    for case, extra in cases.items():
        env = production_env(
            tmp_path,
            **{
                "AWS_STORAGE_BUCKET_NAME": "boutique-photos",
                "AWS_ACCESS_KEY_ID": "AKIAEXAMPLEEXAMPLE",
                "AWS_SECRET_ACCESS_KEY": "not-a-real-secret",
                **extra,
            },
        )
        result = run_python(code, env)
        assert result.returncode == 0, f"{case}: {result.stderr}"
        loaded = json.loads(result.stdout.strip().splitlines()[-1])

        assert loaded["class"] == "storages.backends.s3.S3Storage", case
        assert loaded["url"].endswith("/products/vase.jpg"), case
        assert "?" not in loaded["url"], f"{case}: photo URLs must not expire"
        origin = "/".join(loaded["url"].split("/")[:3])
        assert origin in loaded["img_src"], f"{case}: {origin} not in {loaded['img_src']}"
