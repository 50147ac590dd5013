"""Browser-facing defences of the console, sign-in and consent pages.

- CSRF: every state-changing POST (plain and htmx) needs the token; htmx sends
  it as ``X-CSRFToken`` from ``<body hx-headers>``.
- Headers: no framing, a Content-Security-Policy without inline script or
  style, a Referrer-Policy.
- Cookies: HttpOnly and SameSite=Lax, Secure under https.
- A client secret is shown once: never logged, never rendered again.
- Templates carry no inline script, style or event handlers (the CSP would
  block them).
"""

import json
import logging
import os
import re
import subprocess
import sys
from collections.abc import Callable
from dataclasses import dataclass
from html.parser import HTMLParser
from unittest import mock
from urllib.parse import urlencode

import pytest
from django.conf import settings
from django.contrib.sessions.models import Session
from django.db import connection
from django.template.loader import render_to_string
from django.urls import reverse

from consent.models import ConsentGrant
from consent.services import record_consent
from oauth_clients.models import (
    AccessToken,
    AllowedOrigin,
    ClientSecret,
    ConnectionConfig,
    OAuthClient,
)
from oauth_clients.services import approve_client_for_tenant, publish_client
from tenants.models import AuditEvent, Membership
from tests.factories import client_form_data, create_oauth_client
from tests.flows import (
    REDIRECT,
    Registered,
    authorize_params,
    authorize_url,
    basic,
    client_for,
    get_code,
    pkce_pair,
    redeem,
)

pytestmark = pytest.mark.django_db

LIST_URL = reverse("oauth_clients:list")
CREATE_URL = reverse("oauth_clients:create")
BULK_URL = reverse("oauth_clients:bulk_delete")
LOGIN_URL = reverse("tenants:login")
LOGOUT_URL = reverse("tenants:logout")
CONSOLE_URL = reverse("tenants:console")
ACCOUNT_APPS_URL = reverse("consent:account_apps")
HTMX = {"HTTP_HX_REQUEST": "true"}


def url(name: str, client: OAuthClient, *args) -> str:
    return reverse(f"oauth_clients:{name}", args=[client.client_id, *args])


def db_state() -> dict:
    """Every row a console or account POST could touch."""
    models = (
        OAuthClient,
        ClientSecret,
        ConnectionConfig,
        AllowedOrigin,
        AuditEvent,
        ConsentGrant,
        Membership,
        Session,
    )
    return {model.__name__: list(model._base_manager.order_by("pk").values()) for model in models}


def hx_csrf_token(html: str) -> str:
    """The token as htmx sends it: from ``<body hx-headers='{"X-CSRFToken": ...}'>``."""
    match = re.search(r"<body[^>]*\shx-headers='([^']*)'", html)
    assert match, "no hx-headers on <body>"
    headers = json.loads(match.group(1))
    assert headers["X-CSRFToken"]
    return headers["X-CSRFToken"]


# --- CSRF --------------------------------------------------------------------------------


@dataclass
class World:
    tenant: object
    alice: object
    own: OAuthClient
    published: OAuthClient
    external: OAuthClient
    grant: ConsentGrant


@pytest.fixture
def world(tenant_a, tenant_b, alice, carol) -> World:
    own, _secret = create_oauth_client(tenant_a, actor=alice, name="Reporting app")
    published, _secret = create_oauth_client(tenant_a, actor=alice, name="Shared app")
    publish_client(published, actor=alice)
    external, _secret = create_oauth_client(tenant_b, actor=carol, name="Globex app")
    publish_client(external, actor=carol)
    approve_client_for_tenant(tenant_a, external, actor=alice)
    grant = record_consent(tenant_a, alice, own, ["user_default"])
    return World(tenant_a, alice, own, published, external, grant)


@dataclass
class Post:
    url: Callable[[World], str]
    data: Callable[[World], dict]
    done: Callable[[World, object], bool]  # (world, test client) → did the POST take effect?


def external_config(w: World) -> ConnectionConfig | None:
    return ConnectionConfig.objects.filter(client=w.external, tenant=w.tenant).first()


POSTS = {
    "create": Post(
        lambda w: CREATE_URL,
        lambda w: client_form_data(name="Probe"),
        lambda w, http: OAuthClient.objects.filter(name="Probe").exists(),
    ),
    "edit": Post(
        lambda w: url("edit", w.own),
        lambda w: client_form_data(name="Renamed"),
        lambda w, http: OAuthClient.objects.get(pk=w.own.pk).name == "Renamed",
    ),
    "secret_generate": Post(
        lambda w: url("secret_generate", w.own),
        lambda w: {"expires_in_days": ""},
        lambda w, http: w.own.secrets.count() == 2,
    ),
    "secret_delete": Post(
        lambda w: url("secret_delete", w.own, w.own.secrets.get().hint),
        lambda w: {},
        lambda w, http: not w.own.secrets.exists(),
    ),
    "publish": Post(
        lambda w: url("publish", w.own),
        lambda w: {},
        lambda w, http: OAuthClient.objects.get(pk=w.own.pk).is_published,
    ),
    "unpublish": Post(
        lambda w: url("unpublish", w.published),
        lambda w: {},
        lambda w, http: not OAuthClient.objects.get(pk=w.published.pk).is_published,
    ),
    "bulk_delete": Post(
        lambda w: BULK_URL,
        lambda w: {"ids": [w.own.pk], "confirm": "yes"},
        lambda w, http: OAuthClient.objects.get(pk=w.own.pk).is_deleted,
    ),
    "external_consent_method": Post(
        lambda w: url("external_consent_method", w.external),
        lambda w: {"consent_method": "trusted"},
        lambda w, http: external_config(w).consent_method == "trusted",
    ),
    "external_revoke": Post(
        lambda w: url("external_revoke", w.external),
        lambda w: {},
        lambda w, http: external_config(w) is None,
    ),
    "account_app_revoke": Post(
        lambda w: reverse("consent:account_app_revoke", args=[w.grant.pk]),
        lambda w: {},
        lambda w, http: not ConsentGrant.objects.filter(pk=w.grant.pk).exists(),
    ),
    "sign_out": Post(
        lambda w: LOGOUT_URL,
        lambda w: {},
        lambda w, http: "_auth_user_id" not in http.session,
    ),
    "language": Post(
        lambda w: reverse("set_language"),
        lambda w: {"language": "nl", "next": LIST_URL},
        lambda w, http: settings.LANGUAGE_COOKIE_NAME in http.cookies,
    ),
}


def csrf_http(world: World):
    """Alice with CSRF checks on, after a page load (the csrftoken cookie is set)."""
    http = client_for(world.tenant, world.alice, enforce_csrf_checks=True)
    page = http.get(LIST_URL)
    assert page.status_code == 200
    return http, hx_csrf_token(page.content.decode())


@pytest.mark.parametrize("htmx", [True, False], ids=["htmx", "plain"])
@pytest.mark.parametrize("name", list(POSTS))
def test_a_post_without_the_csrf_token_is_refused_and_changes_nothing(world, name, htmx):
    post = POSTS[name]
    http, _token = csrf_http(world)
    before = db_state()
    response = http.post(post.url(world), post.data(world), **(HTMX if htmx else {}))
    assert response.status_code == 403, response.content[:300]
    assert not post.done(world, http)
    assert db_state() == before


@pytest.mark.parametrize("name", list(POSTS))
def test_a_post_with_a_wrong_csrf_token_is_refused(world, name):
    post = POSTS[name]
    http, token = csrf_http(world)
    _other, other_token = csrf_http(world)  # a valid token, of another session
    assert other_token != token
    before = db_state()
    for wrong in ("x" * len(token), other_token):
        response = http.post(post.url(world), post.data(world), HTTP_X_CSRFTOKEN=wrong, **HTMX)
        assert response.status_code == 403
    assert db_state() == before


@pytest.mark.parametrize("name", list(POSTS))
def test_an_htmx_post_with_the_token_from_hx_headers_works(world, name):
    post = POSTS[name]
    http, token = csrf_http(world)
    response = http.post(post.url(world), post.data(world), HTTP_X_CSRFTOKEN=token, **HTMX)
    assert response.status_code in (200, 302), response.content[:500]
    assert post.done(world, http)


def test_a_plain_form_post_with_the_token_field_works(world):
    http, token = csrf_http(world)
    response = http.post(url("publish", world.own), {"csrfmiddlewaretoken": token})
    assert response.status_code == 302
    assert OAuthClient.objects.get(pk=world.own.pk).is_published


def test_sign_in_without_the_csrf_token_is_refused(tenant_a, alice):
    http = client_for(tenant_a, enforce_csrf_checks=True)
    http.get(LOGIN_URL)
    response = http.post(LOGIN_URL, {"username": "alice@acme.test", "password": "password"})
    assert response.status_code == 403
    assert "_auth_user_id" not in http.session


def test_the_consent_answer_without_the_csrf_token_is_refused(tenant_a, alice):
    client, _secret = create_oauth_client(
        tenant_a, actor=alice, name="Asks first", consent_method="required"
    )
    http = client_for(tenant_a, alice, enforce_csrf_checks=True)
    _verifier, challenge = pkce_pair()
    params = authorize_params(Registered(client, None), challenge)
    page = http.get("/oauth/authorize?" + urlencode(params))
    assert page.status_code == 200
    response = http.post("/oauth/authorize", {**params, "allow": "Authorize"})
    assert response.status_code == 403
    assert not ConsentGrant.objects.exists()
    assert "Location" not in response


# --- Security headers ----------------------------------------------------------------------


def csp_directives(header: str) -> dict[str, list[str]]:
    directives = {}
    for part in header.split(";"):
        words = part.split()
        if words:
            directives[words[0].lower()] = words[1:]
    return directives


def consent_page_url(client: OAuthClient) -> str:
    _verifier, challenge = pkce_pair()
    return authorize_url(Registered(client, None), challenge)


@pytest.fixture
def asks_consent(tenant_a, alice) -> OAuthClient:
    client, _secret = create_oauth_client(
        tenant_a, actor=alice, name="Asks first", consent_method="required"
    )
    return client


HEADER_PAGES = {
    "sign_in": lambda ctx: client_for(ctx["tenant"]).get(LOGIN_URL),
    "consent": lambda ctx: ctx["alice"].get(consent_page_url(ctx["client"])),
    "console": lambda ctx: ctx["alice"].get(CONSOLE_URL),
    "client_list": lambda ctx: ctx["alice"].get(LIST_URL),
    "edit_dialog_htmx": lambda ctx: ctx["alice"].get(url("edit", ctx["client"]), **HTMX),
    "secrets_page": lambda ctx: ctx["alice"].get(url("secrets", ctx["client"])),
    "account_apps": lambda ctx: ctx["alice"].get(ACCOUNT_APPS_URL),
    "forbidden": lambda ctx: ctx["bob"].get(LIST_URL),
    "not_found": lambda ctx: ctx["alice"].get("/console/nothing-here/"),
}


@pytest.mark.parametrize("page", list(HEADER_PAGES))
def test_pages_cannot_be_framed_and_allow_no_inline_code(
    page, tenant_a, alice_client, bob_client, asks_consent
):
    ctx = {"tenant": tenant_a, "alice": alice_client, "bob": bob_client, "client": asks_consent}
    response = HEADER_PAGES[page](ctx)
    assert response.status_code in (200, 403, 404), response.status_code
    assert response["X-Frame-Options"] == "DENY"
    assert response["X-Content-Type-Options"] == "nosniff"
    assert response["Referrer-Policy"] in {
        "no-referrer",
        "same-origin",
        "strict-origin",
        "strict-origin-when-cross-origin",
    }
    assert "Content-Security-Policy-Report-Only" not in response
    csp = csp_directives(response["Content-Security-Policy"])
    assert csp["frame-ancestors"] == ["'none'"]
    for directive in ("script-src", "style-src"):
        effective = csp.get(directive, csp.get("default-src"))
        assert effective, f"{directive} falls back to nothing"
        assert "'unsafe-inline'" not in effective
        assert "'unsafe-eval'" not in effective
        assert "*" not in effective
        assert "data:" not in effective
    assert csp["object-src"] == ["'none'"]
    assert csp["base-uri"] in (["'none'"], ["'self'"])


# --- Cookies ----------------------------------------------------------------------------------


def test_the_session_and_csrf_cookies_are_httponly_and_lax(tenant_a, alice):
    http = client_for(tenant_a)
    page = http.get(LOGIN_URL)
    csrf = page.cookies[settings.CSRF_COOKIE_NAME]
    response = http.post(LOGIN_URL, {"username": "alice@acme.test", "password": "password"})
    assert response.status_code == 302
    session = response.cookies[settings.SESSION_COOKIE_NAME]
    assert session.value
    assert session["httponly"] is True
    assert session["samesite"] == "Lax"
    assert not session["domain"]  # host-only: never sent to another tenant's host
    assert csrf["httponly"] is True
    assert csrf["samesite"] == "Lax"
    # The tests run with PLATFORM_SCHEME=http.
    assert not session["secure"]


def test_cookies_are_secure_when_the_settings_say_so(tenant_a, alice, settings):
    settings.SESSION_COOKIE_SECURE = True
    settings.CSRF_COOKIE_SECURE = True
    http = client_for(tenant_a)
    page = http.get(LOGIN_URL, secure=True)
    assert page.cookies[settings.CSRF_COOKIE_NAME]["secure"] is True
    response = http.post(
        LOGIN_URL, {"username": "alice@acme.test", "password": "password"}, secure=True
    )
    assert response.status_code == 302
    assert response.cookies[settings.SESSION_COOKIE_NAME]["secure"] is True


def cookie_settings(**env) -> dict:
    """config.settings imported in a fresh interpreter with ``env``."""
    clean = {
        k: v
        for k, v in os.environ.items()
        if k
        not in {
            "DEBUG",
            "PLATFORM_SCHEME",
            "SECURE_SSL_REDIRECT",
            "DJANGO_SETTINGS_MODULE",
            "DATABASE_URL",
        }
    }
    clean.update({"SECRET_KEY": "x", "CLIENT_SECRET_DIGEST_KEY": "y", **env})
    names = [
        "SESSION_COOKIE_SECURE",
        "CSRF_COOKIE_SECURE",
        "SESSION_COOKIE_HTTPONLY",
        "SESSION_COOKIE_SAMESITE",
        "CSRF_COOKIE_HTTPONLY",
        "SECURE_SSL_REDIRECT",
    ]
    code = "import json, config.settings as s; print(json.dumps({n: getattr(s, n) for n in %r}))"
    result = subprocess.run(
        [sys.executable, "-c", code % names],
        cwd=settings.BASE_DIR,
        env=clean,
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout)


def test_https_makes_the_cookies_secure():
    derived = cookie_settings(PLATFORM_SCHEME="https")
    assert derived == {
        "SESSION_COOKIE_SECURE": True,
        "CSRF_COOKIE_SECURE": True,
        "SESSION_COOKIE_HTTPONLY": True,
        "SESSION_COOKIE_SAMESITE": "Lax",
        "CSRF_COOKIE_HTTPONLY": True,
        "SECURE_SSL_REDIRECT": True,
    }


def test_production_defaults_make_the_cookies_secure():
    derived = cookie_settings()
    assert derived["SESSION_COOKIE_SECURE"] is True
    assert derived["CSRF_COOKIE_SECURE"] is True


def test_plain_http_cookies_are_not_secure_but_still_httponly_and_lax():
    derived = cookie_settings(PLATFORM_SCHEME="http")
    assert derived["SESSION_COOKIE_SECURE"] is False
    assert derived["SESSION_COOKIE_HTTPONLY"] is True
    assert derived["SESSION_COOKIE_SAMESITE"] == "Lax"


# --- The client secret is shown once ----------------------------------------------------------


def created_secret(html: str) -> str:
    match = re.search(r'id="created-client-secret" class="mono" value="([^"]+)"', html)
    assert match, "no secret shown"
    return match.group(1)


def generated_secret(html: str) -> str:
    match = re.search(r'id="new-client-secret" class="mono" value="([^"]+)"', html)
    assert match, "no new secret shown"
    return match.group(1)


@pytest.fixture
def debug_logs(caplog):
    """Logging as verbose as LOG_LEVEL=DEBUG makes it, plus every SQL statement with its
    parameters (the plaintext must never reach the database either)."""
    caplog.set_level(logging.DEBUG)  # the root logger, as LOG_LEVEL=DEBUG sets it
    for name in ("django.db.backends", "django.request", "oauthlib", "oauth2_provider"):
        caplog.set_level(logging.DEBUG, logger=name)
    forced = connection.force_debug_cursor
    connection.force_debug_cursor = True
    yield caplog
    connection.force_debug_cursor = forced


def assert_not_logged(caplog, *secrets_):
    assert caplog.records, "nothing was logged: the capture is not working"
    assert any(r.name == "django.db.backends" for r in caplog.records), "no SQL captured"
    for record in caplog.records:
        text = " ".join(
            [record.getMessage(), repr(record.args), repr(getattr(record, "request", ""))]
        )
        for secret in secrets_:
            assert secret not in text, f"secret logged by {record.name}: {text[:300]}"
    for secret in secrets_:
        # The formatted text includes exceptions' tracebacks and messages.
        assert secret not in caplog.text, "secret in a logged exception"


def create_and_use_a_client(alice_client, tenant_a) -> list[str]:
    """Create a Web client in the console, use its secret every way, generate a second one."""
    response = alice_client.post(
        CREATE_URL,
        client_form_data(
            name="Nightly sync",
            machine_to_machine="on",
            allowed_scopes=["user_default"],
            consent_method="trusted",
        ),
        **HTMX,
    )
    assert response.status_code == 200
    secret = created_secret(response.content.decode())
    client = OAuthClient.objects.get(name="Nightly sync")
    registered = Registered(client, secret, REDIRECT)
    api = client_for(tenant_a)

    ok = api.post(
        "/oauth/token", {"grant_type": "client_credentials"}, HTTP_AUTHORIZATION=basic(registered)
    )
    assert ok.status_code == 200, ok.content
    token = ok.json()["access_token"]
    by_post = {
        "grant_type": "client_credentials",
        "client_id": client.client_id,
        "client_secret": secret,
    }
    assert api.post("/oauth/token", by_post).status_code == 200
    assert api.post("/oauth/token", by_post, content_type="application/json").status_code == 200
    code, verifier = get_code(alice_client, registered)
    redeemed = redeem(api, registered, code, verifier)
    assert redeemed.status_code == 200, redeemed.content
    both = api.post(
        "/oauth/token",
        {"grant_type": "client_credentials", "client_secret": secret},
        HTTP_AUTHORIZATION=basic(registered),
    )
    assert both.status_code == 400
    wrong_client = api.post(
        "/oauth/token",
        {"grant_type": "client_credentials", "client_id": "nobody", "client_secret": secret},
    )
    assert wrong_client.status_code == 401
    introspected = api.post(
        "/oauth/introspect", {"token": token}, HTTP_AUTHORIZATION=basic(registered)
    )
    assert introspected.status_code == 200
    revoked = api.post("/oauth/revoke", {"token": token}, HTTP_AUTHORIZATION=basic(registered))
    assert revoked.status_code == 200
    generated = alice_client.post(url("secret_generate", client), {"expires_in_days": "30"})
    return [secret, generated_secret(generated.content.decode())]


def test_the_client_secret_is_never_logged(debug_logs, tenant_a, alice_client):
    secrets_ = create_and_use_a_client(alice_client, tenant_a)
    assert_not_logged(debug_logs, *secrets_)


def test_the_client_secret_is_not_in_template_debug_logs(caplog, tenant_a, alice_client):
    """With Django's own loggers at DEBUG too: django.template logs every failed variable
    lookup with the whole template context, which holds the plaintext on the dialogs
    that show it."""
    caplog.set_level(logging.DEBUG)
    caplog.set_level(logging.DEBUG, logger="django")
    secrets_ = create_and_use_a_client(alice_client, tenant_a)
    for secret in secrets_:
        assert secret not in caplog.text


@pytest.fixture
def shown_once(tenant_a, alice, alice_client):
    """A Web client created in the console, then a second secret generated: both plaintexts."""
    response = alice_client.post(CREATE_URL, client_form_data(name="Reporting app"), **HTMX)
    first = created_secret(response.content.decode())
    client = OAuthClient.objects.get(name="Reporting app")
    response = alice_client.post(url("secret_generate", client), {"expires_in_days": ""}, **HTMX)
    second = generated_secret(response.content.decode())
    assert first != second
    return client, [first, second]


LATER_PAGES = [
    ("list", lambda c: LIST_URL, {}),
    ("list_htmx", lambda c: LIST_URL, {**HTMX, "HTTP_HX_TARGET": "clients-table"}),
    ("console", lambda c: CONSOLE_URL, {}),
    ("edit", lambda c: url("edit", c), {}),
    ("edit_htmx", lambda c: url("edit", c), HTMX),
    ("secrets", lambda c: url("secrets", c), {}),
    ("secrets_htmx", lambda c: url("secrets", c), HTMX),
    ("configuration", lambda c: url("configuration", c), HTMX),
    ("activity", lambda c: url("activity", c), HTMX),
    ("delete", lambda c: url("delete", c), HTMX),
    ("publish", lambda c: url("publish", c), HTMX),
    ("secret_delete", lambda c: url("secret_delete", c, c.secrets.first().hint), HTMX),
    ("account_apps", lambda c: ACCOUNT_APPS_URL, {}),
]


@pytest.mark.parametrize("name,path,extra", LATER_PAGES, ids=[p[0] for p in LATER_PAGES])
def test_a_secret_never_appears_in_a_later_page(shown_once, alice_client, name, path, extra):
    client, plaintexts = shown_once
    response = alice_client.get(path(client), **extra)
    assert response.status_code == 200
    html = response.content.decode()
    for secret in plaintexts:
        assert secret not in html
        assert secret[:-5] not in html  # not even without the shown hint


def test_a_secret_is_not_shown_again_after_a_failed_generation(shown_once, alice_client):
    client, plaintexts = shown_once
    response = alice_client.post(url("secret_generate", client), {"expires_in_days": "7"})
    assert response.status_code == 200
    html = response.content.decode()
    assert 'id="new-client-secret"' not in html
    for secret in plaintexts:
        assert secret not in html


def test_token_endpoint_errors_never_echo_the_secret(shown_once, tenant_a):
    client, plaintexts = shown_once
    secret = plaintexts[0]
    api = client_for(tenant_a)
    registered = Registered(client, secret)
    responses = [
        api.post("/oauth/token", {"grant_type": "nope"}, HTTP_AUTHORIZATION=basic(registered)),
        api.post(
            "/oauth/token",
            {"grant_type": "authorization_code", "code": "x", "client_secret": secret},
            HTTP_AUTHORIZATION=basic(registered),
        ),
        api.post(
            "/oauth/token",
            {"grant_type": "client_credentials", "client_id": "x", "client_secret": secret},
        ),
        api.post(
            "/oauth/token",
            {"grant_type": "client_credentials", "client_secret": [secret, secret]},
        ),
        api.post("/oauth/introspect", {"client_id": "x", "client_secret": secret, "token": "t"}),
        api.post("/oauth/revoke", {"client_secret": secret, "token": secret}),
    ]
    for response in responses:
        assert 400 <= response.status_code < 500, response.content
        assert secret not in response.content.decode()
        assert all(secret not in value for value in response.headers.values())


def test_a_server_error_during_client_authentication_shows_and_logs_no_secret(
    shown_once, tenant_a, debug_logs
):
    client, plaintexts = shown_once
    secret = plaintexts[0]
    api = client_for(tenant_a, raise_request_exception=False)
    with mock.patch.object(ClientSecret, "matches", side_effect=ValueError("boom")):
        response = api.post(
            "/oauth/token",
            {
                "grant_type": "client_credentials",
                "client_id": client.client_id,
                "client_secret": secret,
            },
        )
    assert response.status_code == 500
    assert response.json()["error"] == "server_error"
    assert secret not in response.content.decode()
    assert "Traceback" not in response.content.decode()
    assert_not_logged(debug_logs, secret)


def test_the_secret_is_stored_only_as_a_digest(shown_once):
    client, plaintexts = shown_once
    for row in ClientSecret.objects.filter(client=client).values():
        for value in row.values():
            for secret in plaintexts:
                assert secret not in str(value)
    assert AccessToken.objects.count() == 0


# --- No inline script or style in the templates ---------------------------------------------


class InlineCodeFinder(HTMLParser):
    """Everything a CSP without 'unsafe-inline' / 'unsafe-eval' would block."""

    DATA_SCRIPT_TYPES = {"application/json", "application/ld+json", "importmap"}

    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.problems: list[str] = []
        self._script: dict | None = None
        self._script_text = ""

    def handle_starttag(self, tag, attrs):
        attrs_dict = dict(attrs)
        for name, value in attrs:
            name = name.lower()
            if name == "style":
                self.problems.append(f"style attribute on <{tag}>: {value!r}")
            elif name.startswith("on"):
                self.problems.append(f"event handler {name} on <{tag}>")
            elif name.startswith(("hx-on", "data-hx-on")):
                self.problems.append(f"{name} on <{tag}> (htmx evaluates it)")
            elif name in {"href", "src", "action", "formaction"} and (
                value or ""
            ).strip().lower().startswith("javascript:"):
                self.problems.append(f"javascript: URL in {name} of <{tag}>")
        if tag == "style":
            self.problems.append("<style> element")
        if tag == "script":
            self._script = attrs_dict
            self._script_text = ""

    def handle_data(self, data):
        if self._script is not None:
            self._script_text += data

    def handle_endtag(self, tag):
        if tag == "script" and self._script is not None:
            attrs = self._script
            kind = (attrs.get("type") or "").lower()
            if not attrs.get("src") and kind not in self.DATA_SCRIPT_TYPES:
                self.problems.append(f"inline <script>: {self._script_text.strip()[:80]!r}")
            self._script = None


def inline_code(html: str) -> list[str]:
    finder = InlineCodeFinder()
    finder.feed(html)
    finder.close()
    return finder.problems


def test_the_scanner_finds_inline_code():
    html = (
        '<div style="color:red" onclick="x()"><script>alert(1)</script>'
        '<script src="/s.js"></script><style>p{}</style><a href="javascript:x()">a</a>'
        '<button hx-on:click="x()">b</button></div>'
    )
    assert len(inline_code(html)) == 6


@pytest.fixture
def pages_ctx(tenant_a, tenant_b, alice, bob, carol, alice_client, bob_client, settings):
    own, _secret = create_oauth_client(
        tenant_a,
        actor=alice,
        name="Reporting app",
        description="Monthly reports",
        consent_method="required",
    )
    spa, _secret = create_oauth_client(
        tenant_a,
        actor=alice,
        app_type="spa",
        name="Browser app",
        redirect_uris=["https://spa.example.com/cb"],
        allowed_origins=["https://spa.example.com"],
    )
    shared, _secret = create_oauth_client(tenant_a, actor=alice, name="Shared app")
    publish_client(shared, actor=alice)
    approved, _secret = create_oauth_client(tenant_b, actor=carol, name="Globex app")
    publish_client(approved, actor=carol)
    approve_client_for_tenant(tenant_a, approved, actor=alice)
    pending, _secret = create_oauth_client(tenant_b, actor=carol, name="Globex pending")
    publish_client(pending, actor=carol)
    record_consent(tenant_a, alice, shared, ["user_default"])
    return {
        "tenant": tenant_a,
        "alice": alice_client,
        "bob": bob_client,
        "anon": client_for(tenant_a),
        "own": own,
        "spa": spa,
        "shared": shared,
        "approved": approved,
        "pending": pending,
        "settings": settings,
    }


def too_many_sign_ins(ctx):
    ctx["settings"].RATE_LIMITS = {**settings.RATE_LIMITS, "sign_in_per_account_address": (1, 900)}
    anon = ctx["anon"]
    anon.post(LOGIN_URL, {"username": "alice@acme.test", "password": "wrong"})
    return anon.post(LOGIN_URL, {"username": "alice@acme.test", "password": "wrong"})


def too_many_consents(ctx):
    ctx["settings"].RATE_LIMITS = {**settings.RATE_LIMITS, "authorize_post_per_user": (0, 60)}
    return ctx["alice"].post("/oauth/authorize", {"client_id": ctx["own"].client_id})


def region_picker(ctx):
    region = client_for(ctx["tenant"])
    query = urlencode(
        {"client_id": ctx["shared"].client_id, "redirect_uri": "https://app.example.com/callback"}
    )
    return region.get(f"/oauth/authorize?{query}", HTTP_HOST=ctx["tenant"].region.hostname)


SCANNED_PAGES = {
    "sign_in": lambda ctx: ctx["anon"].get(LOGIN_URL),
    "sign_in_error": lambda ctx: ctx["anon"].post(
        LOGIN_URL, {"username": "alice@acme.test", "password": "wrong"}
    ),
    "sign_in_too_many": too_many_sign_ins,
    "member_home": lambda ctx: ctx["bob"].get("/"),
    "forbidden": lambda ctx: ctx["bob"].get(LIST_URL),
    "not_found": lambda ctx: ctx["alice"].get("/console/nothing-here/"),
    "unknown_host": lambda ctx: ctx["anon"].get("/", HTTP_HOST="nobody.eu.localhost"),
    "console": lambda ctx: ctx["alice"].get(CONSOLE_URL),
    "client_list": lambda ctx: ctx["alice"].get(LIST_URL),
    "client_list_search": lambda ctx: ctx["alice"].get(LIST_URL + "?q=zzz"),
    "create": lambda ctx: ctx["alice"].get(CREATE_URL),
    "create_htmx": lambda ctx: ctx["alice"].get(CREATE_URL, **HTMX),
    "create_errors": lambda ctx: ctx["alice"].post(
        CREATE_URL, client_form_data(name="", redirect_uris=["http://x.test/"])
    ),
    "created": lambda ctx: ctx["alice"].post(CREATE_URL, client_form_data(name="New")),
    "edit": lambda ctx: ctx["alice"].get(url("edit", ctx["own"])),
    "edit_spa": lambda ctx: ctx["alice"].get(url("edit", ctx["spa"]), **HTMX),
    "secrets": lambda ctx: ctx["alice"].get(url("secrets", ctx["own"])),
    "secret_generated": lambda ctx: ctx["alice"].post(
        url("secret_generate", ctx["own"]), {"expires_in_days": "30"}
    ),
    "secret_delete": lambda ctx: ctx["alice"].get(
        url("secret_delete", ctx["own"], ctx["own"].secrets.get().hint)
    ),
    "configuration": lambda ctx: ctx["alice"].get(url("configuration", ctx["shared"])),
    "external_configuration": lambda ctx: ctx["alice"].get(
        url("external_configuration", ctx["approved"])
    ),
    "external_consent_method": lambda ctx: ctx["alice"].get(
        url("external_consent_method", ctx["approved"])
    ),
    "external_revoke": lambda ctx: ctx["alice"].get(url("external_revoke", ctx["approved"])),
    "activity": lambda ctx: ctx["alice"].get(url("activity", ctx["own"])),
    "delete": lambda ctx: ctx["alice"].get(url("delete", ctx["own"])),
    "bulk_delete_confirm": lambda ctx: ctx["alice"].post(BULK_URL, {"ids": [ctx["own"].pk]}),
    "publish": lambda ctx: ctx["alice"].get(url("publish", ctx["own"])),
    "unpublish": lambda ctx: ctx["alice"].get(url("unpublish", ctx["shared"])),
    "account_apps": lambda ctx: ctx["alice"].get(ACCOUNT_APPS_URL),
    "consent": lambda ctx: ctx["alice"].get(consent_page_url(ctx["own"])),
    "consent_error": lambda ctx: ctx["alice"].get(
        "/oauth/authorize?client_id=nobody&response_type=code"
    ),
    "approval": lambda ctx: ctx["alice"].get(consent_page_url(ctx["pending"])),
    "consent_too_many": too_many_consents,
    "region_picker": region_picker,
    "region_picker_error": lambda ctx: client_for(ctx["tenant"]).get(
        "/oauth/authorize?client_id=nobody", HTTP_HOST=ctx["tenant"].region.hostname
    ),
}


@pytest.mark.parametrize("page", list(SCANNED_PAGES))
def test_pages_have_no_inline_script_or_style(pages_ctx, page):
    response = SCANNED_PAGES[page](pages_ctx)
    assert response.status_code in (200, 400, 403, 404, 429), response.status_code
    html = response.content.decode()
    assert "<" in html
    assert inline_code(html) == []


@pytest.mark.parametrize("template", ["500.html", "503.html"])
def test_the_server_error_pages_have_no_inline_script_or_style(template):
    assert inline_code(render_to_string(template)) == []


def test_the_csrf_failure_page_has_no_inline_style(tenant_a, alice):
    """Django's built-in CSRF failure page carries a <style> block, which the CSP blocks."""
    http = client_for(tenant_a, alice, enforce_csrf_checks=True)
    response = http.post(LOGOUT_URL)
    assert response.status_code == 403
    assert inline_code(response.content.decode()) == []
