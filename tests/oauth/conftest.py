"""Fixtures for the protocol tests: clients of each type, PKCE, and the flow's steps."""

import base64
import hashlib
import secrets
from dataclasses import dataclass
from urllib.parse import parse_qs, urlencode, urlsplit

import pytest

from oauth_clients.revocation import revocations
from oauth_clients.services import approve_client_for_tenant, publish_client
from tenants.models import Membership
from tests.conftest import client_for
from tests.factories import MembershipFactory, UserFactory, create_oauth_client

REDIRECT = "https://app.example.com/callback"
OFFLINE = "user_default offline_access"
ERROR_KEYS = {"error", "error_description", "errors"}


@pytest.fixture(autouse=True)
def fresh_revocation_list():
    revocations.clear()
    yield
    revocations.clear()


def pkce_pair() -> tuple[str, str]:
    verifier = secrets.token_urlsafe(48)
    digest = hashlib.sha256(verifier.encode()).digest()
    challenge = base64.urlsafe_b64encode(digest).rstrip(b"=").decode()
    return verifier, challenge


@dataclass
class Registered:
    client: object
    secret: str | None
    redirect_uri: str = REDIRECT

    @property
    def client_id(self) -> str:
        return self.client.client_id


@pytest.fixture
def web(tenant_a, alice):
    client, secret = create_oauth_client(
        tenant_a,
        actor=alice,
        name="Web app",
        redirect_uris=[REDIRECT, "http://localhost:8080/cb"],
        allowed_scopes=["user_default", "offline_access", "openid", "profile", "email"],
        consent_method="trusted",
    )
    return Registered(client, secret)


@pytest.fixture
def spa(tenant_a, alice):
    client, _ = create_oauth_client(
        tenant_a,
        actor=alice,
        name="Browser app",
        app_type="spa",
        redirect_uris=["https://spa.example.com/cb"],
        allowed_origins=["https://spa.example.com"],
        allowed_scopes=["user_default", "offline_access"],
        consent_method="trusted",
    )
    return Registered(client, None, "https://spa.example.com/cb")


def query_of(location: str) -> dict[str, str]:
    return {k: v[0] for k, v in parse_qs(urlsplit(location).query).items()}


def authorize_params(registered: Registered, challenge: str, **extra) -> dict:
    params = {
        "response_type": "code",
        "client_id": registered.client_id,
        "redirect_uri": registered.redirect_uri,
        "scope": "user_default",
        "state": "xyz",
        "code_challenge": challenge,
        "code_challenge_method": "S256",
    }
    params.update(extra)
    return {k: v for k, v in params.items() if v is not None}


def authorize(http, registered: Registered, challenge: str, **extra):
    return http.get(
        "/oauth/authorize?" + urlencode(authorize_params(registered, challenge, **extra))
    )


def get_code(http, registered: Registered, **extra) -> tuple[str, str]:
    """Run the authorization step for a signed-in user; returns (code, verifier)."""
    verifier, challenge = pkce_pair()
    response = authorize(http, registered, challenge, **extra)
    assert response.status_code == 302, response.content
    params = query_of(response["Location"])
    assert "code" in params, params
    return params["code"], verifier


def basic(registered: Registered) -> str:
    raw = f"{registered.client_id}:{registered.secret}".encode()
    return "Basic " + base64.b64encode(raw).decode()


def redeem(http, registered: Registered, code: str, verifier: str, **extra):
    data = {
        "grant_type": "authorization_code",
        "code": code,
        "redirect_uri": registered.redirect_uri,
        "code_verifier": verifier,
    }
    data.update(extra)
    headers = {}
    if registered.secret:
        headers["HTTP_AUTHORIZATION"] = basic(registered)
    else:
        data["client_id"] = registered.client_id
    return http.post("/oauth/token", {k: v for k, v in data.items() if v is not None}, **headers)


@pytest.fixture
def alice_http(alice, tenant_a):
    return client_for(tenant_a, alice)


@pytest.fixture
def api(tenant_a):
    """An anonymous client on tenant A's host (for the token endpoint and APIs)."""
    return client_for(tenant_a)


@pytest.fixture
def other_web(tenant_a, alice):
    """A second confidential client of tenant A with the same redirect URL."""
    client, secret = create_oauth_client(
        tenant_a,
        actor=alice,
        name="Other web app",
        redirect_uris=[REDIRECT],
        allowed_scopes=["user_default", "offline_access"],
        consent_method="trusted",
    )
    return Registered(client, secret)


@pytest.fixture
def globex_web(tenant_b, carol):
    """A confidential client of tenant B with the same redirect URL."""
    client, secret = create_oauth_client(
        tenant_b,
        actor=carol,
        name="Globex app",
        redirect_uris=[REDIRECT],
        allowed_scopes=["user_default", "offline_access"],
        consent_method="trusted",
    )
    return Registered(client, secret)


def issue(alice_http, api, registered: Registered, scope: str = OFFLINE) -> dict:
    """Run the code flow for alice and redeem the code; returns the token response's JSON."""
    code, verifier = get_code(alice_http, registered, scope=scope)
    response = redeem(api, registered, code, verifier)
    assert response.status_code == 200, response.content
    return response.json()


def users_me(http, access_token: str):
    """GET /api/v1/users/me with the access token as a Bearer credential."""
    return http.get("/api/v1/users/me", HTTP_AUTHORIZATION=f"Bearer {access_token}")


def assert_oauth_error(response, status: int, error: str) -> dict:
    """An RFC 6749 §5.2 error in our shape, never cached and carrying no token."""
    assert response.status_code == status, response.content
    assert response["Content-Type"].startswith("application/json")
    assert response["Cache-Control"] == "no-store"
    body = response.json()
    assert set(body) >= ERROR_KEYS, body
    assert body["error"] == error, body
    assert body["error_description"]
    [item] = body["errors"]
    assert item["code"] == error
    assert item["status"] == str(status)
    assert item["title"]
    assert item["detail"] == body["error_description"]
    assert "access_token" not in body
    assert "active" not in body
    return body


# --- A published client and the other tenant of its region --------------------------------


@pytest.fixture
def published(web, alice):
    """Acme's Web client (trusted at Acme), published in the eu region."""
    publish_client(web.client, actor=alice)
    web.client.refresh_from_db()
    return web


@pytest.fixture
def dave(tenant_b):
    """A member (not admin) of Globex."""
    user = UserFactory(email="dave@globex.test", name="Dave")
    MembershipFactory(user=user, tenant=tenant_b, role=Membership.Role.MEMBER)
    return user


@pytest.fixture
def carol_http(carol, tenant_b):
    return client_for(tenant_b, carol)


@pytest.fixture
def dave_http(dave, tenant_b):
    return client_for(tenant_b, dave)


@pytest.fixture
def approved(published, tenant_b, carol):
    approve_client_for_tenant(tenant_b, published.client, actor=carol)
    return published
