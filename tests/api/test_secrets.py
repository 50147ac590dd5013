"""``POST .../client-secrets`` and ``DELETE .../client-secrets/{hint}``: shown once, rotated."""

import json
import re

import pytest

from oauth_clients.models import ClientSecret, OAuthClient
from tenants.models import AuditEvent
from tests.api.conftest import BASE, assert_errors, client_credentials_token, snapshot

pytestmark = pytest.mark.django_db


def secrets_path(client: dict) -> str:
    return f"{BASE}/{client['clientId']}/client-secrets"


def authenticates(tenant, client: dict, secret: str) -> bool:
    """Whether ``secret`` gets the (machine-to-machine) client a token at /oauth/token."""
    model = OAuthClient.objects.get(client_id=client["clientId"])
    response = client_credentials_token(tenant, model, secret, scope="user_default")
    assert response.status_code in (200, 401), response.content
    return response.status_code == 200


@pytest.fixture
def robot(alice_api) -> dict:
    """A machine-to-machine Web client created through the API, with its first secret."""
    return alice_api.create(clientName="Robot", allowedGrantTypes=["client_credentials"])


def generate(api, client: dict) -> dict:
    response = api.post(secrets_path(client))
    assert response.status_code == 201, response.content
    return response.json()


class TestGenerate:
    def test_201_with_the_secret_shown_once(self, alice_api, web, alice):
        response = alice_api.post(secrets_path(web))
        assert response.status_code == 201, response.content
        assert response["Content-Type"] == "application/json"
        assert "no-store" in response["Cache-Control"]
        body = response.json()
        assert set(body) == {"clientId", "clientSecret", "hint", "createdAt", "createdBy"}
        assert body["clientId"] == web["clientId"]
        assert re.fullmatch(r"[0-9a-f]{72}", body["clientSecret"])
        assert body["hint"] == body["clientSecret"][-5:]
        assert body["createdAt"].endswith("Z")
        assert body["createdBy"] == str(alice.pk)
        assert body["clientSecret"] != web["clientSecret"]

    def test_the_client_lists_the_hints_and_dates_only(self, alice_api, web):
        new = generate(alice_api, web)
        listed = alice_api.client(web["clientId"])["clientSecrets"]
        assert [s["hint"] for s in listed] == [web["clientSecretHint"], new["hint"]]
        assert listed[1]["createdAt"] == new["createdAt"]
        for info in listed:
            assert set(info) == {"hint", "createdAt", "createdBy", "lastUsedAt", "expiresAt"}

    def test_no_later_answer_contains_a_secret(self, alice_api, web):
        new = generate(alice_api, web)
        answers = [
            alice_api.get(f"{BASE}/{web['clientId']}"),
            alice_api.get(BASE),
            alice_api.get(BASE, filter=f'clientId eq "{web["clientId"]}"'),
            alice_api.get(f"{BASE}/{web['clientId']}/connection-configs/me"),
        ]
        for response in answers:
            assert response.status_code == 200, response.content
            raw = response.content.decode()
            assert web["clientSecret"] not in raw
            assert new["clientSecret"] not in raw
            assert "clientSecret" not in json.loads(raw)

    def test_only_a_digest_is_stored(self, alice_api, web):
        new = generate(alice_api, web)
        stored = ClientSecret.objects.get(hint=new["hint"])
        assert new["clientSecret"] not in {stored.digest, stored.hint}
        assert stored.matches(new["clientSecret"])

    def test_it_is_recorded(self, alice_api, web, alice):
        new = generate(alice_api, web)
        event = AuditEvent.objects.get(
            action="oauth_client.secret_generated", data__hint=new["hint"]
        )
        assert event.actor == alice
        assert event.target_id == str(OAuthClient.objects.get(client_id=web["clientId"]).pk)
        assert new["clientSecret"] not in json.dumps(event.data)

    @pytest.mark.parametrize("app_type", ["spa", "native"])
    def test_a_public_client_has_no_secrets(self, alice_api, tenant_a, app_type):
        client = alice_api.create(
            appType=app_type,
            redirectUris=["https://spa.example.com/cb"]
            if app_type == "spa"
            else ["com.example.app:/cb"],
        )
        before = snapshot(tenant_a)
        assert_errors(alice_api.post(secrets_path(client)), 400, field="appType")
        assert snapshot(tenant_a) == before

    def test_409_past_the_limit(self, alice_api, web, tenant_a, settings):
        limit = settings.OAUTH_CLIENT_LIMITS["secrets"]
        for _ in range(limit - 1):
            generate(alice_api, web)
        before = snapshot(tenant_a)
        errors = assert_errors(alice_api.post(secrets_path(web)), 409)
        assert str(limit) in errors[0]["detail"]
        assert snapshot(tenant_a) == before
        assert len(alice_api.client(web["clientId"])["clientSecrets"]) == limit

    def test_deleting_one_makes_room(self, alice_api, web, settings):
        settings.OAUTH_CLIENT_LIMITS = {**settings.OAUTH_CLIENT_LIMITS, "secrets": 2}
        generate(alice_api, web)
        assert alice_api.post(secrets_path(web)).status_code == 409
        hint = web["clientSecretHint"]
        assert alice_api.delete(f"{secrets_path(web)}/{hint}").status_code == 204
        assert alice_api.post(secrets_path(web)).status_code == 201

    def test_an_unknown_client_is_404(self, alice_api, tenant_a):
        before = snapshot(tenant_a)
        assert_errors(alice_api.post(f"{BASE}/{'0' * 32}/client-secrets"), 404)
        assert snapshot(tenant_a) == before

    def test_a_deleted_client_is_404(self, alice_api, web):
        alice_api.delete(f"{BASE}/{web['clientId']}")
        assert_errors(alice_api.post(secrets_path(web)), 404)


class TestAtTheTokenEndpoint:
    def test_the_first_secret_works(self, alice_api, robot, tenant_a):
        assert authenticates(tenant_a, robot, robot["clientSecret"])

    def test_a_generated_secret_works_beside_the_first(self, alice_api, robot, tenant_a):
        new = generate(alice_api, robot)
        assert authenticates(tenant_a, robot, new["clientSecret"])
        assert authenticates(tenant_a, robot, robot["clientSecret"])

    def test_a_wrong_secret_or_a_hint_does_not(self, alice_api, robot, tenant_a):
        assert not authenticates(tenant_a, robot, "0" * 72)
        assert not authenticates(tenant_a, robot, robot["clientSecretHint"])

    def test_rotation_deleting_the_old_secret_by_hint(self, alice_api, robot, tenant_a):
        new = generate(alice_api, robot)
        response = alice_api.delete(f"{secrets_path(robot)}/{robot['clientSecretHint']}")
        assert response.status_code == 204
        assert response.content == b""
        assert not authenticates(tenant_a, robot, robot["clientSecret"])
        assert authenticates(tenant_a, robot, new["clientSecret"])
        hints = [s["hint"] for s in alice_api.client(robot["clientId"])["clientSecrets"]]
        assert hints == [new["hint"]]


class TestDelete:
    def test_it_is_recorded(self, alice_api, web, alice):
        alice_api.delete(f"{secrets_path(web)}/{web['clientSecretHint']}")
        event = AuditEvent.objects.get(action="oauth_client.secret_deleted")
        assert event.actor == alice
        assert event.data == {"hint": web["clientSecretHint"]}

    def test_the_last_secret_may_go(self, alice_api, web):
        response = alice_api.delete(f"{secrets_path(web)}/{web['clientSecretHint']}")
        assert response.status_code == 204
        assert alice_api.client(web["clientId"])["clientSecrets"] == []

    def test_a_second_delete_is_404(self, alice_api, web):
        path = f"{secrets_path(web)}/{web['clientSecretHint']}"
        assert alice_api.delete(path).status_code == 204
        assert_errors(alice_api.delete(path), 404, code="not_found")

    def test_another_clients_hint_is_404(self, alice_api, web, robot, tenant_a):
        before = snapshot(tenant_a)
        response = alice_api.delete(f"{secrets_path(web)}/{robot['clientSecretHint']}")
        assert_errors(response, 404)
        assert snapshot(tenant_a) == before
        assert authenticates(tenant_a, robot, robot["clientSecret"])

    @pytest.mark.parametrize("hint", ["00000", "abc", "x" * 40, "-----"])
    def test_an_unknown_hint_is_404(self, alice_api, web, tenant_a, hint):
        if hint == web["clientSecretHint"]:
            pytest.skip("the random hint happens to match")
        before = snapshot(tenant_a)
        assert_errors(alice_api.delete(f"{secrets_path(web)}/{hint}"), 404)
        assert snapshot(tenant_a) == before

    def test_the_whole_secret_is_not_a_hint(self, alice_api, web, tenant_a):
        before = snapshot(tenant_a)
        assert_errors(alice_api.delete(f"{secrets_path(web)}/{web['clientSecret']}"), 404)
        assert snapshot(tenant_a) == before

    def test_an_unknown_client_is_404(self, alice_api, web, tenant_a):
        before = snapshot(tenant_a)
        response = alice_api.delete(f"{BASE}/{'0' * 32}/client-secrets/{web['clientSecretHint']}")
        assert_errors(response, 404)
        assert snapshot(tenant_a) == before

    def test_only_post_and_delete(self, alice_api, web):
        assert alice_api.get(secrets_path(web)).status_code == 405
        assert alice_api.get(f"{secrets_path(web)}/{web['clientSecretHint']}").status_code == 405
