"""The consent page of the authorization endpoint, and the grants it records.

Under the *required* consent method the user is asked once per new scope;
the *trusted* method never asks, except with ``prompt=consent``. The page's
form is a CSRF-protected POST whose hidden fields cannot widen the request.
"""

import html
from urllib.parse import urlsplit

import pytest

from consent.models import ConsentGrant
from oauth_clients.models import AuthorizationCode
from tests.factories import create_oauth_client
from tests.flows import (
    AUTHORIZE,
    REDIRECT,
    Registered,
    authorize,
    client_for,
    client_redirect,
    consent_form,
    pkce_pair,
    post_form,
    redeem,
    required_client,
)

pytestmark = pytest.mark.django_db

CLIENT_NAME = "Quarterly reports"
ALLOW = {"allow": "Authorize"}
DESCRIPTIONS = {
    "user_default": "Use the platform's APIs on your behalf",
    "offline_access": "Stay connected when you are not signed in",
    "email": "See your email address",
}


# --- Helpers -----------------------------------------------------------------------------


def page_text(response) -> str:
    return html.unescape(response.content.decode())


def grant_of(tenant, user, registered: Registered) -> ConsentGrant | None:
    return ConsentGrant.objects.filter(tenant=tenant, user=user, client=registered.client).first()


@pytest.fixture
def http(tenant_a, alice):
    """Alice at tenant A, with CSRF checks as a browser meets them."""
    return client_for(tenant_a, alice, enforce_csrf_checks=True)


def open_consent(http, registered, **extra):
    """GET the authorization request; the consent form it shows, and the PKCE verifier."""
    verifier, challenge = pkce_pair()
    form = consent_form(authorize(http, registered, challenge, **extra))
    return form, verifier


# --- The page ----------------------------------------------------------------------------


class TestConsentPage:
    def test_the_first_request_shows_the_page_naming_client_owner_and_scopes(
        self, http, reports, tenant_a
    ):
        _verifier, challenge = pkce_pair()
        response = authorize(http, reports, challenge, scope="user_default email")
        assert response.status_code == 200
        assert "Location" not in response
        text = page_text(response)
        assert CLIENT_NAME in text
        assert "Registered by <bdi>Acme</bdi>" in text
        assert "alice@acme.test" in text
        assert DESCRIPTIONS["user_default"] in text
        assert DESCRIPTIONS["email"] in text
        assert DESCRIPTIONS["offline_access"] not in text
        assert ">Allow<" in text
        assert ">Deny<" in text
        assert AuthorizationCode.objects.count() == 0
        assert not ConsentGrant.objects.exists()

    def test_the_form_carries_the_request_in_hidden_fields_and_a_csrf_token(self, http, reports):
        _verifier, challenge = pkce_pair()
        form = consent_form(authorize(http, reports, challenge, scope="user_default email"))
        assert form.action == AUTHORIZE
        assert form.hidden["client_id"] == reports.client_id
        assert form.hidden["redirect_uri"] == REDIRECT
        assert form.hidden["response_type"] == "code"
        assert form.hidden["state"] == "xyz"
        assert form.hidden["code_challenge"] == challenge
        assert form.hidden["code_challenge_method"] == "S256"
        assert form.hidden["scope"].split() == ["user_default", "email"]
        assert form.hidden["csrfmiddlewaretoken"]
        assert ("allow", "Authorize") in form.buttons
        assert (None, None) in form.buttons  # Deny: a submit without "allow"

    def test_the_page_cannot_be_framed_or_cached(self, http, reports):
        _verifier, challenge = pkce_pair()
        response = authorize(http, reports, challenge)
        assert response.status_code == 200
        assert response["X-Frame-Options"] == "DENY"
        assert "no-store" in response["Cache-Control"] or "no-cache" in response["Cache-Control"]

    def test_a_hostile_state_is_escaped_on_the_page(self, http, reports):
        state = '"><script>alert(1)</script>'
        _verifier, challenge = pkce_pair()
        response = authorize(http, reports, challenge, state=state)
        assert response.status_code == 200
        assert "<script>alert(1)</script>" not in response.content.decode()
        assert consent_form(response).hidden["state"] == state

    def test_a_bad_request_gets_no_consent_page(self, http, reports):
        _verifier, challenge = pkce_pair()
        bad = Registered(reports.client, reports.secret, "https://evil.test/callback")
        response = authorize(http, bad, challenge)
        assert response.status_code == 400
        assert "Location" not in response
        assert CLIENT_NAME not in page_text(response)


# --- Allow ---------------------------------------------------------------------------------


class TestAllow:
    def test_allow_sends_the_client_a_code_with_state_and_iss(
        self, http, api, reports, tenant_a, alice
    ):
        form, verifier = open_consent(http, reports)
        params = client_redirect(post_form(http, form, **ALLOW), tenant_a)
        assert params["state"] == "xyz"
        assert "error" not in params
        grant = AuthorizationCode.objects.get(code=params["code"])
        assert grant.tenant == tenant_a
        assert grant.user == alice
        assert grant.application == reports.client
        assert grant.scope == "user_default"

        token = redeem(api, reports, params["code"], verifier)
        assert token.status_code == 200, token.content
        me = api.get(
            "/api/v1/users/me", HTTP_AUTHORIZATION=f"Bearer {token.json()['access_token']}"
        )
        assert me.status_code == 200
        assert me.json()["email"] == "alice@acme.test"

    def test_allow_records_the_grant_for_this_user_client_and_tenant(
        self, http, reports, tenant_a, alice
    ):
        form, _verifier = open_consent(http, reports, scope="user_default email")
        client_redirect(post_form(http, form, **ALLOW), tenant_a)
        grant = grant_of(tenant_a, alice, reports)
        assert grant is not None
        assert set(grant.scope_list) == {"user_default", "email"}
        assert ConsentGrant.objects.count() == 1

    def test_the_next_request_with_the_same_scopes_redirects_straight_away(
        self, http, reports, tenant_a
    ):
        form, _verifier = open_consent(http, reports, scope="user_default email")
        client_redirect(post_form(http, form, **ALLOW), tenant_a)

        _verifier, challenge = pkce_pair()
        params = client_redirect(
            authorize(http, reports, challenge, scope="email user_default"), tenant_a
        )
        assert params["code"]
        assert params["state"] == "xyz"

    def test_a_subset_of_the_granted_scopes_redirects_straight_away(self, http, reports, tenant_a):
        form, _verifier = open_consent(http, reports, scope="user_default email")
        client_redirect(post_form(http, form, **ALLOW), tenant_a)

        _verifier, challenge = pkce_pair()
        params = client_redirect(authorize(http, reports, challenge, scope="email"), tenant_a)
        assert AuthorizationCode.objects.get(code=params["code"]).scope == "email"

    def test_a_new_scope_asks_again_and_allowing_adds_it(self, http, reports, tenant_a, alice):
        form, _verifier = open_consent(http, reports, scope="user_default")
        client_redirect(post_form(http, form, **ALLOW), tenant_a)

        _verifier, challenge = pkce_pair()
        response = authorize(http, reports, challenge, scope="user_default offline_access")
        assert response.status_code == 200
        assert DESCRIPTIONS["offline_access"] in page_text(response)
        assert AuthorizationCode.objects.count() == 1  # only the first one

        params = client_redirect(post_form(http, consent_form(response), **ALLOW), tenant_a)
        assert set(AuthorizationCode.objects.get(code=params["code"]).scope.split()) == {
            "user_default",
            "offline_access",
        }
        assert set(grant_of(tenant_a, alice, reports).scope_list) == {
            "user_default",
            "offline_access",
        }

    def test_the_grant_is_the_users_own(self, http, reports, tenant_a, bob):
        form, _verifier = open_consent(http, reports)
        client_redirect(post_form(http, form, **ALLOW), tenant_a)

        _verifier, challenge = pkce_pair()
        response = authorize(client_for(tenant_a, bob), reports, challenge)
        assert response.status_code == 200
        assert "Location" not in response

    def test_the_grant_is_the_clients_own(self, http, reports, tenant_a, alice):
        form, _verifier = open_consent(http, reports)
        client_redirect(post_form(http, form, **ALLOW), tenant_a)

        other = required_client(tenant_a, alice)
        _verifier, challenge = pkce_pair()
        response = authorize(http, other, challenge)
        assert response.status_code == 200
        assert "Location" not in response


# --- Deny and CSRF -------------------------------------------------------------------------


class TestDeny:
    def test_deny_sends_access_denied_with_state_and_iss(self, http, reports, tenant_a, alice):
        form, _verifier = open_consent(http, reports)
        params = client_redirect(post_form(http, form), tenant_a)
        assert params["error"] == "access_denied"
        assert params["state"] == "xyz"
        assert "code" not in params
        assert AuthorizationCode.objects.count() == 0
        assert grant_of(tenant_a, alice, reports) is None

    def test_after_deny_the_next_request_asks_again(self, http, reports, tenant_a):
        form, _verifier = open_consent(http, reports)
        client_redirect(post_form(http, form), tenant_a)
        open_consent(http, reports)  # the page again, not a redirect

    def test_deny_keeps_an_earlier_grant_for_other_scopes(self, http, reports, tenant_a, alice):
        form, _verifier = open_consent(http, reports, scope="user_default")
        client_redirect(post_form(http, form, **ALLOW), tenant_a)
        form, _verifier = open_consent(http, reports, scope="user_default email")
        assert client_redirect(post_form(http, form), tenant_a)["error"] == "access_denied"
        assert grant_of(tenant_a, alice, reports).scope_list == ["user_default"]


class TestCsrf:
    def test_a_post_without_csrf_token_is_refused(self, http, reports, tenant_a, alice):
        form, _verifier = open_consent(http, reports)
        response = post_form(http, form, csrfmiddlewaretoken=None, **ALLOW)
        assert response.status_code == 403
        assert "Location" not in response
        assert AuthorizationCode.objects.count() == 0
        assert grant_of(tenant_a, alice, reports) is None

    def test_a_post_with_a_wrong_csrf_token_is_refused(self, http, reports, tenant_a, alice):
        form, _verifier = open_consent(http, reports)
        response = post_form(http, form, csrfmiddlewaretoken="x" * 64, **ALLOW)
        assert response.status_code == 403
        assert AuthorizationCode.objects.count() == 0
        assert grant_of(tenant_a, alice, reports) is None

    def test_a_post_from_a_browser_without_the_csrf_cookie_is_refused(
        self, http, reports, tenant_a, alice
    ):
        # A forged cross-site form: the attacker's page has a token, not the victim's cookie.
        form, _verifier = open_consent(http, reports)
        victim = client_for(tenant_a, alice, enforce_csrf_checks=True)
        response = post_form(victim, form, **ALLOW)
        assert response.status_code == 403
        assert AuthorizationCode.objects.count() == 0

    def test_an_anonymous_post_is_sent_to_sign_in(self, http, reports, tenant_a):
        form, _verifier = open_consent(http, reports)
        http.logout()
        response = post_form(http, form, **ALLOW)
        # The CSRF check or the sign-in requirement stops it; never a code.
        assert response.status_code in {302, 403}
        if response.status_code == 302:
            assert urlsplit(response["Location"]).path == "/login/"
        assert AuthorizationCode.objects.count() == 0


# --- Consent method and prompt ---------------------------------------------------------------


class TestConsentMethod:
    def test_a_trusted_client_gets_no_page(self, http, web, tenant_a):
        _verifier, challenge = pkce_pair()
        params = client_redirect(authorize(http, web, challenge), tenant_a)
        assert params["code"]

    def test_prompt_consent_asks_even_when_trusted(self, http, web, tenant_a):
        _verifier, challenge = pkce_pair()
        response = authorize(http, web, challenge, prompt="consent")
        assert response.status_code == 200
        assert "Location" not in response
        assert "Web app" in page_text(response)
        assert AuthorizationCode.objects.count() == 0
        params = client_redirect(post_form(http, consent_form(response), **ALLOW), tenant_a)
        assert params["code"]

    def test_prompt_consent_asks_again_despite_a_grant(self, http, reports, tenant_a):
        form, _verifier = open_consent(http, reports)
        client_redirect(post_form(http, form, **ALLOW), tenant_a)
        open_consent(http, reports, prompt="consent")  # the page, not a redirect

    def test_prompt_none_with_a_grant_gets_a_code(self, http, reports, tenant_a):
        form, _verifier = open_consent(http, reports)
        client_redirect(post_form(http, form, **ALLOW), tenant_a)
        _verifier, challenge = pkce_pair()
        params = client_redirect(authorize(http, reports, challenge, prompt="none"), tenant_a)
        assert params["code"]

    def test_switching_to_trusted_skips_the_page(self, http, reports, tenant_a, alice):
        from oauth_clients.models import ConnectionConfig

        ConnectionConfig.objects.filter(client=reports.client).update(consent_method="trusted")
        _verifier, challenge = pkce_pair()
        assert client_redirect(authorize(http, reports, challenge), tenant_a)["code"]


# --- Tampered form -------------------------------------------------------------------------


class TestTamperedForm:
    @pytest.mark.parametrize(
        "scope", ["user_default admin_classic", "admin_classic", "user_default nonsense"]
    )
    def test_a_scope_beyond_the_clients_allowed_scopes_is_invalid_scope(
        self, http, reports, tenant_a, alice, scope
    ):
        form, _verifier = open_consent(http, reports)
        params = client_redirect(post_form(http, form, scope=scope, **ALLOW), tenant_a)
        assert params["error"] == "invalid_scope"
        assert params["state"] == "xyz"
        assert "code" not in params
        assert AuthorizationCode.objects.count() == 0
        assert grant_of(tenant_a, alice, reports) is None

    def test_an_unregistered_redirect_url_gets_an_error_page(self, http, reports, tenant_a, alice):
        form, _verifier = open_consent(http, reports)
        response = post_form(http, form, redirect_uri="https://evil.test/callback", **ALLOW)
        assert response.status_code == 400
        assert "Location" not in response
        assert AuthorizationCode.objects.count() == 0
        assert grant_of(tenant_a, alice, reports) is None

    def test_another_tenants_client_gets_an_error_page(
        self, http, reports, tenant_a, tenant_b, carol
    ):
        other, _secret = create_oauth_client(tenant_b, actor=carol, consent_method="trusted")
        form, _verifier = open_consent(http, reports)
        response = post_form(http, form, client_id=other.client_id, **ALLOW)
        assert response.status_code == 400
        assert "Location" not in response
        assert AuthorizationCode.objects.count() == 0
        assert not ConsentGrant.objects.exists()

    def test_an_unknown_client_gets_an_error_page(self, http, reports):
        form, _verifier = open_consent(http, reports)
        response = post_form(http, form, client_id="0" * 32, **ALLOW)
        assert response.status_code == 400
        assert "Location" not in response
        assert AuthorizationCode.objects.count() == 0

    def test_dropping_the_code_challenge_is_invalid_request(self, http, reports, tenant_a, alice):
        form, _verifier = open_consent(http, reports)
        response = post_form(http, form, code_challenge=None, code_challenge_method=None, **ALLOW)
        params = client_redirect(response, tenant_a)
        assert params["error"] == "invalid_request"
        assert "code" not in params
        assert AuthorizationCode.objects.count() == 0

    def test_downgrading_to_plain_is_invalid_request(self, http, reports, tenant_a):
        form, _verifier = open_consent(http, reports)
        response = post_form(http, form, code_challenge_method="plain", **ALLOW)
        params = client_redirect(response, tenant_a)
        assert params["error"] == "invalid_request"
        assert AuthorizationCode.objects.count() == 0

    def test_a_bad_response_type_is_an_error_for_the_client(self, http, reports, tenant_a):
        form, _verifier = open_consent(http, reports)
        params = client_redirect(post_form(http, form, response_type="token", **ALLOW), tenant_a)
        assert params["error"] in {"unsupported_response_type", "invalid_request"}
        assert AuthorizationCode.objects.count() == 0
