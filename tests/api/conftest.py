"""Management API fixtures: bearer tokens with admin_classic for each persona."""

import json

import pytest
from oauthlib.common import Request

from oauth_clients.oauth.request import TENANT_KEY
from oauth_clients.oauth.tokens import generate_access_token
from tests.conftest import client_for
from tests.factories import create_oauth_client


def token_for(tenant, user, client, scopes=("admin_classic",)) -> str:
    """An access token as the token endpoint issues it (the flow itself is tested elsewhere)."""
    request = Request("https://example.test/oauth/token", headers={TENANT_KEY: tenant})
    request.client = client
    request.user = user
    request.scopes = list(scopes)
    request.grant_type = "authorization_code"
    return generate_access_token(request)


class Api:
    """A test client that speaks JSON with a bearer token to one tenant's host."""

    def __init__(self, tenant, token):
        self.http = client_for(tenant)
        self.headers = {"HTTP_AUTHORIZATION": f"Bearer {token}"}

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
