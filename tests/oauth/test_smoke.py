"""The code flow end to end, as a client application runs it: code, tokens, the API."""

import pytest

from tests.flows import get_code, redeem, users_me

pytestmark = pytest.mark.django_db


def test_the_whole_flow(alice_client, api, web, tenant_a):
    code, verifier = get_code(alice_client, web, scope="user_default offline_access")
    response = redeem(api, web, code, verifier)
    assert response.status_code == 200, response.content
    body = response.json()
    assert body["token_type"] == "Bearer"
    assert body["refresh_token"]
    me = users_me(api, body["access_token"])
    assert me.status_code == 200, me.content
    assert me.json()["email"] == "alice@acme.test"
