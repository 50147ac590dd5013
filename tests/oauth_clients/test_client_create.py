"""Create new: the client dialog, the first secret shown once, the list editing buttons."""

import re

import pytest
from django.urls import reverse

from oauth_clients.models import ClientSecret, ConnectionConfig, OAuthClient
from oauth_clients.services import delete_clients
from tenants.models import AuditEvent
from tests.factories import client_form_data, create_oauth_client
from tests.flows import client_for

CREATE_URL = reverse("oauth_clients:create")
HTMX = {"HTTP_HX_REQUEST": "true"}


def shown_secret(html: str) -> str:
    match = re.search(r'id="created-client-secret" class="mono" value="([^"]+)"', html)
    assert match, "no secret shown"
    return match.group(1)


def field_errors(html: str, field: str) -> str:
    match = re.search(rf'<ul class="errorlist" id="id_{field}-errors">(.*?)</ul>', html, re.DOTALL)
    return match.group(1) if match else ""


def hidden_items(html: str, name: str) -> list[str]:
    return re.findall(rf'<input type="hidden" name="{name}" value="([^"]*)">', html)


def nothing_saved() -> bool:
    return (
        not OAuthClient.objects.exists()
        and not ConnectionConfig.objects.exists()
        and not ClientSecret.objects.exists()
        and not AuditEvent.objects.exists()
    )


@pytest.mark.django_db
class TestCreateForm:
    def test_it_shows_the_form_in_a_page(self, alice_client):
        response = alice_client.get(CREATE_URL)
        assert response.status_code == 200
        html = response.content.decode()
        assert "<html" in html
        assert f'action="{CREATE_URL}"' in html
        assert 'name="app_type"' in html
        assert "No redirect URLs yet." in html

    def test_htmx_gets_the_dialog_fragment(self, alice_client):
        response = alice_client.get(CREATE_URL, **HTMX)
        assert response.status_code == 200
        html = response.content.decode()
        assert "<html" not in html
        assert html.lstrip().startswith("<dialog")
        assert "Create new" in html
        assert "HX-Request" in response["Vary"]

    def test_the_form_is_not_cached(self, alice_client):
        response = alice_client.get(CREATE_URL)
        assert "no-store" in response["Cache-Control"]


@pytest.mark.django_db
class TestCreateWebClient:
    def test_it_creates_the_client(self, alice_client, tenant_a, alice):
        response = alice_client.post(CREATE_URL, client_form_data())
        assert response.status_code == 200
        client = OAuthClient.objects.get()
        assert client.tenant == tenant_a
        assert client.name == "Reporting app"
        assert client.description == "Monthly reports"
        assert client.app_type == "web"
        assert client.is_confidential
        assert client.redirect_uri_list == ["https://app.example.com/callback"]
        assert client.allowed_scope_list == ["user_default"]
        assert client.created_by == alice
        assert client.published_at is None
        assert client.deleted_at is None
        assert re.fullmatch(r"[0-9a-f]{32}", client.client_id)

    def test_it_shows_the_client_id_and_the_secret_once(self, alice_client):
        response = alice_client.post(CREATE_URL, client_form_data())
        html = response.content.decode()
        client = OAuthClient.objects.get()
        assert "OAuth client created" in html
        assert client.client_id in html
        plaintext = shown_secret(html)
        secret = ClientSecret.objects.get(client=client)
        assert secret.matches(plaintext)
        assert secret.digest != plaintext
        assert plaintext not in secret.digest
        assert secret.hint == plaintext[-5:]
        assert "This is the only time the client secret is shown." in html

    def test_the_secret_is_not_shown_again_in_the_list(self, alice_client):
        plaintext = shown_secret(alice_client.post(CREATE_URL, client_form_data()).content.decode())
        html = alice_client.get(reverse("oauth_clients:list")).content.decode()
        assert "Reporting app" in html
        assert plaintext not in html

    def test_the_response_with_the_secret_is_not_cached(self, alice_client):
        response = alice_client.post(CREATE_URL, client_form_data())
        assert "no-store" in response["Cache-Control"]
        assert "no-cache" in response["Cache-Control"]

    def test_a_plain_request_gets_the_result_in_a_full_page(self, alice_client):
        response = alice_client.post(CREATE_URL, client_form_data())
        html = response.content.decode()
        assert "<html" in html
        assert "OAuth client created" in html

    def test_htmx_gets_the_result_fragment_and_the_list_reloads(self, alice_client):
        response = alice_client.post(CREATE_URL, client_form_data(), **HTMX)
        assert response.status_code == 200
        html = response.content.decode()
        assert "<html" not in html
        assert "OAuth client created" in html
        shown_secret(html)
        assert response["HX-Trigger"] == "clients-changed"

    def test_it_creates_the_owner_tenants_connection_config(self, alice_client, tenant_a, alice):
        alice_client.post(CREATE_URL, client_form_data(consent_method="trusted"))
        config = ConnectionConfig.objects.get()
        assert config.client == OAuthClient.objects.get()
        assert config.tenant == tenant_a
        assert config.consent_method == "trusted"
        assert config.approved_by == alice
        assert config.approved_at is not None

    def test_it_records_the_creation_in_the_audit_trail(self, alice_client, tenant_a, alice):
        alice_client.post(CREATE_URL, client_form_data())
        client = OAuthClient.objects.get()
        event = AuditEvent.objects.get(action="oauth_client.created")
        assert event.tenant == tenant_a
        assert event.actor == alice
        assert event.target_id == str(client.pk)
        assert event.target_type == "oauth_clients.oauthclient"
        assert AuditEvent.objects.filter(action="oauth_client.secret_generated").count() == 1

    def test_it_can_be_machine_to_machine(self, alice_client):
        alice_client.post(CREATE_URL, client_form_data(machine_to_machine="on"))
        assert OAuthClient.objects.get().machine_to_machine

    def test_it_saves_the_chosen_scopes(self, alice_client):
        alice_client.post(CREATE_URL, client_form_data(allowed_scopes=["openid", "email"]))
        assert OAuthClient.objects.get().allowed_scope_list == ["openid", "email"]

    def test_it_ignores_allowed_origins_of_a_web_client(self, alice_client):
        alice_client.post(CREATE_URL, client_form_data(allowed_origins=["https://app.example.com"]))
        assert OAuthClient.objects.get().allowed_origins == ""

    def test_an_unknown_intent_means_save(self, alice_client):
        response = alice_client.post(CREATE_URL, client_form_data(intent="publish"))
        assert response.status_code == 200
        assert OAuthClient.objects.count() == 1


@pytest.mark.django_db
class TestCreatePublicClients:
    def test_a_single_page_app_gets_no_secret(self, alice_client):
        response = alice_client.post(
            CREATE_URL,
            client_form_data(app_type="spa", allowed_origins=["https://app.example.com"]),
        )
        assert response.status_code == 200
        html = response.content.decode()
        client = OAuthClient.objects.get()
        assert client.app_type == "spa"
        assert not client.is_confidential
        assert client.allowed_origin_list == ["https://app.example.com"]
        assert not ClientSecret.objects.exists()
        assert 'id="created-client-secret"' not in html
        assert "This client type has no secret" in html
        assert client.client_id in html

    def test_a_native_app_gets_no_secret(self, alice_client):
        response = alice_client.post(
            CREATE_URL,
            client_form_data(app_type="native", redirect_uris=["com.example.app:/callback"]),
        )
        assert response.status_code == 200
        client = OAuthClient.objects.get()
        assert client.app_type == "native"
        assert client.redirect_uri_list == ["com.example.app:/callback"]
        assert not ClientSecret.objects.exists()
        assert 'id="created-client-secret"' not in response.content.decode()

    def test_a_web_client_may_not_use_a_private_use_scheme(self, alice_client):
        response = alice_client.post(
            CREATE_URL, client_form_data(redirect_uris=["com.example.app:/callback"])
        )
        assert field_errors(response.content.decode(), "new_redirect_uri")
        assert nothing_saved()

    def test_a_single_page_app_cannot_be_machine_to_machine(self, alice_client):
        response = alice_client.post(
            CREATE_URL, client_form_data(app_type="spa", machine_to_machine="on")
        )
        assert response.status_code == 200
        html = response.content.decode()
        # The switch is hidden for this type, so the error is in the dialog's alert.
        assert "Only Web clients can be machine-to-machine." in html
        assert nothing_saved()

    def test_a_native_app_cannot_be_machine_to_machine(self, alice_client):
        response = alice_client.post(
            CREATE_URL,
            client_form_data(
                app_type="native",
                redirect_uris=["com.example.app:/callback"],
                machine_to_machine="on",
            ),
        )
        assert "Only Web clients can be machine-to-machine." in response.content.decode()
        assert nothing_saved()

    def test_the_typed_origin_is_included_on_save(self, alice_client):
        alice_client.post(
            CREATE_URL,
            client_form_data(
                app_type="spa",
                allowed_origins=["https://a.example.com"],
                new_allowed_origin="https://b.example.com",
            ),
        )
        assert OAuthClient.objects.get().allowed_origin_list == [
            "https://a.example.com",
            "https://b.example.com",
        ]

    def test_an_invalid_origin_is_refused(self, alice_client):
        response = alice_client.post(
            CREATE_URL,
            client_form_data(app_type="spa", allowed_origins=["https://app.example.com/path"]),
        )
        html = response.content.decode()
        assert "https://app.example.com/path: " in field_errors(html, "new_allowed_origin")
        assert nothing_saved()

    def test_add_puts_an_origin_on_the_list(self, alice_client):
        response = alice_client.post(
            CREATE_URL,
            client_form_data(
                intent="add:allowed_origins",
                app_type="spa",
                new_allowed_origin="https://app.example.com",
            ),
        )
        html = response.content.decode()
        assert hidden_items(html, "allowed_origins") == ["https://app.example.com"]
        assert nothing_saved()

    def test_remove_takes_an_origin_off_the_list(self, alice_client):
        response = alice_client.post(
            CREATE_URL,
            client_form_data(
                intent="remove:allowed_origins:0",
                app_type="spa",
                allowed_origins=["https://a.example.com", "https://b.example.com"],
            ),
        )
        html = response.content.decode()
        assert hidden_items(html, "allowed_origins") == ["https://b.example.com"]
        assert nothing_saved()

    def test_at_most_five_origins(self, alice_client):
        origins = [f"https://a{n}.example.com" for n in range(6)]
        response = alice_client.post(
            CREATE_URL, client_form_data(app_type="spa", allowed_origins=origins)
        )
        assert "At most 5 are allowed." in response.content.decode()
        assert nothing_saved()


@pytest.mark.django_db
class TestCreateValidation:
    def test_the_name_is_required(self, alice_client):
        response = alice_client.post(CREATE_URL, client_form_data(name=""))
        assert response.status_code == 200
        html = response.content.decode()
        assert "This field is required." in field_errors(html, "name")
        assert 'aria-invalid="true" aria-describedby="id_name-errors"' in html
        assert nothing_saved()

    def test_a_name_of_spaces_is_no_name(self, alice_client):
        response = alice_client.post(CREATE_URL, client_form_data(name="   "))
        assert "This field is required." in field_errors(response.content.decode(), "name")
        assert nothing_saved()

    def test_the_name_is_trimmed(self, alice_client):
        alice_client.post(CREATE_URL, client_form_data(name="  Reporting app  "))
        assert OAuthClient.objects.get().name == "Reporting app"

    def test_the_name_may_have_100_characters(self, alice_client):
        alice_client.post(CREATE_URL, client_form_data(name="x" * 100))
        assert OAuthClient.objects.get().name == "x" * 100

    def test_the_name_may_not_have_101_characters(self, alice_client):
        response = alice_client.post(CREATE_URL, client_form_data(name="x" * 101))
        errors = field_errors(response.content.decode(), "name")
        assert "at most 100 characters" in errors
        assert nothing_saved()

    def test_the_description_may_have_1000_characters(self, alice_client):
        alice_client.post(CREATE_URL, client_form_data(description="d" * 1000))
        assert OAuthClient.objects.get().description == "d" * 1000

    def test_the_description_may_not_have_1001_characters(self, alice_client):
        response = alice_client.post(CREATE_URL, client_form_data(description="d" * 1001))
        errors = field_errors(response.content.decode(), "description")
        assert "at most 1000 characters" in errors
        assert nothing_saved()

    def test_the_description_is_optional(self, alice_client):
        alice_client.post(CREATE_URL, client_form_data(description=""))
        assert OAuthClient.objects.get().description == ""

    def test_at_least_one_redirect_url(self, alice_client):
        response = alice_client.post(CREATE_URL, client_form_data(redirect_uris=[]))
        html = response.content.decode()
        assert "Add at least one redirect URL." in field_errors(html, "new_redirect_uri")
        assert nothing_saved()

    def test_an_invalid_redirect_url_is_refused(self, alice_client):
        response = alice_client.post(
            CREATE_URL, client_form_data(redirect_uris=["http://app.example.com/callback"])
        )
        assert response.status_code == 200
        errors = field_errors(response.content.decode(), "new_redirect_uri")
        assert "http://app.example.com/callback: Use https://." in errors
        assert nothing_saved()

    def test_a_typed_invalid_redirect_url_is_refused_on_save(self, alice_client):
        response = alice_client.post(
            CREATE_URL, client_form_data(redirect_uris=[], new_redirect_uri="not a url")
        )
        assert field_errors(response.content.decode(), "new_redirect_uri")
        assert nothing_saved()

    def test_a_redirect_url_with_a_wildcard_is_refused(self, alice_client):
        response = alice_client.post(
            CREATE_URL, client_form_data(redirect_uris=["https://*.example.com/callback"])
        )
        assert "Wildcards are not allowed." in response.content.decode()
        assert nothing_saved()

    def test_the_same_redirect_url_twice_is_refused(self, alice_client):
        uri = "https://app.example.com/callback"
        response = alice_client.post(CREATE_URL, client_form_data(redirect_uris=[uri, uri]))
        assert field_errors(response.content.decode(), "new_redirect_uri")
        assert nothing_saved()

    def test_http_is_allowed_for_localhost(self, alice_client):
        alice_client.post(CREATE_URL, client_form_data(redirect_uris=["http://localhost:8080/cb"]))
        assert OAuthClient.objects.get().redirect_uri_list == ["http://localhost:8080/cb"]

    def test_the_refused_url_is_escaped_in_the_error(self, alice_client):
        response = alice_client.post(
            CREATE_URL,
            client_form_data(redirect_uris=["http://app.example.com/<script>x</script>"]),
        )
        html = response.content.decode()
        assert "<script>x</script>" not in html
        assert "http://app.example.com/&lt;script&gt;x&lt;/script&gt;: " in html
        assert nothing_saved()

    def test_an_unknown_client_type_is_refused_with_an_error(self, alice_client):
        response = alice_client.post(CREATE_URL, client_form_data(app_type="daemon"))
        assert response.status_code == 200
        assert nothing_saved()
        assert "Select a valid choice. daemon is not one of the available choices." in (
            response.content.decode()
        )

    def test_a_missing_client_type_is_refused_with_an_error(self, alice_client):
        data = client_form_data()
        del data["app_type"]
        response = alice_client.post(CREATE_URL, data)
        assert response.status_code == 200
        assert nothing_saved()
        assert "This field is required." in response.content.decode()

    def test_an_unknown_scope_is_refused(self, alice_client):
        response = alice_client.post(CREATE_URL, client_form_data(allowed_scopes=["superuser"]))
        assert "Select a valid choice." in field_errors(response.content.decode(), "allowed_scopes")
        assert nothing_saved()

    def test_at_least_one_scope(self, alice_client):
        response = alice_client.post(CREATE_URL, client_form_data(allowed_scopes=[]))
        assert "This field is required." in field_errors(
            response.content.decode(), "allowed_scopes"
        )
        assert nothing_saved()

    def test_an_unknown_consent_method_is_refused_with_an_error(self, alice_client):
        response = alice_client.post(CREATE_URL, client_form_data(consent_method="never"))
        assert response.status_code == 200
        assert nothing_saved()
        assert "Select a valid choice. never is not one of the available choices." in (
            response.content.decode()
        )

    def test_the_form_keeps_what_was_entered(self, alice_client):
        response = alice_client.post(
            CREATE_URL,
            client_form_data(name="", description="Keep me", new_redirect_uri="http://bad.example"),
        )
        html = response.content.decode()
        assert ">Keep me</textarea>" in html
        assert 'value="http://bad.example"' in html
        assert hidden_items(html, "redirect_uris") == ["https://app.example.com/callback"]

    def test_htmx_gets_the_form_fragment_with_errors(self, alice_client):
        response = alice_client.post(CREATE_URL, client_form_data(name=""), **HTMX)
        assert response.status_code == 200
        html = response.content.decode()
        assert "<html" not in html
        assert "This field is required." in field_errors(html, "name")
        assert "HX-Trigger" not in response
        assert nothing_saved()


@pytest.mark.django_db
class TestRedirectUrlList:
    def test_the_typed_url_is_included_on_save(self, alice_client):
        alice_client.post(
            CREATE_URL,
            client_form_data(
                redirect_uris=["https://app.example.com/callback"],
                new_redirect_uri="https://app.example.com/other",
            ),
        )
        assert OAuthClient.objects.get().redirect_uri_list == [
            "https://app.example.com/callback",
            "https://app.example.com/other",
        ]

    def test_a_typed_url_alone_is_enough(self, alice_client):
        alice_client.post(
            CREATE_URL,
            client_form_data(redirect_uris=[], new_redirect_uri="  https://app.example.com/cb  "),
        )
        assert OAuthClient.objects.get().redirect_uri_list == ["https://app.example.com/cb"]

    def test_add_puts_the_url_on_the_list_without_saving(self, alice_client):
        response = alice_client.post(
            CREATE_URL,
            client_form_data(
                intent="add:redirect_uris", new_redirect_uri="https://app.example.com/2"
            ),
        )
        assert response.status_code == 200
        html = response.content.decode()
        assert hidden_items(html, "redirect_uris") == [
            "https://app.example.com/callback",
            "https://app.example.com/2",
        ]
        assert 'id="id_new_redirect_uri" value=""' in html
        assert nothing_saved()

    def test_add_works_before_the_name_is_filled_in(self, alice_client):
        response = alice_client.post(
            CREATE_URL,
            client_form_data(
                intent="add:redirect_uris",
                name="",
                redirect_uris=[],
                new_redirect_uri="https://app.example.com/cb",
            ),
        )
        html = response.content.decode()
        assert hidden_items(html, "redirect_uris") == ["https://app.example.com/cb"]
        assert not field_errors(html, "name")
        assert nothing_saved()

    def test_htmx_add_gets_the_form_fragment(self, alice_client):
        response = alice_client.post(
            CREATE_URL,
            client_form_data(
                intent="add:redirect_uris", new_redirect_uri="https://app.example.com/2"
            ),
            **HTMX,
        )
        html = response.content.decode()
        assert "<html" not in html
        assert "https://app.example.com/2" in hidden_items(html, "redirect_uris")
        assert "HX-Trigger" not in response

    def test_add_refuses_an_invalid_url_and_keeps_it_for_correction(self, alice_client):
        response = alice_client.post(
            CREATE_URL,
            client_form_data(intent="add:redirect_uris", new_redirect_uri="ftp://app.example.com/"),
        )
        html = response.content.decode()
        assert field_errors(html, "new_redirect_uri")
        assert 'value="ftp://app.example.com/"' in html
        assert hidden_items(html, "redirect_uris") == ["https://app.example.com/callback"]
        assert nothing_saved()

    def test_add_refuses_a_url_on_the_list_already(self, alice_client):
        response = alice_client.post(
            CREATE_URL,
            client_form_data(
                intent="add:redirect_uris", new_redirect_uri="https://app.example.com/callback"
            ),
        )
        html = response.content.decode()
        assert "is on the list already." in field_errors(html, "new_redirect_uri")
        assert hidden_items(html, "redirect_uris") == ["https://app.example.com/callback"]

    def test_add_refuses_a_sixth_url(self, alice_client):
        five = [f"https://app.example.com/{n}" for n in range(5)]
        response = alice_client.post(
            CREATE_URL,
            client_form_data(
                intent="add:redirect_uris",
                redirect_uris=five,
                new_redirect_uri="https://app.example.com/6",
            ),
        )
        html = response.content.decode()
        assert "At most 5 are allowed." in field_errors(html, "new_redirect_uri")
        assert hidden_items(html, "redirect_uris") == five
        assert nothing_saved()

    def test_save_refuses_six_urls(self, alice_client):
        six = [f"https://app.example.com/{n}" for n in range(6)]
        response = alice_client.post(CREATE_URL, client_form_data(redirect_uris=six))
        assert "At most 5 are allowed." in field_errors(
            response.content.decode(), "new_redirect_uri"
        )
        assert nothing_saved()

    def test_save_refuses_five_urls_and_a_typed_sixth(self, alice_client):
        five = [f"https://app.example.com/{n}" for n in range(5)]
        response = alice_client.post(
            CREATE_URL,
            client_form_data(redirect_uris=five, new_redirect_uri="https://app.example.com/6"),
        )
        assert "At most 5 are allowed." in response.content.decode()
        assert nothing_saved()

    def test_five_urls_are_fine(self, alice_client):
        five = [f"https://app.example.com/{n}" for n in range(5)]
        alice_client.post(CREATE_URL, client_form_data(redirect_uris=five))
        assert OAuthClient.objects.get().redirect_uri_list == five

    def test_the_limit_follows_the_setting(self, alice_client, settings):
        settings.OAUTH_CLIENT_LIMITS = {**settings.OAUTH_CLIENT_LIMITS, "redirect_uris": 2}
        three = [f"https://app.example.com/{n}" for n in range(3)]
        response = alice_client.post(CREATE_URL, client_form_data(redirect_uris=three))
        assert "At most 2 are allowed." in response.content.decode()
        assert nothing_saved()

    def test_remove_takes_the_url_off_the_list_without_saving(self, alice_client):
        response = alice_client.post(
            CREATE_URL,
            client_form_data(
                intent="remove:redirect_uris:1",
                redirect_uris=["https://a.example.com/0", "https://a.example.com/1"],
            ),
        )
        assert response.status_code == 200
        assert hidden_items(response.content.decode(), "redirect_uris") == [
            "https://a.example.com/0"
        ]
        assert nothing_saved()

    def test_remove_with_an_index_out_of_range_changes_nothing(self, alice_client):
        response = alice_client.post(CREATE_URL, client_form_data(intent="remove:redirect_uris:7"))
        assert response.status_code == 200
        assert hidden_items(response.content.decode(), "redirect_uris") == [
            "https://app.example.com/callback"
        ]
        assert nothing_saved()

    def test_remove_the_last_url_shows_the_empty_list(self, alice_client):
        response = alice_client.post(CREATE_URL, client_form_data(intent="remove:redirect_uris:0"))
        html = response.content.decode()
        assert hidden_items(html, "redirect_uris") == []
        assert "No redirect URLs yet." in html


@pytest.mark.django_db
class TestTenantLimit:
    @pytest.fixture(autouse=True)
    def two_clients_at_most(self, settings):
        settings.OAUTH_CLIENT_LIMITS = {**settings.OAUTH_CLIENT_LIMITS, "clients": 2}

    def test_it_refuses_a_client_beyond_the_limit(self, alice_client, tenant_a):
        create_oauth_client(tenant_a, name="One")
        create_oauth_client(tenant_a, name="Two")
        response = alice_client.post(CREATE_URL, client_form_data(name="Three"))
        assert response.status_code == 200
        html = response.content.decode()
        assert "This tenant already has 2 OAuth clients, the most allowed." in html
        assert not OAuthClient.objects.filter(name="Three").exists()
        assert OAuthClient.objects.count() == 2
        assert ConnectionConfig.objects.count() == 2
        assert ClientSecret.objects.count() == 2
        assert not AuditEvent.objects.filter(target_label="Three").exists()

    def test_deleted_clients_do_not_count(self, alice_client, tenant_a, alice):
        create_oauth_client(tenant_a, name="One")
        two, _secret = create_oauth_client(tenant_a, name="Two")
        delete_clients(tenant_a, [two.pk], actor=alice)
        alice_client.post(CREATE_URL, client_form_data(name="Three"))
        assert OAuthClient.objects.filter(name="Three", tenant=tenant_a).exists()

    def test_another_tenants_clients_do_not_count(self, alice_client, tenant_a, tenant_b):
        create_oauth_client(tenant_b, name="One")
        create_oauth_client(tenant_b, name="Two")
        alice_client.post(CREATE_URL, client_form_data(name="Mine"))
        assert OAuthClient.objects.filter(name="Mine", tenant=tenant_a).exists()


@pytest.mark.django_db
class TestCreateAccess:
    def test_it_checks_the_csrf_token(self, tenant_a, alice):
        client = client_for(tenant_a, alice, enforce_csrf_checks=True)
        response = client.post(CREATE_URL, client_form_data())
        assert response.status_code == 403
        assert nothing_saved()

    def test_it_accepts_the_csrf_token_of_the_form(self, tenant_a, alice):
        client = client_for(tenant_a, alice, enforce_csrf_checks=True)
        html = client.get(CREATE_URL).content.decode()
        token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', html).group(1)
        response = client.post(CREATE_URL, {**client_form_data(), "csrfmiddlewaretoken": token})
        assert response.status_code == 200
        assert OAuthClient.objects.count() == 1

    def test_a_member_gets_403_and_nothing_is_created(self, bob_client):
        assert bob_client.get(CREATE_URL).status_code == 403
        assert bob_client.post(CREATE_URL, client_form_data()).status_code == 403
        assert nothing_saved()

    def test_anonymous_is_sent_to_sign_in(self, anon_client):
        response = anon_client.post(CREATE_URL, client_form_data())
        assert response.status_code == 302
        assert response["Location"] == f"/login/?next={CREATE_URL}"
        assert nothing_saved()

    def test_anonymous_htmx_request_redirects_the_whole_page(self, anon_client):
        response = anon_client.get(CREATE_URL, **HTMX)
        assert response["HX-Redirect"] == f"/login/?next={CREATE_URL}"

    @pytest.mark.parametrize("method", ["put", "patch", "delete"])
    def test_other_methods_are_not_allowed(self, alice_client, method):
        response = getattr(alice_client, method)(CREATE_URL)
        assert response.status_code == 405
        assert nothing_saved()

    def test_the_client_belongs_to_the_tenant_of_the_host(self, carol_client, tenant_b):
        carol_client.post(CREATE_URL, client_form_data())
        assert OAuthClient.objects.get().tenant == tenant_b
        assert ConnectionConfig.objects.get().tenant == tenant_b
