"""The references the benchmark measures beside the product, in the same run.

A project as ``django-admin startproject`` makes it (Django's default apps
and middleware), plus django-oauth-toolkit with its defaults, except:

- client secrets stored in plaintext (``hash_client_secret=False`` on each
  application): the fastest configuration stock DOT offers; its default
  PBKDF2-hashed secrets manage a few requests a second;
- ``skip_authorization`` on the applications of the authorize scenario;
- persistent database connections (``CONN_MAX_AGE``), as the product uses.

``/plain`` is *bare Django*: a view that returns a few bytes through
Django's default middleware. Nothing here is part of the product.
"""

import os
from urllib.parse import urlsplit

_db = urlsplit(os.environ["REFERENCE_DATABASE_URL"])

SECRET_KEY = "bench-reference-not-a-secret"  # noqa: S105
DEBUG = False
ALLOWED_HOSTS = ["*"]

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "oauth2_provider",
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

ROOT_URLCONF = "refsite.urls"
WSGI_APPLICATION = "refsite.wsgi.application"
TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
            ]
        },
    }
]

DATABASES = {
    "default": {
        "ENGINE": "django.db.backends.postgresql",
        "NAME": _db.path.lstrip("/"),
        "USER": _db.username or "",
        "PASSWORD": _db.password or "",
        "HOST": _db.hostname or "",
        "PORT": str(_db.port or ""),
        "CONN_MAX_AGE": 600,
    }
}
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"
USE_TZ = True
STATIC_URL = "static/"
LOGGING = {"version": 1, "disable_existing_loggers": False, "root": {"level": "WARNING"}}

OAUTH2_PROVIDER = {
    "SCOPES": {"read": "Read", "introspection": "Introspect tokens"},
    "DEFAULT_SCOPES": ["read"],
}
