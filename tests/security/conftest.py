"""Shared fixtures of the black-box security suite (the OAuth protocol and tenant isolation).

Every request goes over real HTTP to pytest-django's ``live_server``, on a
tenant host such as ``acme.eu.localhost:<port>``: ``*.localhost`` resolves to
127.0.0.1 in this process (RFC 6761 §6.3, as browsers do), so the URL and the
Host header keep the tenant's name. Browsers sign in through ``/login/`` with
a cookie-keeping ``requests.Session`` that never follows redirects; the
token, revocation, introspection and API endpoints are called without cookies.

Test data (tenants, users, clients) is made with the ORM and the factories;
the database is also read to prove that a refused request changed nothing.

Personas (tests/conftest.py): alice admin of acme, bob member of acme, carol
admin of globex; here also dave, a member of globex.

Only the fixtures named by the tests here are used: nothing is autouse, so
other files in this folder are not affected by them.
"""

import base64
import hashlib
import html as html_lib
import re
import secrets
import socket
from dataclasses import dataclass, replace
from urllib.parse import parse_qs, urlencode, urlsplit

import pytest
import requests

from tests.conftest import PASSWORD

REDIRECT = "https://app.example.com/callback"
LOOPBACK_REDIRECT = "http://localhost:8080/cb"
NATIVE_REDIRECT = "http://127.0.0.1/cb"
SPA_REDIRECT = "https://spa.example.com/cb"
ERROR_PAGE_HEADING = "This sign-in link does not work"
CONSENT_HEADING = "wants to use your account"
AUTHORIZE = "/oauth/authorize"
TOKEN = "/oauth/token"
REVOKE = "/oauth/revoke"
INTROSPECT = "/oauth/introspect"
ME = "/api/v1/users/me"
USERINFO = "/oauth/userinfo"
TIMEOUT = 10

_CSRF_INPUT = re.compile(r'name="csrfmiddlewaretoken" value="([^"]+)"')
_HIDDEN_INPUT = re.compile(r'<input type="hidden" name="([^"]+)" value="([^"]*)"')


# --- Name resolution and the server ------------------------------------------------------


def _resolve_localhost(monkeypatch) -> None:
    real_getaddrinfo = socket.getaddrinfo

    def getaddrinfo(host, *args, **kwargs):
        if isinstance(host, bytes):
            host = host.decode("ascii")
        if isinstance(host, str) and host.rstrip(".").lower().endswith(".localhost"):
            host = "127.0.0.1"
        return real_getaddrinfo(host, *args, **kwargs)

    monkeypatch.setattr(socket, "getaddrinfo", getaddrinfo)


@dataclass
class Server:
    """The live server: its port, and raw access with any Host header."""

    port: int

    @property
    def address(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def raw(self, method: str, path: str, host: str, **kwargs) -> requests.Response:
        """A request to 127.0.0.1 carrying ``host`` as its Host header, whatever it is."""
        headers = {"Host": host, **kwargs.pop("headers", {})}
        return requests.request(
            method,
            f"{self.address}{path}",
            headers=headers,
            allow_redirects=False,
            timeout=TIMEOUT,
            **kwargs,
        )


@pytest.fixture
def server(live_server, settings, monkeypatch) -> Server:
    """The live server, with the issuers naming its port and a fresh revocation list."""
    from oauth_clients.revocation import revocations

    _resolve_localhost(monkeypatch)
    port = urlsplit(live_server.url).port
    settings.PLATFORM_PORT = port
    revocations.clear()
    yield Server(port)
    revocations.clear()


# --- HTTP clients --------------------------------------------------------------------------


class Browser:
    """One user agent at one host: keeps its cookies, never follows a redirect."""

    def __init__(self, base_url: str):
        self.base_url = base_url
        self.session = requests.Session()

    def url(self, path: str) -> str:
        return path if path.startswith("http") else f"{self.base_url}{path}"

    def get(self, path: str, **kwargs) -> requests.Response:
        return self.session.get(self.url(path), allow_redirects=False, timeout=TIMEOUT, **kwargs)

    def post(self, path: str, data=None, **kwargs) -> requests.Response:
        return self.session.post(
            self.url(path), data=data, allow_redirects=False, timeout=TIMEOUT, **kwargs
        )

    def csrf_cookie(self) -> str:
        """The CSRF cookie's secret (Django accepts it unmasked as the form token)."""
        return self.session.cookies.get("csrftoken") or ""

    def sign_in(self, email: str, password: str = PASSWORD) -> requests.Response:
        form = self.get("/login/")
        assert form.status_code == 200, form.status_code
        token = form_token(form.text)
        response = self.post(
            "/login/",
            {"csrfmiddlewaretoken": token, "username": email, "password": password},
        )
        assert response.status_code == 302, (response.status_code, response.text[:300])
        assert "sessionid" in self.session.cookies
        return response

    def post_form(self, path: str, fields: dict) -> requests.Response:
        """A console form POST with this browser's CSRF token."""
        return self.post(path, {"csrfmiddlewaretoken": self.csrf_cookie(), **fields})


def form_token(html: str) -> str:
    match = _CSRF_INPUT.search(html)
    assert match, "no CSRF token on the page"
    return match.group(1)


def hidden_fields(html: str) -> dict[str, str]:
    return {name: html_lib.unescape(value) for name, value in _HIDDEN_INPUT.findall(html)}


@pytest.fixture
def browser(server):
    """``browser(tenant, user=None)``: a user agent at ``tenant``'s host, signed in as ``user``."""

    def make(tenant, user=None) -> Browser:
        agent = Browser(tenant.base_url)
        if user is not None:
            agent.sign_in(user.email)
        return agent

    return make


@pytest.fixture
def acme(server, tenant_a) -> Browser:
    """An anonymous caller at acme's host (token endpoint, APIs)."""
    return Browser(tenant_a.base_url)


@pytest.fixture
def globex(server, tenant_b) -> Browser:
    """An anonymous caller at globex's host."""
    return Browser(tenant_b.base_url)


@pytest.fixture
def alice_browser(browser, tenant_a, alice) -> Browser:
    return browser(tenant_a, alice)


@pytest.fixture
def bob_browser(browser, tenant_a, bob) -> Browser:
    return browser(tenant_a, bob)


@pytest.fixture
def carol_browser(browser, tenant_b, carol) -> Browser:
    return browser(tenant_b, carol)


@pytest.fixture
def dave(tenant_b):
    """A member (not admin) of globex."""
    from tenants.models import Membership
    from tests.factories import MembershipFactory, UserFactory

    user = UserFactory(email="dave@globex.test", name="Dave")
    MembershipFactory(user=user, tenant=tenant_b, role=Membership.Role.MEMBER)
    return user


@pytest.fixture
def dave_browser(browser, tenant_b, dave) -> Browser:
    return browser(tenant_b, dave)


# --- Clients --------------------------------------------------------------------------------


@dataclass
class Registered:
    client: object
    secret: str | None
    redirect_uri: str = REDIRECT

    @property
    def client_id(self) -> str:
        return self.client.client_id

    def at(self, redirect_uri: str | None) -> "Registered":
        return replace(self, redirect_uri=redirect_uri)


def make_client(tenant, actor, *, app_type="web", redirect_uris=(REDIRECT,), **fields):
    from tests.factories import create_oauth_client

    fields.setdefault("consent_method", "trusted")
    fields.setdefault(
        "allowed_scopes", ["user_default", "offline_access", "openid", "profile", "email"]
    )
    client, secret = create_oauth_client(
        tenant, actor=actor, app_type=app_type, redirect_uris=list(redirect_uris), **fields
    )
    return Registered(client, secret, redirect_uris[0])


@pytest.fixture
def web(tenant_a, alice) -> Registered:
    """Acme's confidential client, trusted (no consent page), with a loopback URL too."""
    return make_client(tenant_a, alice, name="Web app", redirect_uris=[REDIRECT, LOOPBACK_REDIRECT])


@pytest.fixture
def other_web(tenant_a, alice) -> Registered:
    """A second confidential client of acme with the same redirect URL."""
    return make_client(tenant_a, alice, name="Other web app")


@pytest.fixture
def spa(tenant_a, alice) -> Registered:
    return make_client(
        tenant_a,
        alice,
        app_type="spa",
        name="Browser app",
        redirect_uris=[SPA_REDIRECT],
        allowed_origins=["https://spa.example.com"],
        allowed_scopes=["user_default", "offline_access"],
    )


@pytest.fixture
def native(tenant_a, alice) -> Registered:
    return make_client(
        tenant_a,
        alice,
        app_type="native",
        name="Native app",
        redirect_uris=[NATIVE_REDIRECT],
        allowed_scopes=["user_default", "offline_access"],
    )


@pytest.fixture
def globex_web(tenant_b, carol) -> Registered:
    """A confidential client of globex with the same redirect URL as acme's."""
    return make_client(tenant_b, carol, name="Globex app")


# --- The protocol's steps --------------------------------------------------------------------


def pkce_pair() -> tuple[str, str]:
    verifier = secrets.token_urlsafe(48)
    return verifier, challenge_of(verifier)


def challenge_of(verifier: str) -> str:
    digest = hashlib.sha256(verifier.encode()).digest()
    return base64.urlsafe_b64encode(digest).rstrip(b"=").decode()


def authorize_params(registered: Registered, challenge: str | None, **extra) -> dict:
    params = {
        "response_type": "code",
        "client_id": registered.client_id,
        "redirect_uri": registered.redirect_uri,
        "scope": "user_default",
        "state": "xyz",
        "code_challenge": challenge,
        "code_challenge_method": "S256",
        **extra,
    }
    return {key: value for key, value in params.items() if value is not None}


def authorize_path(registered: Registered, challenge: str | None, **extra) -> str:
    return f"{AUTHORIZE}?{urlencode(authorize_params(registered, challenge, **extra))}"


def authorize(agent: Browser, registered: Registered, challenge: str | None, **extra):
    return agent.get(authorize_path(registered, challenge, **extra))


def query_of(url: str) -> dict[str, str]:
    return {key: values[0] for key, values in parse_qs(urlsplit(url).query).items()}


def get_code(agent: Browser, registered: Registered, **extra) -> tuple[str, str]:
    """The authorization step of a signed-in user (trusted client): (code, verifier)."""
    verifier, challenge = pkce_pair()
    response = authorize(agent, registered, challenge, **extra)
    assert response.status_code == 302, (response.status_code, response.text[:300])
    params = query_of(response.headers["Location"])
    assert "code" in params, params
    return params["code"], verifier


def basic(client_id: str, secret: str) -> dict:
    raw = f"{client_id}:{secret}".encode()
    return {"Authorization": "Basic " + base64.b64encode(raw).decode()}


def credentials(registered: Registered) -> tuple[dict, dict]:
    """(headers, body fields) that authenticate ``registered`` as a client normally does."""
    if registered.secret:
        return basic(registered.client_id, registered.secret), {}
    return {}, {"client_id": registered.client_id}


def redeem(http: Browser, registered: Registered, code: str, verifier: str | None, **extra):
    headers, data = credentials(registered)
    data.update(
        {
            "grant_type": "authorization_code",
            "code": code,
            "redirect_uri": registered.redirect_uri,
            "code_verifier": verifier,
            **extra,
        }
    )
    return http.post(TOKEN, {k: v for k, v in data.items() if v is not None}, headers=headers)


def issue_tokens(agent: Browser, http: Browser, registered: Registered, **extra) -> dict:
    """Code and token in one: the token response's JSON."""
    code, verifier = get_code(agent, registered, **extra)
    response = redeem(http, registered, code, verifier)
    assert response.status_code == 200, response.text
    return response.json()


def refresh(http: Browser, registered: Registered, refresh_token: str, **extra):
    headers, data = credentials(registered)
    data.update({"grant_type": "refresh_token", "refresh_token": refresh_token, **extra})
    return http.post(TOKEN, data, headers=headers)


def revoke(http: Browser, registered: Registered, token: str, **extra):
    headers, data = credentials(registered)
    return http.post(REVOKE, {**data, "token": token, **extra}, headers=headers)


def introspect(http: Browser, registered: Registered, token: str):
    headers, data = credentials(registered)
    return http.post(INTROSPECT, {**data, "token": token}, headers=headers)


def users_me(http: Browser, access_token: str):
    return http.get(ME, headers={"Authorization": f"Bearer {access_token}"})


# --- Assertions --------------------------------------------------------------------------------


def assert_error_page(response) -> None:
    """Refused without a redirect: an error page for the user, nothing for the client."""
    assert response.status_code == 400, (response.status_code, response.headers.get("Location"))
    assert "Location" not in response.headers
    assert ERROR_PAGE_HEADING in response.text


def assert_oauth_error(response, status: int, error: str) -> dict:
    """An RFC 6749 §5.2 error in the product's shape, never cached, with no token."""
    assert response.status_code == status, (response.status_code, response.text[:500])
    assert response.headers["Content-Type"].startswith("application/json")
    assert response.headers.get("Cache-Control") == "no-store"
    body = response.json()
    assert body["error"] == error, body
    assert body["error_description"]
    assert body["errors"][0]["code"] == error
    assert body["errors"][0]["status"] == str(status)
    assert "access_token" not in body and "refresh_token" not in body
    return body


def assert_invalid_token(response) -> None:
    """A bearer token refused by an API (RFC 6750 §3.1)."""
    assert response.status_code == 401, (response.status_code, response.text[:300])
    assert response.json()["error"] == "invalid_token"
    assert response.headers["WWW-Authenticate"].startswith("Bearer")


def client_redirect(response, tenant, redirect_uri: str = REDIRECT) -> dict[str, str]:
    """A redirect to exactly ``redirect_uri`` with one ``iss`` (the tenant): its query."""
    assert response.status_code == 302, (response.status_code, response.text[:300])
    location = response.headers["Location"]
    parts = urlsplit(location)
    assert f"{parts.scheme}://{parts.netloc}{parts.path}" == redirect_uri, location
    assert not parts.fragment, location
    params = parse_qs(parts.query, keep_blank_values=True)
    assert all(len(values) == 1 for values in params.values()), location
    assert params.get("iss") == [tenant.base_url], location
    return {key: values[0] for key, values in params.items()}


def error_redirect(response, tenant, error: str, redirect_uri: str = REDIRECT) -> dict[str, str]:
    params = client_redirect(response, tenant, redirect_uri)
    assert "code" not in params, params
    assert params.get("error") == error, params
    return params


def login_redirect(response) -> str:
    """A redirect to this host's sign-in page (never elsewhere): its ``next``."""
    assert response.status_code == 302, response.status_code
    parts = urlsplit(response.headers["Location"])
    assert parts.path == "/login/", response.headers["Location"]
    assert not parts.netloc, response.headers["Location"]
    return parse_qs(parts.query).get("next", [""])[0]


# --- The database ------------------------------------------------------------------------------


# Written by a legitimate request of the attacker's own client or session.
VOLATILE = {"last_used_at", "last_login"}


def db_state() -> dict:
    """Every row the endpoints under test could write.

    Sessions, users' last sign-in and secrets' last use aside: an attacker's
    own successful authentication legitimately updates those.
    """
    from consent.models import ConsentGrant
    from oauth_clients.models import (
        AccessToken,
        AllowedOrigin,
        AuthorizationCode,
        ClientSecret,
        ConnectionConfig,
        IDToken,
        OAuthClient,
        RefreshToken,
        RevokedToken,
    )
    from tenants.models import AuditEvent, Membership, Tenant, User

    models = [
        Tenant,
        Membership,
        OAuthClient,
        ClientSecret,
        ConnectionConfig,
        AllowedOrigin,
        AuthorizationCode,
        AccessToken,
        RefreshToken,
        IDToken,
        RevokedToken,
        ConsentGrant,
        AuditEvent,
    ]
    state = {}
    for model in models:
        fields = [f.attname for f in model._meta.concrete_fields if f.attname not in VOLATILE]
        state[model.__name__] = list(model.objects.order_by("pk").values(*fields))
    state["User"] = list(User.objects.order_by("pk").values("pk", "email", "is_active", "password"))
    return state


def assert_unchanged(before: dict) -> None:
    after = db_state()
    for name in before:
        assert after[name] == before[name], f"{name} changed"
