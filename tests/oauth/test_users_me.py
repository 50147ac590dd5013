"""GET /api/v1/users/me: the platform API that bearer tokens open (RFC 6750)."""

import time

import pytest

from oauth_clients.oauth import tokens
from tests.flows import ME, assert_invalid_token, bearer, client_for, issue
from tests.jwts import craft_token, subject_of

pytestmark = pytest.mark.django_db


@pytest.fixture
def token(alice_client, api, web):
    return issue(alice_client, api, web, scope="user_default")["access_token"]


def test_it_says_who_the_token_speaks_for(api, token, tenant_a, alice):
    response = api.get(ME, headers=bearer(token))

    assert response.status_code == 200, response.content
    assert response["Content-Type"] == "application/json"
    body = response.json()
    assert body["id"] == subject_of(alice, tenant_a)
    assert body["tenantId"] == str(tenant_a.pk)
    assert body["name"] == "Alice"
    assert body["email"] == "alice@acme.test"
    assert body["type"] == "user"
    assert body["roles"] == ["TenantAdmin"]
    assert "no-cache" in response["Cache-Control"] or "max-age=0" in response["Cache-Control"]


def test_a_member_is_no_tenant_admin(bob, tenant_a, api):
    body = api.get(ME, headers=bearer(craft_token(tenant_a, bob))).json()

    assert body["email"] == "bob@acme.test"
    assert body["roles"] == []
    assert body["id"] == subject_of(bob, tenant_a)


def test_the_bearer_scheme_is_case_insensitive(api, token):
    assert api.get(ME, HTTP_AUTHORIZATION=f"bearer {token}").status_code == 200
    assert api.get(ME, HTTP_AUTHORIZATION=f"BEARER {token}").status_code == 200


def test_head_works_like_get(api, token):
    response = api.head(ME, headers=bearer(token))

    assert response.status_code == 200
    assert response.content == b""


def test_without_a_token_it_answers_401_with_a_bearer_challenge(api):
    response = api.get(ME)

    assert response.status_code == 401
    # RFC 6750 §3.1: no error code when the request carried no credentials.
    assert response["WWW-Authenticate"] == 'Bearer realm="api"'
    assert response.json()["error"] == "invalid_token"
    assert "no-store" in response["Cache-Control"]


@pytest.mark.parametrize(
    "header",
    [
        "Bearer",
        "Bearer ",
        "Bearer    ",
        "Token abc",
        "Basic YWxpY2U6cGFzc3dvcmQ=",
        "bearer",
        "Bearertoken",
    ],
)
def test_a_header_without_a_bearer_token_is_401(api, header):
    response = api.get(ME, HTTP_AUTHORIZATION=header)

    assert response.status_code == 401
    assert response["WWW-Authenticate"].startswith("Bearer ")


@pytest.mark.parametrize(
    "value", ["not-a-jwt", "a.b.c", "Bearer abc.def.ghi", "{}", "eyJhbGciOiJub25lIn0.e30."]
)
def test_a_malformed_bearer_token_is_invalid_token(api, value):
    assert_invalid_token(api.get(ME, HTTP_AUTHORIZATION=f"Bearer {value}"))


def test_a_token_with_text_after_it_is_refused(api, token):
    assert_invalid_token(api.get(ME, HTTP_AUTHORIZATION=f"Bearer {token} extra"))


def test_a_token_of_tenant_a_is_invalid_at_tenant_b(token, tenant_b, carol):
    response = client_for(tenant_b).get(ME, headers=bearer(token))

    assert_invalid_token(response)


def test_a_token_of_tenant_b_is_invalid_at_tenant_a(api, tenant_b, carol):
    assert_invalid_token(api.get(ME, headers=bearer(craft_token(tenant_b, carol))))


def test_an_expired_token_is_invalid(api, tenant_a, alice):
    now = int(time.time())
    expired = craft_token(tenant_a, alice, iat=now - 7200, exp=now - 3600)

    assert_invalid_token(api.get(ME, headers=bearer(expired)))


def test_an_issued_token_is_invalid_once_its_hour_has_passed(api, token, monkeypatch):
    now = time.time()
    monkeypatch.setattr(tokens.time, "time", lambda: now + 3599)
    assert api.get(ME, headers=bearer(token)).status_code == 200

    monkeypatch.setattr(tokens.time, "time", lambda: now + 3601)
    assert_invalid_token(api.get(ME, headers=bearer(token)))


def test_a_token_without_user_default_is_insufficient_scope(alice_client, api, web):
    token = issue(alice_client, api, web, scope="openid profile")["access_token"]

    response = api.get(ME, headers=bearer(token))

    assert response.status_code == 403
    challenge = response["WWW-Authenticate"]
    assert challenge.startswith("Bearer ")
    assert 'error="insufficient_scope"' in challenge
    assert 'scope="user_default"' in challenge
    body = response.json()
    assert body["error"] == "insufficient_scope"
    assert body["errors"][0]["status"] == "403"


def test_the_session_cookie_alone_never_authenticates(alice_client):
    response = alice_client.get(ME)

    assert response.status_code == 401
    assert "Location" not in response
    assert response["WWW-Authenticate"] == 'Bearer realm="api"'


def test_the_session_cookie_does_not_rescue_a_bad_token(alice_client):
    response = alice_client.get(ME, HTTP_AUTHORIZATION="Bearer nonsense")

    assert_invalid_token(response)


def test_an_api_never_redirects_to_the_sign_in_page(api):
    for path in (ME, "/api/v1/nope", "/api/"):
        response = api.get(path)
        assert response.status_code in (401, 404)
        assert "Location" not in response
        assert "/login" not in response.content.decode()


def test_post_is_not_allowed(api, token):
    response = api.post(ME, {}, headers=bearer(token))

    assert response.status_code == 405
    assert "GET" in response["Allow"]


@pytest.mark.parametrize("method", ["put", "patch", "delete"])
def test_other_writes_are_not_allowed(api, token, method):
    assert getattr(api, method)(ME, headers=bearer(token)).status_code == 405


def test_an_unknown_api_path_is_a_json_404(api, token):
    for path in ("/api/v1/nope", "/api/v1/users/me/", "/api/v2/users/me", "/api/"):
        response = api.get(path, headers=bearer(token))
        assert response.status_code == 404, path
        assert response["Content-Type"] == "application/json"
        assert response.json()["error"] == "not_found"


def test_an_access_token_in_the_query_string_is_not_accepted(api, token):
    response = api.get(f"{ME}?access_token={token}")

    assert response.status_code == 401
    assert response["WWW-Authenticate"] == 'Bearer realm="api"'


def test_an_access_token_in_a_form_body_is_not_accepted(api, token):
    # GET only: a body parameter (RFC 6750 §2.2) has nothing to carry it to.
    response = api.generic(
        "GET",
        ME,
        f"access_token={token}",
        content_type="application/x-www-form-urlencoded",
    )

    assert response.status_code == 401


def test_the_api_is_not_served_on_a_region_host(token, region_eu):
    from django.test import Client

    response = Client(HTTP_HOST="eu.localhost").get(ME, headers=bearer(token))

    assert response.status_code == 404


def test_a_deactivated_tenant_answers_404(api, token, tenant_a):
    tenant_a.is_active = False
    tenant_a.save()

    assert api.get(ME, headers=bearer(token)).status_code == 404
