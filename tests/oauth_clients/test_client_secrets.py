"""Manage secrets: list, generate (shown once), delete with confirmation."""

import re
from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from oauth_clients.models import ClientSecret, OAuthClient
from oauth_clients.services import delete_clients, generate_secret
from tenants.models import AuditEvent
from tests.factories import create_oauth_client

HTMX = {"HTTP_HX_REQUEST": "true"}


def secrets_url(client: OAuthClient) -> str:
    return reverse("oauth_clients:secrets", args=[client.client_id])


def generate_url(client: OAuthClient) -> str:
    return reverse("oauth_clients:secret_generate", args=[client.client_id])


def delete_url(client: OAuthClient, secret: ClientSecret) -> str:
    return reverse("oauth_clients:secret_delete", args=[client.client_id, secret.hint])


def shown_secret(html: str) -> str:
    match = re.search(r'id="new-client-secret" class="mono" value="([^"]+)"', html)
    assert match, "no new secret shown"
    return match.group(1)


def iso(value) -> str:
    return timezone.localtime(value).isoformat()


@pytest.fixture
def web_client(tenant_a, alice):
    client, _plaintext = create_oauth_client(tenant_a, actor=alice, name="Reporting app")
    return client


@pytest.fixture
def spa_client(tenant_a, alice):
    client, _plaintext = create_oauth_client(tenant_a, actor=alice, app_type="spa")
    return client


@pytest.mark.django_db
class TestSecretList:
    def test_it_lists_the_secrets_by_hint(self, alice_client, web_client):
        secret = web_client.secrets.get()
        response = alice_client.get(secrets_url(web_client))
        assert response.status_code == 200
        html = response.content.decode()
        assert "Manage secrets: Reporting app" in html
        assert f"••••••{secret.hint}" in html
        assert f'id="secret-{secret.hint}"' in html
        assert secret.digest not in html

    def test_it_shows_created_created_by_last_used_and_expiry(
        self, alice_client, web_client, alice
    ):
        secret = web_client.secrets.get()
        html = alice_client.get(secrets_url(web_client)).content.decode()
        row = re.search(rf'<tr id="secret-{secret.hint}">.*?</tr>', html, re.DOTALL).group(0)
        cells = re.findall(r"<td>(.*?)</td>", row, re.DOTALL)
        assert f'datetime="{iso(secret.created_at)}"' in cells[1]
        assert cells[2] == "Alice"
        assert cells[3] == "Never"
        assert cells[4] == "Never"

    def test_it_shows_when_a_secret_was_last_used_and_when_it_expires(
        self, alice_client, web_client
    ):
        secret = web_client.secrets.get()
        secret.last_used_at = timezone.now() - timedelta(hours=2)
        secret.expires_at = timezone.now() + timedelta(days=10)
        secret.save()
        html = alice_client.get(secrets_url(web_client)).content.decode()
        assert f'datetime="{iso(secret.last_used_at)}"' in html
        assert f'datetime="{iso(secret.expires_at)}"' in html
        assert "Expired" not in html

    def test_it_marks_an_expired_secret(self, alice_client, web_client):
        secret = web_client.secrets.get()
        secret.expires_at = timezone.now() - timedelta(days=1)
        secret.save()
        html = alice_client.get(secrets_url(web_client)).content.decode()
        assert 'class="badge badge-danger">Expired<' in html

    def test_a_secret_whose_creator_is_gone_shows_a_dash(self, alice_client, tenant_a):
        client, _plaintext = create_oauth_client(tenant_a, actor=None)
        html = alice_client.get(secrets_url(client)).content.decode()
        row = re.search(r'<tr id="secret-.*?</tr>', html, re.DOTALL).group(0)
        assert "<td>—</td>" in row

    def test_it_warns_when_there_are_no_secrets(self, alice_client, web_client):
        web_client.secrets.all().delete()
        html = alice_client.get(secrets_url(web_client)).content.decode()
        assert "This client has no secrets" in html

    def test_it_lists_only_this_clients_secrets(self, alice_client, web_client, tenant_a):
        other, _plaintext = create_oauth_client(tenant_a, name="Other app")
        html = alice_client.get(secrets_url(web_client)).content.decode()
        assert f"••••••{other.secrets.get().hint}" not in html

    def test_htmx_gets_the_dialog_fragment(self, alice_client, web_client):
        response = alice_client.get(secrets_url(web_client), **HTMX)
        assert response.status_code == 200
        html = response.content.decode()
        assert "<html" not in html
        assert html.lstrip().startswith("<dialog")
        assert "HX-Request" in response["Vary"]

    def test_a_plain_request_gets_a_full_page(self, alice_client, web_client):
        assert "<html" in alice_client.get(secrets_url(web_client)).content.decode()

    def test_it_is_not_cached(self, alice_client, web_client):
        assert "no-store" in alice_client.get(secrets_url(web_client))["Cache-Control"]


@pytest.mark.django_db
class TestGenerateSecret:
    def test_it_shows_the_new_secret_once(self, alice_client, web_client):
        response = alice_client.post(generate_url(web_client), {"expires_in_days": ""})
        assert response.status_code == 200
        html = response.content.decode()
        plaintext = shown_secret(html)
        assert "This is the only time this secret is shown." in html
        assert web_client.secrets.count() == 2
        again = alice_client.get(secrets_url(web_client)).content.decode()
        assert plaintext not in again
        assert 'id="new-client-secret"' not in again

    def test_it_stores_only_a_digest_and_a_hint(self, alice_client, web_client, alice):
        html = alice_client.post(generate_url(web_client), {"expires_in_days": ""}).content.decode()
        plaintext = shown_secret(html)
        secret = web_client.secrets.latest("created_at")
        assert secret.digest != plaintext
        assert plaintext not in secret.digest
        assert secret.matches(plaintext)
        assert not secret.matches(plaintext + "x")
        assert secret.hint == plaintext[-5:]
        assert secret.created_by == alice
        assert secret.tenant == web_client.tenant
        assert secret.expires_at is None
        assert len(plaintext) >= 64

    def test_the_new_secret_is_listed_by_its_hint(self, alice_client, web_client):
        html = alice_client.post(generate_url(web_client), {"expires_in_days": ""}).content.decode()
        plaintext = shown_secret(html)
        assert f"••••••{plaintext[-5:]}" in html

    def test_the_old_secret_keeps_working(self, alice_client, tenant_a, alice):
        client, first = create_oauth_client(tenant_a, actor=alice)
        alice_client.post(generate_url(client), {"expires_in_days": ""})
        assert any(secret.matches(first) for secret in client.secrets.all())

    def test_the_response_is_not_cached(self, alice_client, web_client):
        response = alice_client.post(generate_url(web_client), {"expires_in_days": ""})
        assert "no-store" in response["Cache-Control"]
        assert "no-cache" in response["Cache-Control"]

    @pytest.mark.parametrize("days", [30, 90, 180, 365])
    def test_it_sets_the_chosen_expiry(self, alice_client, web_client, days):
        before = timezone.now()
        alice_client.post(generate_url(web_client), {"expires_in_days": str(days)})
        after = timezone.now()
        secret = web_client.secrets.latest("created_at")
        assert before + timedelta(days=days) <= secret.expires_at <= after + timedelta(days=days)

    @pytest.mark.parametrize("days", ["7", "0", "-30", "abc", "3650"])
    def test_it_refuses_an_expiry_not_on_the_list(self, alice_client, web_client, days):
        response = alice_client.post(generate_url(web_client), {"expires_in_days": days})
        assert response.status_code == 200
        html = response.content.decode()
        errors = re.search(r'id="id_expires_in_days-errors">(.*?)</ul>', html, re.DOTALL)
        assert errors
        assert "Select a valid choice." in errors.group(1)
        assert 'id="new-client-secret"' not in html
        assert web_client.secrets.count() == 1
        assert AuditEvent.objects.filter(action="oauth_client.secret_generated").count() == 1

    def test_it_records_the_secret_in_the_audit_trail(self, alice_client, web_client, alice):
        html = alice_client.post(
            generate_url(web_client), {"expires_in_days": "90"}
        ).content.decode()
        plaintext = shown_secret(html)
        event = AuditEvent.objects.filter(action="oauth_client.secret_generated").latest("id")
        assert event.actor == alice
        assert event.target_id == str(web_client.pk)
        assert event.data["hint"] == plaintext[-5:]
        assert event.data["expires_at"]
        assert plaintext not in str(event.data)

    def test_a_client_has_at_most_five_secrets(self, alice_client, web_client, alice):
        for _ in range(4):
            generate_secret(web_client, actor=alice)
        response = alice_client.post(generate_url(web_client), {"expires_in_days": ""})
        assert response.status_code == 200
        html = response.content.decode()
        assert "A client can have at most 5 secrets. Delete one first." in html
        assert 'id="new-client-secret"' not in html
        assert web_client.secrets.count() == 5

    def test_the_secret_limit_follows_the_setting(self, alice_client, web_client, settings):
        settings.OAUTH_CLIENT_LIMITS = {**settings.OAUTH_CLIENT_LIMITS, "secrets": 1}
        response = alice_client.post(generate_url(web_client), {"expires_in_days": ""})
        assert "at most 1 secrets" in response.content.decode()
        assert web_client.secrets.count() == 1

    def test_a_single_page_app_gets_no_secret(self, alice_client, spa_client):
        response = alice_client.post(generate_url(spa_client), {"expires_in_days": ""})
        assert response.status_code == 200
        html = response.content.decode()
        assert "Only Web clients have client secrets." in html
        assert 'id="new-client-secret"' not in html
        assert not ClientSecret.objects.filter(client=spa_client).exists()
        assert not AuditEvent.objects.filter(action="oauth_client.secret_generated").exists()

    def test_a_native_app_gets_no_secret(self, alice_client, tenant_a):
        native, _ = create_oauth_client(
            tenant_a, app_type="native", redirect_uris=["com.example.app:/cb"]
        )
        response = alice_client.post(generate_url(native), {"expires_in_days": ""})
        assert "Only Web clients have client secrets." in response.content.decode()
        assert not ClientSecret.objects.filter(client=native).exists()

    def test_htmx_gets_the_dialog_fragment(self, alice_client, web_client):
        response = alice_client.post(generate_url(web_client), {"expires_in_days": ""}, **HTMX)
        html = response.content.decode()
        assert "<html" not in html
        shown_secret(html)


@pytest.mark.django_db
class TestDeleteSecret:
    def test_get_asks_for_confirmation_and_deletes_nothing(self, alice_client, web_client):
        secret = web_client.secrets.get()
        response = alice_client.get(delete_url(web_client, secret))
        assert response.status_code == 200
        html = response.content.decode()
        assert f"Delete the secret ending in <code>{secret.hint}</code>" in html
        assert "<strong>Reporting app</strong>" in html
        assert f'action="{delete_url(web_client, secret)}"' in html
        assert ClientSecret.objects.filter(pk=secret.pk).exists()

    def test_it_warns_before_deleting_the_last_secret(self, alice_client, web_client):
        html = alice_client.get(delete_url(web_client, web_client.secrets.get())).content.decode()
        assert "This is the client's last secret." in html

    def test_it_does_not_warn_when_other_secrets_remain(self, alice_client, web_client, alice):
        generate_secret(web_client, actor=alice)
        html = alice_client.get(delete_url(web_client, web_client.secrets.first())).content.decode()
        assert "last secret" not in html

    def test_htmx_gets_the_confirmation_fragment(self, alice_client, web_client):
        response = alice_client.get(delete_url(web_client, web_client.secrets.get()), **HTMX)
        html = response.content.decode()
        assert "<html" not in html
        assert "Delete client secret" in html

    def test_post_deletes_the_secret_and_goes_back_to_the_secrets(
        self, alice_client, web_client, alice
    ):
        old = web_client.secrets.get()
        new, _plaintext = generate_secret(web_client, actor=alice)
        response = alice_client.post(delete_url(web_client, old))
        assert response.status_code == 302
        assert response["Location"] == secrets_url(web_client)
        assert list(web_client.secrets.all()) == [new]
        html = alice_client.get(response["Location"]).content.decode()
        assert f"Deleted the secret ending in {old.hint}." in html
        assert f'id="secret-{old.hint}"' not in html

    def test_the_last_secret_may_be_deleted(self, alice_client, web_client):
        alice_client.post(delete_url(web_client, web_client.secrets.get()))
        assert not web_client.secrets.exists()
        web_client.refresh_from_db()
        assert web_client.deleted_at is None

    def test_it_records_the_deletion_in_the_audit_trail(self, alice_client, web_client, alice):
        secret = web_client.secrets.get()
        alice_client.post(delete_url(web_client, secret))
        event = AuditEvent.objects.get(action="oauth_client.secret_deleted")
        assert event.actor == alice
        assert event.target_id == str(web_client.pk)
        assert event.data["hint"] == secret.hint

    def test_htmx_gets_the_secrets_fragment_with_a_notice(self, alice_client, web_client):
        secret = web_client.secrets.get()
        response = alice_client.post(delete_url(web_client, secret), **HTMX)
        assert response.status_code == 200
        html = response.content.decode()
        assert "<html" not in html
        assert f"Deleted the secret ending in {secret.hint}." in html
        assert f'id="secret-{secret.hint}"' not in html
        assert not web_client.secrets.exists()

    def test_a_hint_of_another_client_is_not_found(self, alice_client, web_client, tenant_a):
        other, _plaintext = create_oauth_client(tenant_a, name="Other app")
        secret = other.secrets.get()
        assert alice_client.get(delete_url(web_client, secret)).status_code == 404
        assert alice_client.post(delete_url(web_client, secret)).status_code == 404
        assert ClientSecret.objects.filter(pk=secret.pk).exists()

    def test_an_unknown_hint_is_not_found(self, alice_client, web_client):
        url = reverse("oauth_clients:secret_delete", args=[web_client.client_id, "zzzzz"])
        assert alice_client.post(url).status_code == 404
        assert web_client.secrets.count() == 1


@pytest.mark.django_db
class TestSecretsAccess:
    def test_another_tenants_client_is_not_found(self, carol_client, web_client):
        secret = web_client.secrets.get()
        assert carol_client.get(secrets_url(web_client)).status_code == 404
        assert (
            carol_client.post(generate_url(web_client), {"expires_in_days": ""}).status_code == 404
        )
        assert carol_client.get(delete_url(web_client, secret)).status_code == 404
        assert carol_client.post(delete_url(web_client, secret)).status_code == 404
        assert list(web_client.secrets.all()) == [secret]
        assert AuditEvent.objects.filter(action="oauth_client.secret_generated").count() == 1
        assert not AuditEvent.objects.filter(action="oauth_client.secret_deleted").exists()

    def test_the_secret_of_another_tenants_client_is_not_found_under_an_own_client(
        self, alice_client, web_client, tenant_b
    ):
        foreign, _plaintext = create_oauth_client(tenant_b)
        secret = foreign.secrets.get()
        assert alice_client.get(delete_url(web_client, secret)).status_code == 404
        assert alice_client.post(delete_url(web_client, secret)).status_code == 404
        assert alice_client.post(delete_url(foreign, secret)).status_code == 404
        assert ClientSecret.objects.filter(pk=secret.pk).exists()

    def test_a_deleted_client_is_not_found(self, alice_client, web_client, tenant_a, alice):
        delete_clients(tenant_a, [web_client.pk], actor=alice)
        assert alice_client.get(secrets_url(web_client)).status_code == 404
        assert (
            alice_client.post(generate_url(web_client), {"expires_in_days": ""}).status_code == 404
        )
        assert not ClientSecret.objects.exists()

    def test_a_member_gets_403(self, bob_client, web_client):
        secret = web_client.secrets.get()
        assert bob_client.get(secrets_url(web_client)).status_code == 403
        assert bob_client.post(generate_url(web_client), {"expires_in_days": ""}).status_code == 403
        assert bob_client.get(delete_url(web_client, secret)).status_code == 403
        assert bob_client.post(delete_url(web_client, secret)).status_code == 403
        assert list(web_client.secrets.all()) == [secret]

    def test_anonymous_is_sent_to_sign_in(self, anon_client, web_client):
        secret = web_client.secrets.get()
        for url in (
            secrets_url(web_client),
            generate_url(web_client),
            delete_url(web_client, secret),
        ):
            response = (
                anon_client.post(url) if url != secrets_url(web_client) else anon_client.get(url)
            )
            assert response.status_code == 302
            assert response["Location"] == f"/login/?next={url}"
        assert list(web_client.secrets.all()) == [secret]

    def test_the_list_is_read_only(self, alice_client, web_client):
        assert alice_client.post(secrets_url(web_client)).status_code == 405
        assert web_client.secrets.count() == 1

    def test_generating_needs_a_post(self, alice_client, web_client):
        assert alice_client.get(generate_url(web_client)).status_code == 405
        assert web_client.secrets.count() == 1

    @pytest.mark.parametrize("method", ["put", "patch", "delete"])
    def test_deleting_needs_a_post(self, alice_client, web_client, method):
        secret = web_client.secrets.get()
        assert getattr(alice_client, method)(delete_url(web_client, secret)).status_code == 405
        assert web_client.secrets.count() == 1
