"""Shared fixtures of the black-box security suite (the OAuth protocol and tenant isolation).

Every request goes over real HTTP to pytest-django's ``live_server``, on a
tenant host such as ``acme.eu.localhost:<port>``: ``*.localhost`` resolves to
127.0.0.1 in this process (RFC 6761 §6.3, as browsers do), so the URL and the
Host header keep the tenant's name. Browsers sign in through ``/login/`` with
a cookie-keeping ``requests.Session`` that never follows redirects; the
token, revocation, introspection and API endpoints are called without cookies.

Test data (tenants, users, clients) is made with the ORM and the factories;
the database is also read to prove that a refused request changed nothing.

Personas and OAuth clients are the shared ones (tests/conftest.py); the
protocol's steps are tests/flows.py, which take these browsers as their HTTP
client. Only the fixtures named by the tests here are used: nothing is
autouse, so other files in this folder are not affected by them.
"""

from dataclasses import dataclass
from urllib.parse import urlsplit

import pytest
import requests

from tests.flows import TIMEOUT, Browser, resolve_localhost_names

# --- The server ----------------------------------------------------------------------------


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
    """The live server, with the issuers naming its port (and *.localhost resolving to it)."""
    resolve_localhost_names(monkeypatch)
    settings.PLATFORM_PORT = urlsplit(live_server.url).port
    return Server(settings.PLATFORM_PORT)


# --- Browsers ------------------------------------------------------------------------------


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
def dave_browser(browser, tenant_b, dave) -> Browser:
    return browser(tenant_b, dave)


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
