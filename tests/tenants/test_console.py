import pytest


@pytest.mark.django_db
class TestConsole:
    def test_an_admin_sees_the_console_with_tenant_and_user(self, alice_client):
        response = alice_client.get("/console/")
        assert response.status_code == 200
        html = response.content.decode()
        assert "Acme" in html
        assert "Signed in as Alice" in html
        assert ">Integration<" in html
        assert 'href="/console/integration/oauth/"' in html
        assert ">Sign out</button>" in html

    def test_anonymous_goes_to_sign_in(self, anon_client):
        response = anon_client.get("/console/")
        assert response.status_code == 302
        assert response["Location"] == "/login/?next=/console/"

    def test_anonymous_htmx_request_redirects_the_whole_page(self, anon_client):
        response = anon_client.get("/console/", HTTP_HX_REQUEST="true")
        assert response["HX-Redirect"] == "/login/?next=/console/"

    @pytest.mark.parametrize("path", ["/console/", "/console/integration/oauth/"])
    def test_a_member_who_is_not_admin_gets_403(self, bob_client, path):
        response = bob_client.get(path)
        assert response.status_code == 403
        assert "Only tenant admins" in response.content.decode()

    def test_a_member_lands_on_the_tenant_home_page(self, bob_client):
        response = bob_client.get("/")
        assert response.status_code == 200
        assert "You are signed in as Bob" in response.content.decode()

    def test_an_admin_is_sent_from_home_to_the_console(self, alice_client):
        response = alice_client.get("/")
        assert response["Location"] == "/console/"

    def test_the_oauth_page_is_in_the_integration_section(self, alice_client):
        response = alice_client.get("/console/integration/oauth/")
        assert response.status_code == 200
        assert 'aria-current="page">OAuth<' in response.content.decode()

    def test_console_is_read_only_over_get(self, alice_client):
        assert alice_client.post("/console/").status_code == 405


@pytest.mark.django_db
class TestLanguage:
    def test_accept_language_selects_dutch(self, alice_client):
        response = alice_client.get("/console/", HTTP_ACCEPT_LANGUAGE="nl")
        html = response.content.decode()
        assert '<html lang="nl">' in html
        assert ">Afmelden</button>" in html
        assert ">Integratie<" in html

    def test_the_language_switch_remembers_the_choice(self, alice_client):
        response = alice_client.post("/i18n/setlang/", {"language": "nl", "next": "/console/"})
        assert response.status_code == 302
        assert response["Location"] == "/console/"
        assert ">Afmelden</button>" in alice_client.get("/console/").content.decode()

    def test_the_language_switch_does_not_redirect_off_the_host(self, alice_client):
        response = alice_client.post(
            "/i18n/setlang/", {"language": "nl", "next": "https://evil.test/"}
        )
        assert response["Location"] == "/"

    def test_sign_in_page_in_dutch(self, anon_client):
        html = anon_client.get("/login/", HTTP_ACCEPT_LANGUAGE="nl").content.decode()
        assert ">E-mail</label>" in html
        assert ">Wachtwoord</label>" in html
        assert ">Aanmelden</button>" in html


@pytest.mark.django_db
class TestHomePanels:
    def test_the_oauth_panel_counts_this_tenants_clients_only(
        self, alice_client, tenant_a, tenant_b, alice, carol
    ):
        from tests.factories import create_oauth_client

        create_oauth_client(tenant_a, actor=alice, name="One")
        create_oauth_client(tenant_b, actor=carol, name="Elsewhere")
        html = alice_client.get("/console/").content.decode()
        assert "1 OAuth client<" in html

    def test_a_panel_an_app_registers_is_shown_in_its_order(self, alice_client, monkeypatch):
        from tenants import console

        monkeypatch.setattr(console, "_panels", dict(console._panels))
        console.register_panel(
            console.Panel(
                name="first",
                template="oauth_clients/_console_panel.html",
                context=lambda request: {"client_count": 41},
                order=1,
            )
        )
        html = alice_client.get("/console/").content.decode()
        assert "41 OAuth clients" in html
        assert html.index("41 OAuth clients") < html.index("0 OAuth clients")
