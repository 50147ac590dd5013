"""Activity: a client's audit trail, newest first, in words."""

import re
from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from oauth_clients.models import OAuthClient
from oauth_clients.services import delete_clients, delete_secret, generate_secret
from tenants.models import AuditEvent
from tenants.services import record_event
from tests.factories import create_oauth_client

HTMX = {"HTTP_HX_REQUEST": "true"}


def activity_url(client: OAuthClient) -> str:
    return reverse("oauth_clients:activity", args=[client.client_id])


def rows(html: str) -> list[list[str]]:
    """The cells (text only) of each activity row."""
    body = re.search(r"<tbody>(.*?)</tbody>", html, re.DOTALL)
    if not body:
        return []
    result = []
    for row in re.findall(r"<tr>(.*?)</tr>", body.group(1), re.DOTALL):
        cells = re.findall(r"<td>(.*?)</td>", row, re.DOTALL)
        result.append([re.sub(r"<[^>]+>", "", cell).strip() for cell in cells])
    return result


@pytest.fixture
def client(tenant_a, alice):
    client, _secret = create_oauth_client(tenant_a, actor=alice, name="Reporting app")
    return client


@pytest.mark.django_db
class TestActivity:
    def test_it_lists_what_happened_to_the_client_newest_first(
        self, alice_client, client, alice, bob
    ):
        alice_client.post(
            reverse("oauth_clients:edit", args=[client.client_id]),
            {
                "name": "Reporting app",
                "redirect_uris": client.redirect_uri_list,
                "allowed_scopes": ["user_default"],
                "consent_method": "trusted",
            },
        )
        alice_client.post(reverse("oauth_clients:publish", args=[client.client_id]))
        response = alice_client.get(activity_url(client))
        assert response.status_code == 200
        html = response.content.decode()
        assert "Activity: Reporting app" in html
        labels = [cells[2] for cells in rows(html)]
        assert labels == [
            "Published the client",
            "Edited the client",
            f"Generated a client secret …{client.secrets.get().hint}",
            "Created the client",
        ]

    def test_it_names_who_acted(self, alice_client, client, alice):
        html = alice_client.get(activity_url(client)).content.decode()
        assert {cells[1] for cells in rows(html)} == {"alice@acme.test"}

    def test_it_shows_when(self, alice_client, client):
        event = AuditEvent.objects.filter(action="oauth_client.created").get()
        html = alice_client.get(activity_url(client)).content.decode()
        assert f'datetime="{timezone.localtime(event.created_at).isoformat()}"' in html

    def test_it_shows_the_hint_of_a_deleted_secret(self, alice_client, client, alice):
        secret, _plaintext = generate_secret(client, actor=alice)
        delete_secret(secret, actor=alice)
        html = alice_client.get(activity_url(client)).content.decode()
        assert rows(html)[0][1:] == ["alice@acme.test", f"Deleted a client secret …{secret.hint}"]
        assert "Generated a client secret" in html

    def test_it_never_shows_a_secret(self, alice_client, tenant_a, alice):
        client, plaintext = create_oauth_client(tenant_a, actor=alice)
        html = alice_client.get(activity_url(client)).content.decode()
        assert plaintext not in html
        assert client.secrets.get().digest not in html

    def test_an_event_without_an_actor_shows_a_dash(self, alice_client, tenant_a):
        client, _secret = create_oauth_client(tenant_a, actor=None)
        html = alice_client.get(activity_url(client)).content.decode()
        assert {cells[1] for cells in rows(html)} == {"—"}

    def test_an_unknown_action_shows_as_recorded(self, alice_client, client, alice):
        record_event(client.tenant, "oauth_client.renamed_by_api", actor=alice, target=client)
        html = alice_client.get(activity_url(client)).content.decode()
        assert rows(html)[0][2] == "oauth_client.renamed_by_api"

    def test_it_lists_only_this_clients_events(self, alice_client, client, tenant_a, alice):
        other, _secret = create_oauth_client(tenant_a, actor=alice, name="Other app")
        record_event(tenant_a, "oauth_client.published", actor=alice, target=other)
        html = alice_client.get(activity_url(client)).content.decode()
        assert len(rows(html)) == 2
        assert "Published the client" not in html

    def test_it_lists_only_this_tenants_events(self, alice_client, client, tenant_b, carol):
        record_event(tenant_b, "oauth_client.updated", actor=carol, target=client)
        html = alice_client.get(activity_url(client)).content.decode()
        assert "carol@globex.test" not in html
        assert "Edited the client" not in html

    def test_it_shows_the_latest_50_events(self, alice_client, client, alice):
        now = timezone.now()
        AuditEvent.objects.bulk_create(
            AuditEvent(
                tenant=client.tenant,
                actor=alice,
                actor_label=f"actor{n}@acme.test",
                action="oauth_client.updated",
                target_type="oauth_clients.oauthclient",
                target_id=str(client.pk),
                created_at=now + timedelta(minutes=n),
            )
            for n in range(60)
        )
        html = alice_client.get(activity_url(client)).content.decode()
        listed = rows(html)
        assert len(listed) == 50
        assert listed[0][1] == "actor59@acme.test"
        assert listed[-1][1] == "actor10@acme.test"

    def test_it_escapes_what_it_shows(self, alice_client, client):
        AuditEvent.objects.create(
            tenant=client.tenant,
            actor_label="<script>alert(1)</script>",
            action="<b>x</b>",
            target_type="oauth_clients.oauthclient",
            target_id=str(client.pk),
            data={"hint": "<i>"},
        )
        html = alice_client.get(activity_url(client)).content.decode()
        assert "<script>alert(1)</script>" not in html
        assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html
        assert "<b>x</b>" not in html
        assert "<i>" not in html

    def test_a_client_without_events_says_so(self, alice_client, client):
        AuditEvent.objects.all().delete()
        html = alice_client.get(activity_url(client)).content.decode()
        assert "No activity recorded yet." in html
        assert "<table" not in html

    def test_htmx_gets_the_dialog_fragment(self, alice_client, client):
        response = alice_client.get(activity_url(client), **HTMX)
        assert response.status_code == 200
        html = response.content.decode()
        assert "<html" not in html
        assert html.lstrip().startswith("<dialog")
        assert "Created the client" in html
        assert "HX-Request" in response["Vary"]

    def test_a_plain_request_gets_a_full_page(self, alice_client, client):
        assert "<html" in alice_client.get(activity_url(client)).content.decode()


@pytest.mark.django_db
class TestActivityAccess:
    def test_another_tenants_client_is_not_found(self, carol_client, client):
        response = carol_client.get(activity_url(client))
        assert response.status_code == 404
        assert "Created the client" not in response.content.decode()

    def test_a_deleted_client_is_not_found(self, alice_client, client, tenant_a, alice):
        delete_clients(tenant_a, [client.pk], actor=alice)
        assert alice_client.get(activity_url(client)).status_code == 404

    def test_a_member_gets_403(self, bob_client, client):
        response = bob_client.get(activity_url(client))
        assert response.status_code == 403
        assert "Created the client" not in response.content.decode()

    def test_anonymous_is_sent_to_sign_in(self, anon_client, client):
        response = anon_client.get(activity_url(client))
        assert response.status_code == 302
        assert response["Location"] == f"/login/?next={activity_url(client)}"

    @pytest.mark.parametrize("method", ["post", "put", "delete"])
    def test_it_is_read_only(self, alice_client, client, method):
        count = AuditEvent.objects.count()
        assert getattr(alice_client, method)(activity_url(client)).status_code == 405
        assert AuditEvent.objects.count() == count
