"""Edit: change a client's name, description, lists, scopes and consent method."""

import re

import pytest
from django.urls import reverse
from django.utils import timezone

from oauth_clients.models import ClientSecret, ConnectionConfig, OAuthClient
from oauth_clients.services import delete_clients, publish_client
from tenants.models import AuditEvent
from tests.factories import create_oauth_client

LIST_URL = reverse("oauth_clients:list")
HTMX = {"HTTP_HX_REQUEST": "true"}


def edit_url(client: OAuthClient) -> str:
    return reverse("oauth_clients:edit", args=[client.client_id])


def form_data(**overrides) -> dict:
    data = {
        "intent": "save",
        "name": "Renamed app",
        "description": "New description",
        "redirect_uris": ["https://new.example.com/callback"],
        "new_redirect_uri": "",
        "allowed_origins": [],
        "new_allowed_origin": "",
        "allowed_scopes": ["user_default", "openid"],
        "consent_method": "trusted",
    }
    data.update(overrides)
    return data


def field_errors(html: str, field: str) -> str:
    match = re.search(rf'<ul class="errorlist" id="id_{field}-errors">(.*?)</ul>', html, re.DOTALL)
    return match.group(1) if match else ""


def hidden_items(html: str, name: str) -> list[str]:
    return re.findall(rf'<input type="hidden" name="{name}" value="([^"]*)">', html)


@pytest.fixture
def client(tenant_a, alice):
    client, _secret = create_oauth_client(
        tenant_a,
        actor=alice,
        name="Reporting app",
        description="Monthly reports",
        redirect_uris=["https://app.example.com/callback"],
    )
    return client


@pytest.fixture
def spa_client(tenant_a, alice):
    client, _secret = create_oauth_client(
        tenant_a,
        actor=alice,
        app_type="spa",
        name="Browser app",
        allowed_origins=["https://app.example.com"],
    )
    return client


def unchanged(client: OAuthClient) -> bool:
    before = (client.name, client.description, client.redirect_uris, client.updated)
    client.refresh_from_db()
    after = (client.name, client.description, client.redirect_uris, client.updated)
    return before == after and not AuditEvent.objects.filter(action="oauth_client.updated")


@pytest.mark.django_db
class TestEditForm:
    def test_it_shows_the_client_in_the_form(self, alice_client, client):
        response = alice_client.get(edit_url(client))
        assert response.status_code == 200
        html = response.content.decode()
        assert "<html" in html
        assert "Edit: Reporting app" in html
        assert 'name="name" id="id_name" value="Reporting app"' in html
        assert ">Monthly reports</textarea>" in html
        assert hidden_items(html, "redirect_uris") == ["https://app.example.com/callback"]
        radio = re.search(r'<input type="radio" name="consent_method" value="required"[^>]*>', html)
        assert radio
        assert "checked" in radio.group(0)

    def test_it_says_what_removing_a_scope_does_to_existing_sign_ins(self, alice_client, client):
        html = alice_client.get(edit_url(client)).content.decode()
        assert "Removing a scope takes it out of existing sign-ins at their next refresh" in html

    def test_it_shows_the_client_type_but_not_as_a_choice(self, alice_client, client):
        html = alice_client.get(edit_url(client)).content.decode()
        assert 'name="app_type"' not in html
        assert "<span>Web</span>" in html

    def test_it_shows_the_owner_tenants_consent_method(self, alice_client, tenant_a):
        trusted, _secret = create_oauth_client(tenant_a, consent_method="trusted")
        html = alice_client.get(edit_url(trusted)).content.decode()
        radio = re.search(r'<input type="radio" name="consent_method" value="trusted"[^>]*>', html)
        assert radio
        assert "checked" in radio.group(0)

    def test_htmx_gets_the_dialog_fragment(self, alice_client, client):
        response = alice_client.get(edit_url(client), **HTMX)
        assert response.status_code == 200
        html = response.content.decode()
        assert "<html" not in html
        assert html.lstrip().startswith("<dialog")
        assert "Edit: Reporting app" in html

    def test_a_single_page_app_shows_its_origins(self, alice_client, spa_client):
        html = alice_client.get(edit_url(spa_client)).content.decode()
        assert hidden_items(html, "allowed_origins") == ["https://app.example.com"]
        assert 'name="machine_to_machine"' not in html


@pytest.mark.django_db
class TestEditSave:
    def test_it_saves_the_changes(self, alice_client, client, alice):
        response = alice_client.post(edit_url(client), form_data())
        assert response.status_code == 302
        assert response["Location"] == LIST_URL
        client.refresh_from_db()
        assert client.name == "Renamed app"
        assert client.description == "New description"
        assert client.redirect_uri_list == ["https://new.example.com/callback"]
        assert client.allowed_scope_list == ["user_default", "openid"]
        assert client.updated_by == alice

    def test_it_changes_the_owner_tenants_consent_method(self, alice_client, client):
        alice_client.post(edit_url(client), form_data(consent_method="trusted"))
        config = ConnectionConfig.objects.get(client=client, tenant=client.tenant)
        assert config.consent_method == "trusted"
        alice_client.post(edit_url(client), form_data(consent_method="required"))
        config.refresh_from_db()
        assert config.consent_method == "required"

    def test_it_keeps_another_tenants_consent_method(self, alice_client, client, tenant_b, alice):
        publish_client(client, actor=alice)
        theirs = ConnectionConfig.objects.create(
            client=client, tenant=tenant_b, consent_method="trusted", approved_at=timezone.now()
        )
        alice_client.post(edit_url(client), form_data(consent_method="required"))
        theirs.refresh_from_db()
        assert theirs.consent_method == "trusted"

    def test_the_client_type_cannot_change(self, alice_client, client):
        alice_client.post(edit_url(client), form_data(app_type="spa"))
        client.refresh_from_db()
        assert client.name == "Renamed app"
        assert client.app_type == "web"
        assert client.is_confidential
        assert ClientSecret.objects.filter(client=client).count() == 1

    def test_the_client_id_and_secrets_stay(self, alice_client, client):
        client_id = client.client_id
        digest = ClientSecret.objects.get(client=client).digest
        alice_client.post(edit_url(client), form_data())
        client.refresh_from_db()
        assert client.client_id == client_id
        assert ClientSecret.objects.get(client=client).digest == digest

    def test_it_records_the_change_in_the_audit_trail(self, alice_client, client, alice):
        alice_client.post(edit_url(client), form_data())
        event = AuditEvent.objects.get(action="oauth_client.updated")
        assert event.tenant == client.tenant
        assert event.actor == alice
        assert event.target_id == str(client.pk)

    def test_the_list_says_it_was_saved(self, alice_client, client):
        response = alice_client.post(edit_url(client), form_data(), follow=True)
        html = response.content.decode()
        assert "Saved Renamed app." in html
        assert "Renamed app" in html

    def test_htmx_closes_the_dialog_and_reloads_the_list(self, alice_client, client):
        response = alice_client.post(edit_url(client), form_data(), **HTMX)
        assert response.status_code == 200
        assert response["HX-Trigger"] == "clients-changed"
        html = response.content.decode()
        assert "<html" not in html
        assert 'hx-swap-oob="true"' in html
        assert "Saved Renamed app." in html

    def test_the_saved_message_escapes_the_name(self, alice_client, client):
        response = alice_client.post(
            edit_url(client), form_data(name="<script>alert(1)</script>"), follow=True
        )
        html = response.content.decode()
        assert "<script>alert(1)</script>" not in html
        assert "Saved &lt;script&gt;alert(1)&lt;/script&gt;." in html

    def test_the_typed_url_is_included_on_save(self, alice_client, client):
        alice_client.post(
            edit_url(client),
            form_data(
                redirect_uris=["https://app.example.com/callback"],
                new_redirect_uri="https://app.example.com/second",
            ),
        )
        client.refresh_from_db()
        assert client.redirect_uri_list == [
            "https://app.example.com/callback",
            "https://app.example.com/second",
        ]

    def test_it_can_turn_machine_to_machine_on_for_a_web_client(self, alice_client, client):
        alice_client.post(edit_url(client), form_data(machine_to_machine="on"))
        client.refresh_from_db()
        assert client.machine_to_machine

    def test_it_changes_a_single_page_apps_origins(self, alice_client, spa_client):
        alice_client.post(
            edit_url(spa_client),
            form_data(allowed_origins=["https://a.example.com", "http://localhost:3000"]),
        )
        spa_client.refresh_from_db()
        assert spa_client.allowed_origin_list == ["https://a.example.com", "http://localhost:3000"]
        assert spa_client.app_type == "spa"

    def test_a_web_client_gets_no_origins(self, alice_client, client):
        alice_client.post(edit_url(client), form_data(allowed_origins=["https://a.example.com"]))
        client.refresh_from_db()
        assert client.allowed_origins == ""

    def test_it_works_when_the_tenant_is_at_its_client_limit(self, alice_client, client, settings):
        settings.OAUTH_CLIENT_LIMITS = {**settings.OAUTH_CLIENT_LIMITS, "clients": 1}
        alice_client.post(edit_url(client), form_data())
        client.refresh_from_db()
        assert client.name == "Renamed app"


@pytest.mark.django_db
class TestEditListButtons:
    def test_add_puts_a_url_on_the_list_without_saving(self, alice_client, client):
        response = alice_client.post(
            edit_url(client),
            form_data(
                intent="add:redirect_uris",
                redirect_uris=["https://app.example.com/callback"],
                new_redirect_uri="https://app.example.com/second",
            ),
        )
        assert response.status_code == 200
        assert hidden_items(response.content.decode(), "redirect_uris") == [
            "https://app.example.com/callback",
            "https://app.example.com/second",
        ]
        assert unchanged(client)

    def test_remove_takes_a_url_off_the_list_without_saving(self, alice_client, client):
        response = alice_client.post(
            edit_url(client),
            form_data(
                intent="remove:redirect_uris:0",
                redirect_uris=["https://app.example.com/callback", "https://b.example.com/cb"],
            ),
        )
        assert response.status_code == 200
        assert hidden_items(response.content.decode(), "redirect_uris") == [
            "https://b.example.com/cb"
        ]
        assert unchanged(client)

    def test_add_refuses_a_sixth_url(self, alice_client, client):
        five = [f"https://app.example.com/{n}" for n in range(5)]
        response = alice_client.post(
            edit_url(client),
            form_data(
                intent="add:redirect_uris",
                redirect_uris=five,
                new_redirect_uri="https://app.example.com/6",
            ),
        )
        assert "At most 5 are allowed." in field_errors(
            response.content.decode(), "new_redirect_uri"
        )
        assert unchanged(client)


@pytest.mark.django_db
class TestEditValidation:
    def test_the_name_is_required(self, alice_client, client):
        response = alice_client.post(edit_url(client), form_data(name="  "))
        assert response.status_code == 200
        assert "This field is required." in field_errors(response.content.decode(), "name")
        assert unchanged(client)

    def test_the_name_may_not_have_101_characters(self, alice_client, client):
        response = alice_client.post(edit_url(client), form_data(name="x" * 101))
        assert "at most 100 characters" in field_errors(response.content.decode(), "name")
        assert unchanged(client)

    def test_the_description_may_not_have_1001_characters(self, alice_client, client):
        response = alice_client.post(edit_url(client), form_data(description="d" * 1001))
        assert "at most 1000 characters" in field_errors(response.content.decode(), "description")
        assert unchanged(client)

    def test_at_least_one_redirect_url(self, alice_client, client):
        response = alice_client.post(edit_url(client), form_data(redirect_uris=[]))
        assert "Add at least one redirect URL." in field_errors(
            response.content.decode(), "new_redirect_uri"
        )
        assert unchanged(client)

    def test_an_invalid_redirect_url_is_refused(self, alice_client, client):
        response = alice_client.post(
            edit_url(client), form_data(redirect_uris=["http://new.example.com/callback"])
        )
        assert "http://new.example.com/callback: " in field_errors(
            response.content.decode(), "new_redirect_uri"
        )
        assert unchanged(client)

    def test_six_redirect_urls_are_refused(self, alice_client, client):
        six = [f"https://app.example.com/{n}" for n in range(6)]
        response = alice_client.post(edit_url(client), form_data(redirect_uris=six))
        assert "At most 5 are allowed." in response.content.decode()
        assert unchanged(client)

    def test_an_invalid_origin_is_refused(self, alice_client, spa_client):
        response = alice_client.post(
            edit_url(spa_client), form_data(allowed_origins=["https://app.example.com/path"])
        )
        assert "https://app.example.com/path: " in field_errors(
            response.content.decode(), "new_allowed_origin"
        )
        spa_client.refresh_from_db()
        assert spa_client.allowed_origin_list == ["https://app.example.com"]

    def test_a_single_page_app_cannot_become_machine_to_machine(self, alice_client, spa_client):
        response = alice_client.post(edit_url(spa_client), form_data(machine_to_machine="on"))
        assert response.status_code == 200
        spa_client.refresh_from_db()
        assert spa_client.name == "Browser app"
        assert not spa_client.machine_to_machine
        assert "Only Web clients can be machine-to-machine." in response.content.decode()

    def test_an_unknown_consent_method_is_refused_with_an_error(self, alice_client, client):
        response = alice_client.post(edit_url(client), form_data(consent_method="never"))
        assert response.status_code == 200
        assert unchanged(client)
        assert "Select a valid choice. never is not one of the available choices." in (
            response.content.decode()
        )

    def test_htmx_gets_the_form_fragment_with_errors(self, alice_client, client):
        response = alice_client.post(edit_url(client), form_data(name=""), **HTMX)
        assert response.status_code == 200
        html = response.content.decode()
        assert "<html" not in html
        assert "This field is required." in field_errors(html, "name")
        assert "HX-Trigger" not in response
        assert unchanged(client)


@pytest.mark.django_db
class TestEditAccess:
    def test_another_tenants_client_is_not_found(self, carol_client, client):
        assert carol_client.get(edit_url(client)).status_code == 404
        assert carol_client.post(edit_url(client), form_data()).status_code == 404
        assert unchanged(client)

    def test_another_tenants_published_client_is_not_found(self, carol_client, client, alice):
        publish_client(client, actor=alice)
        client.refresh_from_db()
        assert carol_client.post(edit_url(client), form_data()).status_code == 404
        assert unchanged(client)

    def test_a_deleted_client_is_not_found(self, alice_client, client, tenant_a, alice):
        delete_clients(tenant_a, [client.pk], actor=alice)
        client.refresh_from_db()
        assert alice_client.get(edit_url(client)).status_code == 404
        assert alice_client.post(edit_url(client), form_data()).status_code == 404
        assert unchanged(client)

    def test_an_unknown_client_id_is_not_found(self, alice_client, client):
        url = reverse("oauth_clients:edit", args=["0" * 32])
        assert alice_client.get(url).status_code == 404

    def test_a_member_gets_403(self, bob_client, client):
        assert bob_client.get(edit_url(client)).status_code == 403
        assert bob_client.post(edit_url(client), form_data()).status_code == 403
        assert unchanged(client)

    def test_anonymous_is_sent_to_sign_in(self, anon_client, client):
        response = anon_client.post(edit_url(client), form_data())
        assert response.status_code == 302
        assert response["Location"] == f"/login/?next={edit_url(client)}"
        assert unchanged(client)

    @pytest.mark.parametrize("method", ["put", "patch", "delete"])
    def test_other_methods_are_not_allowed(self, alice_client, client, method):
        assert getattr(alice_client, method)(edit_url(client)).status_code == 405
        assert unchanged(client)
