"""``POST /oauth/token`` with ``grant_type=refresh_token`` (RFC 6749 §6, RFC 9700 §4.14)."""

import json
from datetime import timedelta

import pytest
from django.utils import timezone

from oauth_clients.models import AccessToken, RefreshToken
from oauth_clients.services import delete_clients
from tenants.models import AuditEvent, Membership
from tests.flows import (
    OFFLINE,
    Registered,
    assert_oauth_error,
    basic,
    client_for,
    issue,
    refresh,
    users_me,
)

pytestmark = pytest.mark.django_db


def live_access_tokens(registered: Registered) -> int:
    return AccessToken.objects.filter(application=registered.client).count()


# --- Rotation --------------------------------------------------------------------------


def test_a_refresh_rotates_the_refresh_token(alice_client, api, web):
    first = issue(alice_client, api, web)
    response = refresh(api, web, first["refresh_token"])
    assert response.status_code == 200, response.content
    assert response["Cache-Control"] == "no-store"
    second = response.json()
    assert set(second) == {"access_token", "token_type", "expires_in", "scope", "refresh_token"}
    assert second["token_type"] == "Bearer"
    assert set(second["scope"].split()) == {"user_default", "offline_access"}
    assert second["refresh_token"] != first["refresh_token"]
    assert second["access_token"] != first["access_token"]
    assert users_me(api, second["access_token"]).status_code == 200
    # The old refresh token is spent: its row is revoked, and so is its access token.
    assert RefreshToken.objects.filter(application=web.client, revoked__isnull=True).count() == 1
    assert live_access_tokens(web) == 1
    assert users_me(api, first["access_token"]).status_code == 401


def test_the_rotated_refresh_token_is_refused(alice_client, api, web):
    first = issue(alice_client, api, web)
    assert refresh(api, web, first["refresh_token"]).status_code == 200
    assert_oauth_error(refresh(api, web, first["refresh_token"]), 400, "invalid_grant")


def test_the_new_refresh_token_refreshes_again(alice_client, api, web):
    tokens = issue(alice_client, api, web)
    for _ in range(3):
        response = refresh(api, web, tokens["refresh_token"])
        assert response.status_code == 200, response.content
        tokens = response.json()
    assert users_me(api, tokens["access_token"]).status_code == 200


def test_a_refresh_can_narrow_the_scope_but_not_widen_it(alice_client, api, web):
    tokens = issue(alice_client, api, web)
    wider = refresh(api, web, tokens["refresh_token"], scope=f"{OFFLINE} email")
    assert_oauth_error(wider, 400, "invalid_scope")
    narrower = refresh(api, web, tokens["refresh_token"], scope="offline_access")
    assert narrower.status_code == 200, narrower.content
    assert narrower.json()["scope"] == "offline_access"


def test_a_refresh_request_as_json_works(alice_client, api, web):
    tokens = issue(alice_client, api, web)
    response = api.post(
        "/oauth/token",
        json.dumps({"grant_type": "refresh_token", "refresh_token": tokens["refresh_token"]}),
        content_type="application/json",
        HTTP_AUTHORIZATION=basic(web),
    )
    assert response.status_code == 200, response.content


def test_an_unknown_or_missing_refresh_token_is_refused(api, web):
    assert_oauth_error(refresh(api, web, "no-such-token"), 400, "invalid_grant")
    response = api.post(
        "/oauth/token", {"grant_type": "refresh_token"}, HTTP_AUTHORIZATION=basic(web)
    )
    assert_oauth_error(response, 400, "invalid_request")


# --- Reuse detection (RFC 9700 §4.14.2) ----------------------------------------------


def test_reusing_a_rotated_refresh_token_revokes_the_whole_family(alice_client, api, web, tenant_a):
    first = issue(alice_client, api, web)
    second = refresh(api, web, first["refresh_token"]).json()
    third = refresh(api, web, second["refresh_token"]).json()
    assert RefreshToken.objects.filter(application=web.client, revoked__isnull=True).count() == 1
    assert live_access_tokens(web) == 1

    reuse = refresh(api, web, first["refresh_token"])
    assert_oauth_error(reuse, 400, "invalid_grant")

    # The newest refresh token and every access token of the family are dead.
    assert not RefreshToken.objects.filter(application=web.client, revoked__isnull=True).exists()
    assert live_access_tokens(web) == 0
    assert users_me(api, third["access_token"]).status_code == 401
    assert users_me(api, second["access_token"]).status_code == 401
    assert_oauth_error(refresh(api, web, third["refresh_token"]), 400, "invalid_grant")


def test_reuse_is_recorded_in_the_audit_trail(alice_client, api, web, tenant_a, alice):
    first = issue(alice_client, api, web)
    refresh(api, web, first["refresh_token"])
    before = AuditEvent.objects.filter(action="oauth_client.refresh_family_revoked").count()
    assert before == 0

    refresh(api, web, first["refresh_token"])

    [event] = AuditEvent.objects.filter(action="oauth_client.refresh_family_revoked")
    assert event.tenant == tenant_a
    assert event.actor is None
    assert event.target_type == "oauth_clients.oauthclient"
    assert event.target_id == str(web.client.pk)
    assert event.data["user_id"] == alice.pk


def test_reuse_leaves_other_families_of_the_user_alone(alice_client, api, web):
    victim = issue(alice_client, api, web)
    bystander = issue(alice_client, api, web)
    refresh(api, web, victim["refresh_token"])
    assert_oauth_error(refresh(api, web, victim["refresh_token"]), 400, "invalid_grant")
    assert users_me(api, bystander["access_token"]).status_code == 200
    assert refresh(api, web, bystander["refresh_token"]).status_code == 200


# --- Client authentication on refresh ---------------------------------------------------


def test_a_public_client_refreshes_without_client_id(alice_client, api, spa):
    tokens = issue(alice_client, api, spa)
    response = refresh(api, spa, tokens["refresh_token"], auth="none")
    assert response.status_code == 200, response.content
    assert users_me(api, response.json()["access_token"]).status_code == 200
    # The new tokens are the public client's.
    assert AccessToken.objects.filter(application=spa.client).count() == 1


def test_a_public_client_refreshes_with_its_client_id(alice_client, api, spa):
    tokens = issue(alice_client, api, spa)
    response = refresh(api, spa, tokens["refresh_token"], auth="client_id")
    assert response.status_code == 200, response.content


@pytest.mark.parametrize("auth", ["none", "client_id"])
def test_a_confidential_client_must_authenticate_to_refresh(alice_client, api, web, auth):
    tokens = issue(alice_client, api, web)
    response = refresh(api, web, tokens["refresh_token"], auth=auth)
    assert_oauth_error(response, 401, "invalid_client")
    # The refresh token was not spent.
    assert refresh(api, web, tokens["refresh_token"]).status_code == 200


def test_a_confidential_client_refreshes_with_client_secret_post(alice_client, api, web):
    tokens = issue(alice_client, api, web)
    assert refresh(api, web, tokens["refresh_token"], auth="post").status_code == 200


def test_a_confidential_client_with_a_wrong_secret_cannot_refresh(alice_client, api, web):
    tokens = issue(alice_client, api, web)
    wrong = Registered(web.client, "not-the-secret")
    response = refresh(api, wrong, tokens["refresh_token"])
    assert_oauth_error(response, 401, "invalid_client")
    assert refresh(api, web, tokens["refresh_token"]).status_code == 200


def test_another_client_cannot_use_the_refresh_token(alice_client, api, web, other_web):
    tokens = issue(alice_client, api, web)
    response = refresh(api, other_web, tokens["refresh_token"])
    assert_oauth_error(response, 400, "invalid_grant")
    assert not AccessToken.objects.filter(application=other_web.client).exists()
    # Nor is the rightful client's token harmed.
    assert refresh(api, web, tokens["refresh_token"]).status_code == 200


def test_a_public_client_cannot_use_a_confidential_clients_refresh_token(
    alice_client, api, web, spa
):
    tokens = issue(alice_client, api, web)
    response = refresh(api, spa, tokens["refresh_token"], auth="client_id")
    assert_oauth_error(response, 400, "invalid_grant")
    assert refresh(api, web, tokens["refresh_token"]).status_code == 200


def test_basic_credentials_for_another_client_than_the_body_names_are_refused(
    alice_client, api, web, other_web
):
    tokens = issue(alice_client, api, web)
    response = api.post(
        "/oauth/token",
        {
            "grant_type": "refresh_token",
            "refresh_token": tokens["refresh_token"],
            "client_id": web.client_id,
        },
        HTTP_AUTHORIZATION=basic(other_web),
    )
    assert_oauth_error(response, 401, "invalid_client")


# --- Tenants -------------------------------------------------------------------------


def test_a_refresh_at_another_tenants_host_is_refused(
    alice_client, api, web, spa, globex_web, tenant_b
):
    web_tokens = issue(alice_client, api, web)
    spa_tokens = issue(alice_client, api, spa)
    globex = client_for(tenant_b)

    # Tenant A's clients are no clients at tenant B.
    assert_oauth_error(refresh(globex, web, web_tokens["refresh_token"]), 401, "invalid_client")
    assert_oauth_error(
        refresh(globex, spa, spa_tokens["refresh_token"], auth="none"), 401, "invalid_client"
    )
    assert_oauth_error(
        refresh(globex, spa, spa_tokens["refresh_token"], auth="client_id"), 401, "invalid_client"
    )
    # A client of tenant B does not find tenant A's refresh token.
    assert_oauth_error(
        refresh(globex, globex_web, web_tokens["refresh_token"]), 400, "invalid_grant"
    )
    assert not AccessToken.objects.filter(tenant=tenant_b).exists()
    # None of this spent or revoked the tokens at their own tenant.
    assert refresh(api, web, web_tokens["refresh_token"]).status_code == 200
    assert refresh(api, spa, spa_tokens["refresh_token"], auth="none").status_code == 200


# --- Lifetime and the user ---------------------------------------------------------------


def test_the_family_keeps_its_start_across_rotations(alice_client, api, web):
    tokens = issue(alice_client, api, web)
    started = RefreshToken.objects.get(application=web.client).family_started_at
    assert started is not None
    new = refresh(api, web, tokens["refresh_token"]).json()
    live = RefreshToken.objects.get(application=web.client, revoked__isnull=True)
    assert live.family_started_at == started
    assert new["refresh_token"]


def test_a_family_older_than_its_absolute_lifetime_is_refused(alice_client, api, web):
    tokens = issue(alice_client, api, web)
    tokens = refresh(api, web, tokens["refresh_token"]).json()
    RefreshToken.objects.filter(application=web.client).update(
        family_started_at=timezone.now() - timedelta(days=31)
    )
    issued = set(AccessToken.objects.values_list("pk", flat=True))
    assert_oauth_error(refresh(api, web, tokens["refresh_token"]), 400, "invalid_grant")
    assert set(AccessToken.objects.values_list("pk", flat=True)) == issued


def test_a_family_within_its_lifetime_still_refreshes(alice_client, api, web):
    tokens = issue(alice_client, api, web)
    RefreshToken.objects.filter(application=web.client).update(
        family_started_at=timezone.now() - timedelta(days=29)
    )
    assert refresh(api, web, tokens["refresh_token"]).status_code == 200


def test_a_deactivated_user_cannot_refresh(alice_client, api, web, alice):
    tokens = issue(alice_client, api, web)
    issued = live_access_tokens(web)
    alice.is_active = False
    alice.save()
    assert_oauth_error(refresh(api, web, tokens["refresh_token"]), 400, "invalid_grant")
    assert live_access_tokens(web) <= issued


def test_a_user_who_left_the_tenant_cannot_refresh(alice_client, api, web, alice, tenant_a):
    tokens = issue(alice_client, api, web)
    Membership.objects.filter(tenant=tenant_a, user=alice).delete()
    assert_oauth_error(refresh(api, web, tokens["refresh_token"]), 400, "invalid_grant")


def test_refresh_tokens_of_a_deleted_client_are_refused(alice_client, api, web, tenant_a, alice):
    tokens = issue(alice_client, api, web)
    delete_clients(tenant_a, [web.client.pk], actor=alice)
    response = refresh(api, web, tokens["refresh_token"])
    assert_oauth_error(response, 401, "invalid_client")


# --- Rotation whatever the requested scope (RFC 9700 §4.14.2, RFC 6749 §6) --------------


@pytest.mark.parametrize("registered_name", ["web", "spa"])
def test_a_narrowed_refresh_still_rotates(alice_client, api, registered_name, request):
    registered = request.getfixturevalue(registered_name)
    first = issue(alice_client, api, registered)
    narrowed = refresh(api, registered, first["refresh_token"], scope="user_default")
    assert narrowed.status_code == 200, narrowed.content
    body = narrowed.json()
    assert body["scope"] == "user_default"
    assert body["refresh_token"] != first["refresh_token"]
    # The presented token is spent: used again, it is a reuse and ends the family.
    again = refresh(api, registered, first["refresh_token"], scope="user_default")
    assert_oauth_error(again, 400, "invalid_grant")
    assert users_me(api, body["access_token"]).status_code == 401
    assert_oauth_error(refresh(api, registered, body["refresh_token"]), 400, "invalid_grant")


def test_a_narrowed_refresh_keeps_the_familys_scope(alice_client, api, web):
    tokens = issue(alice_client, api, web)
    narrowed = refresh(api, web, tokens["refresh_token"], scope="user_default").json()
    # The next refresh, without a scope, gets the family's original scope back.
    full = refresh(api, web, narrowed["refresh_token"])
    assert full.status_code == 200, full.content
    assert set(full.json()["scope"].split()) == {"user_default", "offline_access"}
    assert RefreshToken.objects.get(token_checksum__isnull=False, revoked__isnull=True).scope == (
        "user_default offline_access"
    )


def test_revoking_the_new_refresh_token_revokes_the_narrowed_access_token(alice_client, api, web):
    tokens = issue(alice_client, api, web)
    narrowed = refresh(api, web, tokens["refresh_token"], scope="user_default").json()
    revoked = api.post(
        "/oauth/revoke",
        {"token": narrowed["refresh_token"], "token_type_hint": "refresh_token"},
        HTTP_AUTHORIZATION=basic(web),
    )
    assert revoked.status_code == 200
    assert users_me(api, narrowed["access_token"]).status_code == 401


# --- Scopes removed from the client ------------------------------------------------------


def remove_scopes(registered: Registered, alice, *removed) -> None:
    from oauth_clients.services import ClientData, update_client

    client = registered.client
    client.refresh_from_db()
    update_client(
        client,
        ClientData(
            name=client.name,
            redirect_uris=client.redirect_uri_list,
            allowed_origins=client.allowed_origin_list,
            allowed_scopes=[s for s in client.allowed_scope_list if s not in removed],
        ),
        actor=alice,
    )


def test_a_refresh_drops_a_scope_removed_from_the_client(alice_client, api, web, alice):
    tokens = issue(alice_client, api, web, scope="user_default offline_access email")
    remove_scopes(web, alice, "email")
    response = refresh(api, web, tokens["refresh_token"])
    assert response.status_code == 200, response.content
    assert set(response.json()["scope"].split()) == {"user_default", "offline_access"}
    newest = RefreshToken.objects.get(revoked__isnull=True)
    assert set(newest.scope.split()) == {"user_default", "offline_access"}


def test_a_refresh_asking_for_a_removed_scope_is_invalid_scope(alice_client, api, web, alice):
    tokens = issue(alice_client, api, web, scope="user_default offline_access email")
    remove_scopes(web, alice, "email")
    response = refresh(api, web, tokens["refresh_token"], scope="user_default email")
    assert_oauth_error(response, 400, "invalid_scope")


def test_a_refresh_with_nothing_left_is_invalid_scope(alice_client, api, web, alice):
    tokens = issue(alice_client, api, web, scope="email offline_access")
    remove_scopes(web, alice, "email")
    assert_oauth_error(refresh(api, web, tokens["refresh_token"]), 400, "invalid_scope")


def test_without_offline_access_the_refresh_ends_the_family(alice_client, api, web, alice):
    tokens = issue(alice_client, api, web)
    remove_scopes(web, alice, "offline_access")
    response = refresh(api, web, tokens["refresh_token"])
    assert response.status_code == 200, response.content
    body = response.json()
    assert "refresh_token" not in body
    assert body["scope"] == "user_default"
    assert not RefreshToken.objects.filter(revoked__isnull=True).exists()
    assert_oauth_error(refresh(api, web, tokens["refresh_token"]), 400, "invalid_grant")
