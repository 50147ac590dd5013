"""The per-process revocation list: revoked JWTs stop verifying within a second, cheaply."""

from datetime import timedelta
from types import SimpleNamespace

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from oauth_clients import revocation
from oauth_clients.models import AccessToken, RefreshToken, RevokedToken
from oauth_clients.oauth.tokens import verify_access_token
from oauth_clients.revocation import RevocationList, revocations
from oauth_clients.services import delete_clients, revoke_tokens
from tests.factories import create_oauth_client
from tests.flows import ME, REDIRECT, Registered, basic, bearer, issue
from tests.jwts import craft_token, payload_of

pytestmark = pytest.mark.django_db


@pytest.fixture
def issued(alice_client, api, web):
    """A token from the endpoint (so it has an AccessToken row) and its claims."""
    body = issue(alice_client, api, web, scope="user_default offline_access")
    return body


def revoke_row(jti: str, *, expires_in: float = 3600, revoked_ago: float = 0) -> RevokedToken:
    now = timezone.now()
    return RevokedToken.objects.create(
        jti=jti,
        expires_at=now + timedelta(seconds=expires_in),
        revoked_at=now - timedelta(seconds=revoked_ago),
    )


# --- Revoking takes effect ----------------------------------------------------------------
def test_revoke_tokens_makes_the_token_fail_within_a_second(
    revocation_clock, api, issued, tenant_a, alice
):
    token = issued["access_token"]
    assert verify_access_token(token, tenant_a) is not None

    revoke_tokens(tenant_a, user=alice)

    revocation_clock.advance(1.0)
    assert verify_access_token(token, tenant_a) is None
    response = api.get(ME, headers=bearer(token))
    assert response.status_code == 401
    assert response.json()["error"] == "invalid_token"


def test_a_refresh_makes_a_revocation_count_at_once(issued, tenant_a, alice):
    token = issued["access_token"]
    assert verify_access_token(token, tenant_a) is not None

    revoke_tokens(tenant_a, user=alice)
    revocations.refresh()

    assert verify_access_token(token, tenant_a) is None


def test_revoke_tokens_records_the_jti_and_expiry(issued, tenant_a, alice):
    jti = payload_of(issued["access_token"])["jti"]
    expires = AccessToken.objects.get(jti=jti).expires

    revoke_tokens(tenant_a, user=alice)

    row = RevokedToken.objects.get(jti=jti)
    assert row.expires_at == expires
    assert abs(row.revoked_at - timezone.now()) < timedelta(seconds=5)
    assert not AccessToken.objects.filter(jti=jti).exists()
    assert RefreshToken.objects.get(tenant=tenant_a).revoked is not None


def test_revoke_tokens_for_a_client_spares_the_other_clients(
    revocation_clock, alice_client, api, web, issued, tenant_a, alice
):
    other, secret = create_oauth_client(
        tenant_a,
        actor=alice,
        name="Other app",
        redirect_uris=[REDIRECT],
        allowed_scopes=["user_default"],
        consent_method="trusted",
    )
    other_token = issue(alice_client, api, Registered(other, secret), scope="user_default")[
        "access_token"
    ]

    revoke_tokens(tenant_a, client=web.client)
    revocation_clock.advance(1.0)

    assert verify_access_token(issued["access_token"], tenant_a) is None
    assert verify_access_token(other_token, tenant_a) is not None


def test_revoking_twice_keeps_one_row(issued, tenant_a, alice):
    jti = payload_of(issued["access_token"])["jti"]

    revoke_tokens(tenant_a, user=alice)
    revoke_tokens(tenant_a, user=alice)

    assert RevokedToken.objects.filter(jti=jti).count() == 1


def test_deleting_the_access_token_row_revokes_the_jwt(revocation_clock, issued, tenant_a):
    token = issued["access_token"]
    jti = payload_of(token)["jti"]
    assert verify_access_token(token, tenant_a) is not None

    AccessToken.objects.get(jti=jti).delete()

    assert RevokedToken.objects.filter(jti=jti).exists()
    revocation_clock.advance(1.0)
    assert verify_access_token(token, tenant_a) is None


def test_the_revocation_endpoint_revokes_the_jwt(revocation_clock, api, web, issued, tenant_a):
    token = issued["access_token"]
    assert api.get(ME, headers=bearer(token)).status_code == 200

    response = api.post(
        "/oauth/revoke",
        {"token": token, "token_type_hint": "access_token"},
        HTTP_AUTHORIZATION=basic(web),
    )

    assert response.status_code == 200, response.content
    assert RevokedToken.objects.filter(jti=payload_of(token)["jti"]).exists()
    revocation_clock.advance(1.0)
    assert api.get(ME, headers=bearer(token)).status_code == 401


def test_revoking_the_refresh_token_at_the_endpoint_ends_its_access_token(
    revocation_clock, api, web, issued, tenant_a
):
    token = issued["access_token"]

    response = api.post(
        "/oauth/revoke", {"token": issued["refresh_token"]}, HTTP_AUTHORIZATION=basic(web)
    )

    assert response.status_code == 200, response.content
    revocation_clock.advance(1.0)
    # RFC 7009 §2.1: revoking a refresh token SHOULD also invalidate its access tokens.
    assert verify_access_token(token, tenant_a) is None


def test_deleting_a_client_revokes_its_tokens(revocation_clock, api, web, issued, tenant_a, alice):
    token = issued["access_token"]
    jti = payload_of(token)["jti"]
    expires = AccessToken.objects.get(jti=jti).expires
    assert api.get(ME, headers=bearer(token)).status_code == 200

    delete_clients(tenant_a, [web.client.pk], actor=alice)

    row = RevokedToken.objects.get(jti=jti)
    assert row.expires_at == expires
    assert not AccessToken.objects.filter(jti=jti).exists()
    revocation_clock.advance(1.0)
    assert verify_access_token(token, tenant_a) is None
    assert api.get(ME, headers=bearer(token)).status_code == 401


def test_deleting_a_client_revokes_every_token_it_has(
    revocation_clock, alice_client, api, web, tenant_a, alice
):
    tokens = [issue(alice_client, api, web, scope="user_default")["access_token"] for _ in range(3)]

    delete_clients(tenant_a, [web.client.pk], actor=alice)

    jtis = {payload_of(t)["jti"] for t in tokens}
    assert set(RevokedToken.objects.filter(jti__in=jtis).values_list("jti", flat=True)) == jtis
    revocation_clock.advance(1.0)
    assert all(verify_access_token(t, tenant_a) is None for t in tokens)


def test_deleting_another_tenants_client_id_revokes_nothing(
    revocation_clock, issued, web, tenant_a, tenant_b, carol
):
    delete_clients(tenant_b, [web.client.pk], actor=carol)

    assert not RevokedToken.objects.exists()
    revocation_clock.advance(1.0)
    assert verify_access_token(issued["access_token"], tenant_a) is not None


# --- Another process's view ------------------------------------------------------------
def test_a_fresh_list_sees_rows_written_elsewhere():
    revoke_row("jti-one")
    revoke_row("jti-two", revoked_ago=3600)
    other_process = RevocationList()

    assert other_process.is_revoked("jti-one")
    assert other_process.is_revoked("jti-two")
    assert not other_process.is_revoked("jti-three")


def test_a_list_picks_up_rows_revoked_after_its_first_read(revocation_clock):
    other_process = RevocationList()
    assert not other_process.is_revoked("later")

    revoke_row("later")
    assert not other_process.is_revoked("later")  # read less than a second ago

    revocation_clock.advance(1.0)
    assert other_process.is_revoked("later")


def test_a_list_picks_up_a_row_that_committed_late(revocation_clock):
    # A transaction that committed after our last read but stamped revoked_at before it.
    other_process = RevocationList()
    assert not other_process.is_revoked("late")

    revoke_row("late", revoked_ago=10)
    revocation_clock.advance(1.0)

    assert other_process.is_revoked("late")


def test_a_crafted_token_is_refused_once_its_jti_is_listed(revocation_clock, tenant_a, alice):
    token = craft_token(tenant_a, alice, jti="listed-jti")
    assert verify_access_token(token, tenant_a) is not None

    revoke_row("listed-jti")
    revocation_clock.advance(1.0)

    assert verify_access_token(token, tenant_a) is None


# --- Cost ---------------------------------------------------------------------------
def test_fifty_verifications_cost_at_most_one_query(revocation_clock, tenant_a, alice):
    token = craft_token(tenant_a, alice)

    with CaptureQueriesContext(connection) as queries:
        results = [verify_access_token(token, tenant_a) for _ in range(50)]

    assert all(results)
    assert len(queries) <= 1


def test_the_list_is_read_again_once_a_second(revocation_clock, tenant_a, alice):
    token = craft_token(tenant_a, alice)
    verify_access_token(token, tenant_a)

    with CaptureQueriesContext(connection) as queries:
        for _ in range(20):
            verify_access_token(token, tenant_a)
            revocation_clock.advance(0.04)
    assert len(queries) == 0  # 0.8 s have passed

    with CaptureQueriesContext(connection) as queries:
        for _ in range(20):
            verify_access_token(token, tenant_a)
            revocation_clock.advance(0.04)
    assert len(queries) == 1  # the second second began


def test_fifty_api_calls_cost_no_revocation_query_after_the_first(
    revocation_clock, api, tenant_a, alice
):
    token = craft_token(tenant_a, alice)
    api.get(ME, headers=bearer(token))

    with CaptureQueriesContext(connection) as queries:
        for _ in range(50):
            assert api.get(ME, headers=bearer(token)).status_code == 200

    assert not [q for q in queries if RevokedToken._meta.db_table in q["sql"]]


# --- Expiry -----------------------------------------------------------------------------
def test_rows_of_expired_tokens_are_not_loaded():
    revoke_row("long-gone", expires_in=-60)

    assert not RevocationList().is_revoked("long-gone")


def test_entries_are_dropped_once_their_token_expires(revocation_clock, monkeypatch):
    revoke_row("short-lived", expires_in=30)
    revoke_row("long-lived", expires_in=3600)
    process = RevocationList()
    assert process.is_revoked("short-lived")
    assert process.is_revoked("long-lived")

    later = timezone.now() + timedelta(seconds=60)
    monkeypatch.setattr(revocation, "timezone", SimpleNamespace(now=lambda: later))
    revocation_clock.advance(1.0)

    assert not process.is_revoked("short-lived")
    assert process.is_revoked("long-lived")
    assert "short-lived" not in process._expiry


def test_clear_forgets_everything_and_reads_again(revocation_clock):
    revoke_row("cleared")
    assert revocations.is_revoked("cleared")
    RevokedToken.objects.all().delete()

    revocations.clear()

    assert not revocations.is_revoked("cleared")
