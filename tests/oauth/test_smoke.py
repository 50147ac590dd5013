import pytest

from tests.oauth.conftest import get_code, redeem

pytestmark = pytest.mark.django_db


def test_the_whole_flow(alice_http, api, web, tenant_a):
    code, verifier = get_code(alice_http, web, scope="user_default offline_access")
    response = redeem(api, web, code, verifier)
    assert response.status_code == 200, response.content
    body = response.json()
    assert body["token_type"] == "Bearer"
    assert body["refresh_token"]
    me = api.get("/api/v1/users/me", HTTP_AUTHORIZATION=f"Bearer {body['access_token']}")
    assert me.status_code == 200, me.content
    assert me.json()["email"] == "alice@acme.test"
