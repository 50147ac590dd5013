"""Management API fixtures: bearer tokens with admin_classic for each persona, and helpers."""

import json
import re
from urllib.parse import urlsplit

import pytest
from oauthlib.common import Request

from oauth_clients.models import ClientSecret, ConnectionConfig, OAuthClient
from oauth_clients.oauth.tokens import generate_access_token
from oauth_clients.oauthlib_request import TENANT_KEY
from tenants.models import AuditEvent
from tests.factories import create_oauth_client
from tests.flows import Registered, basic, client_for

BASE = "/api/v1/oauth-clients"
REDIRECT = "https://app.example.com/callback"

# Every operation of the API, with its path template: {id} a client id, {hint} a secret hint.
OPERATIONS = [
    ("GET", BASE),
    ("POST", BASE),
    ("GET", BASE + "/{id}"),
    ("PATCH", BASE + "/{id}"),
    ("DELETE", BASE + "/{id}"),
    ("POST", BASE + "/{id}/actions/publish"),
    ("POST", BASE + "/{id}/actions/unpublish"),
    ("POST", BASE + "/{id}/client-secrets"),
    ("DELETE", BASE + "/{id}/client-secrets/{hint}"),
    ("GET", BASE + "/{id}/connection-configs/me"),
    ("PATCH", BASE + "/{id}/connection-configs/me"),
    ("DELETE", BASE + "/{id}/connection-configs/me"),
]
# A body each operation accepts (for requests expected to be refused before it is read).
BODIES = {
    ("POST", BASE): {
        "clientName": "New",
        "appType": "web",
        "redirectUris": [REDIRECT],
        "allowedScopes": ["user_default"],
    },
    ("PATCH", BASE + "/{id}"): [{"op": "replace", "path": "/clientName", "value": "Changed"}],
    ("PATCH", BASE + "/{id}/connection-configs/me"): [
        {"op": "replace", "path": "/consentMethod", "value": "trusted"}
    ],
}


def token_for(tenant, user, client, scopes=("admin_classic",)) -> str:
    """An access token as the token endpoint issues it (the flow itself is tested elsewhere)."""
    request = Request("https://example.test/oauth/token", headers={TENANT_KEY: tenant})
    request.client = client
    request.user = user
    request.scopes = list(scopes)
    request.grant_type = "authorization_code"
    return generate_access_token(request)


def client_credentials_token(tenant, client, secret: str, scope="admin_classic"):
    """``POST /oauth/token`` with ``grant_type=client_credentials``: the response."""
    return client_for(tenant).post(
        "/oauth/token",
        {"grant_type": "client_credentials", "scope": scope},
        HTTP_AUTHORIZATION=basic(Registered(client, secret)),
    )


class Api:
    """A test client that speaks JSON with a bearer token to one tenant's host.

    Server errors come back as 500 responses (not raised), so that a test
    asserts the status the API should have answered.
    """

    def __init__(self, tenant, token):
        self.tenant = tenant
        self.http = client_for(tenant, raise_request_exception=False)
        self.headers = {"HTTP_AUTHORIZATION": f"Bearer {token}"} if token else {}

    def get(self, path, **params):
        return self.http.get(path, params, **self.headers)

    def post(self, path, body=None):
        return self.http.post(
            path,
            json.dumps(body) if body is not None else "",
            content_type="application/json",
            **self.headers,
        )

    def patch(self, path, body):
        return self.http.patch(
            path, json.dumps(body), content_type="application/json", **self.headers
        )

    def delete(self, path):
        return self.http.delete(path, **self.headers)

    def raw(self, method, path, data="", content_type="application/json"):
        """Any method with a body sent exactly as given."""
        return self.http.generic(method, path, data, content_type=content_type, **self.headers)

    def call(self, method, path, body=None):
        """``method`` on ``path`` with ``body`` as JSON (or no body)."""
        data = json.dumps(body) if body is not None else ""
        return self.raw(method, path, data)

    def follow(self, href: str, **extra):
        """GET a link the API gave out (an absolute URL on this tenant's host)."""
        url = urlsplit(href)
        assert f"{url.scheme}://{url.netloc}" == self.tenant.base_url, href
        return self.http.get(f"{url.path}?{url.query}", **self.headers, **extra)

    # --- Shortcuts ---------------------------------------------------------------------
    def create(self, **overrides) -> dict:
        body = {
            "clientName": "Reports",
            "appType": "web",
            "redirectUris": [REDIRECT],
            "allowedScopes": ["user_default"],
            **overrides,
        }
        response = self.post(BASE, body)
        assert response.status_code == 201, response.content
        return response.json()

    def client(self, client_id: str) -> dict:
        response = self.get(f"{BASE}/{client_id}")
        assert response.status_code == 200, response.content
        return response.json()


def assert_errors(
    response, status: int, *, field: str | None = None, code: str | None = None, no_store=True
):
    """The API's error document: ``{errors: [{code, title, detail, status}]}``, not cached.

    ``field`` (dotted, e.g. ``connectionConfig.consentMethod``) must be named
    by one of the errors as its JSON pointer (``source.pointer``), or an item of
    it (``/redirectUris/2``) where one item of a list is wrong.
    """
    assert response.status_code == status, (response.status_code, response.content)
    assert response["Content-Type"].startswith("application/json"), response["Content-Type"]
    if no_store:
        assert "no-store" in response["Cache-Control"]
    errors = response.json()["errors"]
    assert errors, response.content
    for error in errors:
        assert {"code", "title", "detail", "status"} <= set(error), error
        assert error["status"] == str(status)
        assert all(isinstance(error[key], str) and error[key] for key in ("code", "title")), error
    if code is not None:
        assert code in [error["code"] for error in errors], errors
    if field is not None:
        pointer = "/" + field.replace(".", "/")
        pointers = [e.get("source", {}).get("pointer", "") for e in errors]
        named = [p for p in pointers if p == pointer or re.fullmatch(rf"{pointer}/\d+", p)]
        assert named, f"no error points at {pointer}: {errors}"
    return errors


def snapshot(*tenants) -> dict:
    """What the API could change in these tenants: clients, secrets, configs, audit trail."""
    return {
        "clients": sorted(
            OAuthClient.objects.filter(tenant__in=tenants).values_list(
                "client_id",
                "name",
                "description",
                "redirect_uris",
                "allowed_origins",
                "allowed_scopes",
                "machine_to_machine",
                "published_at",
                "deleted_at",
                "updated",
            )
        ),
        "secrets": sorted(
            ClientSecret.objects.filter(client__tenant__in=tenants).values_list(
                "client__client_id", "hint", "digest"
            )
        ),
        "configs": sorted(
            ConnectionConfig.objects.filter(client__tenant__in=tenants).values_list(
                "client__client_id", "tenant_id", "consent_method", "approved_at"
            )
        ),
        "events": list(AuditEvent.objects.filter(tenant__in=tenants).values_list("pk", flat=True)),
    }


@pytest.fixture
def tool_client(tenant_a, alice):
    """The client through which the admin's automation got its token."""
    client, _ = create_oauth_client(
        tenant_a, actor=alice, name="Automation", allowed_scopes=["admin_classic", "user_default"]
    )
    return client


@pytest.fixture
def alice_api(tenant_a, alice, tool_client):
    return Api(tenant_a, token_for(tenant_a, alice, tool_client))


@pytest.fixture
def bob_api(tenant_a, bob, tool_client):
    return Api(tenant_a, token_for(tenant_a, bob, tool_client))


@pytest.fixture
def carol_api(tenant_b, carol):
    client, _ = create_oauth_client(tenant_b, actor=carol, allowed_scopes=["admin_classic"])
    return Api(tenant_b, token_for(tenant_b, carol, client))


@pytest.fixture
def web(alice_api) -> dict:
    """A Web client created through the API, as its POST answered (with its one-time secret).

    Not tests/conftest.py's ``web`` (a ``Registered``): here the API's JSON.
    """
    return alice_api.create(clientName="Web app", description="Monthly reports")


@pytest.fixture
def spa(alice_api) -> dict:
    return alice_api.create(
        clientName="Browser app",
        appType="spa",
        redirectUris=["https://spa.example.com/cb"],
        allowedOrigins=["https://spa.example.com"],
    )


@pytest.fixture
def carols_client(tenant_b, carol):
    """Another tenant's Web client, with its first secret."""
    client, secret = create_oauth_client(tenant_b, actor=carol, name="Globex reports")
    return Registered(client, secret)
