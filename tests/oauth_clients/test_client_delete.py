"""Delete: one client from its menu, or several from the list; two steps, like Django admin."""

import re
import secrets
from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from oauth_clients.models import (
    AccessToken,
    AuthorizationCode,
    ClientSecret,
    ConnectionConfig,
    IDToken,
    OAuthClient,
    RefreshToken,
)
from oauth_clients.services import publish_client
from tenants.models import AuditEvent
from tests.factories import create_oauth_client
from tests.flows import client_for

LIST_URL = reverse("oauth_clients:list")
BULK_URL = reverse("oauth_clients:bulk_delete")
HTMX = {"HTTP_HX_REQUEST": "true"}


def delete_url(client: OAuthClient) -> str:
    return reverse("oauth_clients:delete", args=[client.client_id])


def issue_tokens(client: OAuthClient, tenant, user) -> None:
    """A code, an ID token, an access token and its refresh token, as the OAuth flow leaves them."""
    expires = timezone.now() + timedelta(hours=1)
    AuthorizationCode.objects.create(
        tenant=tenant,
        user=user,
        application=client,
        code=secrets.token_urlsafe(16),
        expires=expires,
        redirect_uri=client.redirect_uri_list[0],
        scope="user_default",
    )
    id_token = IDToken.objects.create(
        tenant=tenant, user=user, application=client, expires=expires, scope="openid"
    )
    access = AccessToken.objects.create(
        tenant=tenant,
        user=user,
        application=client,
        token=secrets.token_urlsafe(16),
        id_token=id_token,
        expires=expires,
        scope="openid user_default",
    )
    refresh = RefreshToken.objects.create(
        tenant=tenant,
        user=user,
        application=client,
        token=secrets.token_urlsafe(16),
        access_token=access,
    )
    # A refreshed access token points back at the refresh token it came from.
    AccessToken.objects.create(
        tenant=tenant,
        user=user,
        application=client,
        token=secrets.token_urlsafe(16),
        source_refresh_token=refresh,
        expires=expires,
        scope="user_default",
    )


def token_counts(client: OAuthClient) -> dict[str, int]:
    counts = {
        model.__name__: model.objects.filter(application=client).count()
        for model in (AuthorizationCode, IDToken, AccessToken, RefreshToken)
    }
    counts["ClientSecret"] = ClientSecret.objects.filter(client=client).count()
    return counts


def is_live(client: OAuthClient) -> bool:
    client.refresh_from_db()
    return client.deleted_at is None


@pytest.fixture
def one(tenant_a, alice):
    client, _secret = create_oauth_client(tenant_a, actor=alice, name="Billing app")
    return client


@pytest.fixture
def two(tenant_a, alice):
    client, _secret = create_oauth_client(tenant_a, actor=alice, name="Analytics app")
    return client


@pytest.fixture
def foreign(tenant_b, carol):
    client, _secret = create_oauth_client(tenant_b, actor=carol, name="Globex app")
    return client


@pytest.mark.django_db
class TestDeleteOneFromItsMenu:
    def test_it_asks_for_confirmation_and_deletes_nothing(self, alice_client, one):
        response = alice_client.get(delete_url(one))
        assert response.status_code == 200
        html = response.content.decode()
        assert "Delete 1 OAuth client?" in html
        assert "<strong>Billing app</strong>" in html
        assert one.client_id in html
        assert f'action="{BULK_URL}"' in html
        assert f'<input type="hidden" name="ids" value="{one.pk}">' in html
        assert '<input type="hidden" name="confirm" value="yes">' in html
        assert "This cannot be undone." in html
        assert is_live(one)
        assert ClientSecret.objects.filter(client=one).exists()

    def test_htmx_gets_the_dialog_fragment(self, alice_client, one):
        response = alice_client.get(delete_url(one), **HTMX)
        assert response.status_code == 200
        html = response.content.decode()
        assert "<html" not in html
        assert html.lstrip().startswith("<dialog")
        assert "HX-Request" in response["Vary"]

    def test_a_plain_request_gets_a_full_page(self, alice_client, one):
        assert "<html" in alice_client.get(delete_url(one)).content.decode()

    def test_confirming_deletes_the_client(self, alice_client, one):
        html = alice_client.get(delete_url(one)).content.decode()
        ids = re.findall(r'name="ids" value="(\d+)"', html)
        response = alice_client.post(BULK_URL, {"ids": ids, "confirm": "yes"})
        assert response.status_code == 302
        assert not is_live(one)

    def test_it_escapes_the_client_name(self, alice_client, tenant_a):
        client, _secret = create_oauth_client(tenant_a, name="<script>alert(1)</script>")
        html = alice_client.get(delete_url(client)).content.decode()
        assert "<script>alert(1)</script>" not in html
        assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html

    def test_another_tenants_client_is_not_found(self, carol_client, one):
        assert carol_client.get(delete_url(one)).status_code == 404

    def test_a_deleted_client_is_not_found(self, alice_client, one):
        alice_client.post(BULK_URL, {"ids": [one.pk], "confirm": "yes"})
        assert alice_client.get(delete_url(one)).status_code == 404

    def test_a_member_gets_403(self, bob_client, one):
        assert bob_client.get(delete_url(one)).status_code == 403

    def test_anonymous_is_sent_to_sign_in(self, anon_client, one):
        response = anon_client.get(delete_url(one))
        assert response.status_code == 302
        assert response["Location"] == f"/login/?next={delete_url(one)}"

    @pytest.mark.parametrize("method", ["post", "put", "delete"])
    def test_it_only_shows_the_confirmation(self, alice_client, one, method):
        response = getattr(alice_client, method)(delete_url(one), {"confirm": "yes"})
        assert response.status_code == 405
        assert is_live(one)


@pytest.mark.django_db
class TestBulkDeleteConfirmation:
    def test_it_lists_the_selected_names_and_deletes_nothing(self, alice_client, one, two):
        response = alice_client.post(BULK_URL, {"ids": [one.pk, two.pk]})
        assert response.status_code == 200
        html = response.content.decode()
        assert "Delete 2 OAuth clients?" in html
        assert html.index("Analytics app") < html.index("Billing app")
        assert one.client_id in html
        assert two.client_id in html
        assert sorted(re.findall(r'name="ids" value="(\d+)"', html)) == sorted(
            [str(one.pk), str(two.pk)]
        )
        assert '<input type="hidden" name="confirm" value="yes">' in html
        assert is_live(one)
        assert is_live(two)
        assert ClientSecret.objects.count() == 2
        assert not AuditEvent.objects.filter(action="oauth_client.deleted").exists()

    def test_it_asks_again_unless_confirm_is_yes(self, alice_client, one):
        response = alice_client.post(BULK_URL, {"ids": [one.pk], "confirm": "true"})
        assert response.status_code == 200
        assert "Delete 1 OAuth client?" in response.content.decode()
        assert is_live(one)

    def test_htmx_gets_the_confirmation_fragment(self, alice_client, one):
        response = alice_client.post(BULK_URL, {"ids": [one.pk]}, **HTMX)
        html = response.content.decode()
        assert "<html" not in html
        assert "Delete 1 OAuth client?" in html
        assert "HX-Trigger" not in response
        assert is_live(one)

    def test_a_plain_request_gets_a_full_page(self, alice_client, one):
        html = alice_client.post(BULK_URL, {"ids": [one.pk]}).content.decode()
        assert "<html" in html
        assert "Delete 1 OAuth client?" in html

    def test_it_leaves_out_another_tenants_clients(self, alice_client, one, foreign):
        html = alice_client.post(BULK_URL, {"ids": [one.pk, foreign.pk]}).content.decode()
        assert "Delete 1 OAuth client?" in html
        assert "Billing app" in html
        assert "Globex app" not in html
        assert foreign.client_id not in html
        assert f'name="ids" value="{foreign.pk}"' not in html


@pytest.mark.django_db
class TestBulkDelete:
    def test_it_soft_deletes_the_selected_clients(self, alice_client, one, two, alice):
        response = alice_client.post(BULK_URL, {"ids": [one.pk, two.pk], "confirm": "yes"})
        assert response.status_code == 302
        assert response["Location"] == LIST_URL
        for client in (one, two):
            client.refresh_from_db()
            assert client.deleted_at is not None
            assert client.updated_by == alice
        assert OAuthClient.objects.filter(pk__in=[one.pk, two.pk]).count() == 2

    def test_it_deletes_only_the_selected_clients(self, alice_client, one, two):
        alice_client.post(BULK_URL, {"ids": [one.pk], "confirm": "yes"})
        assert not is_live(one)
        assert is_live(two)
        assert ClientSecret.objects.filter(client=two).count() == 1

    def test_it_removes_the_secrets_and_every_token(
        self, alice_client, one, two, tenant_a, tenant_b, alice, carol
    ):
        publish_client(one, actor=alice)
        issue_tokens(one, tenant_a, alice)
        issue_tokens(one, tenant_b, carol)  # issued where the published client is used
        issue_tokens(two, tenant_a, alice)
        alice_client.post(BULK_URL, {"ids": [one.pk], "confirm": "yes"})
        assert token_counts(one) == {
            "AuthorizationCode": 0,
            "IDToken": 0,
            "AccessToken": 0,
            "RefreshToken": 0,
            "ClientSecret": 0,
        }
        assert token_counts(two) == {
            "AuthorizationCode": 1,
            "IDToken": 1,
            "AccessToken": 2,
            "RefreshToken": 1,
            "ClientSecret": 1,
        }

    def test_it_keeps_connection_configs_and_the_audit_trail(
        self, alice_client, one, tenant_b, alice
    ):
        publish_client(one, actor=alice)
        ConnectionConfig.objects.create(client=one, tenant=tenant_b, approved_at=timezone.now())
        earlier = list(AuditEvent.objects.filter(target_id=str(one.pk)).values_list("pk"))
        alice_client.post(BULK_URL, {"ids": [one.pk], "confirm": "yes"})
        assert ConnectionConfig.objects.filter(client=one).count() == 2
        assert set(earlier) <= set(AuditEvent.objects.values_list("pk"))

    def test_it_records_a_single_deletion_against_the_client(
        self, alice_client, one, tenant_a, alice
    ):
        alice_client.post(BULK_URL, {"ids": [one.pk], "confirm": "yes"})
        event = AuditEvent.objects.get(action="oauth_client.deleted")
        assert event.tenant == tenant_a
        assert event.actor == alice
        assert event.target_type == "oauth_clients.oauthclient"
        assert event.target_id == str(one.pk)
        assert event.target_label == "Billing app"

    def test_it_records_a_bulk_deletion_naming_every_client(
        self, alice_client, one, two, tenant_a, alice
    ):
        alice_client.post(BULK_URL, {"ids": [one.pk, two.pk], "confirm": "yes"})
        event = AuditEvent.objects.get(action="oauth_client.deleted")
        assert event.tenant == tenant_a
        assert event.actor == alice
        assert sorted(event.target_label.split(", ")) == ["Analytics app", "Billing app"]
        assert sorted(event.data["clients"], key=lambda c: c["id"]) == [
            {"id": client.pk, "client_id": client.client_id, "name": client.name}
            for client in sorted([one, two], key=lambda c: c.pk)
        ]

    def test_the_list_says_what_was_deleted(self, alice_client, one, two):
        response = alice_client.post(
            BULK_URL, {"ids": [one.pk, two.pk], "confirm": "yes"}, follow=True
        )
        html = response.content.decode()
        message = re.search(r"Deleted: (.*?)\.</p>", html)
        assert message
        assert sorted(message.group(1).split(", ")) == ["Analytics app", "Billing app"]
        assert one.client_id not in html
        assert "No OAuth clients yet" in html

    def test_htmx_closes_the_dialog_and_reloads_the_list(self, alice_client, one):
        response = alice_client.post(BULK_URL, {"ids": [one.pk], "confirm": "yes"}, **HTMX)
        assert response.status_code == 200
        assert response["HX-Trigger"] == "clients-changed"
        html = response.content.decode()
        assert "<html" not in html
        assert "Deleted: Billing app." in html
        assert not is_live(one)

    def test_a_mix_of_own_and_foreign_ids_deletes_only_the_own(
        self, alice_client, one, foreign, tenant_b, carol
    ):
        issue_tokens(foreign, tenant_b, carol)
        response = alice_client.post(
            BULK_URL, {"ids": [one.pk, foreign.pk], "confirm": "yes"}, follow=True
        )
        assert "Deleted: Billing app." in response.content.decode()
        assert not is_live(one)
        assert is_live(foreign)
        assert token_counts(foreign) == {
            "AuthorizationCode": 1,
            "IDToken": 1,
            "AccessToken": 2,
            "RefreshToken": 1,
            "ClientSecret": 1,
        }
        event = AuditEvent.objects.get(action="oauth_client.deleted")
        assert event.target_id == str(one.pk)
        assert [c["id"] for c in event.data["clients"]] == [one.pk]
        assert not AuditEvent.objects.filter(tenant=foreign.tenant, action="oauth_client.deleted")

    def test_only_foreign_ids_change_nothing(self, alice_client, foreign):
        response = alice_client.post(BULK_URL, {"ids": [foreign.pk], "confirm": "yes"})
        assert response.status_code == 302
        assert is_live(foreign)
        assert ClientSecret.objects.filter(client=foreign).count() == 1
        html = alice_client.get(response["Location"]).content.decode()
        assert "Select at least one OAuth client." in html

    def test_an_already_deleted_client_is_not_deleted_again(self, alice_client, one):
        alice_client.post(BULK_URL, {"ids": [one.pk], "confirm": "yes"})
        one.refresh_from_db()
        first = one.deleted_at
        alice_client.post(BULK_URL, {"ids": [one.pk], "confirm": "yes"})
        one.refresh_from_db()
        assert one.deleted_at == first
        assert AuditEvent.objects.filter(action="oauth_client.deleted").count() == 1


@pytest.mark.django_db
class TestBulkDeleteBadInput:
    def test_no_ids_is_an_error_and_changes_nothing(self, alice_client, one):
        response = alice_client.post(BULK_URL, {"confirm": "yes"})
        assert response.status_code == 302
        assert response["Location"] == LIST_URL
        html = alice_client.get(LIST_URL).content.decode()
        assert "Select at least one OAuth client." in html
        assert "message-error" in html
        assert is_live(one)
        assert not AuditEvent.objects.filter(action="oauth_client.deleted").exists()

    def test_htmx_gets_the_error_message(self, alice_client, one):
        response = alice_client.post(BULK_URL, {}, **HTMX)
        assert response.status_code == 200
        html = response.content.decode()
        assert "<html" not in html
        assert "Select at least one OAuth client." in html
        assert is_live(one)

    @pytest.mark.parametrize("bad", ["", "abc", "-1", "1.5", "999999"])
    def test_ids_that_are_no_clients_are_ignored(self, alice_client, one, bad):
        response = alice_client.post(BULK_URL, {"ids": [bad], "confirm": "yes"}, follow=True)
        assert response.status_code == 200
        assert "Select at least one OAuth client." in response.content.decode()
        assert is_live(one)

    def test_a_client_id_is_not_a_selection(self, alice_client, one):
        alice_client.post(BULK_URL, {"ids": [one.client_id], "confirm": "yes"})
        assert is_live(one)


@pytest.mark.django_db
class TestBulkDeleteAccess:
    def test_another_tenants_admin_cannot_delete(self, carol_client, one):
        carol_client.post(BULK_URL, {"ids": [one.pk], "confirm": "yes"})
        assert is_live(one)
        assert ClientSecret.objects.filter(client=one).count() == 1

    def test_a_member_gets_403(self, bob_client, one):
        assert bob_client.post(BULK_URL, {"ids": [one.pk]}).status_code == 403
        response = bob_client.post(BULK_URL, {"ids": [one.pk], "confirm": "yes"})
        assert response.status_code == 403
        assert is_live(one)

    def test_anonymous_is_sent_to_sign_in(self, anon_client, one):
        response = anon_client.post(BULK_URL, {"ids": [one.pk], "confirm": "yes"})
        assert response.status_code == 302
        assert response["Location"] == f"/login/?next={BULK_URL}"
        assert is_live(one)

    def test_it_checks_the_csrf_token(self, tenant_a, alice, one):
        browser = client_for(tenant_a, alice, enforce_csrf_checks=True)
        response = browser.post(BULK_URL, {"ids": [one.pk], "confirm": "yes"})
        assert response.status_code == 403
        assert is_live(one)

    @pytest.mark.parametrize("method", ["get", "put", "delete"])
    def test_it_needs_a_post(self, alice_client, one, method):
        response = getattr(alice_client, method)(BULK_URL, {"ids": [one.pk], "confirm": "yes"})
        assert response.status_code == 405
        assert is_live(one)
