"""An approval covers a set of scopes: a published client widened by its owner.

The attack: acme publishes a client with ``user_default``; globex's admin
approves it and makes it *Trusted*; acme then adds ``admin_classic`` to the
client and sends globex's admin to ``…/authorize?scope=user_default
admin_classic``. Without scope-bound approvals the admin came straight back
with a code, which acme redeemed at globex for an admin token.
"""

from datetime import timedelta

import pytest
from django.core.exceptions import ValidationError
from django.utils import timezone

from oauth_clients.models import AccessToken, AuthorizationCode, ConnectionConfig, RefreshToken
from oauth_clients.services import (
    ClientData,
    approve_client_for_tenant,
    publish_client,
    set_consent_method,
    update_client,
)
from tenants.models import AuditEvent
from tests.factories import create_oauth_client
from tests.flows import (
    REDIRECT,
    Registered,
    allow_consent,
    answer_approval,
    assert_oauth_error,
    authorize_url,
    client_for,
    client_redirect,
    config_at,
    error_redirect,
    hidden_fields,
    is_approval_page,
    is_consent_page,
    pkce_pair,
    redeem,
    refresh,
)

pytestmark = pytest.mark.django_db

ADMIN = "user_default admin_classic"


@pytest.fixture
def narrow(tenant_a, alice):
    """Acme's Web client with user_default and offline_access, published."""
    client, secret = create_oauth_client(
        tenant_a,
        actor=alice,
        name="Reports",
        redirect_uris=[REDIRECT],
        allowed_scopes=["user_default", "offline_access"],
        consent_method="trusted",
    )
    publish_client(client, actor=alice)
    return Registered(client, secret)


@pytest.fixture
def trusted_at_globex(narrow, tenant_b, carol, carol_client):
    """Globex's admin approved it through the approval page, then made it Trusted."""
    _verifier, challenge = pkce_pair()
    page = carol_client.get(authorize_url(narrow, challenge, scope="user_default offline_access"))
    assert is_approval_page(page)
    answered = answer_approval(carol_client, page)
    if is_consent_page(answered):
        allow_consent(carol_client, answered)
    config = config_at(tenant_b, narrow)
    set_consent_method(config, ConnectionConfig.ConsentMethod.TRUSTED, actor=carol)
    return narrow


def widen(registered: Registered, alice, *scopes) -> None:
    """The owner adds scopes to the published client."""
    client = registered.client
    client.refresh_from_db()
    update_client(
        client,
        ClientData(
            name=client.name,
            redirect_uris=client.redirect_uri_list,
            allowed_scopes=[*client.allowed_scope_list, *scopes],
            consent_method="trusted",
        ),
        actor=alice,
    )


class TestTheAttack:
    def test_a_widened_client_gets_no_silent_admin_code(
        self, trusted_at_globex, alice, carol_client, tenant_b
    ):
        widen(trusted_at_globex, alice, "admin_classic")
        codes = AuthorizationCode.objects.filter(tenant=tenant_b).count()
        _verifier, challenge = pkce_pair()
        response = carol_client.get(authorize_url(trusted_at_globex, challenge, scope=ADMIN))
        assert is_approval_page(response), response.get("Location")
        assert AuthorizationCode.objects.filter(tenant=tenant_b).count() == codes

    def test_the_approval_page_marks_what_is_new(self, trusted_at_globex, alice, carol_client):
        widen(trusted_at_globex, alice, "admin_classic")
        _verifier, challenge = pkce_pair()
        html = carol_client.get(authorize_url(trusted_at_globex, challenge, scope=ADMIN))
        html = html.content.decode()
        assert "now asks for more than Globex approved" in html
        new_items = [item for item in html.split("<li>") if "badge-new" in item]
        assert len(new_items) == 1
        assert "admin_classic" in new_items[0]

    def test_after_approval_the_admin_scope_still_needs_the_users_consent(
        self, trusted_at_globex, alice, carol_client, tenant_b
    ):
        widen(trusted_at_globex, alice, "admin_classic")
        _verifier, challenge = pkce_pair()
        page = carol_client.get(authorize_url(trusted_at_globex, challenge, scope=ADMIN))
        answered = answer_approval(carol_client, page)
        # Trusted here, but admin_classic from another tenant's client is the user's call.
        assert is_consent_page(answered)
        assert "admin_classic" in answered.content.decode()
        config = config_at(tenant_b, trusted_at_globex)
        assert set(config.approved_scope_list) == {
            "user_default",
            "offline_access",
            "admin_classic",
        }
        event = AuditEvent.objects.get(tenant=tenant_b, action="oauth_client.approval_widened")
        assert event.data["scopes"] == ["admin_classic"]

    def test_a_refused_consent_issues_nothing(
        self, trusted_at_globex, alice, carol_client, tenant_b
    ):
        widen(trusted_at_globex, alice, "admin_classic")
        codes = AuthorizationCode.objects.filter(tenant=tenant_b).count()
        _verifier, challenge = pkce_pair()
        page = carol_client.get(authorize_url(trusted_at_globex, challenge, scope=ADMIN))
        consent = answer_approval(carol_client, page)
        denied = carol_client.post("/oauth/authorize", hidden_fields(consent.text))
        error_redirect(denied, tenant_b, "access_denied")
        assert AuthorizationCode.objects.filter(tenant=tenant_b).count() == codes

    def test_a_member_asking_for_an_unapproved_scope_is_refused(
        self, trusted_at_globex, alice, dave_client, tenant_b
    ):
        widen(trusted_at_globex, alice, "email")
        _verifier, challenge = pkce_pair()
        response = dave_client.get(
            authorize_url(trusted_at_globex, challenge, scope="user_default email")
        )
        error_redirect(response, tenant_b, "access_denied")

    def test_a_member_still_signs_in_for_the_approved_scopes(
        self, trusted_at_globex, alice, dave_client, tenant_b
    ):
        widen(trusted_at_globex, alice, "email")
        _verifier, challenge = pkce_pair()
        response = dave_client.get(authorize_url(trusted_at_globex, challenge))
        assert client_redirect(response, tenant_b)["code"]

    def test_prompt_none_asking_for_more_is_interaction_required(
        self, trusted_at_globex, alice, carol_client, tenant_b
    ):
        widen(trusted_at_globex, alice, "email")
        _verifier, challenge = pkce_pair()
        response = carol_client.get(
            authorize_url(trusted_at_globex, challenge, scope="user_default email", prompt="none")
        )
        error_redirect(response, tenant_b, "interaction_required")


class TestTheTokenEndpoint:
    def test_a_code_for_more_than_the_approval_is_not_redeemed(
        self, trusted_at_globex, alice, carol, tenant_b
    ):
        # A code row that asks for more than globex approved (as if the approval
        # had been narrowed after it was issued) is refused at redemption.
        verifier, challenge = pkce_pair()
        widen(trusted_at_globex, alice, "email")
        code = AuthorizationCode.objects.create(
            tenant=tenant_b,
            application=trusted_at_globex.client,
            user=carol,
            code="x" * 30,
            expires=timezone.now() + timedelta(seconds=60),
            redirect_uri=REDIRECT,
            scope="user_default email",
            code_challenge=challenge,
            code_challenge_method="S256",
        )
        response = redeem(client_for(tenant_b), trusted_at_globex, code.code, verifier)
        assert_oauth_error(response, 400, "invalid_grant")
        assert not AccessToken.objects.filter(tenant=tenant_b).exists()

    def test_a_refresh_cannot_ask_for_an_unapproved_scope(
        self, trusted_at_globex, alice, carol_client, tenant_b
    ):
        verifier, challenge = pkce_pair()
        params = client_redirect(
            carol_client.get(
                authorize_url(trusted_at_globex, challenge, scope="user_default offline_access")
            ),
            tenant_b,
        )
        tokens = redeem(client_for(tenant_b), trusted_at_globex, params["code"], verifier).json()
        widen(trusted_at_globex, alice, "email")
        response = refresh(
            client_for(tenant_b), trusted_at_globex, tokens["refresh_token"], scope="email"
        )
        assert_oauth_error(response, 400, "invalid_scope")


class TestApprovalService:
    def test_without_scopes_it_approves_the_clients_scopes_but_admin_ones(
        self, narrow, alice, tenant_b, carol
    ):
        widen(narrow, alice, "admin_classic", "email")
        config = approve_client_for_tenant(tenant_b, narrow.client, actor=carol)
        assert set(config.approved_scope_list) == {"user_default", "offline_access", "email"}

    def test_it_refuses_scopes_the_client_does_not_have(self, narrow, tenant_b, carol):
        with pytest.raises(ValidationError):
            approve_client_for_tenant(tenant_b, narrow.client, scopes=["email"], actor=carol)
        assert config_at(tenant_b, narrow) is None

    def test_the_external_view_shows_what_the_owner_added(
        self, trusted_at_globex, alice, carol_client
    ):
        widen(trusted_at_globex, alice, "admin_classic")
        html = carol_client.get("/console/integration/oauth/").content.decode()
        assert 'Asks for more</span> <span class="mono">admin_classic</span>' in html
        assert '<span class="mono">offline_access user_default</span>' in html


def test_refresh_tokens_keep_no_scope_outside_the_approval_after_the_migration(
    narrow, alice, tenant_b, carol, carol_client
):
    """The data migration scopes existing approvals and revokes what they no longer cover."""
    from importlib import import_module

    from django.apps import apps

    migration = import_module("oauth_clients.migrations.0005_backfill_scopes")
    widen(narrow, alice, "admin_classic")
    # An approval and a token family from before approvals had scopes.
    config = approve_client_for_tenant(tenant_b, narrow.client, scopes=[], actor=carol)
    ConnectionConfig.objects.filter(pk=config.pk).update(approved_scopes="")
    set_consent_method(config, ConnectionConfig.ConsentMethod.TRUSTED, actor=carol)
    ConnectionConfig.objects.filter(pk=config.pk).update(
        approved_scopes="user_default offline_access admin_classic"
    )
    verifier, challenge = pkce_pair()
    page = carol_client.get(
        authorize_url(narrow, challenge, scope="user_default offline_access admin_classic")
    )
    if is_consent_page(page):
        page = allow_consent(carol_client, page)
    code = client_redirect(page, tenant_b)["code"]
    admin_tokens = redeem(client_for(tenant_b), narrow, code, verifier).json()
    verifier, challenge = pkce_pair()
    code = client_redirect(
        carol_client.get(authorize_url(narrow, challenge, scope="user_default offline_access")),
        tenant_b,
    )["code"]
    plain_tokens = redeem(client_for(tenant_b), narrow, code, verifier).json()
    ConnectionConfig.objects.filter(pk=config.pk).update(approved_scopes="")
    RefreshToken.objects.update(scope="")

    migration.backfill_refresh_scopes(apps, None)
    migration.scope_existing_approvals(apps, None)

    config.refresh_from_db()
    assert set(config.approved_scope_list) == {"user_default", "offline_access"}
    admin_refresh = refresh(client_for(tenant_b), narrow, admin_tokens["refresh_token"])
    assert_oauth_error(admin_refresh, 400, "invalid_grant")
    assert (
        client_for(tenant_b)
        .get("/api/v1/users/me", HTTP_AUTHORIZATION=f"Bearer {admin_tokens['access_token']}")
        .status_code
        == 401
    )
    plain_refresh = refresh(client_for(tenant_b), narrow, plain_tokens["refresh_token"])
    assert plain_refresh.status_code == 200, plain_refresh.content
    assert RefreshToken.objects.filter(revoked__isnull=True).exclude(scope="").exists()
