"""``/account/apps/``: the applications a user has allowed at a tenant, and revoking one.

Revoking deletes the consent grant and revokes that client's access and
refresh tokens for this user at this tenant; nothing else.
"""

import html

import pytest
from django.urls import reverse

from consent.models import ConsentGrant
from consent.services import record_consent
from oauth_clients.services import delete_clients
from tests.flows import (
    authorize,
    client_for,
    consent_form,
    issue,
    login_redirect,
    pkce_pair,
    post_form,
    refresh,
    required_client,
    users_me,
)

pytestmark = pytest.mark.django_db

APPS_URL = "/account/apps/"
DESCRIPTIONS = {
    "user_default": "Use the platform's APIs on your behalf",
    "offline_access": "Stay connected when you are not signed in",
    "email": "See your email address",
}


@pytest.fixture(autouse=True)
def revocations_read_every_time(monkeypatch):
    """Each bearer check re-reads the revocation list (in production: within a second)."""
    monkeypatch.setattr("oauth_clients.revocation.REFRESH_SECONDS", 0)


# --- Helpers -----------------------------------------------------------------------------


def revoke_url(grant: ConsentGrant) -> str:
    return reverse("consent:account_app_revoke", args=[grant.pk])


def text_of(response) -> str:
    return html.unescape(response.content.decode())


@pytest.fixture
def calendar(tenant_a, alice):
    return required_client(tenant_a, alice, name="Team calendar")


@pytest.fixture
def alice_grant(tenant_a, alice, reports) -> ConsentGrant:
    return record_consent(tenant_a, alice, reports.client, ["user_default", "offline_access"])


# --- The list ------------------------------------------------------------------------------


class TestList:
    def test_it_lists_the_users_grants_at_this_tenant_with_their_scopes(
        self, alice_client, alice_grant, calendar, tenant_a, alice
    ):
        record_consent(tenant_a, alice, calendar.client, ["email"])
        response = alice_client.get(APPS_URL)
        assert response.status_code == 200
        text = text_of(response)
        assert "Quarterly reports" in text
        assert "Team calendar" in text
        assert DESCRIPTIONS["user_default"] in text
        assert DESCRIPTIONS["offline_access"] in text
        assert DESCRIPTIONS["email"] in text
        assert revoke_url(alice_grant) in text

    def test_it_does_not_list_other_users_grants(self, alice_client, calendar, tenant_a, bob):
        bobs = record_consent(tenant_a, bob, calendar.client, ["user_default"])
        response = alice_client.get(APPS_URL)
        assert response.status_code == 200
        text = text_of(response)
        assert "Team calendar" not in text
        assert revoke_url(bobs) not in text
        assert "You have not allowed any application yet." in text

    def test_it_does_not_list_grants_of_another_tenant(self, alice_client, tenant_b, carol, alice):
        globex_app = required_client(tenant_b, carol, name="Globex portal")
        record_consent(tenant_b, carol, globex_app.client, ["user_default"])
        # A row for Alice herself at tenant B does not belong on tenant A's page either.
        stray = ConsentGrant.objects.create(
            tenant=tenant_b, user=alice, client=globex_app.client, scopes="user_default"
        )
        response = alice_client.get(APPS_URL)
        text = text_of(response)
        assert "Globex portal" not in text
        assert revoke_url(stray) not in text

    def test_each_user_sees_their_own(self, bob_client, alice_grant, calendar, tenant_a, bob):
        record_consent(tenant_a, bob, calendar.client, ["user_default"])
        text = text_of(bob_client.get(APPS_URL))
        assert "Team calendar" in text
        assert "Quarterly reports" not in text

    def test_a_deleted_clients_grant_is_not_listed(
        self, alice_client, alice_grant, reports, tenant_a, alice
    ):
        delete_clients(tenant_a, [reports.client.pk], actor=alice)
        text = text_of(alice_client.get(APPS_URL))
        assert "Quarterly reports" not in text

    def test_a_grant_made_on_the_consent_page_is_listed(
        self, alice_client, reports, tenant_a, alice
    ):
        _verifier, challenge = pkce_pair()
        page = authorize(alice_client, reports, challenge)
        assert page.status_code == 200
        response = post_form(alice_client, consent_form(page), allow="Authorize")
        assert response.status_code == 302
        assert "code=" in response["Location"]
        assert "Quarterly reports" in text_of(alice_client.get(APPS_URL))

    def test_the_page_is_not_cached(self, alice_client):
        response = alice_client.get(APPS_URL)
        assert "no-cache" in response["Cache-Control"] or "no-store" in response["Cache-Control"]

    def test_anonymous_is_sent_to_sign_in(self, anon_client):
        assert login_redirect(anon_client.get(APPS_URL)) == APPS_URL

    def test_a_session_of_another_tenant_does_not_count(self, carol, tenant_a, tenant_b):
        http = client_for(tenant_b, carol)
        http.defaults["HTTP_HOST"] = tenant_a.hostname
        assert login_redirect(http.get(APPS_URL)) == APPS_URL

    def test_post_is_not_allowed(self, alice_client):
        assert alice_client.post(APPS_URL).status_code == 405


# --- Revoking ------------------------------------------------------------------------------


class TestRevoke:
    def test_it_deletes_the_grant_and_returns_to_the_list(self, alice_client, alice_grant):
        response = alice_client.post(revoke_url(alice_grant))
        assert response.status_code == 302
        assert response["Location"] == APPS_URL
        assert not ConsentGrant.objects.filter(pk=alice_grant.pk).exists()
        page = text_of(alice_client.get(APPS_URL))
        assert "Quarterly reports can no longer use your account." in page
        assert revoke_url(alice_grant) not in page

    def test_the_clients_tokens_for_the_user_stop_working(
        self, alice_client, api, reports, alice_grant
    ):
        tokens = issue(alice_client, api, reports)
        assert users_me(api, tokens["access_token"]).status_code == 200

        assert alice_client.post(revoke_url(alice_grant)).status_code == 302

        assert users_me(api, tokens["access_token"]).status_code == 401
        refreshed = refresh(api, reports, tokens["refresh_token"])
        assert refreshed.status_code == 400, refreshed.content
        assert refreshed.json()["error"] == "invalid_grant"

    def test_every_token_of_the_client_for_the_user_stops_working(
        self, alice_client, api, reports, alice_grant
    ):
        first = issue(alice_client, api, reports)
        second = issue(alice_client, api, reports, scope="user_default")
        alice_client.post(revoke_url(alice_grant))
        assert users_me(api, first["access_token"]).status_code == 401
        assert users_me(api, second["access_token"]).status_code == 401

    def test_other_clients_and_other_users_keep_their_tokens(
        self,
        alice_client,
        bob_client,
        api,
        reports,
        calendar,
        alice_grant,
        tenant_a,
        alice,
        bob,
    ):
        record_consent(tenant_a, alice, calendar.client, ["user_default", "offline_access"])
        record_consent(tenant_a, bob, reports.client, ["user_default", "offline_access"])
        alices_reports = issue(alice_client, api, reports)
        alices_calendar = issue(alice_client, api, calendar)
        bobs_reports = issue(bob_client, api, reports)

        alice_client.post(revoke_url(alice_grant))

        assert users_me(api, alices_reports["access_token"]).status_code == 401
        assert users_me(api, alices_calendar["access_token"]).status_code == 200
        assert users_me(api, bobs_reports["access_token"]).status_code == 200
        assert refresh(api, calendar, alices_calendar["refresh_token"]).status_code == 200
        assert refresh(api, reports, bobs_reports["refresh_token"]).status_code == 200
        assert ConsentGrant.objects.filter(user=bob, client=reports.client).exists()
        assert ConsentGrant.objects.filter(user=alice, client=calendar.client).exists()

    def test_the_next_authorization_asks_for_consent_again(
        self, alice_client, reports, alice_grant
    ):
        alice_client.post(revoke_url(alice_grant))
        _verifier, challenge = pkce_pair()
        response = authorize(alice_client, reports, challenge)
        assert response.status_code == 200
        assert "Location" not in response

    def test_get_is_not_allowed(self, alice_client, alice_grant):
        assert alice_client.get(revoke_url(alice_grant)).status_code == 405
        assert ConsentGrant.objects.filter(pk=alice_grant.pk).exists()

    def test_another_users_grant_is_not_found(
        self, bob_client, alice_grant, alice_client, api, reports
    ):
        tokens = issue(alice_client, api, reports)
        assert bob_client.post(revoke_url(alice_grant)).status_code == 404
        assert ConsentGrant.objects.filter(pk=alice_grant.pk).exists()
        assert users_me(api, tokens["access_token"]).status_code == 200

    def test_another_tenants_grant_is_not_found(self, alice_client, tenant_b, carol):
        globex_app = required_client(tenant_b, carol, name="Globex portal")
        carols = record_consent(tenant_b, carol, globex_app.client, ["user_default"])
        assert alice_client.post(revoke_url(carols)).status_code == 404
        assert ConsentGrant.objects.filter(pk=carols.pk).exists()

    def test_the_users_own_grant_is_not_found_on_another_tenants_host(
        self, alice_grant, tenant_b, carol
    ):
        # Carol at tenant B cannot reach a tenant A row by its number.
        assert client_for(tenant_b, carol).post(revoke_url(alice_grant)).status_code == 404
        assert ConsentGrant.objects.filter(pk=alice_grant.pk).exists()

    def test_an_unknown_grant_is_not_found(self, alice_client):
        assert alice_client.post("/account/apps/999999/revoke/").status_code == 404

    def test_anonymous_is_sent_to_sign_in(self, anon_client, alice_grant):
        url = revoke_url(alice_grant)
        assert login_redirect(anon_client.post(url)) == url
        assert ConsentGrant.objects.filter(pk=alice_grant.pk).exists()

    def test_a_post_without_csrf_token_is_refused(self, tenant_a, alice, alice_grant):
        http = client_for(tenant_a, alice, enforce_csrf_checks=True)
        assert http.post(revoke_url(alice_grant)).status_code == 403
        assert ConsentGrant.objects.filter(pk=alice_grant.pk).exists()

    def test_the_form_on_the_list_revokes(self, tenant_a, alice, alice_grant):
        http = client_for(tenant_a, alice, enforce_csrf_checks=True)
        page = http.get(APPS_URL)
        token = page.content.decode().split('name="csrfmiddlewaretoken" value="')[1].split('"')[0]
        response = http.post(revoke_url(alice_grant), {"csrfmiddlewaretoken": token})
        assert response.status_code == 302
        assert not ConsentGrant.objects.filter(pk=alice_grant.pk).exists()
