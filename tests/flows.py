"""The OAuth flows as a client application and a user's browser run them, for any HTTP client.

Every step takes the HTTP client it speaks through as its first argument:

- Django's test ``Client`` (``client_for(tenant, user)``), in process;
- ``Browser``, a ``requests`` session against the live server (tests/security).

Both take ``headers={...}`` and answer with ``status_code``, ``headers``,
``text`` and ``json()``; that is all these helpers use. A client that the
steps speak for is a ``Registered`` (the ``OAuthClient`` row, its plaintext
secret and the redirect URL it uses).

The sections follow the flow: the HTTP clients, the registered clients, the
authorization request and its screens (sign-in, tenant approval, consent),
the token endpoint and the bearer API, and the assertions on what comes back.
"""

import base64
import hashlib
import html as html_lib
import re
import secrets
import socket
import time
from dataclasses import dataclass, replace
from html.parser import HTMLParser
from urllib.parse import parse_qs, urlencode, urlsplit

import requests
from django.test import Client

from tests.factories import PASSWORD, create_oauth_client

REDIRECT = "https://app.example.com/callback"
LOOPBACK_REDIRECT = "http://localhost:8080/cb"
# A native app listens on a loopback port it picks at run time; the server
# matches loopback http redirect URLs with any port (RFC 8252 §7.3).
NATIVE_REDIRECT = "http://127.0.0.1/cb"
SPA_ORIGIN = "https://spa.example.com"
SPA_REDIRECT = f"{SPA_ORIGIN}/cb"
OFFLINE = "user_default offline_access"

AUTHORIZE = "/oauth/authorize"
TOKEN = "/oauth/token"
REVOKE = "/oauth/revoke"
INTROSPECT = "/oauth/introspect"
USERINFO = "/oauth/userinfo"
ME = "/api/v1/users/me"

ERROR_PAGE_HEADING = "This sign-in link does not work"
CONSENT_HEADING = "wants to use your account"
ERROR_KEYS = {"error", "error_description", "errors"}
TIMEOUT = 10  # seconds, for every request over the network

_CSRF_INPUT = re.compile(r'name="csrfmiddlewaretoken" value="([^"]+)"')
_HIDDEN_INPUT = re.compile(r'<input type="hidden" name="([^"]+)" value="([^"]*)"')


# --- HTTP clients ----------------------------------------------------------------------------


def client_for(tenant, user=None, **defaults) -> Client:
    """A test client speaking to ``tenant``'s host, signed in as ``user`` there if given."""
    client = Client(HTTP_HOST=tenant.hostname, **defaults)
    if user is not None:
        sign_in(client, user, tenant)
    return client


def sign_in(client: Client, user, tenant, *, seconds_ago: int = 0) -> None:
    """What a successful sign-in at ``tenant`` (``seconds_ago``) leaves in the session."""
    from tenants import sessions

    client.force_login(user)
    session = client.session
    session[sessions.TENANT_KEY] = tenant.pk
    session[sessions.AUTH_TIME_KEY] = int(time.time()) - seconds_ago
    session.save()


def resolve_localhost_names(monkeypatch) -> None:
    """Resolve ``*.localhost`` to 127.0.0.1 in this process, as RFC 6761 §6.3 asks.

    Browsers do; glibc here does not (``socket.getaddrinfo("acme.eu.localhost",
    80)`` fails). Every HTTP library resolves through ``socket.getaddrinfo``, so
    they connect to the live server while the URL, and so the Host header, keeps
    the tenant's name. Other names are untouched.
    """
    real_getaddrinfo = socket.getaddrinfo

    def getaddrinfo(host, *args, **kwargs):
        if isinstance(host, bytes):
            host = host.decode("ascii")
        if isinstance(host, str) and host.rstrip(".").lower().endswith(".localhost"):
            host = "127.0.0.1"
        return real_getaddrinfo(host, *args, **kwargs)

    monkeypatch.setattr(socket, "getaddrinfo", getaddrinfo)


class Browser:
    """One user agent at one host of the live server: keeps its cookies, never follows a
    redirect. Needs ``resolve_localhost_names`` (the ``server`` fixture of tests/security)."""

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
    """The CSRF token of the page's form."""
    match = _CSRF_INPUT.search(html)
    assert match, "no CSRF token on the page"
    return match.group(1)


# --- Registered clients ------------------------------------------------------------------------


@dataclass
class Registered:
    """A client as its application knows itself: the row, its secret, the redirect URL it uses."""

    client: object
    secret: str | None
    redirect_uri: str = REDIRECT

    @property
    def client_id(self) -> str:
        return self.client.client_id

    def at(self, redirect_uri: str | None) -> "Registered":
        """The same client sending another redirect URL (None: none at all)."""
        return replace(self, redirect_uri=redirect_uri)


def make_client(tenant, actor, *, app_type="web", redirect_uris=(REDIRECT,), **fields):
    """A client made as the console makes it, *trusted* (no consent page) unless told.

    Its redirect URL is the first of ``redirect_uris``; without ``allowed_scopes``
    it may ask for every scope a user grants.
    """
    fields.setdefault("consent_method", "trusted")
    fields.setdefault(
        "allowed_scopes", ["user_default", "offline_access", "openid", "profile", "email"]
    )
    client, secret = create_oauth_client(
        tenant, actor=actor, app_type=app_type, redirect_uris=list(redirect_uris), **fields
    )
    return Registered(client, secret, redirect_uris[0])


def required_client(tenant, actor, **fields) -> Registered:
    """A Web client whose consent method is *required*: its users see the consent page."""
    fields.setdefault("name", "Quarterly reports")
    fields.setdefault("allowed_scopes", ["user_default", "offline_access", "email"])
    return make_client(tenant, actor, consent_method="required", **fields)


# --- The authorization request ---------------------------------------------------------------


def pkce_pair() -> tuple[str, str]:
    """A PKCE code verifier and its S256 challenge (RFC 7636 §4.1-4.2)."""
    verifier = secrets.token_urlsafe(48)
    return verifier, challenge_of(verifier)


def challenge_of(verifier: str) -> str:
    digest = hashlib.sha256(verifier.encode()).digest()
    return base64.urlsafe_b64encode(digest).rstrip(b"=").decode()


def authorize_params(registered: Registered, challenge: str | None, **extra) -> dict:
    """The query of an authorization request (RFC 6749 §4.1.1); a None value drops a
    parameter."""
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


def authorize_url(registered: Registered, challenge: str | None, **extra) -> str:
    """The authorization request as a path with its query, on the host of the caller."""
    return f"{AUTHORIZE}?{urlencode(authorize_params(registered, challenge, **extra))}"


def authorize(http, registered: Registered, challenge: str | None, **extra):
    return http.get(authorize_url(registered, challenge, **extra))


def query_of(url: str) -> dict[str, str]:
    return {key: values[0] for key, values in parse_qs(urlsplit(url).query).items()}


def get_code(http, registered: Registered, **extra) -> tuple[str, str]:
    """The authorization step of a signed-in user of a trusted client: (code, verifier).

    The answer must be the redirect back with a code, no screen in between.
    """
    verifier, challenge = pkce_pair()
    response = authorize(http, registered, challenge, **extra)
    assert response.status_code == 302, (response.status_code, response.text[:300])
    params = query_of(response.headers["Location"])
    assert "code" in params, params
    return params["code"], verifier


# --- The screens: tenant approval and consent ----------------------------------------------


def hidden_fields(html: str) -> dict[str, str]:
    """The hidden inputs of a page, their values as a browser posts them (unescaped)."""
    return {name: html_lib.unescape(value) for name, value in _HIDDEN_INPUT.findall(html)}


def is_approval_page(response) -> bool:
    return response.status_code == 200 and 'name="tenant_approval"' in response.text


def is_consent_page(response) -> bool:
    return response.status_code == 200 and CONSENT_HEADING in response.text


def answer_approval(http, page, answer: str = "approve"):
    """Post the approval page's form with ``answer`` ("approve" or "cancel")."""
    return http.post(AUTHORIZE, {**hidden_fields(page.text), "tenant_approval": answer})


def allow_consent(http, page):
    return http.post(AUTHORIZE, {**hidden_fields(page.text), "allow": "Authorize"})


class PageForm(HTMLParser):
    """The page's POST form: its action, hidden inputs, and submit buttons by name."""

    def __init__(self):
        super().__init__()
        self.in_form = False
        self.forms = 0
        self.action = None
        self.hidden: dict[str, str] = {}
        self.buttons: list[tuple[str | None, str | None]] = []

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag == "form" and (attrs.get("method") or "").lower() == "post":
            self.in_form = True
            self.forms += 1
            self.action = attrs.get("action")
        elif self.in_form and tag == "input" and attrs.get("type") == "hidden":
            self.hidden[attrs["name"]] = attrs.get("value") or ""
        elif self.in_form and tag == "button":
            self.buttons.append((attrs.get("name"), attrs.get("value")))

    def handle_endtag(self, tag):
        if tag == "form":
            self.in_form = False


def consent_form(response) -> PageForm:
    """The consent page's one POST form."""
    assert response.status_code == 200, (response.status_code, response.headers.get("Location"))
    form = PageForm()
    form.feed(response.text)
    assert form.forms == 1
    return form


def post_form(http, form: PageForm, **overrides):
    """Submit ``form`` with ``overrides`` (a button as ``allow="Authorize"``); None drops a
    field."""
    data = {**form.hidden, **overrides}
    return http.post(form.action, {k: v for k, v in data.items() if v is not None})


def sign_in_through(http, registered: Registered, tenant, **extra) -> tuple[str, str]:
    """The whole authorization step at ``tenant``: approve and consent if asked.

    Returns (code, verifier).
    """
    verifier, challenge = pkce_pair()
    response = authorize(http, registered, challenge, **extra)
    if is_approval_page(response):
        response = answer_approval(http, response)
    if is_consent_page(response):
        response = allow_consent(http, response)
    params = client_redirect(response, tenant, registered.redirect_uri)
    assert "code" in params, params
    return params["code"], verifier


def error_text(response) -> str:
    """The error page's message, without the per-response CSRF token around it."""
    match = re.search(r'<p class="alert alert-error" role="alert">(.*?)</p>', response.text, re.S)
    return match.group(1)


def config_at(tenant, registered: Registered):
    """The client's connection config at ``tenant`` (its approval there), or None."""
    from oauth_clients.models import ConnectionConfig

    return ConnectionConfig.objects.filter(tenant=tenant, client=registered.client).first()


# --- The token endpoint and the API ----------------------------------------------------------


def basic(registered: Registered | None = None, *, client_id=None, secret=None) -> str:
    """An HTTP Basic credential (RFC 7617) for ``registered``; ``client_id`` or ``secret``
    replace its own (another client's id, a wrong secret)."""
    client_id = registered.client_id if client_id is None else client_id
    secret = registered.secret if secret is None else secret
    return "Basic " + base64.b64encode(f"{client_id}:{secret}".encode()).decode()


def bearer(access_token: str) -> dict:
    """The headers that present ``access_token`` (RFC 6750 §2.1)."""
    return {"Authorization": f"Bearer {access_token}"}


def client_auth(registered: Registered, auth: str = "auto") -> tuple[dict, dict]:
    """(headers, body fields) that authenticate ``registered`` (RFC 6749 §2.3).

    ``auth``: "basic" (HTTP Basic), "post" (client_id and client_secret in the
    body), "client_id" (a public client's id alone), "none", or "auto": Basic
    for a client with a secret, its client_id alone otherwise.
    """
    if auth == "auto":
        auth = "basic" if registered.secret else "client_id"
    if auth == "basic":
        return {"Authorization": basic(registered)}, {}
    if auth == "post":
        return {}, {"client_id": registered.client_id, "client_secret": registered.secret}
    if auth == "client_id":
        return {}, {"client_id": registered.client_id}
    assert auth == "none", auth
    return {}, {}


def token_request(
    http, code: str, verifier: str | None, *, redirect_uri=REDIRECT, authorization=None, **fields
):
    """A code exchange with only the credentials given: ``authorization`` (a header value)
    or fields such as ``client_id``; a None field is left out."""
    data = {
        "grant_type": "authorization_code",
        "code": code,
        "redirect_uri": redirect_uri,
        "code_verifier": verifier,
        **fields,
    }
    headers = {"Authorization": authorization} if authorization else {}
    return http.post(TOKEN, {k: v for k, v in data.items() if v is not None}, headers=headers)


def redeem(http, registered: Registered, code: str, verifier: str | None, *, auth="auto", **extra):
    """The code exchange as ``registered`` makes it (RFC 6749 §4.1.3, RFC 7636 §4.5)."""
    headers, fields = client_auth(registered, auth)
    data = {
        "grant_type": "authorization_code",
        "code": code,
        "redirect_uri": registered.redirect_uri,
        "code_verifier": verifier,
        **fields,
        **extra,
    }
    return http.post(TOKEN, {k: v for k, v in data.items() if v is not None}, headers=headers)


def issue(agent, http, registered: Registered, *, scope: str = OFFLINE, **extra) -> dict:
    """Code and tokens in one: ``agent`` (a signed-in user) gets the code, ``http``
    redeems it; the token response's JSON."""
    code, verifier = get_code(agent, registered, scope=scope, **extra)
    response = redeem(http, registered, code, verifier)
    assert response.status_code == 200, response.text
    return response.json()


def issue_through(agent, registered: Registered, tenant, *, http=None, scope: str = OFFLINE):
    """``issue`` at ``tenant`` through its approval and consent screens (``sign_in_through``);
    the code is redeemed at ``tenant`` (by ``http``, in process by default)."""
    code, verifier = sign_in_through(agent, registered, tenant, scope=scope)
    response = redeem(http or client_for(tenant), registered, code, verifier)
    assert response.status_code == 200, response.text
    return response.json()


def refresh(http, registered: Registered, refresh_token: str, *, auth="auto", **extra):
    """A refresh request (RFC 6749 §6); ``auth`` as in ``client_auth``."""
    headers, data = client_auth(registered, auth)
    data.update({"grant_type": "refresh_token", "refresh_token": refresh_token, **extra})
    return http.post(TOKEN, data, headers=headers)


def client_credentials(http, registered: Registered, *, auth="basic", **extra):
    """A client credentials grant (RFC 6749 §4.4)."""
    headers, data = client_auth(registered, auth)
    return http.post(TOKEN, {**data, "grant_type": "client_credentials", **extra}, headers=headers)


def revoke(http, registered: Registered, token: str, *, auth="auto", **extra):
    """A revocation request (RFC 7009 §2.1)."""
    headers, data = client_auth(registered, auth)
    return http.post(REVOKE, {**data, "token": token, **extra}, headers=headers)


def introspect(http, registered: Registered, token: str, *, auth="auto", **extra):
    """An introspection request (RFC 7662 §2.1)."""
    headers, data = client_auth(registered, auth)
    return http.post(INTROSPECT, {**data, "token": token, **extra}, headers=headers)


def users_me(http, access_token: str):
    """GET /api/v1/users/me with the access token as a Bearer credential."""
    return http.get(ME, headers=bearer(access_token))


# --- Assertions ------------------------------------------------------------------------------


def client_redirect(response, tenant, redirect_uri: str = REDIRECT) -> dict[str, str]:
    """A redirect to exactly ``redirect_uri`` with one ``iss`` (the tenant, RFC 9207): its
    query."""
    assert response.status_code == 302, (response.status_code, response.text[:500])
    location = response.headers["Location"]
    parts = urlsplit(location)
    assert f"{parts.scheme}://{parts.netloc}{parts.path}" == redirect_uri, location
    assert not parts.fragment, location
    params = parse_qs(parts.query, keep_blank_values=True)
    assert all(len(values) == 1 for values in params.values()), location
    assert params.get("iss") == [tenant.base_url], location
    return {key: values[0] for key, values in params.items()}


def error_redirect(
    response, tenant, error: str | None = None, redirect_uri: str = REDIRECT
) -> dict[str, str]:
    """An error sent back to the client (RFC 6749 §4.1.2.1): ``error`` if given, no code."""
    params = client_redirect(response, tenant, redirect_uri)
    assert "code" not in params, params
    if error is None:
        assert params.get("error"), params
    else:
        assert params.get("error") == error, params
    return params


def assert_error_page(response, *, no_codes: bool = False) -> None:
    """Refused without a redirect: an error page for the user, nothing for the client
    (and, with ``no_codes``, no authorization code in the database at all)."""
    assert response.status_code == 400, (response.status_code, response.headers.get("Location"))
    assert "Location" not in response.headers
    assert ERROR_PAGE_HEADING in response.text
    if no_codes:
        from oauth_clients.models import AuthorizationCode

        assert AuthorizationCode.objects.count() == 0


def login_redirect(response) -> str:
    """A redirect to this host's sign-in page (never elsewhere): its ``next``."""
    assert response.status_code == 302, response.status_code
    location = response.headers["Location"]
    parts = urlsplit(location)
    assert parts.path == "/login/", location
    assert not parts.netloc, location
    return parse_qs(parts.query).get("next", [""])[0]


def assert_oauth_error(response, status: int, error: str) -> dict:
    """An RFC 6749 §5.2 error in the product's shape, never cached, with no token."""
    assert response.status_code == status, (response.status_code, response.text[:500])
    assert response.headers["Content-Type"].startswith("application/json")
    assert response.headers.get("Cache-Control") == "no-store"
    body = response.json()
    assert set(body) >= ERROR_KEYS, body
    assert body["error"] == error, body
    assert body["error_description"]
    [item] = body["errors"]
    assert item["code"] == error
    assert item["status"] == str(status)
    assert item["title"]
    assert item["detail"] == body["error_description"]
    assert "access_token" not in body and "refresh_token" not in body
    assert "active" not in body
    return body


def assert_invalid_token(response) -> None:
    """A bearer token refused by an API (RFC 6750 §3.1), never cached."""
    assert response.status_code == 401, (response.status_code, response.text[:300])
    assert response.headers["Content-Type"] == "application/json"
    challenge = response.headers["WWW-Authenticate"]
    assert challenge.startswith("Bearer "), challenge
    assert 'error="invalid_token"' in challenge, challenge
    body = response.json()
    assert body["error"] == "invalid_token"
    assert body["errors"][0]["status"] == "401"
    assert "no-store" in response.headers["Cache-Control"]
