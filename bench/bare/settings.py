"""The yardstick: a minimal Django site, as `django-admin startproject` makes it.

Same middleware and apps as a new project, no database, one view returning a short HTML
page. `make bench` serves it with the shop's gunicorn settings and reports each of the
shop's figures as a ratio to this one: the ratio says what the shop costs above Django's
own floor on the same machine, in the same run.
"""

SECRET_KEY = "bench-bare-site-not-secret"
DEBUG = False
ALLOWED_HOSTS = ["127.0.0.1", "localhost"]

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
]

ROOT_URLCONF = "bare.urls"
WSGI_APPLICATION = "bare.wsgi.application"
DATABASES = {}
TEMPLATES = []
USE_TZ = True
STATIC_URL = "static/"
