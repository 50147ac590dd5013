"""``POST /oauth/revoke`` (RFC 7009)."""

import json

import pytest

from oauth_clients.models import AccessToken, RefreshToken, RevokedToken
from tests.factories import create_oauth_client
from tests.flows import (
    REDIRECT,
    Registered,
    assert_oauth_error,
    basic,
    client_for,
    issue,
    refresh,
    revoke,
    users_me,
)
from tests.jwts import jti_of

pytestmark = pytest.mark.django_db


# --- Access tokens ----------------------------------------------------------------------


def test_revoking_an_access_token_ends_it(alice_client, api, web):
    tokens = issue(alice_client, api, web)
    response = revoke(api, web, tokens["access_token"], token_type_hint="access_token")
    assert response.status_code == 200, response.content
    assert response["Cache-Control"] == "no-store"
    assert users_me(api, tokens["access_token"]).status_code == 401
    assert RevokedToken.objects.filter(jti=jti_of(tokens["access_token"])).exists()
    assert not AccessToken.objects.filter(jti=jti_of(tokens["access_token"])).exists()


def test_a_revoked_access_token_fails_at_once_even_right_after_a_bearer_check(
    alice_client, api, web
):
    """The process that revoked the token knows it: no second of grace on the same worker."""
    tokens = issue(alice_client, api, web)
    assert users_me(api, tokens["access_token"]).status_code == 200

    assert revoke(api, web, tokens["access_token"]).status_code == 200

    me = users_me(api, tokens["access_token"])
    assert me.status_code == 401, "a revoked access token was still accepted"
    assert me.json()["error"] == "invalid_token"


def test_revoking_an_access_token_without_a_hint_works(alice_client, api, web):
    tokens = issue(alice_client, api, web, scope="user_default")
    assert revoke(api, web, tokens["access_token"]).status_code == 200
    assert users_me(api, tokens["access_token"]).status_code == 401


def test_revoking_an_access_token_with_client_secret_post_works(alice_client, api, web):
    tokens = issue(alice_client, api, web, scope="user_default")
    assert revoke(api, web, tokens["access_token"], auth="post").status_code == 200
    assert users_me(api, tokens["access_token"]).status_code == 401


def test_a_public_client_revokes_with_its_client_id(alice_client, api, spa):
    tokens = issue(alice_client, api, spa)
    assert revoke(api, spa, tokens["access_token"]).status_code == 200
    assert users_me(api, tokens["access_token"]).status_code == 401
    assert revoke(api, spa, tokens["refresh_token"]).status_code == 200
    assert_oauth_error(refresh(api, spa, tokens["refresh_token"]), 400, "invalid_grant")


def test_a_json_revocation_request_works(alice_client, api, web):
    tokens = issue(alice_client, api, web, scope="user_default")
    response = api.post(
        "/oauth/revoke",
        json.dumps({"token": tokens["access_token"]}),
        content_type="application/json",
        HTTP_AUTHORIZATION=basic(web),
    )
    assert response.status_code == 200, response.content
    assert users_me(api, tokens["access_token"]).status_code == 401


# --- Refresh tokens -----------------------------------------------------------------------


def test_revoking_a_refresh_token_stops_refreshing(alice_client, api, web):
    tokens = issue(alice_client, api, web)
    response = revoke(api, web, tokens["refresh_token"], token_type_hint="refresh_token")
    assert response.status_code == 200, response.content
    assert not RefreshToken.objects.filter(application=web.client, revoked__isnull=True).exists()
    assert_oauth_error(refresh(api, web, tokens["refresh_token"]), 400, "invalid_grant")


def test_revoking_a_refresh_token_without_a_hint_works(alice_client, api, web):
    tokens = issue(alice_client, api, web)
    assert revoke(api, web, tokens["refresh_token"]).status_code == 200
    assert_oauth_error(refresh(api, web, tokens["refresh_token"]), 400, "invalid_grant")


def test_a_wrong_hint_does_not_stop_a_revocation(alice_client, api, web):
    """RFC 7009 §2.1: the server extends its search when the hint does not find the token."""
    tokens = issue(alice_client, api, web)
    response = revoke(api, web, tokens["refresh_token"], token_type_hint="access_token")
    assert response.status_code == 200, response.content
    assert_oauth_error(refresh(api, web, tokens["refresh_token"]), 400, "invalid_grant")
    tokens = issue(alice_client, api, web)
    response = revoke(api, web, tokens["access_token"], token_type_hint="refresh_token")
    assert response.status_code == 200, response.content
    assert users_me(api, tokens["access_token"]).status_code == 401


def test_revoking_an_access_token_also_revokes_its_refresh_token(alice_client, api, web):
    tokens = issue(alice_client, api, web)
    assert revoke(api, web, tokens["access_token"]).status_code == 200
    assert_oauth_error(refresh(api, web, tokens["refresh_token"]), 400, "invalid_grant")


# --- Only one's own tokens --------------------------------------------------------------


def test_another_client_cannot_revoke_your_tokens(alice_client, api, web, other_web):
    tokens = issue(alice_client, api, web)
    for token in (tokens["access_token"], tokens["refresh_token"]):
        for hint in (None, "access_token", "refresh_token"):
            extra = {"token_type_hint": hint} if hint else {}
            response = revoke(api, other_web, token, **extra)
            assert response.status_code == 200, response.content
    assert not RevokedToken.objects.exists()
    assert users_me(api, tokens["access_token"]).status_code == 200
    assert refresh(api, web, tokens["refresh_token"]).status_code == 200


def test_a_public_client_cannot_revoke_a_confidential_clients_tokens(alice_client, api, web, spa):
    tokens = issue(alice_client, api, web)
    for token in (tokens["access_token"], tokens["refresh_token"]):
        assert revoke(api, spa, token).status_code == 200
    assert users_me(api, tokens["access_token"]).status_code == 200
    assert refresh(api, web, tokens["refresh_token"]).status_code == 200


def test_a_client_of_another_tenant_cannot_revoke_your_tokens(
    alice_client, api, web, tenant_b, carol
):
    client, secret = create_oauth_client(tenant_b, actor=carol, redirect_uris=[REDIRECT])
    globex_web = Registered(client, secret)
    tokens = issue(alice_client, api, web)
    globex = client_for(tenant_b)
    assert revoke(globex, globex_web, tokens["access_token"]).status_code == 200
    assert revoke(globex, globex_web, tokens["refresh_token"]).status_code == 200
    # Tenant A's own client speaking at tenant B's host is no client there.
    assert_oauth_error(revoke(globex, web, tokens["access_token"]), 401, "invalid_client")
    assert users_me(api, tokens["access_token"]).status_code == 200
    assert refresh(api, web, tokens["refresh_token"]).status_code == 200


def test_an_unknown_token_is_answered_with_200(api, web):
    assert revoke(api, web, "no-such-token").status_code == 200


# --- Client authentication ----------------------------------------------------------------


def test_a_confidential_client_must_authenticate_to_revoke(alice_client, api, web):
    tokens = issue(alice_client, api, web)
    for auth in ("none", "client_id"):
        response = revoke(api, web, tokens["access_token"], auth=auth)
        assert_oauth_error(response, 401, "invalid_client")
    wrong = Registered(web.client, "wrong-secret")
    response = revoke(api, wrong, tokens["access_token"])
    assert_oauth_error(response, 401, "invalid_client")
    assert response["WWW-Authenticate"].startswith("Basic")
    assert users_me(api, tokens["access_token"]).status_code == 200
    assert refresh(api, web, tokens["refresh_token"]).status_code == 200


def test_revocation_needs_a_token_parameter(api, web):
    assert_oauth_error(
        api.post("/oauth/revoke", {}, HTTP_AUTHORIZATION=basic(web)), 400, "invalid_request"
    )


def test_revocation_refuses_repeated_parameters(alice_client, api, web):
    tokens = issue(alice_client, api, web, scope="user_default")
    response = api.post(
        "/oauth/revoke",
        {"token": [tokens["access_token"], "other"]},
        HTTP_AUTHORIZATION=basic(web),
    )
    assert_oauth_error(response, 400, "invalid_request")
    assert users_me(api, tokens["access_token"]).status_code == 200


def test_revocation_answers_get_with_405(api):
    assert api.get("/oauth/revoke").status_code == 405
