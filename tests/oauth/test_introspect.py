"""``POST /oauth/introspect`` (RFC 7662)."""

import json
import time
from datetime import timedelta

import pytest
from django.conf import settings
from django.utils import timezone

from oauth_clients.keys import generate_private_key_pem, kid
from oauth_clients.models import RefreshToken
from oauth_clients.services import ClientData, update_client
from tests.factories import create_oauth_client
from tests.flows import Registered, assert_oauth_error, basic, client_for, introspect, issue
from tests.jwts import payload_of, sign

pytestmark = pytest.mark.django_db

INACTIVE = {"active": False}


def introspection(http, registered: Registered, token: str, **extra) -> dict:
    response = introspect(http, registered, token, **extra)
    assert response.status_code == 200, response.content
    assert response["Cache-Control"] == "no-store"
    return response.json()


# --- Own tokens ---------------------------------------------------------------------------


def test_an_own_access_token_is_active_with_its_fields(alice_client, api, web, tenant_a):
    tokens = issue(alice_client, api, web)
    claims = payload_of(tokens["access_token"])
    body = introspection(api, web, tokens["access_token"])
    assert body["active"] is True
    assert body["token_type"] == "access_token"
    assert body["client_id"] == web.client_id
    assert set(body["scope"].split()) == {"user_default", "offline_access"}
    assert body["sub"] == claims["sub"]
    assert body["exp"] == claims["exp"]
    assert body["iss"] == tenant_a.base_url
    assert body["jti"] == claims["jti"]


def test_the_access_token_hint_and_client_secret_post_work(alice_client, api, web):
    tokens = issue(alice_client, api, web)
    body = introspection(
        api, web, tokens["access_token"], auth="post", token_type_hint="access_token"
    )
    assert body["active"] is True


def test_an_own_refresh_token_is_active(alice_client, api, web, tenant_a):
    tokens = issue(alice_client, api, web)
    for hint in ({}, {"token_type_hint": "refresh_token"}):
        body = introspection(api, web, tokens["refresh_token"], **hint)
        assert body["active"] is True
        assert body["token_type"] == "refresh_token"
        assert body["client_id"] == web.client_id
        assert set(body["scope"].split()) == {"user_default", "offline_access"}
        assert body["iss"] == tenant_a.base_url


def test_a_json_introspection_request_works(alice_client, api, web):
    tokens = issue(alice_client, api, web)
    response = api.post(
        "/oauth/introspect",
        json.dumps({"token": tokens["access_token"]}),
        content_type="application/json",
        HTTP_AUTHORIZATION=basic(web),
    )
    assert response.status_code == 200, response.content
    assert response.json()["active"] is True


# --- Tokens the caller may not see ---------------------------------------------------------


def test_another_clients_token_is_inactive(alice_client, api, web, other_web):
    tokens = issue(alice_client, api, web)
    assert introspection(api, other_web, tokens["access_token"]) == INACTIVE
    assert introspection(api, other_web, tokens["refresh_token"]) == INACTIVE


def test_a_client_of_another_tenant_learns_nothing(alice_client, api, web, globex_web, tenant_b):
    tokens = issue(alice_client, api, web)
    globex = client_for(tenant_b)
    # At its own host (tenant B), tenant A's tokens are not active.
    assert introspection(globex, globex_web, tokens["access_token"]) == INACTIVE
    assert introspection(globex, globex_web, tokens["refresh_token"]) == INACTIVE
    # At tenant A's host it is no client at all.
    response = introspect(api, globex_web, tokens["access_token"])
    assert_oauth_error(response, 401, "invalid_client")
    response = introspect(api, globex_web, tokens["access_token"], auth="post")
    assert_oauth_error(response, 401, "invalid_client")


def test_an_own_client_at_another_tenants_host_is_no_client(alice_client, api, web, tenant_b):
    tokens = issue(alice_client, api, web)
    response = introspect(client_for(tenant_b), web, tokens["access_token"])
    assert_oauth_error(response, 401, "invalid_client")


# --- Tokens that are not active ---------------------------------------------------------


def test_a_revoked_access_token_is_inactive(alice_client, api, web):
    tokens = issue(alice_client, api, web)
    assert (
        api.post(
            "/oauth/revoke", {"token": tokens["access_token"]}, HTTP_AUTHORIZATION=basic(web)
        ).status_code
        == 200
    )
    assert introspection(api, web, tokens["access_token"]) == INACTIVE


def test_a_revoked_refresh_token_is_inactive(alice_client, api, web):
    tokens = issue(alice_client, api, web)
    assert (
        api.post(
            "/oauth/revoke", {"token": tokens["refresh_token"]}, HTTP_AUTHORIZATION=basic(web)
        ).status_code
        == 200
    )
    assert introspection(api, web, tokens["refresh_token"]) == INACTIVE


def test_a_rotated_refresh_token_is_inactive(alice_client, api, web):
    tokens = issue(alice_client, api, web)
    response = api.post(
        "/oauth/token",
        {"grant_type": "refresh_token", "refresh_token": tokens["refresh_token"]},
        HTTP_AUTHORIZATION=basic(web),
    )
    assert response.status_code == 200, response.content
    assert introspection(api, web, tokens["refresh_token"]) == INACTIVE
    assert introspection(api, web, tokens["access_token"]) == INACTIVE
    assert introspection(api, web, response.json()["refresh_token"])["active"] is True


def test_an_expired_access_token_is_inactive(alice_client, api, web):
    tokens = issue(alice_client, api, web)
    claims = payload_of(tokens["access_token"])
    assert introspection(api, web, sign(claims))["active"] is True  # the minting is faithful
    expired = sign({**claims, "exp": int(time.time()) - 1, "jti": claims["jti"] + "x"})
    assert introspection(api, web, expired) == INACTIVE


def test_a_refresh_token_past_its_family_lifetime_is_inactive(alice_client, api, web):
    tokens = issue(alice_client, api, web)
    RefreshToken.objects.filter(application=web.client).update(
        family_started_at=timezone.now() - timedelta(days=31)
    )
    assert introspection(api, web, tokens["refresh_token"]) == INACTIVE


@pytest.mark.parametrize(
    "token",
    [
        "garbage",
        "a.b.c",
        "eyJhbGciOiJub25lIn0.eyJzdWIiOiJ4In0.",
        "x" * 5000,
    ],
    ids=["word", "three-dots", "alg-none", "long"],
)
def test_garbage_is_inactive(api, web, token):
    assert introspection(api, web, token) == INACTIVE


def test_a_token_signed_with_another_key_is_inactive(alice_client, api, web):
    tokens = issue(alice_client, api, web)
    claims = payload_of(tokens["access_token"])
    stranger = generate_private_key_pem()
    forged = sign(claims, stranger, kid=kid(settings.SIGNING_KEY_PEM))
    assert introspection(api, web, forged) == INACTIVE


def test_a_wrong_hint_does_not_hide_a_live_token(alice_client, api, web):
    """RFC 7662 §2.1: a server that cannot find the token with the hint MUST search the others."""
    tokens = issue(alice_client, api, web)
    body = introspection(api, web, tokens["access_token"], token_type_hint="refresh_token")
    assert body["active"] is True
    assert body["token_type"] == "access_token"
    body = introspection(api, web, tokens["refresh_token"], token_type_hint="access_token")
    assert body["active"] is True
    assert body["token_type"] == "refresh_token"


def test_a_deactivated_users_token_is_inactive(
    alice_client, api, web, alice, django_capture_on_commit_callbacks
):
    tokens = issue(alice_client, api, web)
    with django_capture_on_commit_callbacks(execute=True):
        alice.is_active = False
        alice.save()
    assert (
        api.get(
            "/api/v1/users/me", HTTP_AUTHORIZATION=f"Bearer {tokens['access_token']}"
        ).status_code
        == 401
    )
    assert introspection(api, web, tokens["access_token"]) == INACTIVE
    assert introspection(api, web, tokens["refresh_token"]) == INACTIVE


def test_a_service_token_is_inactive_once_machine_to_machine_is_off(
    api, tenant_a, alice, django_capture_on_commit_callbacks
):
    client, secret = create_oauth_client(
        tenant_a, actor=alice, name="Sync", machine_to_machine=True
    )
    m2m = Registered(client, secret)
    response = api.post(
        "/oauth/token", {"grant_type": "client_credentials"}, HTTP_AUTHORIZATION=basic(m2m)
    )
    token = response.json()["access_token"]
    with django_capture_on_commit_callbacks(execute=True):
        update_client(
            client,
            ClientData(
                name=client.name,
                redirect_uris=client.redirect_uri_list,
                allowed_scopes=client.allowed_scope_list,
                machine_to_machine=False,
            ),
            actor=alice,
        )
    assert api.get("/api/v1/users/me", HTTP_AUTHORIZATION=f"Bearer {token}").status_code == 401
    assert introspection(api, m2m, token) == INACTIVE


# --- The request ------------------------------------------------------------------------


def test_introspection_requires_client_authentication(alice_client, api, web):
    tokens = issue(alice_client, api, web)
    response = api.post("/oauth/introspect", {"token": tokens["access_token"]})
    assert_oauth_error(response, 401, "invalid_client")
    response = introspect(api, web, tokens["access_token"], auth="client_id")
    assert_oauth_error(response, 401, "invalid_client")
    wrong = Registered(web.client, "wrong-secret")
    response = introspect(api, wrong, tokens["access_token"])
    assert_oauth_error(response, 401, "invalid_client")
    assert response["WWW-Authenticate"].startswith("Basic")


def test_a_public_client_cannot_introspect(alice_client, api, spa):
    tokens = issue(alice_client, api, spa)
    response = introspect(api, spa, tokens["access_token"], auth="client_id")
    assert_oauth_error(response, 401, "invalid_client")


def test_introspection_with_both_authentication_methods_is_an_invalid_request(
    alice_client, api, web
):
    tokens = issue(alice_client, api, web)
    response = api.post(
        "/oauth/introspect",
        {"token": tokens["access_token"], "client_id": web.client_id, "client_secret": web.secret},
        HTTP_AUTHORIZATION=basic(web),
    )
    assert_oauth_error(response, 400, "invalid_request")


def test_introspection_needs_a_token(api, web):
    response = api.post("/oauth/introspect", {}, HTTP_AUTHORIZATION=basic(web))
    assert_oauth_error(response, 400, "invalid_request")


def test_introspection_refuses_repeated_parameters(alice_client, api, web):
    tokens = issue(alice_client, api, web)
    response = api.post(
        "/oauth/introspect",
        {"token": [tokens["access_token"], tokens["access_token"]]},
        HTTP_AUTHORIZATION=basic(web),
    )
    assert_oauth_error(response, 400, "invalid_request")


def test_introspection_answers_get_with_405(alice_client, api, web):
    tokens = issue(alice_client, api, web)
    response = api.get(
        "/oauth/introspect?token=" + tokens["access_token"], HTTP_AUTHORIZATION=basic(web)
    )
    assert response.status_code == 405
    assert "POST" in response["Allow"]


# --- Authoritative at once -------------------------------------------------------------


def test_a_token_revoked_by_another_worker_is_inactive_at_once(alice_client, api, web, monkeypatch):
    """Another worker's revocation: this process's revocation list has not caught up yet."""
    from oauth_clients.revocation import revocations

    tokens = issue(alice_client, api, web)
    assert introspection(api, web, tokens["access_token"])["active"] is True
    # This process has just read the list, and will not read it again for a second;
    # the revocation happens as another worker would make it, without telling this one.
    revocations.refresh()
    monkeypatch.setattr(revocations, "mark_stale", lambda: None)
    revoked = api.post(
        "/oauth/revoke", {"token": tokens["access_token"]}, HTTP_AUTHORIZATION=basic(web)
    )
    assert revoked.status_code == 200
    assert not revocations.is_revoked(payload_of(tokens["access_token"])["jti"])
    assert introspection(api, web, tokens["access_token"]) == INACTIVE
