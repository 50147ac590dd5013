"""A published client at another tenant of its region: the tenant-admin approval gate.

Acme (tenant A) owns and publishes the clients; Globex (tenant B, same region)
must approve one before its users can sign in through it. The approval is
checked at ``/oauth/authorize`` and again at every token grant; tokens issued
at Globex belong to Globex. A tenant of another region never sees the client.
"""

from urllib.parse import parse_qs, urlsplit

import pytest
from django.core.exceptions import PermissionDenied

from consent.models import ConsentGrant
from oauth_clients.models import AccessToken, AuthorizationCode, ConnectionConfig, RefreshToken
from oauth_clients.services import (
    ClientData,
    approve_client_for_tenant,
    delete_clients,
    delete_secret,
    generate_secret,
    publish_client,
    revoke_client_for_tenant,
    set_consent_method,
    unpublish_client,
    update_client,
)
from tenants.models import AuditEvent, Membership
from tests.factories import (
    MembershipFactory,
    RegionFactory,
    TenantFactory,
    UserFactory,
    create_oauth_client,
)
from tests.flows import (
    AUTHORIZE,
    REDIRECT,
    Registered,
    allow_consent,
    answer_approval,
    assert_error_page,
    assert_oauth_error,
    authorize_params,
    authorize_url,
    basic,
    client_for,
    client_redirect,
    config_at,
    error_redirect,
    error_text,
    hidden_fields,
    is_approval_page,
    is_consent_page,
    issue_through,
    pkce_pair,
    redeem,
    refresh,
    sign_in_through,
    users_me,
)
from tests.jwts import payload_of

pytestmark = pytest.mark.django_db


@pytest.fixture
def tenant_us(db):
    return TenantFactory(slug="initech", name="Initech", region=RegionFactory(code="us"))


@pytest.fixture
def erin(tenant_us):
    """Admin of a tenant in the us region."""
    user = UserFactory(email="erin@initech.test", name="Erin")
    MembershipFactory(user=user, tenant=tenant_us, role=Membership.Role.ADMIN)
    return user


# --- The approval page -------------------------------------------------------------------


class TestApprovalPage:
    def test_an_admin_sees_the_approval_page_and_nothing_is_recorded(
        self, published, carol_client, tenant_b
    ):
        _verifier, challenge = pkce_pair()
        response = carol_client.get(authorize_url(published, challenge))
        assert response.status_code == 200
        html = response.content.decode()
        assert "Approve <bdi>Web app</bdi>?" in html
        assert "Approve for Globex" in html
        assert 'value="cancel"' in html and "Cancel" in html
        assert config_at(tenant_b, published) is None
        assert AuthorizationCode.objects.count() == 0
        assert not AuditEvent.objects.filter(action="oauth_client.approved").exists()

    def test_it_shows_the_client_owner_redirect_host_and_scopes(
        self, tenant_a, tenant_b, alice, carol_client
    ):
        client, secret = create_oauth_client(
            tenant_a,
            actor=alice,
            name="Expense tracker",
            description="Tracks <b>expenses</b> for teams.",
            redirect_uris=["https://expenses.example.org/oauth/cb"],
            allowed_scopes=["user_default", "email"],
        )
        publish_client(client, actor=alice)
        registered = Registered(client, secret, "https://expenses.example.org/oauth/cb")
        _verifier, challenge = pkce_pair()
        html = carol_client.get(
            authorize_url(registered, challenge, scope="user_default email")
        ).content.decode()
        assert "Approve <bdi>Expense tracker</bdi>?" in html
        assert "Tracks &lt;b&gt;expenses&lt;/b&gt; for teams." in html
        assert "<b>expenses</b>" not in html
        assert "Acme" in html
        assert tenant_a.hostname in html
        # The host of the redirect URL, not the whole URL.
        assert '<dd class="mono">expenses.example.org</dd>' in html
        assert '<code class="muted">user_default</code>' in html
        assert '<code class="muted">email</code>' in html
        assert "Approve for Globex" in html

    def test_the_form_posts_the_request_back_unchanged(self, published, carol_client):
        _verifier, challenge = pkce_pair()
        html = carol_client.get(
            authorize_url(published, challenge, state="st&8", nonce="n-1")
        ).content.decode()
        assert f'action="{AUTHORIZE}"' in html
        assert 'method="post"' in html
        fields = hidden_fields(html)
        assert fields["client_id"] == published.client_id
        assert fields["redirect_uri"] == REDIRECT
        assert 'value="st&amp;8"' in html  # HTML-escaped in the attribute
        assert fields["state"] == "st&8"
        assert fields["nonce"] == "n-1"
        assert fields["code_challenge"] == challenge
        assert fields["code_challenge_method"] == "S256"
        assert fields["scope"] == "user_default"
        assert "csrfmiddlewaretoken" in fields

    def test_an_anonymous_user_signs_in_first_then_sees_the_approval_page(
        self, published, carol, tenant_b
    ):
        http = client_for(tenant_b)
        _verifier, challenge = pkce_pair()
        url = authorize_url(published, challenge)
        response = http.get(url)
        assert response.status_code == 302
        parts = urlsplit(response["Location"])
        assert parts.path == "/login/"
        assert parse_qs(parts.query)["next"] == [url]
        signed_in = http.post(
            "/login/", {"username": carol.email, "password": "password", "next": url}
        )
        assert signed_in.status_code == 302
        assert signed_in["Location"] == url
        assert is_approval_page(http.get(url))

    def test_an_own_client_needs_no_approval(self, published, alice_client, tenant_a):
        _verifier, challenge = pkce_pair()
        response = alice_client.get(authorize_url(published, challenge))
        assert "code" in client_redirect(response, tenant_a)

    def test_an_approved_client_shows_no_approval_page_again(
        self, approved, carol_client, tenant_b
    ):
        _verifier, challenge = pkce_pair()
        response = carol_client.get(authorize_url(approved, challenge))
        assert response.status_code == 200
        assert is_consent_page(response)
        assert not is_approval_page(response)

    def test_with_prompt_none_no_page_is_shown(self, published, carol_client, tenant_b):
        # OpenID Connect Core §3.1.2.1: prompt=none never displays a page; the
        # approval page is one, so the client gets an error instead.
        _verifier, challenge = pkce_pair()
        response = carol_client.get(authorize_url(published, challenge, prompt="none"))
        params = client_redirect(response, tenant_b)
        assert params.get("error") == "interaction_required"
        assert "code" not in params
        assert params["state"] == "xyz"
        assert config_at(tenant_b, published) is None

    def test_with_prompt_none_a_member_gets_access_denied(self, published, dave_client, tenant_b):
        _verifier, challenge = pkce_pair()
        response = dave_client.get(authorize_url(published, challenge, prompt="none"))
        error_redirect(response, tenant_b, "access_denied")

    def test_an_invalid_request_gets_the_usual_answer_not_the_approval_page(
        self, published, carol_client, tenant_b
    ):
        _verifier, challenge = pkce_pair()
        response = carol_client.get(
            authorize_url(published, challenge, redirect_uri="https://evil.example/cb")
        )
        assert_error_page(response)
        response = carol_client.get(authorize_url(published, challenge, scope="admin_everything"))
        error_redirect(response, tenant_b, "invalid_scope")
        assert config_at(tenant_b, published) is None


# --- Approving ---------------------------------------------------------------------------


class TestApprove:
    def test_approving_records_who_and_when_and_continues_to_consent(
        self, published, carol_client, carol, tenant_b
    ):
        _verifier, challenge = pkce_pair()
        page = carol_client.get(authorize_url(published, challenge))
        response = answer_approval(carol_client, page)
        # Globex's consent method for it is "required" by default, whatever Acme's is.
        assert is_consent_page(response)
        config = config_at(tenant_b, published)
        assert config.approved_by == carol
        assert config.approved_at is not None
        assert config.consent_method == ConnectionConfig.ConsentMethod.REQUIRED

    def test_approving_is_audited_at_the_approving_tenant(
        self, published, carol_client, carol, tenant_a, tenant_b
    ):
        _verifier, challenge = pkce_pair()
        answer_approval(carol_client, carol_client.get(authorize_url(published, challenge)))
        event = AuditEvent.objects.get(action="oauth_client.approved")
        assert event.tenant == tenant_b
        assert event.actor == carol
        assert event.target_id == str(published.client.pk)
        assert event.data["owner_tenant"] == tenant_a.hostname

    def test_after_approval_and_consent_the_admin_gets_a_code_and_a_token(
        self, published, carol_client, carol, tenant_b
    ):
        verifier, challenge = pkce_pair()
        page = carol_client.get(authorize_url(published, challenge, state="s-42"))
        consent = answer_approval(carol_client, page)
        params = client_redirect(allow_consent(carol_client, consent), tenant_b)
        assert params["state"] == "s-42"
        grant = AuthorizationCode.objects.get(code=params["code"])
        assert grant.tenant == tenant_b
        assert grant.user == carol
        token = redeem(client_for(tenant_b), published, params["code"], verifier)
        assert token.status_code == 200, token.content
        assert (
            users_me(client_for(tenant_b), token.json()["access_token"]).json()["email"]
            == carol.email
        )

    def test_approving_twice_keeps_the_first_approval(
        self, published, carol_client, carol, tenant_b
    ):
        _verifier, challenge = pkce_pair()
        page = carol_client.get(authorize_url(published, challenge))
        assert is_consent_page(answer_approval(carol_client, page))
        first = config_at(tenant_b, published).approved_at
        # The same form submitted again (browser back, double click): no harm done.
        assert is_consent_page(answer_approval(carol_client, page))
        assert config_at(tenant_b, published).approved_at == first
        assert AuditEvent.objects.filter(action="oauth_client.approved").count() == 1

    def test_cancelling_sends_access_denied_and_records_nothing(
        self, published, carol_client, tenant_b
    ):
        _verifier, challenge = pkce_pair()
        page = carol_client.get(authorize_url(published, challenge, state="s-9"))
        response = answer_approval(carol_client, page, "cancel")
        params = error_redirect(response, tenant_b, "access_denied")
        assert params["state"] == "s-9"
        assert config_at(tenant_b, published) is None
        assert AuditEvent.objects.filter(action="oauth_client.approved").count() == 0

    def test_the_posted_request_is_validated_again(self, published, carol_client, tenant_b):
        _verifier, challenge = pkce_pair()
        page = carol_client.get(authorize_url(published, challenge))
        fields = hidden_fields(page.text)
        response = carol_client.post(
            AUTHORIZE,
            {**fields, "redirect_uri": "https://evil.example/cb", "tenant_approval": "approve"},
        )
        assert_error_page(response)
        response = carol_client.post(
            AUTHORIZE, {**fields, "client_id": "0" * 32, "tenant_approval": "approve"}
        )
        assert_error_page(response)
        assert config_at(tenant_b, published) is None

    def test_the_approval_post_needs_a_csrf_token(self, published, carol, tenant_b):
        http = client_for(tenant_b, carol, enforce_csrf_checks=True)
        _verifier, challenge = pkce_pair()
        page = http.get(authorize_url(published, challenge))
        fields = hidden_fields(page.text)
        fields.pop("csrfmiddlewaretoken")
        response = http.post(AUTHORIZE, {**fields, "tenant_approval": "approve"})
        assert response.status_code == 403
        assert config_at(tenant_b, published) is None

    def test_an_approval_post_for_an_own_client_is_no_server_error(
        self, published, alice, tenant_a
    ):
        # A crafted (or replayed) approval form for a client this tenant owns.
        http = client_for(tenant_a, alice, raise_request_exception=False)
        _verifier, challenge = pkce_pair()
        fields = authorize_params(published, challenge)
        response = http.post(AUTHORIZE, {**fields, "tenant_approval": "approve"})
        assert response.status_code < 500, response.status_code
        assert ConnectionConfig.objects.filter(client=published.client).count() == 1

    def test_a_user_of_a_tenant_that_revoked_must_be_approved_again(
        self, approved, carol_client, carol, tenant_b
    ):
        revoke_client_for_tenant(config_at(tenant_b, approved), actor=carol)
        _verifier, challenge = pkce_pair()
        assert is_approval_page(carol_client.get(authorize_url(approved, challenge)))


# --- Anyone but a tenant admin ---------------------------------------------------------------


class TestMemberBeforeApproval:
    def test_a_member_gets_access_denied_with_state_iss_and_a_reason(
        self, published, dave_client, tenant_b
    ):
        _verifier, challenge = pkce_pair()
        response = dave_client.get(authorize_url(published, challenge, state="s-1"))
        params = error_redirect(response, tenant_b, "access_denied")
        assert params["state"] == "s-1"
        description = params["error_description"]
        assert "tenant admin" in description and "approve" in description
        assert AuthorizationCode.objects.count() == 0
        assert config_at(tenant_b, published) is None

    def test_without_state_none_comes_back(self, published, dave_client, tenant_b):
        _verifier, challenge = pkce_pair()
        response = dave_client.get(authorize_url(published, challenge, state=None))
        params = error_redirect(response, tenant_b, "access_denied")
        assert "state" not in params

    def test_the_owner_tenants_admin_is_only_a_member_elsewhere(self, published, alice, tenant_b):
        # Alice administers Acme, the owner; at Globex she is a member only.
        MembershipFactory(user=alice, tenant=tenant_b, role=Membership.Role.MEMBER)
        http = client_for(tenant_b, alice)
        _verifier, challenge = pkce_pair()
        error_redirect(http.get(authorize_url(published, challenge)), tenant_b, "access_denied")

    def test_a_member_cannot_approve_with_a_crafted_post(self, published, dave_client, tenant_b):
        _verifier, challenge = pkce_pair()
        fields = authorize_params(published, challenge, state="s-2")
        response = dave_client.post(AUTHORIZE, {**fields, "tenant_approval": "approve"})
        params = error_redirect(response, tenant_b, "access_denied")
        assert params["state"] == "s-2"
        assert config_at(tenant_b, published) is None
        assert not AuditEvent.objects.filter(action="oauth_client.approved").exists()

    def test_a_member_cannot_skip_the_gate_by_posting_the_consent_form(
        self, published, dave_client, tenant_b
    ):
        _verifier, challenge = pkce_pair()
        fields = authorize_params(published, challenge, state="s-3")
        response = dave_client.post(AUTHORIZE, {**fields, "allow": "Authorize"})
        error_redirect(response, tenant_b, "access_denied")
        assert AuthorizationCode.objects.count() == 0

    def test_a_code_obtained_before_approval_is_not_redeemed(
        self, published, dave_client, tenant_b
    ):
        # Whatever the authorize step let through, the token endpoint checks again.
        verifier, challenge = pkce_pair()
        fields = authorize_params(published, challenge, state=None)
        response = dave_client.post(AUTHORIZE, {**fields, "allow": "Authorize"})
        code = parse_qs(urlsplit(response.get("Location", "")).query).get("code", ["nope"])[0]
        token = redeem(client_for(tenant_b), published, code, verifier)
        assert token.status_code in (400, 401)
        assert "access_token" not in token.json()
        assert not AccessToken.objects.filter(tenant=tenant_b).exists()


class TestMemberAfterApproval:
    def test_a_member_consents_and_signs_in(self, approved, dave_client, dave, tenant_b):
        verifier, challenge = pkce_pair()
        page = dave_client.get(authorize_url(approved, challenge))
        assert is_consent_page(page)
        assert not is_approval_page(page)
        params = client_redirect(allow_consent(dave_client, page), tenant_b)
        token = redeem(client_for(tenant_b), approved, params["code"], verifier)
        assert token.status_code == 200, token.content
        me = users_me(client_for(tenant_b), token.json()["access_token"])
        assert me.status_code == 200
        assert me.json()["email"] == dave.email

    def test_a_member_who_denies_consent_gets_access_denied(self, approved, dave_client, tenant_b):
        _verifier, challenge = pkce_pair()
        page = dave_client.get(authorize_url(approved, challenge))
        fields = hidden_fields(page.text)
        response = dave_client.post(AUTHORIZE, fields)
        error_redirect(response, tenant_b, "access_denied")

    def test_consent_is_remembered_at_the_approving_tenant(
        self, approved, dave_client, dave, tenant_b
    ):
        _verifier, challenge = pkce_pair()
        page = dave_client.get(authorize_url(approved, challenge))
        client_redirect(allow_consent(dave_client, page), tenant_b)
        grant = ConsentGrant.objects.get(user=dave, client=approved.client)
        assert grant.tenant == tenant_b
        assert "user_default" in grant.scope_list
        # The second sign-in asks no more.
        _verifier, challenge = pkce_pair()
        again = dave_client.get(authorize_url(approved, challenge))
        assert "code" in client_redirect(again, tenant_b)

    def test_with_prompt_none_before_consent_the_client_gets_consent_required(
        self, approved, dave_client, tenant_b
    ):
        _verifier, challenge = pkce_pair()
        response = dave_client.get(authorize_url(approved, challenge, prompt="none"))
        error_redirect(response, tenant_b, "consent_required")


# --- Consent methods: each tenant its own ------------------------------------------------------


class TestConsentMethod:
    @pytest.fixture
    def required_at_owner(self, tenant_a, alice):
        client, secret = create_oauth_client(
            tenant_a, actor=alice, name="Survey app", redirect_uris=[REDIRECT]
        )
        publish_client(client, actor=alice)
        return Registered(client, secret)

    def test_trusted_at_globex_skips_the_consent_page_only_at_globex(
        self, required_at_owner, carol, dave_client, bob_client, tenant_a, tenant_b
    ):
        config = approve_client_for_tenant(tenant_b, required_at_owner.client, actor=carol)
        set_consent_method(config, ConnectionConfig.ConsentMethod.TRUSTED, actor=carol)
        _verifier, challenge = pkce_pair()
        at_globex = dave_client.get(authorize_url(required_at_owner, challenge))
        assert "code" in client_redirect(at_globex, tenant_b)
        at_acme = bob_client.get(authorize_url(required_at_owner, challenge))
        assert is_consent_page(at_acme)
        assert (
            ConnectionConfig.objects.get(
                tenant=tenant_a, client=required_at_owner.client
            ).consent_method
            == ConnectionConfig.ConsentMethod.REQUIRED
        )

    def test_trusted_at_the_owner_does_not_make_it_trusted_at_globex(
        self, approved, dave_client, bob_client, tenant_a, tenant_b
    ):
        _verifier, challenge = pkce_pair()
        assert "code" in client_redirect(
            bob_client.get(authorize_url(approved, challenge)), tenant_a
        )
        assert is_consent_page(dave_client.get(authorize_url(approved, challenge)))

    def test_back_to_required_the_consent_page_returns(
        self, approved, carol, dave_client, tenant_b
    ):
        config = config_at(tenant_b, approved)
        set_consent_method(config, ConnectionConfig.ConsentMethod.TRUSTED, actor=carol)
        _verifier, challenge = pkce_pair()
        assert "code" in client_redirect(
            dave_client.get(authorize_url(approved, challenge)), tenant_b
        )
        set_consent_method(config, ConnectionConfig.ConsentMethod.REQUIRED, actor=carol)
        assert is_consent_page(dave_client.get(authorize_url(approved, challenge)))

    def test_the_owners_edit_keeps_globexs_consent_method(self, approved, alice, carol, tenant_b):
        config = config_at(tenant_b, approved)
        set_consent_method(config, ConnectionConfig.ConsentMethod.TRUSTED, actor=carol)
        client = approved.client
        update_client(
            client,
            ClientData(
                name="Web app v2",
                redirect_uris=client.redirect_uri_list,
                allowed_scopes=client.allowed_scope_list,
                consent_method=ConnectionConfig.ConsentMethod.REQUIRED,
            ),
            actor=alice,
        )
        config.refresh_from_db()
        assert config.consent_method == ConnectionConfig.ConsentMethod.TRUSTED


# --- The token endpoint checks the approval again ------------------------------------------------


class TestTokenEndpoint:
    def test_a_code_is_not_redeemed_once_the_approval_is_gone(
        self, approved, carol_client, tenant_b
    ):
        code, verifier = sign_in_through(carol_client, approved, tenant_b)
        ConnectionConfig.objects.filter(tenant=tenant_b, client=approved.client).update(
            approved_at=None
        )
        response = redeem(client_for(tenant_b), approved, code, verifier)
        assert_oauth_error(response, 400, "unauthorized_client")
        assert not AccessToken.objects.filter(tenant=tenant_b).exists()

    def test_a_refresh_is_refused_once_the_approval_is_gone(self, approved, carol_client, tenant_b):
        tokens = issue_through(carol_client, approved, tenant_b)
        refreshed = refresh(client_for(tenant_b), approved, tokens["refresh_token"])
        assert refreshed.status_code == 200, refreshed.content
        tokens = refreshed.json()
        ConnectionConfig.objects.filter(tenant=tenant_b, client=approved.client).update(
            approved_at=None
        )
        response = refresh(client_for(tenant_b), approved, tokens["refresh_token"])
        assert_oauth_error(response, 400, "unauthorized_client")

    def test_revoking_the_approval_ends_globexs_tokens_only(
        self, approved, carol, carol_client, alice_client, tenant_a, tenant_b
    ):
        at_globex = issue_through(carol_client, approved, tenant_b)
        at_acme = issue_through(alice_client, approved, tenant_a)
        revoke_client_for_tenant(config_at(tenant_b, approved), actor=carol)
        assert users_me(client_for(tenant_b), at_globex["access_token"]).status_code == 401
        response = refresh(client_for(tenant_b), approved, at_globex["refresh_token"])
        assert response.status_code in (400, 401)
        assert not AccessToken.objects.filter(tenant=tenant_b).exists()
        assert not RefreshToken.objects.filter(tenant=tenant_b, revoked__isnull=True).exists()
        assert users_me(client_for(tenant_a), at_acme["access_token"]).status_code == 200
        assert refresh(client_for(tenant_a), approved, at_acme["refresh_token"]).status_code == 200

    def test_client_credentials_work_only_at_the_owner_tenant(
        self, tenant_a, tenant_b, alice, carol
    ):
        client, secret = create_oauth_client(
            tenant_a, actor=alice, name="Sync job", machine_to_machine=True
        )
        publish_client(client, actor=alice)
        approve_client_for_tenant(tenant_b, client, actor=carol)
        registered = Registered(client, secret)
        data = {"grant_type": "client_credentials", "scope": "user_default"}
        at_globex = client_for(tenant_b).post(
            "/oauth/token", data, HTTP_AUTHORIZATION=basic(registered)
        )
        assert_oauth_error(at_globex, 400, "unauthorized_client")
        assert not AccessToken.objects.filter(tenant=tenant_b).exists()
        at_acme = client_for(tenant_a).post(
            "/oauth/token", data, HTTP_AUTHORIZATION=basic(registered)
        )
        assert at_acme.status_code == 200, at_acme.content


# --- Tokens issued at Globex belong to Globex ---------------------------------------------------


class TestTokensBelongToTheIssuingTenant:
    def test_issuer_audience_tenant_and_subject_are_globexs(
        self, approved, dave_client, dave, tenant_b
    ):
        tokens = issue_through(dave_client, approved, tenant_b)
        claims = payload_of(tokens["access_token"])
        assert claims["iss"] == tenant_b.base_url
        assert claims["aud"] == tenant_b.base_url
        assert claims["tenant_id"] == str(tenant_b.pk)
        assert claims["client_id"] == approved.client_id
        assert claims["sub"] == str(Membership.objects.get(user=dave, tenant=tenant_b).subject)
        row = AccessToken.objects.get(jti=claims["jti"])
        assert row.tenant == tenant_b
        assert RefreshToken.objects.get(access_token=row).tenant == tenant_b

    def test_the_id_token_is_issued_by_globex(self, approved, dave_client, tenant_b):
        tokens = issue_through(dave_client, approved, tenant_b, scope="openid user_default")
        assert payload_of(tokens["id_token"])["iss"] == tenant_b.base_url

    def test_globexs_api_accepts_it_and_acmes_does_not(
        self, approved, dave_client, dave, tenant_a, tenant_b
    ):
        tokens = issue_through(dave_client, approved, tenant_b)
        me = users_me(client_for(tenant_b), tokens["access_token"])
        assert me.status_code == 200
        assert me.json()["email"] == dave.email
        assert me.json()["tenant"]["hostname"] == tenant_b.hostname
        assert users_me(client_for(tenant_a), tokens["access_token"]).status_code == 401

    def test_its_refresh_token_works_at_globex_only(
        self, approved, dave_client, tenant_a, tenant_b
    ):
        tokens = issue_through(dave_client, approved, tenant_b)
        assert refresh(client_for(tenant_a), approved, tokens["refresh_token"]).status_code == 400
        refreshed = refresh(client_for(tenant_b), approved, tokens["refresh_token"])
        assert refreshed.status_code == 200, refreshed.content
        assert payload_of(refreshed.json()["access_token"])["iss"] == tenant_b.base_url

    def test_introspection_at_globex_knows_it_and_at_acme_does_not(
        self, approved, dave_client, tenant_a, tenant_b
    ):
        tokens = issue_through(dave_client, approved, tenant_b)
        data = {"token": tokens["access_token"]}
        auth = {"HTTP_AUTHORIZATION": basic(approved)}
        at_globex = client_for(tenant_b).post("/oauth/introspect", data, **auth).json()
        assert at_globex["active"] is True
        assert at_globex["iss"] == tenant_b.base_url
        at_acme = client_for(tenant_a).post("/oauth/introspect", data, **auth).json()
        assert at_acme == {"active": False}

    def test_revocation_at_acme_leaves_globexs_token_alone(
        self, approved, dave_client, tenant_a, tenant_b
    ):
        tokens = issue_through(dave_client, approved, tenant_b)
        auth = {"HTTP_AUTHORIZATION": basic(approved)}
        for token in (tokens["access_token"], tokens["refresh_token"]):
            response = client_for(tenant_a).post("/oauth/revoke", {"token": token}, **auth)
            assert response.status_code == 200  # RFC 7009 §2.2: unknown tokens too
        assert users_me(client_for(tenant_b), tokens["access_token"]).status_code == 200
        assert RefreshToken.objects.filter(tenant=tenant_b, revoked__isnull=True).exists()

    def test_revocation_at_globex_leaves_acmes_token_alone(
        self, approved, alice_client, tenant_a, tenant_b
    ):
        tokens = issue_through(alice_client, approved, tenant_a)
        auth = {"HTTP_AUTHORIZATION": basic(approved)}
        for token in (tokens["access_token"], tokens["refresh_token"]):
            response = client_for(tenant_b).post("/oauth/revoke", {"token": token}, **auth)
            assert response.status_code == 200
        assert users_me(client_for(tenant_a), tokens["access_token"]).status_code == 200
        assert RefreshToken.objects.filter(tenant=tenant_a, revoked__isnull=True).exists()

    def test_revocation_at_globex_ends_it(self, approved, dave_client, tenant_b):
        tokens = issue_through(dave_client, approved, tenant_b)
        response = client_for(tenant_b).post(
            "/oauth/revoke",
            {"token": tokens["access_token"]},
            HTTP_AUTHORIZATION=basic(approved),
        )
        assert response.status_code == 200
        assert users_me(client_for(tenant_b), tokens["access_token"]).status_code == 401


# --- The owner keeps control ----------------------------------------------------------------------


class TestOwnerControl:
    def test_a_new_secret_works_at_globex_and_a_deleted_one_stops(
        self, approved, alice, carol_client, tenant_b
    ):
        client = approved.client
        old_row = client.secrets.get()
        _row, new_secret = generate_secret(client, actor=alice)
        rotated = Registered(client, new_secret)
        code, verifier = sign_in_through(carol_client, approved, tenant_b)
        response = redeem(client_for(tenant_b), rotated, code, verifier)
        assert response.status_code == 200, response.content
        delete_secret(old_row, actor=alice)
        code, verifier = sign_in_through(carol_client, approved, tenant_b)
        response = redeem(client_for(tenant_b), approved, code, verifier)
        assert_oauth_error(response, 401, "invalid_client")
        response = redeem(client_for(tenant_b), rotated, code, verifier)
        assert response.status_code == 200, response.content

    def test_an_old_redirect_url_is_refused_at_globex_after_the_owner_edits_it(
        self, approved, alice, carol_client, tenant_b
    ):
        client = approved.client
        new_redirect = "https://new.example.com/callback"
        update_client(
            client,
            ClientData(
                name=client.name,
                redirect_uris=[new_redirect],
                allowed_scopes=client.allowed_scope_list,
                consent_method=ConnectionConfig.ConsentMethod.TRUSTED,
            ),
            actor=alice,
        )
        _verifier, challenge = pkce_pair()
        assert_error_page(carol_client.get(authorize_url(approved, challenge)))
        moved = Registered(client, approved.secret, new_redirect)
        code, _verifier = sign_in_through(carol_client, moved, tenant_b)
        assert AuthorizationCode.objects.get(code=code).redirect_uri == new_redirect

    def test_a_rename_shows_at_globex_at_once(self, published, alice, carol_client):
        client = published.client
        update_client(
            client,
            ClientData(
                name="Renamed app",
                redirect_uris=client.redirect_uri_list,
                allowed_scopes=client.allowed_scope_list,
                consent_method=ConnectionConfig.ConsentMethod.TRUSTED,
            ),
            actor=alice,
        )
        _verifier, challenge = pkce_pair()
        assert (
            "Approve <bdi>Renamed app</bdi>?"
            in carol_client.get(authorize_url(published, challenge)).content.decode()
        )

    def test_deletion_by_the_owner_ends_globexs_tokens_and_the_client_there(
        self, approved, alice, dave_client, tenant_a, tenant_b
    ):
        tokens = issue_through(dave_client, approved, tenant_b)
        delete_clients(tenant_a, [approved.client.pk], actor=alice)
        assert users_me(client_for(tenant_b), tokens["access_token"]).status_code == 401
        assert refresh(client_for(tenant_b), approved, tokens["refresh_token"]).status_code in (
            400,
            401,
        )
        assert not AccessToken.objects.filter(tenant=tenant_b).exists()
        _verifier, challenge = pkce_pair()
        assert_error_page(dave_client.get(authorize_url(approved, challenge)))

    def test_after_unpublishing_globex_knows_the_client_no_more(
        self, approved, alice, carol_client, tenant_b
    ):
        unpublish_client(approved.client, actor=alice)
        _verifier, challenge = pkce_pair()
        assert_error_page(carol_client.get(authorize_url(approved, challenge)))

    def test_published_again_it_needs_a_new_approval(self, approved, alice, carol_client):
        unpublish_client(approved.client, actor=alice)
        publish_client(approved.client, actor=alice)
        _verifier, challenge = pkce_pair()
        assert is_approval_page(carol_client.get(authorize_url(approved, challenge)))


# --- Other regions, unpublished clients -------------------------------------------------------


class TestVisibility:
    def test_a_tenant_of_another_region_gets_the_unknown_client_page(
        self, published, erin, tenant_us
    ):
        http = client_for(tenant_us, erin)
        _verifier, challenge = pkce_pair()
        response = http.get(authorize_url(published, challenge))
        assert_error_page(response)
        unknown = http.get(authorize_url(published, challenge, client_id="0" * 32))
        assert_error_page(unknown)
        assert error_text(response) == error_text(unknown)
        assert not ConnectionConfig.objects.filter(tenant=tenant_us).exists()

    def test_a_tenant_of_another_region_cannot_approve_it(self, published, erin, tenant_us):
        with pytest.raises(PermissionDenied):
            approve_client_for_tenant(tenant_us, published.client, actor=erin)
        http = client_for(tenant_us, erin)
        _verifier, challenge = pkce_pair()
        fields = authorize_params(published, challenge, scope=None, state=None)
        assert_error_page(http.post(AUTHORIZE, {**fields, "tenant_approval": "approve"}))
        assert not ConnectionConfig.objects.filter(tenant=tenant_us).exists()

    def test_its_token_endpoint_does_not_know_the_client(self, published, tenant_us):
        response = client_for(tenant_us).post(
            "/oauth/token",
            {"grant_type": "client_credentials"},
            HTTP_AUTHORIZATION=basic(published),
        )
        assert_oauth_error(response, 401, "invalid_client")

    def test_an_unpublished_client_of_another_tenant_is_unknown(self, web, carol_client):
        _verifier, challenge = pkce_pair()
        assert_error_page(carol_client.get(authorize_url(web, challenge)))

    def test_a_deleted_published_client_is_unknown(self, published, alice, carol_client, tenant_a):
        delete_clients(tenant_a, [published.client.pk], actor=alice)
        _verifier, challenge = pkce_pair()
        assert_error_page(carol_client.get(authorize_url(published, challenge)))
