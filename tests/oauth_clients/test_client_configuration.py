"""View OAuth configuration: what an application needs, never a real secret."""

import html as html_lib
import json
import re
from urllib.parse import parse_qs, urlsplit

import pytest
from django.urls import reverse

from oauth_clients.models import OAuthClient
from oauth_clients.services import delete_clients, generate_secret, publish_client
from tests.factories import create_oauth_client

HTMX = {"HTTP_HX_REQUEST": "true"}
ISSUER = "http://acme.eu.localhost"


def config_url(client: OAuthClient) -> str:
    return reverse("oauth_clients:configuration", args=[client.client_id])


def code_block(html: str, block_id: str) -> str:
    match = re.search(rf'<code id="{block_id}">(.*?)</code>', html, re.DOTALL)
    assert match, f"no {block_id} block"
    return html_lib.unescape(match.group(1))


def config_json(html: str) -> dict:
    return json.loads(code_block(html, "config-json"))


@pytest.fixture
def web_and_secret(tenant_a, alice):
    return create_oauth_client(
        tenant_a,
        actor=alice,
        name="Reporting app",
        redirect_uris=["https://app.example.com/callback", "https://app.example.com/other"],
        allowed_scopes=["openid", "email"],
    )


@pytest.fixture
def web_client(web_and_secret):
    return web_and_secret[0]


@pytest.fixture
def spa_client(tenant_a, alice):
    client, _secret = create_oauth_client(
        tenant_a, actor=alice, app_type="spa", allowed_origins=["https://app.example.com"]
    )
    return client


@pytest.mark.django_db
class TestConfiguration:
    def test_it_shows_the_configuration_json(self, alice_client, web_client, tenant_a):
        assert tenant_a.base_url == ISSUER
        response = alice_client.get(config_url(web_client))
        assert response.status_code == 200
        config = config_json(response.content.decode())
        assert config == {
            "issuer": ISSUER,
            "authorization_endpoint": f"{ISSUER}/oauth/authorize",
            "token_endpoint": f"{ISSUER}/oauth/token",
            "revocation_endpoint": f"{ISSUER}/oauth/revoke",
            "jwks_uri": f"{ISSUER}/.well-known/jwks.json",
            "discovery_url": f"{ISSUER}/.well-known/openid-configuration",
            "client_id": web_client.client_id,
            "client_type": "web",
            "redirect_uris": [
                "https://app.example.com/callback",
                "https://app.example.com/other",
            ],
            "scopes": ["openid", "email"],
            "client_secret": "<YOUR_CLIENT_SECRET>",
        }

    def test_it_shows_the_authorization_url_with_pkce(self, alice_client, web_client):
        html = alice_client.get(config_url(web_client)).content.decode()
        url = urlsplit(code_block(html, "config-url"))
        assert f"{url.scheme}://{url.netloc}{url.path}" == f"{ISSUER}/oauth/authorize"
        assert parse_qs(url.query) == {
            "response_type": ["code"],
            "client_id": [web_client.client_id],
            "redirect_uri": ["https://app.example.com/callback"],
            "scope": ["openid email"],
            "state": ["STATE"],
            "code_challenge": ["CODE_CHALLENGE"],
            "code_challenge_method": ["S256"],
        }

    def test_the_code_samples_use_the_client_and_the_issuer(self, alice_client, web_client):
        html = alice_client.get(config_url(web_client)).content.decode()
        python = code_block(html, "config-python")
        assert f'ISSUER = "{ISSUER}"' in python
        assert f'"{web_client.client_id}"' in python
        assert 'client_secret="<YOUR_CLIENT_SECRET>"' in python
        assert 'pkce="S256"' in python
        js = code_block(html, "config-js")
        assert f'const issuer = "{ISSUER}";' in js
        assert f'const clientId = "{web_client.client_id}";' in js
        assert 'code_challenge_method: "S256"' in js

    def test_it_never_shows_a_real_secret(self, alice_client, web_and_secret, alice):
        web_client, first = web_and_secret
        second_secret, second = generate_secret(web_client, actor=alice)
        html = alice_client.get(config_url(web_client)).content.decode()
        assert first not in html
        assert second not in html
        for secret in web_client.secrets.all():
            assert secret.digest not in html
        assert "&lt;YOUR_CLIENT_SECRET&gt;" in html
        assert "<YOUR_CLIENT_SECRET>" not in html

    def test_a_single_page_app_has_no_secret_placeholder(self, alice_client, spa_client):
        html = alice_client.get(config_url(spa_client)).content.decode()
        config = config_json(html)
        assert "client_secret" not in config
        assert config["client_type"] == "spa"
        assert "YOUR_CLIENT_SECRET" not in html
        assert "include_client_id=True" in code_block(html, "config-python")

    def test_the_issuer_comes_from_settings_not_from_the_host_header(
        self, alice_client, web_client
    ):
        response = alice_client.get(config_url(web_client), HTTP_HOST="ACME.eu.localhost:8443")
        assert response.status_code == 200
        assert config_json(response.content.decode())["issuer"] == ISSUER

    def test_the_issuer_follows_the_platform_port(self, alice_client, web_client, settings):
        settings.PLATFORM_PORT = 8000
        config = config_json(alice_client.get(config_url(web_client)).content.decode())
        assert config["issuer"] == "http://acme.eu.localhost:8000"
        assert config["token_endpoint"] == "http://acme.eu.localhost:8000/oauth/token"

    def test_a_published_client_shows_the_owners_issuer(self, alice_client, web_client, alice):
        publish_client(web_client, actor=alice)
        config = config_json(alice_client.get(config_url(web_client)).content.decode())
        assert config["issuer"] == ISSUER

    def test_it_escapes_the_client_name(self, alice_client, tenant_a):
        client, _secret = create_oauth_client(tenant_a, name="<script>alert(1)</script>")
        html = alice_client.get(config_url(client)).content.decode()
        assert "<script>alert(1)</script>" not in html
        assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html

    def test_htmx_gets_the_dialog_fragment(self, alice_client, web_client):
        response = alice_client.get(config_url(web_client), **HTMX)
        assert response.status_code == 200
        html = response.content.decode()
        assert "<html" not in html
        assert html.lstrip().startswith("<dialog")
        assert config_json(html)["client_id"] == web_client.client_id

    def test_a_plain_request_gets_a_full_page(self, alice_client, web_client):
        assert "<html" in alice_client.get(config_url(web_client)).content.decode()


@pytest.mark.django_db
class TestConfigurationAccess:
    def test_another_tenants_client_is_not_found(self, carol_client, web_client):
        response = carol_client.get(config_url(web_client))
        assert response.status_code == 404
        assert web_client.client_id not in response.content.decode()

    def test_another_tenants_published_client_is_not_found(self, carol_client, web_client, alice):
        publish_client(web_client, actor=alice)
        assert carol_client.get(config_url(web_client)).status_code == 404

    def test_a_deleted_client_is_not_found(self, alice_client, web_client, tenant_a, alice):
        delete_clients(tenant_a, [web_client.pk], actor=alice)
        assert alice_client.get(config_url(web_client)).status_code == 404

    def test_a_member_gets_403(self, bob_client, web_client):
        response = bob_client.get(config_url(web_client))
        assert response.status_code == 403
        assert web_client.client_id not in response.content.decode()

    def test_anonymous_is_sent_to_sign_in(self, anon_client, web_client):
        response = anon_client.get(config_url(web_client))
        assert response.status_code == 302
        assert response["Location"] == f"/login/?next={config_url(web_client)}"

    @pytest.mark.parametrize("method", ["post", "put", "delete"])
    def test_it_is_read_only(self, alice_client, web_client, method):
        assert getattr(alice_client, method)(config_url(web_client)).status_code == 405
