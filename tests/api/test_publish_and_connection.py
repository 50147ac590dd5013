"""Publishing, and ``connection-configs/me``: this tenant's consent method for and approval of
a client."""

from datetime import datetime

import pytest

from oauth_clients.models import ConnectionConfig, OAuthClient
from oauth_clients.services import approve_client_for_tenant, publish_client
from tenants.models import AuditEvent
from tests.api.conftest import BASE, assert_errors, snapshot
from tests.factories import create_oauth_client

pytestmark = pytest.mark.django_db


def publish_path(client_id: str) -> str:
    return f"{BASE}/{client_id}/actions/publish"


def unpublish_path(client_id: str) -> str:
    return f"{BASE}/{client_id}/actions/unpublish"


def config_path(client_id: str) -> str:
    return f"{BASE}/{client_id}/connection-configs/me"


def consent(value) -> list[dict]:
    return [{"op": "replace", "path": "/consentMethod", "value": value}]


@pytest.fixture
def shared(tenant_a, alice, tenant_b, carol):
    """Acme's published client, approved by Globex (Carol)."""
    client, _ = create_oauth_client(tenant_a, actor=alice, name="Shared app")
    publish_client(client, actor=alice)
    approve_client_for_tenant(tenant_b, client, actor=carol)
    return client


def globex_config(client) -> ConnectionConfig:
    return ConnectionConfig.objects.get(client=client, tenant__slug="globex")


class TestPublish:
    def test_201_with_the_time(self, alice_api, web, alice):
        response = alice_api.post(publish_path(web["clientId"]))
        assert response.status_code == 201, response.content
        body = response.json()
        assert set(body) == {"publishedAt"}
        assert body["publishedAt"].endswith("Z")
        datetime.fromisoformat(body["publishedAt"])
        assert alice_api.client(web["clientId"])["publishedAt"] == body["publishedAt"]
        client = OAuthClient.objects.get(client_id=web["clientId"])
        assert client.published_by == alice
        event = AuditEvent.objects.get(action="oauth_client.published")
        assert (event.actor, event.target_id) == (alice, str(client.pk))

    def test_publishing_again_changes_nothing(self, alice_api, web):
        first = alice_api.post(publish_path(web["clientId"])).json()
        again = alice_api.post(publish_path(web["clientId"]))
        assert again.status_code == 201
        assert again.json() == first
        assert AuditEvent.objects.filter(action="oauth_client.published").count() == 1

    def test_any_client_type_can_be_published(self, alice_api, spa):
        assert alice_api.post(publish_path(spa["clientId"])).status_code == 201

    def test_an_unknown_client_is_404(self, alice_api, tenant_a):
        before = snapshot(tenant_a)
        assert_errors(alice_api.post(publish_path("0" * 32)), 404)
        assert_errors(alice_api.post(unpublish_path("0" * 32)), 404)
        assert snapshot(tenant_a) == before

    def test_only_post(self, alice_api, web):
        assert alice_api.get(publish_path(web["clientId"])).status_code == 405
        assert alice_api.delete(unpublish_path(web["clientId"])).status_code == 405


class TestUnpublish:
    def test_204_and_no_longer_published(self, alice_api, web, alice):
        alice_api.post(publish_path(web["clientId"]))
        response = alice_api.post(unpublish_path(web["clientId"]))
        assert response.status_code == 204
        assert response.content == b""
        assert alice_api.client(web["clientId"])["publishedAt"] is None
        event = AuditEvent.objects.get(action="oauth_client.unpublished")
        assert event.actor == alice

    def test_an_unpublished_client_stays_so(self, alice_api, web):
        assert alice_api.post(unpublish_path(web["clientId"])).status_code == 204
        assert not AuditEvent.objects.filter(action="oauth_client.unpublished").exists()

    def test_other_tenants_lose_their_approval(self, alice_api, carol_api, shared):
        assert carol_api.get(config_path(shared.client_id)).status_code == 200
        assert alice_api.post(unpublish_path(shared.client_id)).status_code == 204
        assert not ConnectionConfig.objects.filter(client=shared, tenant__slug="globex").exists()
        assert_errors(carol_api.get(config_path(shared.client_id)), 404)
        # The owner's own connection stays.
        assert alice_api.get(config_path(shared.client_id)).json()["status"] == "approved"


class TestOwnConnection:
    def test_the_owners_consent_method_and_approval(self, alice_api, web):
        response = alice_api.get(config_path(web["clientId"]))
        assert response.status_code == 200
        assert "no-store" in response["Cache-Control"]
        assert response.json() == {"consentMethod": "required", "status": "approved"}
        assert alice_api.client(web["clientId"])["connectionConfig"] == response.json()

    def test_change_the_consent_method(self, alice_api, web, alice):
        response = alice_api.patch(config_path(web["clientId"]), consent("trusted"))
        assert response.status_code == 204, response.content
        assert response.content == b""
        expected = {"consentMethod": "trusted", "status": "approved"}
        assert alice_api.get(config_path(web["clientId"])).json() == expected
        assert alice_api.client(web["clientId"])["connectionConfig"] == expected
        event = AuditEvent.objects.get(action="oauth_client.consent_method_changed")
        assert event.actor == alice
        assert event.data == {"consent_method": "trusted"}
        assert alice_api.patch(config_path(web["clientId"]), consent("required")).status_code == 204
        assert alice_api.get(config_path(web["clientId"])).json()["consentMethod"] == "required"

    def test_it_follows_the_consent_method_given_at_creation(self, alice_api):
        client = alice_api.create(connectionConfig={"consentMethod": "trusted"})
        assert alice_api.get(config_path(client["clientId"])).json()["consentMethod"] == "trusted"

    def test_the_owner_cannot_revoke_its_own_client(self, alice_api, web, tenant_a):
        before = snapshot(tenant_a)
        assert_errors(alice_api.delete(config_path(web["clientId"])), 409)
        assert snapshot(tenant_a) == before
        assert alice_api.get(config_path(web["clientId"])).status_code == 200

    def test_a_deleted_client_has_no_connection(self, alice_api, web):
        alice_api.delete(f"{BASE}/{web['clientId']}")
        assert_errors(alice_api.get(config_path(web["clientId"])), 404)

    def test_an_unknown_client_is_404(self, alice_api, tenant_a):
        before = snapshot(tenant_a)
        for method in ("GET", "PATCH", "DELETE"):
            response = alice_api.call(method, config_path("0" * 32), consent("trusted"))
            assert_errors(response, 404)
        assert snapshot(tenant_a) == before


class TestPatchRefused:
    @pytest.mark.parametrize(
        ("body", "field"),
        [
            (consent("never"), "consentMethod"),
            (consent(None), "consentMethod"),
            (consent(["trusted"]), "consentMethod"),
            (consent("TRUSTED"), "consentMethod"),
            ([{"op": "remove", "path": "/consentMethod"}], "consentMethod"),
            ([{"op": "replace", "path": "/consentMethod"}], "consentMethod"),
            ([{"op": "replace", "path": "/status", "value": "pending"}], "status"),
            ([{"op": "replace", "path": "/approvedAt", "value": None}], None),
            ([{"op": "add", "path": "/consentMethod/0", "value": "t"}], "consentMethod"),
            ([{"op": "move", "from": "/status", "path": "/consentMethod"}], None),
            ({"consentMethod": "trusted"}, None),
            ([], None),
        ],
        ids=repr,
    )
    def test_anything_but_a_known_consent_method_is_400(
        self, alice_api, web, tenant_a, body, field
    ):
        before = snapshot(tenant_a)
        assert_errors(alice_api.patch(config_path(web["clientId"]), body), 400, field=field)
        assert snapshot(tenant_a) == before

    @pytest.mark.parametrize("content_type", ["application/x-www-form-urlencoded", "text/plain"])
    def test_a_body_that_is_not_json_is_415(self, alice_api, web, tenant_a, content_type):
        before = snapshot(tenant_a)
        response = alice_api.raw(
            "PATCH", config_path(web["clientId"]), "consentMethod=trusted", content_type
        )
        assert_errors(response, 415)
        assert snapshot(tenant_a) == before


class TestExternalConnection:
    """Globex (Carol) approved Acme's published client: Globex's connection to it."""

    def test_the_approving_tenants_connection(self, carol_api, shared):
        response = carol_api.get(config_path(shared.client_id))
        assert response.status_code == 200, response.content
        assert response.json() == {
            "consentMethod": "required",
            "status": "approved",
            "approvedScopes": ["user_default"],
        }

    def test_change_the_approving_tenants_consent_method(
        self, carol_api, alice_api, shared, carol, tenant_a, tenant_b
    ):
        owner_before = alice_api.get(config_path(shared.client_id)).json()
        response = carol_api.patch(config_path(shared.client_id), consent("trusted"))
        assert response.status_code == 204, response.content
        assert carol_api.get(config_path(shared.client_id)).json()["consentMethod"] == "trusted"
        assert globex_config(shared).consent_method == "trusted"
        # The owner's own consent method is its own.
        assert alice_api.get(config_path(shared.client_id)).json() == owner_before
        event = AuditEvent.objects.get(action="oauth_client.consent_method_changed")
        assert (event.tenant, event.actor) == (tenant_b, carol)
        assert not AuditEvent.objects.filter(
            tenant=tenant_a, action="oauth_client.consent_method_changed"
        ).exists()

    def test_revoke_the_approval(self, carol_api, alice_api, shared, carol, tenant_b):
        response = carol_api.delete(config_path(shared.client_id))
        assert response.status_code == 204, response.content
        assert response.content == b""
        assert not ConnectionConfig.objects.filter(client=shared, tenant=tenant_b).exists()
        assert_errors(carol_api.get(config_path(shared.client_id)), 404)
        assert_errors(carol_api.delete(config_path(shared.client_id)), 404)
        event = AuditEvent.objects.get(action="oauth_client.approval_revoked")
        assert (event.tenant, event.actor, event.data) == (
            tenant_b,
            carol,
            {"owner_tenant": shared.tenant.hostname},
        )
        # The client itself is untouched, still published for others.
        assert alice_api.client(shared.client_id)["publishedAt"] is not None

    def test_the_approving_tenant_cannot_manage_the_client_itself(
        self, carol_api, shared, tenant_a, tenant_b
    ):
        before = snapshot(tenant_a, tenant_b)
        client_path = f"{BASE}/{shared.client_id}"
        assert_errors(carol_api.get(client_path), 404)
        assert_errors(
            carol_api.patch(client_path, [{"op": "replace", "path": "/clientName", "value": "x"}]),
            404,
        )
        assert_errors(carol_api.delete(client_path), 404)
        assert_errors(carol_api.post(f"{client_path}/client-secrets"), 404)
        assert_errors(carol_api.post(f"{client_path}/actions/unpublish"), 404)
        assert_errors(carol_api.post(f"{client_path}/actions/publish"), 404)
        assert snapshot(tenant_a, tenant_b) == before
        listed = [c["clientId"] for c in carol_api.get(BASE).json()["data"]]
        assert shared.client_id not in listed

    def test_a_published_client_not_yet_approved_has_no_connection(
        self, carol_api, tenant_a, alice, tenant_b
    ):
        client, _ = create_oauth_client(tenant_a, actor=alice, name="Published only")
        publish_client(client, actor=alice)
        before = snapshot(tenant_a, tenant_b)
        for method in ("GET", "PATCH", "DELETE"):
            response = carol_api.call(method, config_path(client.client_id), consent("trusted"))
            assert_errors(response, 404)
        assert snapshot(tenant_a, tenant_b) == before

    def test_the_connection_ends_when_the_owner_deletes_the_client(
        self, carol_api, alice_api, shared
    ):
        assert alice_api.delete(f"{BASE}/{shared.client_id}").status_code == 204
        assert_errors(carol_api.get(config_path(shared.client_id)), 404)
