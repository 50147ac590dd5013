"""
Settings for the OAuth console and authorization server.

Everything that differs between a laptop and production comes from the
environment; the small ``env_*`` helpers below turn a bad value into an
``ImproperlyConfigured`` error at start-up rather than a surprise later.
"""

import os
from pathlib import Path
from urllib.parse import unquote, urlsplit

from django.core.exceptions import ImproperlyConfigured
from django.utils.translation import gettext_lazy as _

BASE_DIR = Path(__file__).resolve().parent.parent

_TRUE = {"1", "true", "yes", "on"}
_FALSE = {"0", "false", "no", "off", ""}


def env_str(name: str, default: str | None = None) -> str | None:
    return os.environ.get(name, default)


def env_bool(name: str, default: bool) -> bool:
    raw = os.environ.get(name)
    if raw is None:
        return default
    value = raw.strip().lower()
    if value in _TRUE:
        return True
    if value in _FALSE:
        return False
    raise ImproperlyConfigured(
        f"{name} must be one of 1/0, true/false, yes/no, on/off; got {raw!r}."
    )


def env_int(name: str, default: int | None) -> int | None:
    raw = os.environ.get(name)
    if raw is None or raw.strip() == "":
        return default
    try:
        return int(raw)
    except ValueError:
        raise ImproperlyConfigured(f"{name} must be a whole number; got {raw!r}.") from None


def env_list(name: str, default: list[str] | None = None) -> list[str]:
    raw = os.environ.get(name)
    if raw is None:
        return list(default or [])
    return [item.strip() for item in raw.split(",") if item.strip()]


def database_from_url(url: str) -> dict:
    """Parse ``DATABASE_URL``: ``sqlite:///relative/or//absolute/path`` or ``postgres://...``."""
    parts = urlsplit(url)
    if parts.scheme == "sqlite":
        path = unquote(parts.path)
        if not path or path == "/":
            raise ImproperlyConfigured(
                "DATABASE_URL for SQLite needs a path: sqlite:///var/db.sqlite3"
            )
        # sqlite:///var/db.sqlite3 is relative to the project; sqlite:////abs/db is absolute.
        return {"ENGINE": "django.db.backends.sqlite3", "NAME": BASE_DIR / path[1:]}
    if parts.scheme in {"postgres", "postgresql"}:
        name = unquote(parts.path.lstrip("/"))
        if not name:
            raise ImproperlyConfigured("DATABASE_URL for PostgreSQL needs a database name.")
        return {
            "ENGINE": "django.db.backends.postgresql",
            "NAME": name,
            "USER": unquote(parts.username or ""),
            "PASSWORD": unquote(parts.password or ""),
            "HOST": parts.hostname or "",
            "PORT": str(parts.port or ""),
            # Persistent connections: without them every request pays a new
            # PostgreSQL connection, which dominates the token endpoint's cost.
            "CONN_MAX_AGE": env_int("CONN_MAX_AGE", 600),
            "CONN_HEALTH_CHECKS": True,
            # During a database outage requests fail fast (503) instead of hanging.
            "OPTIONS": {"connect_timeout": env_int("DATABASE_CONNECT_TIMEOUT", 3)},
        }
    raise ImproperlyConfigured(
        f"DATABASE_URL must start with sqlite:/// or postgres://; got scheme {parts.scheme!r}."
    )


DEBUG = env_bool("DEBUG", False)

SECRET_KEY = env_str("SECRET_KEY")
if not SECRET_KEY:
    if not DEBUG:
        raise ImproperlyConfigured(
            "SECRET_KEY must be set when DEBUG is off (for example a 50-character random string)."
        )
    SECRET_KEY = "development-only-secret-key-never-use-in-production"  # noqa: S105

# Client secrets are stored as HMAC-SHA256 digests under their own key, so that
# rotating SECRET_KEY (sessions, CSRF) does not invalidate every client secret.
CLIENT_SECRET_DIGEST_KEY = env_str("CLIENT_SECRET_DIGEST_KEY")
if not CLIENT_SECRET_DIGEST_KEY:
    if not DEBUG:
        raise ImproperlyConfigured("CLIENT_SECRET_DIGEST_KEY must be set when DEBUG is off.")
    CLIENT_SECRET_DIGEST_KEY = "development-only-client-secret-digest-key"  # noqa: S105

# --- Hosts -----------------------------------------------------------------
# A region is {region}.{PLATFORM_DOMAIN}; a tenant is {tenant}.{region}.{PLATFORM_DOMAIN}.
# Absolute URLs and OAuth issuers are built from these three settings and the
# resolved tenant, never from the request's Host header or port.
PLATFORM_DOMAIN = (env_str("PLATFORM_DOMAIN", "localhost") or "").strip().lower().rstrip(".")
if not PLATFORM_DOMAIN or "/" in PLATFORM_DOMAIN or ":" in PLATFORM_DOMAIN:
    raise ImproperlyConfigured("PLATFORM_DOMAIN must be a bare domain name such as example.com.")
PLATFORM_SCHEME = env_str("PLATFORM_SCHEME", "http" if DEBUG else "https")
if PLATFORM_SCHEME not in {"http", "https"}:
    raise ImproperlyConfigured("PLATFORM_SCHEME must be http or https.")
PLATFORM_PORT = env_int("PLATFORM_PORT", None)

ALLOWED_HOSTS = [
    PLATFORM_DOMAIN,
    f".{PLATFORM_DOMAIN}",
    # Load balancers and container health checks call /healthz by address.
    "localhost",
    "127.0.0.1",
    "[::1]",
    *env_list("EXTRA_ALLOWED_HOSTS"),
]
USE_X_FORWARDED_HOST = False
if env_bool("TRUST_X_FORWARDED_PROTO", False):
    # Only behind a TLS-terminating proxy that overwrites this header.
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")

# --- Applications ------------------------------------------------------------
INSTALLED_APPS = [
    "csp",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "django_htmx",
    "oauth2_provider",
    "tenants",
    "oauth_clients",
    "consent",
]

MIDDLEWARE = [
    # First: the request ID, the log line and the metrics cover every answer.
    "tenants.request_log.RequestLogMiddleware",
    "django.middleware.security.SecurityMiddleware",
    "config.middleware.FixedPolicyCSPMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "tenants.middleware.TenantMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "tenants.middleware.TenantAuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "oauth_clients.cors.CorsMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
]

ROOT_URLCONF = "config.urls"
WSGI_APPLICATION = "config.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.template.context_processors.i18n",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
            ],
        },
    },
]

# --- Database ------------------------------------------------------------------
DATABASES = {"default": database_from_url(env_str("DATABASE_URL", "sqlite:///var/db.sqlite3"))}
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    Path(DATABASES["default"]["NAME"]).parent.mkdir(parents=True, exist_ok=True)
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# --- Authentication -------------------------------------------------------------
AUTH_USER_MODEL = "tenants.User"
LOGIN_URL = "tenants:login"
LOGIN_REDIRECT_URL = "tenants:home"
LOGOUT_REDIRECT_URL = "tenants:login"
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
]

# Cookies stay host-only (no SESSION_COOKIE_DOMAIN): a session at one tenant
# host is never sent to another. The session also records its tenant, and
# TenantAuthenticationMiddleware ignores it anywhere else.
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SAMESITE = "Lax"
SESSION_COOKIE_AGE = env_int("SESSION_COOKIE_AGE", 8 * 3600)
CSRF_COOKIE_HTTPONLY = True

# --- Internationalisation -------------------------------------------------------
LANGUAGE_CODE = "en"
LANGUAGES = [("en", _("English")), ("nl", _("Dutch"))]
LOCALE_PATHS = [BASE_DIR / "locale"]
USE_I18N = True
TIME_ZONE = "UTC"
USE_TZ = True

# --- Static files ---------------------------------------------------------------
STATIC_URL = "/static/"
STATIC_ROOT = BASE_DIR / "staticfiles"
STATICFILES_DIRS = [BASE_DIR / "static"]
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": (
            "django.contrib.staticfiles.storage.StaticFilesStorage"
            if DEBUG
            else "whitenoise.storage.CompressedManifestStaticFilesStorage"
        )
    },
}

# --- Security headers -------------------------------------------------------------
_HTTPS = PLATFORM_SCHEME == "https"
SESSION_COOKIE_SECURE = _HTTPS
CSRF_COOKIE_SECURE = _HTTPS
SECURE_SSL_REDIRECT = env_bool("SECURE_SSL_REDIRECT", _HTTPS)
SECURE_REDIRECT_EXEMPT = [r"^healthz$", r"^metrics$"]
SECURE_HSTS_SECONDS = env_int("SECURE_HSTS_SECONDS", 0)
SECURE_HSTS_INCLUDE_SUBDOMAINS = env_bool("SECURE_HSTS_INCLUDE_SUBDOMAINS", False)
SECURE_HSTS_PRELOAD = env_bool("SECURE_HSTS_PRELOAD", False)
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"
# No inline script or style anywhere; htmx is told not to inject its indicator
# styles (base.html). form-action stays open: the consent form's answer is a
# redirect to the client's own URL.
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": ["'self'"],
        "script-src": ["'self'"],
        "style-src": ["'self'"],
        "img-src": ["'self'", "data:"],
        "connect-src": ["'self'"],
        "object-src": ["'none'"],
        "base-uri": ["'none'"],
        "frame-ancestors": ["'none'"],
    }
}

# Request bodies: the console's forms and the OAuth endpoints need far less.
DATA_UPLOAD_MAX_MEMORY_SIZE = env_int("DATA_UPLOAD_MAX_MEMORY_SIZE", 256 * 1024)
DATA_UPLOAD_MAX_NUMBER_FIELDS = 200

# --- Cache and rate limits ------------------------------------------------------------
# CACHE_URL=redis://host:6379/0 shares rate limits between workers and instances;
# without it each process counts for itself. The cache holds rate-limit
# counters only, and an outage only suspends them (tenants/ratelimit.py): short
# timeouts, and after a failure each process leaves the cache alone for
# CACHE_RETRY_SECONDS, so an unreachable cache host never holds requests up.
CACHE_TIMEOUT_MS = env_int("CACHE_TIMEOUT_MS", 250)
CACHE_RETRY_SECONDS = env_int("CACHE_RETRY_SECONDS", 5)
_CACHE_URL = env_str("CACHE_URL", "")
if _CACHE_URL.startswith(("redis://", "rediss://")):
    CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": _CACHE_URL,
            # Passed to redis-py's connection pool. Without them a cache host
            # that drops packets holds each request for the OS connect timeout.
            "OPTIONS": {
                "socket_connect_timeout": CACHE_TIMEOUT_MS / 1000,
                "socket_timeout": CACHE_TIMEOUT_MS / 1000,
            },
        }
    }
elif _CACHE_URL in ("", "locmem://"):
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}
else:
    raise ImproperlyConfigured(
        "CACHE_URL must be redis://host:port/db (or empty for local memory)."
    )

# Renamed limits: a deployment still setting the old name would silently get
# the default of the new one.
_RETIRED_SETTINGS = {
    "RATE_CLIENT_AUTH_PER_CLIENT": "RATE_CLIENT_AUTH_PER_CLIENT_ADDRESS",
    "RATE_SIGN_IN_PER_ACCOUNT": (
        "RATE_SIGN_IN_PER_ACCOUNT_ADDRESS and RATE_SIGN_IN_UNTRUSTED_PER_ACCOUNT"
    ),
}
for _old, _new in _RETIRED_SETTINGS.items():
    if _old in os.environ:
        raise ImproperlyConfigured(f"{_old} is no longer read; set {_new} instead.")

# Behind a proxy (a TLS terminator, a load balancer) every request comes from
# the proxy's address: per-address limits would then count everybody together.
# With N trusted proxies in front, each appending to X-Forwarded-For, the
# sender is the Nth address from the right (tenants.ratelimit.client_address).
FORWARDED_FOR_PROXIES = env_int("FORWARDED_FOR_PROXIES", 0)
if FORWARDED_FOR_PROXIES < 0:
    raise ImproperlyConfigured("FORWARDED_FOR_PROXIES must be 0 or more.")

# (attempts, seconds): only failures count against sign-in and client
# authentication, so well-behaved traffic is never slowed.
RATE_LIMITS = {
    # Sign-in (tenants/sign_in_limits.py, OWASP device cookies): a browser that
    # signed in to the account before counts per device cookie; any other per
    # account and address, per address, and per account for untrusted browsers.
    "sign_in_per_device": (env_int("RATE_SIGN_IN_PER_DEVICE", 10), 900),
    "sign_in_per_account_address": (env_int("RATE_SIGN_IN_PER_ACCOUNT_ADDRESS", 10), 900),
    "sign_in_per_address": (env_int("RATE_SIGN_IN_PER_ADDRESS", 50), 900),
    "sign_in_untrusted_per_account": (env_int("RATE_SIGN_IN_UNTRUSTED_PER_ACCOUNT", 20), 900),
    # Client authentication: never per client alone (oauth_clients/oauth/client_auth.py).
    "client_auth_per_client_address": (env_int("RATE_CLIENT_AUTH_PER_CLIENT_ADDRESS", 20), 300),
    "client_auth_per_address": (env_int("RATE_CLIENT_AUTH_PER_ADDRESS", 100), 300),
    "authorize_post_per_user": (env_int("RATE_AUTHORIZE_POST_PER_USER", 30), 60),
}

# --- Signing keys -------------------------------------------------------------------
# RSA keys for access tokens (JWT, RS256) and OpenID Connect ID tokens. Every
# worker and instance must use the same files. `make run` creates a
# development key in var/ before the server starts.
SIGNING_KEY_FILE = env_str("SIGNING_KEY_FILE") or (
    str(BASE_DIR / "var" / "signing-key.pem") if DEBUG else None
)
PREVIOUS_SIGNING_KEY_FILES = env_list("PREVIOUS_SIGNING_KEY_FILES")
if not SIGNING_KEY_FILE:
    raise ImproperlyConfigured(
        "SIGNING_KEY_FILE must name a PEM file with the RSA private key that signs tokens "
        "(create one with `python manage.py generate_signing_key PATH`)."
    )
_SIGNING_KEY_MISSING = DEBUG and not Path(SIGNING_KEY_FILE).exists()
if _SIGNING_KEY_MISSING:
    # Development only: lets `manage.py generate_signing_key` itself start.
    SIGNING_KEY_PEM = ""
else:
    from oauth_clients.keys import read_pem

    SIGNING_KEY_PEM = read_pem(SIGNING_KEY_FILE, "SIGNING_KEY_FILE")
PREVIOUS_SIGNING_KEY_PEMS = [
    read_pem(path, "PREVIOUS_SIGNING_KEY_FILES") for path in PREVIOUS_SIGNING_KEY_FILES
]

# --- OAuth (django-oauth-toolkit) -------------------------------------------------
# All five swappable models carry the tenant they were issued at.
OAUTH2_PROVIDER_APPLICATION_MODEL = "oauth_clients.OAuthClient"
OAUTH2_PROVIDER_GRANT_MODEL = "oauth_clients.AuthorizationCode"
OAUTH2_PROVIDER_ACCESS_TOKEN_MODEL = "oauth_clients.AccessToken"
OAUTH2_PROVIDER_REFRESH_TOKEN_MODEL = "oauth_clients.RefreshToken"
OAUTH2_PROVIDER_ID_TOKEN_MODEL = "oauth_clients.IDToken"

OAUTH2_PROVIDER = {
    "SCOPES": {
        "user_default": _("Use the platform's APIs on your behalf"),
        "admin_classic": _("Administer the tenant on your behalf"),
        "offline_access": _("Stay connected when you are not signed in"),
        "openid": _("Sign you in with your account"),
        "profile": _("See your name"),
        "email": _("See your email address"),
    },
    "DEFAULT_SCOPES": ["user_default"],
    "AUTHORIZATION_CODE_EXPIRE_SECONDS": 60,
    "ACCESS_TOKEN_EXPIRE_SECONDS": env_int("ACCESS_TOKEN_EXPIRE_SECONDS", 3600),
    "REFRESH_TOKEN_EXPIRE_SECONDS": env_int("REFRESH_TOKEN_EXPIRE_SECONDS", 30 * 24 * 3600),
    "ID_TOKEN_EXPIRE_SECONDS": 3600,
    "ROTATE_REFRESH_TOKEN": True,
    "REFRESH_TOKEN_REUSE_PROTECTION": True,
    "PKCE_REQUIRED": True,
    # Per-client schemes (loopback http, a native app's private-use scheme) are
    # allowed by OAuthClient.get_allowed_schemes; the global list stays https.
    "ALLOWED_REDIRECT_URI_SCHEMES": ["https"],
    "ALLOW_URI_WILDCARDS": False,
    "COMPLIANT_BCP_RFC9700_IMPLICIT_GRANT": True,
    "COMPLIANT_BCP_RFC9700_PASSWORD_GRANT": True,
    "COMPLIANT_BCP_RFC9700_PKCE_METHOD": True,
    "COMPLIANT_BCP_RFC9700_ACCESS_TOKEN_TRANSPORT": True,
    "COMPLIANT_BCP_RFC9700_AUTHZ_RESPONSE_ISS": True,
    "COMPLIANT_BCP_RFC9700_TOKEN_STORAGE": True,
    "COMPLIANT_BCP_RFC9700_REFRESH_TOKEN": True,
    "COMPLIANT_BCP_RFC9700_REDIRECT_URI_SCHEME": True,
    "COMPLIANT_BCP_RFC9700_REDIRECT_URI_MATCHING": True,
    "COMPLIANT_BCP_RFC9700_PKCE_REQUIRED": True,
    "REFRESH_TOKEN_GRACE_PERIOD_SECONDS": 0,
    # Our glue (oauth_clients/oauth/): the tenant, our secrets, JWT access tokens.
    "OAUTH2_BACKEND_CLASS": "oauth_clients.oauth.backend.TenantOAuthLibCore",
    "OAUTH2_VALIDATOR_CLASS": "oauth_clients.oauth.validator.TenantOAuth2Validator",
    "OAUTH2_SERVER_CLASS": "oauth_clients.oauth.server.Server",
    "OIDC_SERVER_CLASS": "oauth_clients.oauth.server.Server",
    "ACCESS_TOKEN_GENERATOR": "oauth_clients.oauth.tokens.generate_access_token",
    # Refresh tokens stay opaque random strings (oauthlib would otherwise reuse
    # the access token generator for them).
    "REFRESH_TOKEN_GENERATOR": "oauthlib.oauth2.rfc6749.tokens.random_token_generator",
    "OIDC_ENABLED": True,
    "OIDC_RSA_PRIVATE_KEY": SIGNING_KEY_PEM,
    "OIDC_RSA_PRIVATE_KEYS_INACTIVE": PREVIOUS_SIGNING_KEY_PEMS,
    "OIDC_RESPONSE_TYPES_SUPPORTED": ["code"],
    "OAUTH2_RESPONSE_TYPES_SUPPORTED": ["code"],
    "OAUTH2_GRANT_TYPES_SUPPORTED": ["authorization_code", "refresh_token", "client_credentials"],
}

# --- Logging and metrics ------------------------------------------------------------
# One JSON object per line (tenants/logs.py), or LOG_FORMAT=text for a terminal.
LOG_FORMAT = env_str("LOG_FORMAT", "json")
if LOG_FORMAT not in {"json", "text"}:
    raise ImproperlyConfigured(f"LOG_FORMAT must be json or text; got {LOG_FORMAT!r}.")
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {
        "json": {"()": "tenants.logs.JsonFormatter"},
        "text": {"format": "%(asctime)s %(levelname)s %(name)s %(message)s"},
    },
    "filters": {"no_query_string": {"()": "tenants.logs.QueryStringFilter"}},
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": LOG_FORMAT}},
    "root": {"handlers": ["console"], "level": env_str("LOG_LEVEL", "INFO")},
    "loggers": {
        # Django's own console handler (with DEBUG) would print every line twice.
        "django": {"level": "INFO"},
        # At DEBUG this logger prints failed variable lookups with the whole
        # template context, which can hold a secret being shown once.
        "django.template": {"level": "INFO"},
        # At DEBUG oauthlib logs every code, state and token it issues or checks.
        "oauthlib": {"level": "WARNING"},
        # runserver's request lines, through our handler and without query strings.
        "django.server": {"filters": ["no_query_string"], "propagate": True},
    },
}

# /metrics answers only `Authorization: Bearer <METRICS_TOKEN>`; without a token it is a 404.
METRICS_TOKEN = env_str("METRICS_TOKEN", "")
if METRICS_TOKEN and len(METRICS_TOKEN) < 16:
    raise ImproperlyConfigured("METRICS_TOKEN must be at least 16 characters (or empty).")

# --- Per-process caches (tenants/generations.py) ------------------------------------
# Rows read on every request, kept per process (least recently used out) and
# invalidated through PostgreSQL within a second of a change.
TENANT_CACHE_SIZE = env_int("TENANT_CACHE_SIZE", 10_000)
CLIENT_CACHE_SIZE = env_int("CLIENT_CACHE_SIZE", 10_000)
MEMBER_CACHE_SIZE = env_int("MEMBER_CACHE_SIZE", 50_000)
# How often each process reads the generations (seconds): the most a change
# made in another process can take to count here.
GENERATION_CHECK_SECONDS = 1.0

# --- Console limits -----------------------------------------------------------------
OAUTH_CLIENT_LIMITS = {
    "redirect_uris": env_int("OAUTH_MAX_REDIRECT_URIS", 5),
    "allowed_origins": env_int("OAUTH_MAX_ALLOWED_ORIGINS", 5),
    "secrets": env_int("OAUTH_MAX_SECRETS_PER_CLIENT", 5),
    "clients": env_int("OAUTH_MAX_CLIENTS_PER_TENANT", 200),
}
