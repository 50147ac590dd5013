"""Parity with the console: one client, two ways in, the same rules and the same audit trail."""

import html
import re

import pytest
from django.urls import reverse

from oauth_clients.models import OAuthClient
from oauth_clients.services import approve_client_for_tenant, publish_client
from tenants.models import AuditEvent
from tests.api.conftest import BASE, REDIRECT
from tests.factories import create_oauth_client
from tests.flows import client_for

pytestmark = pytest.mark.django_db

CREATE_URL = reverse("oauth_clients:create")
LIST_URL = reverse("oauth_clients:list")


def url(name: str, *args) -> str:
    return reverse(f"oauth_clients:{name}", args=args)


def console_form(**overrides) -> dict:
    """A console client dialog submission ("Save")."""
    data = {
        "intent": "save",
        "name": "Reports",
        "description": "",
        "app_type": "web",
        "redirect_uris": [REDIRECT],
        "new_redirect_uri": "",
        "allowed_origins": [],
        "new_allowed_origin": "",
        "allowed_scopes": ["user_default"],
        "consent_method": "required",
    }
    data.update(overrides)
    return {key: value for key, value in data.items() if value is not None}


def hidden_items(page: str, name: str) -> list[str]:
    return [
        html.unescape(v)
        for v in re.findall(rf'<input type="hidden" name="{name}" value="([^"]*)">', page)
    ]


def input_value(page: str, name: str) -> str:
    match = re.search(rf'name="{name}" id="id_{name}" value="([^"]*)"', page)
    assert match, f"no {name} input"
    return html.unescape(match.group(1))


def checked(page: str, name: str) -> set[str]:
    inputs = re.findall(
        rf'<input type="(?:checkbox|radio)" name="{name}" value="([^"]*)"([^>]*)>', page
    )
    return {value for value, rest in inputs if "checked" in rest}


def trail(client_pk: int) -> list[tuple]:
    """The audit entries about one client: action, actor, tenant and which details they carry."""
    events = AuditEvent.objects.filter(target_id=str(client_pk)).order_by("pk")
    return [(e.action, e.actor_id, e.tenant_id, e.target_type, sorted(e.data)) for e in events]


@pytest.fixture
def console(tenant_a, alice):
    return client_for(tenant_a, alice)


class TestApiToConsole:
    def test_a_client_created_by_the_api_shows_in_the_console(self, alice_api, console):
        body = alice_api.create(
            clientName="From the API",
            description="Made by a script",
            redirectUris=[REDIRECT, "https://app.example.com/second"],
            allowedScopes=["user_default", "openid"],
            connectionConfig={"consentMethod": "trusted"},
        )
        listing = console.get(LIST_URL).content.decode()
        assert "From the API" in listing
        assert body["clientId"] in listing
        page = console.get(url("edit", body["clientId"])).content.decode()
        assert input_value(page, "name") == "From the API"
        assert ">Made by a script</textarea>" in page
        assert hidden_items(page, "redirect_uris") == [REDIRECT, "https://app.example.com/second"]
        assert checked(page, "allowed_scopes") == {"user_default", "openid"}
        assert checked(page, "consent_method") == {"trusted"}
        secrets = console.get(url("secrets", body["clientId"])).content.decode()
        assert f'id="secret-{body["clientSecretHint"]}"' in secrets
        assert body["clientSecret"] not in secrets

    def test_and_is_edited_there(self, alice_api, console, alice):
        body = alice_api.create(clientName="From the API")
        response = console.post(
            url("edit", body["clientId"]),
            console_form(
                name="Edited in the console",
                description="Console text",
                redirect_uris=["https://app.example.com/new"],
                allowed_scopes=["user_default", "email"],
                consent_method="trusted",
                machine_to_machine="on",
            ),
        )
        assert response.status_code == 302, response.content
        after = alice_api.client(body["clientId"])
        assert after["clientName"] == "Edited in the console"
        assert after["description"] == "Console text"
        assert after["redirectUris"] == ["https://app.example.com/new"]
        assert after["allowedScopes"] == ["user_default", "email"]
        assert after["connectionConfig"] == {"consentMethod": "trusted", "status": "approved"}
        assert "client_credentials" in after["allowedGrantTypes"]
        assert after["clientSecrets"] == body["clientSecrets"]
        assert after["updatedAt"] > body["updatedAt"]

    def test_a_secret_generated_in_the_console_is_listed_by_the_api(self, alice_api, console):
        body = alice_api.create()
        page = console.post(url("secret_generate", body["clientId"]), {"expires_in_days": "30"})
        plaintext = re.search(
            r'id="new-client-secret" class="mono" value="([^"]+)"', page.content.decode()
        )
        assert plaintext
        secrets = alice_api.client(body["clientId"])["clientSecrets"]
        assert [s["hint"] for s in secrets] == [body["clientSecretHint"], plaintext.group(1)[-5:]]
        assert secrets[1]["expiresAt"] is not None
        assert (
            plaintext.group(1) not in alice_api.get(f"{BASE}/{body['clientId']}").content.decode()
        )

    def test_publishing_in_the_console_shows_in_the_api(self, alice_api, console):
        body = alice_api.create()
        assert console.post(url("publish", body["clientId"])).status_code == 302
        assert alice_api.client(body["clientId"])["publishedAt"] is not None
        assert console.post(url("unpublish", body["clientId"])).status_code == 302
        assert alice_api.client(body["clientId"])["publishedAt"] is None

    def test_deleting_in_the_console_is_a_404_in_the_api(self, alice_api, console):
        body = alice_api.create()
        pk = OAuthClient.objects.get(client_id=body["clientId"]).pk
        response = console.post(url("bulk_delete"), {"ids": [pk], "confirm": "yes"})
        assert response.status_code == 302
        assert alice_api.get(f"{BASE}/{body['clientId']}").status_code == 404


class TestConsoleToApi:
    def test_a_client_created_in_the_console_is_in_the_api(self, alice_api, console):
        response = console.post(
            CREATE_URL,
            console_form(name="From the console", description="Typed", consent_method="trusted"),
        )
        assert response.status_code == 200
        secret = re.search(
            r'id="created-client-secret" class="mono" value="([^"]+)"', response.content.decode()
        ).group(1)
        listed = alice_api.get(BASE, filter='clientName eq "From the console"').json()["data"]
        [body] = listed
        assert body["description"] == "Typed"
        assert body["appType"] == "web"
        assert body["redirectUris"] == [REDIRECT]
        assert body["connectionConfig"] == {"consentMethod": "trusted", "status": "approved"}
        assert [s["hint"] for s in body["clientSecrets"]] == [secret[-5:]]
        assert secret not in str(listed)

    def test_and_is_patched_by_the_api(self, alice_api, console):
        console.post(
            CREATE_URL,
            console_form(
                name="Browser app",
                app_type="spa",
                redirect_uris=["https://spa.example.com/cb"],
                allowed_origins=["https://spa.example.com"],
            ),
        )
        client = OAuthClient.objects.get(name="Browser app")
        response = alice_api.patch(
            f"{BASE}/{client.client_id}",
            [
                {"op": "replace", "path": "/clientName", "value": "Patched by the API"},
                {"op": "add", "path": "/allowedOrigins/-", "value": "https://b.example.com"},
                {"op": "add", "path": "/redirectUris/0", "value": "https://b.example.com/cb"},
                {"op": "replace", "path": "/description", "value": "API text"},
            ],
        )
        assert response.status_code == 204, response.content
        page = console.get(url("edit", client.client_id)).content.decode()
        assert input_value(page, "name") == "Patched by the API"
        assert ">API text</textarea>" in page
        assert hidden_items(page, "redirect_uris") == [
            "https://b.example.com/cb",
            "https://spa.example.com/cb",
        ]
        assert hidden_items(page, "allowed_origins") == [
            "https://spa.example.com",
            "https://b.example.com",
        ]
        # The console saves it again unchanged: the API left nothing it would refuse.
        resubmitted = console_form(
            name="Patched by the API",
            description="API text",
            redirect_uris=hidden_items(page, "redirect_uris"),
            allowed_origins=hidden_items(page, "allowed_origins"),
            app_type=None,
        )
        assert console.post(url("edit", client.client_id), resubmitted).status_code == 302

    def test_a_secret_deleted_by_the_api_is_gone_from_the_console(self, alice_api, console):
        console.post(CREATE_URL, console_form(name="Console web"))
        client = OAuthClient.objects.get(name="Console web")
        hint = client.secrets.get().hint
        assert (
            alice_api.delete(f"{BASE}/{client.client_id}/client-secrets/{hint}").status_code == 204
        )
        page = console.get(url("secrets", client.client_id)).content.decode()
        assert f'id="secret-{hint}"' not in page


class TestSameAuditTrail:
    def test_the_same_actions_leave_the_same_entries(self, alice_api, console, tenant_a):
        # Through the console.
        console.post(CREATE_URL, console_form(name="Console way"))
        by_console = OAuthClient.objects.get(name="Console way")
        console.post(
            url("edit", by_console.client_id), console_form(name="Console way", description="x")
        )
        page = console.post(url("secret_generate", by_console.client_id), {"expires_in_days": ""})
        assert page.status_code == 200
        first_hint = by_console.secrets.order_by("created_at", "pk").first().hint
        console.post(url("secret_delete", by_console.client_id, first_hint))
        console.post(url("publish", by_console.client_id))
        console.post(url("unpublish", by_console.client_id))
        console.post(url("bulk_delete"), {"ids": [by_console.pk], "confirm": "yes"})

        # Through the API.
        body = alice_api.create(clientName="API way")
        by_api = OAuthClient.objects.get(client_id=body["clientId"])
        path = f"{BASE}/{body['clientId']}"
        assert (
            alice_api.patch(
                path, [{"op": "replace", "path": "/description", "value": "x"}]
            ).status_code
            == 204
        )
        assert alice_api.post(f"{path}/client-secrets").status_code == 201
        assert (
            alice_api.delete(f"{path}/client-secrets/{body['clientSecretHint']}").status_code == 204
        )
        assert alice_api.post(f"{path}/actions/publish").status_code == 201
        assert alice_api.post(f"{path}/actions/unpublish").status_code == 204
        assert alice_api.delete(path).status_code == 204

        expected = [
            "oauth_client.created",
            "oauth_client.secret_generated",
            "oauth_client.updated",
            "oauth_client.secret_generated",
            "oauth_client.secret_deleted",
            "oauth_client.published",
            "oauth_client.unpublished",
            "oauth_client.deleted",
        ]
        assert [entry[0] for entry in trail(by_console.pk)] == expected
        assert trail(by_api.pk) == trail(by_console.pk)

    def test_an_external_clients_consent_and_revocation(
        self, tenant_a, alice, tenant_b, carol, carol_api
    ):
        both = []
        for name in ("Console way", "API way"):
            client, _ = create_oauth_client(tenant_a, actor=alice, name=name)
            publish_client(client, actor=alice)
            approve_client_for_tenant(tenant_b, client, actor=carol)
            both.append(client)
        by_console, by_api = both
        carols_console = client_for(tenant_b, carol)
        response = carols_console.post(
            url("external_consent_method", by_console.client_id), {"consent_method": "trusted"}
        )
        assert response.status_code == 302
        assert carols_console.post(url("external_revoke", by_console.client_id)).status_code == 302

        config = f"{BASE}/{by_api.client_id}/connection-configs/me"
        patch = [{"op": "replace", "path": "/consentMethod", "value": "trusted"}]
        assert carol_api.patch(config, patch).status_code == 204
        assert carol_api.delete(config).status_code == 204

        def globex_trail(client):
            return [
                (e.action, e.actor_id, e.data)
                for e in AuditEvent.objects.filter(
                    tenant=tenant_b, target_id=str(client.pk)
                ).order_by("pk")
            ]

        assert [e[0] for e in globex_trail(by_console)] == [
            "oauth_client.approved",
            "oauth_client.consent_method_changed",
            "oauth_client.approval_revoked",
        ]
        assert globex_trail(by_api) == globex_trail(by_console)


# --- The same rules -------------------------------------------------------------------------------

CANDIDATES = [
    ("web", {"redirect_uris": ["https://app.example.com/cb"]}),
    ("web", {"redirect_uris": ["http://app.example.com/cb"]}),
    ("web", {"redirect_uris": ["http://localhost:8080/cb"]}),
    ("web", {"redirect_uris": ["http://127.0.0.1/cb"]}),
    ("web", {"redirect_uris": ["https://app.example.com/cb#x"]}),
    ("web", {"redirect_uris": ["https://*.example.com/cb"]}),
    ("web", {"redirect_uris": ["com.example.app:/cb"]}),
    ("web", {"redirect_uris": ["https://app.example.com/a b"]}),
    ("web", {"redirect_uris": ["https://user:pw@app.example.com/cb"]}),
    ("web", {"redirect_uris": ["javascript:alert(1)"]}),
    ("native", {"redirect_uris": ["com.example.app:/cb"]}),
    ("native", {"redirect_uris": ["myapp://cb"]}),
    ("native", {"redirect_uris": ["http://127.0.0.1:7000/cb"]}),
    ("spa", {"allowed_origins": ["https://spa.example.com"]}),
    ("spa", {"allowed_origins": ["https://spa.example.com/"]}),
    ("spa", {"allowed_origins": ["https://spa.example.com/app"]}),
    ("spa", {"allowed_origins": ["http://spa.example.com"]}),
    ("spa", {"allowed_origins": ["http://localhost:3000"]}),
    ("spa", {"allowed_origins": ["*"]}),
    ("web", {"name": "x" * 100}),
    ("web", {"name": "x" * 101}),
    ("web", {"description": "x" * 1000}),
    ("web", {"description": "x" * 1001}),
    ("web", {"allowed_scopes": ["offline_access"]}),
    ("web", {"allowed_scopes": ["admin_classic", "email"]}),
    ("web", {"allowed_scopes": ["nonsense"]}),
    ("web", {"machine_to_machine": "on"}),
    ("spa", {"machine_to_machine": "on"}),
]

API_NAMES = {
    "name": "clientName",
    "description": "description",
    "redirect_uris": "redirectUris",
    "allowed_origins": "allowedOrigins",
    "allowed_scopes": "allowedScopes",
}


@pytest.mark.parametrize(
    ("app_type", "fields"), CANDIDATES, ids=[f"{a}-{str(f)[:60]}" for a, f in CANDIDATES]
)
def test_the_api_accepts_what_the_console_accepts(alice_api, console, app_type, fields):
    form = console_form(app_type=app_type, **{"name": "Console", **fields})
    if app_type == "native" and "redirect_uris" not in fields:
        form["redirect_uris"] = ["com.example.app:/cb"]
    if app_type == "spa" and "redirect_uris" not in fields:
        form["redirect_uris"] = ["https://spa.example.com/cb"]
    before = OAuthClient.objects.count()
    console.post(CREATE_URL, form)
    console_accepted = OAuthClient.objects.count() > before

    body = {
        "clientName": fields.get("name", "API"),
        "appType": app_type,
        "redirectUris": form["redirect_uris"],
        "allowedOrigins": form["allowed_origins"],
        "allowedScopes": form["allowed_scopes"],
    }
    body.update({API_NAMES[k]: v for k, v in fields.items() if k in API_NAMES})
    if "machine_to_machine" in fields:
        body["allowedGrantTypes"] = ["client_credentials"]
    response = alice_api.post(BASE, body)
    assert response.status_code in (201, 400), response.content
    assert (response.status_code == 201) == console_accepted, (console_accepted, response.content)
