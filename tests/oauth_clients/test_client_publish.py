"""Publish: make a client available to the other tenants of the region."""

import pytest
from django.urls import reverse

from oauth_clients.models import OAuthClient
from oauth_clients.services import delete_clients, publish_client
from tenants.models import AuditEvent, Membership
from tests.factories import MembershipFactory, UserFactory, create_oauth_client
from tests.flows import client_for

LIST_URL = reverse("oauth_clients:list")
HTMX = {"HTTP_HX_REQUEST": "true"}


def publish_url(client: OAuthClient) -> str:
    return reverse("oauth_clients:publish", args=[client.client_id])


@pytest.fixture
def client(tenant_a, alice):
    client, _secret = create_oauth_client(tenant_a, actor=alice, name="Reporting app")
    return client


def not_published(client: OAuthClient) -> bool:
    client.refresh_from_db()
    return (
        client.published_at is None
        and client.published_by is None
        and not AuditEvent.objects.filter(action="oauth_client.published").exists()
    )


@pytest.mark.django_db
class TestPublishConfirmation:
    def test_get_asks_for_confirmation_and_publishes_nothing(self, alice_client, client):
        response = alice_client.get(publish_url(client))
        assert response.status_code == 200
        html = response.content.decode()
        assert "Publish: Reporting app" in html
        assert "available to every tenant in the Europe region" in html
        assert f'action="{publish_url(client)}"' in html
        assert 'method="post"' in html
        assert not_published(client)

    def test_htmx_gets_the_dialog_fragment(self, alice_client, client):
        response = alice_client.get(publish_url(client), **HTMX)
        assert response.status_code == 200
        html = response.content.decode()
        assert "<html" not in html
        assert html.lstrip().startswith("<dialog")

    def test_a_plain_request_gets_a_full_page(self, alice_client, client):
        assert "<html" in alice_client.get(publish_url(client)).content.decode()

    def test_a_published_client_says_since_when(self, alice_client, client, alice):
        publish_client(client, actor=alice)
        html = alice_client.get(publish_url(client)).content.decode()
        assert "This client was published on" in html
        assert f'action="{publish_url(client)}"' not in html

    def test_it_escapes_the_client_name(self, alice_client, tenant_a):
        client, _secret = create_oauth_client(tenant_a, name="<script>alert(1)</script>")
        html = alice_client.get(publish_url(client)).content.decode()
        assert "<script>alert(1)</script>" not in html
        assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html


@pytest.mark.django_db
class TestPublish:
    def test_post_publishes_the_client(self, alice_client, client, alice):
        response = alice_client.post(publish_url(client))
        assert response.status_code == 302
        assert response["Location"] == LIST_URL
        client.refresh_from_db()
        assert client.is_published
        assert client.published_at is not None
        assert client.published_by == alice

    def test_it_records_the_publication_in_the_audit_trail(self, alice_client, client, alice):
        alice_client.post(publish_url(client))
        event = AuditEvent.objects.get(action="oauth_client.published")
        assert event.tenant == client.tenant
        assert event.actor == alice
        assert event.target_id == str(client.pk)

    def test_the_list_says_it_is_published(self, alice_client, client):
        html = alice_client.post(publish_url(client), follow=True).content.decode()
        assert "Published Reporting app." in html
        assert 'class="badge badge-published">Published<' in html

    def test_htmx_closes_the_dialog_and_reloads_the_list(self, alice_client, client):
        response = alice_client.post(publish_url(client), **HTMX)
        assert response.status_code == 200
        assert response["HX-Trigger"] == "clients-changed"
        html = response.content.decode()
        assert "<html" not in html
        assert "Published Reporting app." in html
        client.refresh_from_db()
        assert client.is_published

    def test_publishing_again_keeps_the_first_publication(
        self, alice_client, client, tenant_a, alice
    ):
        alice_client.post(publish_url(client))
        client.refresh_from_db()
        first = client.published_at
        dave = UserFactory(name="Dave")
        MembershipFactory(user=dave, tenant=tenant_a, role=Membership.Role.ADMIN)
        response = client_for(tenant_a, dave).post(publish_url(client))
        assert response.status_code == 302
        client.refresh_from_db()
        assert client.published_at == first
        assert client.published_by == alice
        assert AuditEvent.objects.filter(action="oauth_client.published").count() == 1

    def test_it_changes_nothing_but_the_publication(self, alice_client, client):
        before = (client.name, client.redirect_uris, client.app_type, client.client_id)
        secrets = list(client.secrets.values_list("digest", flat=True))
        alice_client.post(publish_url(client))
        client.refresh_from_db()
        assert (client.name, client.redirect_uris, client.app_type, client.client_id) == before
        assert list(client.secrets.values_list("digest", flat=True)) == secrets


@pytest.mark.django_db
class TestPublishAccess:
    def test_another_tenants_client_is_not_found(self, carol_client, client):
        assert carol_client.get(publish_url(client)).status_code == 404
        assert carol_client.post(publish_url(client)).status_code == 404
        assert not_published(client)

    def test_a_deleted_client_is_not_found(self, alice_client, client, tenant_a, alice):
        delete_clients(tenant_a, [client.pk], actor=alice)
        assert alice_client.post(publish_url(client)).status_code == 404
        assert not_published(client)

    def test_a_member_gets_403(self, bob_client, client):
        assert bob_client.get(publish_url(client)).status_code == 403
        assert bob_client.post(publish_url(client)).status_code == 403
        assert not_published(client)

    def test_anonymous_is_sent_to_sign_in(self, anon_client, client):
        response = anon_client.post(publish_url(client))
        assert response.status_code == 302
        assert response["Location"] == f"/login/?next={publish_url(client)}"
        assert not_published(client)

    @pytest.mark.parametrize("method", ["put", "patch", "delete"])
    def test_other_methods_are_not_allowed(self, alice_client, client, method):
        assert getattr(alice_client, method)(publish_url(client)).status_code == 405
        assert not_published(client)
