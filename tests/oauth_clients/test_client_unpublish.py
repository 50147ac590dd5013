"""Unpublish: the owner withdraws a published client from the other tenants of its region.

From the owner's … menu, after a confirmation. Every other tenant loses its
approval, its users' consents and every token issued there for the client;
the owner tenant keeps its own.
"""

import re

import pytest
from django.urls import reverse

from consent.models import ConsentGrant
from oauth_clients.models import (
    AccessToken,
    ConnectionConfig,
    OAuthClient,
    RefreshToken,
    RevokedToken,
)
from oauth_clients.services import (
    approve_client_for_tenant,
    delete_clients,
    publish_client,
    set_consent_method,
)
from tenants.models import AuditEvent
from tests.factories import create_oauth_client, make_tokens
from tests.flows import Registered, authorize, client_for

pytestmark = pytest.mark.django_db

LIST_URL = reverse("oauth_clients:list")
HTMX = {"HTTP_HX_REQUEST": "true"}
ALL_METHODS = {"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE"}
REDIRECT = "https://reports.example.com/cb"
CHALLENGE = "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM"


# --- Helpers -----------------------------------------------------------------------------


def unpublish_url(client: OAuthClient) -> str:
    return reverse("oauth_clients:unpublish", args=[client.client_id])


def state():
    return (
        list(OAuthClient.objects.order_by("pk").values()),
        list(ConnectionConfig.objects.order_by("pk").values()),
        AccessToken.objects.count(),
        RefreshToken.objects.filter(revoked__isnull=True).count(),
        ConsentGrant.objects.count(),
        AuditEvent.objects.count(),
    )


def unchanged_publication(client: OAuthClient, published_at) -> bool:
    client.refresh_from_db()
    return (
        client.published_at == published_at
        and not AuditEvent.objects.filter(action="oauth_client.unpublished").exists()
    )


# --- Fixtures ----------------------------------------------------------------------------


@pytest.fixture
def reporting(tenant_a, alice):
    client, _secret = create_oauth_client(
        tenant_a,
        actor=alice,
        name="Reporting app",
        redirect_uris=[REDIRECT],
        allowed_scopes=["user_default", "offline_access"],
    )
    publish_client(client, actor=alice)
    client.refresh_from_db()
    return client


@pytest.fixture
def in_use(reporting, tenant_a, tenant_b, alice, bob, carol, dave, hooli):
    """Approved at Globex and Hooli, with tokens and consents there and at Acme."""
    hooli_tenant, gavin = hooli
    approve_client_for_tenant(tenant_b, reporting, actor=carol)
    approve_client_for_tenant(hooli_tenant, reporting, actor=gavin)
    tokens = {
        "acme": make_tokens(tenant_a, reporting, bob),
        "globex": make_tokens(tenant_b, reporting, dave),
        "hooli": make_tokens(hooli_tenant, reporting, gavin),
    }
    ConsentGrant.objects.create(tenant=tenant_a, user=bob, client=reporting, scopes="user_default")
    ConsentGrant.objects.create(tenant=tenant_b, user=dave, client=reporting, scopes="user_default")
    ConsentGrant.objects.create(
        tenant=hooli_tenant, user=gavin, client=reporting, scopes="user_default"
    )
    return tokens


# --- The … menu and the confirmation ----------------------------------------------------------


class TestConfirmation:
    def test_the_menu_of_a_published_client_offers_unpublish_not_publish(
        self, reporting, alice_client
    ):
        html = alice_client.get(LIST_URL).content.decode()
        row = html.split(f'id="client-{reporting.pk}"')[1].split("</tr>")[0]
        assert unpublish_url(reporting) in row
        assert ">Unpublish<" in row
        assert reverse("oauth_clients:publish", args=[reporting.client_id]) not in row

    def test_the_menu_of_an_unpublished_client_offers_publish(self, tenant_a, alice, alice_client):
        client, _secret = create_oauth_client(tenant_a, actor=alice, name="Private app")
        html = alice_client.get(LIST_URL).content.decode()
        row = html.split(f'id="client-{client.pk}"')[1].split("</tr>")[0]
        assert unpublish_url(client) not in row
        assert reverse("oauth_clients:publish", args=[client.client_id]) in row

    def test_get_asks_for_confirmation_and_changes_nothing(self, reporting, alice_client, in_use):
        before = state()
        response = alice_client.get(unpublish_url(reporting))
        assert response.status_code == 200
        html = response.content.decode()
        assert "Unpublish: Reporting app" in html
        assert "will only be usable at this tenant again" in html
        assert "Every other tenant loses access at once" in html
        assert f'action="{unpublish_url(reporting)}"' in html
        assert 'method="post"' in html
        assert state() == before

    def test_htmx_gets_the_dialog_fragment(self, reporting, alice_client):
        response = alice_client.get(unpublish_url(reporting), **HTMX)
        assert response.status_code == 200
        html = response.content.decode()
        assert "<html" not in html
        assert html.lstrip().startswith("<dialog")

    def test_a_plain_request_gets_a_full_page(self, reporting, alice_client):
        assert "<html" in alice_client.get(unpublish_url(reporting)).content.decode()

    def test_it_escapes_the_client_name(self, tenant_a, alice, alice_client):
        client, _secret = create_oauth_client(tenant_a, actor=alice, name="<script>x()</script>")
        publish_client(client, actor=alice)
        html = alice_client.get(unpublish_url(client)).content.decode()
        assert "<script>x()</script>" not in html
        assert "&lt;script&gt;x()&lt;/script&gt;" in html


# --- Unpublishing -------------------------------------------------------------------------------


class TestUnpublish:
    def test_post_unpublishes_and_goes_back_to_the_list(self, reporting, alice_client):
        response = alice_client.post(unpublish_url(reporting))
        assert response.status_code == 302
        assert response["Location"] == LIST_URL
        reporting.refresh_from_db()
        assert not reporting.is_published
        assert reporting.published_at is None
        assert reporting.published_by is None
        assert not reporting.is_deleted

    def test_it_is_audited_at_the_owner_tenant(self, reporting, alice_client, alice, tenant_a):
        alice_client.post(unpublish_url(reporting))
        event = AuditEvent.objects.get(action="oauth_client.unpublished")
        assert event.tenant == tenant_a
        assert event.actor == alice
        assert event.target_id == str(reporting.pk)

    def test_the_list_says_so_and_offers_publish_again(self, reporting, alice_client):
        html = alice_client.post(unpublish_url(reporting), follow=True).content.decode()
        assert "Unpublished Reporting app." in html
        row = html.split(f'id="client-{reporting.pk}"')[1].split("</tr>")[0]
        assert 'class="badge badge-published"' not in row
        assert reverse("oauth_clients:publish", args=[reporting.client_id]) in row

    def test_htmx_closes_the_dialog_and_reloads_the_list(self, reporting, alice_client):
        response = alice_client.post(unpublish_url(reporting), **HTMX)
        assert response.status_code == 200
        assert response["HX-Trigger"] == "clients-changed"
        html = response.content.decode()
        assert "<html" not in html
        assert "Unpublished Reporting app." in html
        reporting.refresh_from_db()
        assert not reporting.is_published

    def test_other_tenants_lose_their_approvals_the_owner_keeps_its_config(
        self, reporting, alice_client, in_use, tenant_a, hooli
    ):
        set_consent_method(
            ConnectionConfig.objects.get(client=reporting, tenant__slug="globex"),
            ConnectionConfig.ConsentMethod.TRUSTED,
            actor=None,
        )
        owner_config = ConnectionConfig.objects.get(client=reporting, tenant=tenant_a)
        alice_client.post(unpublish_url(reporting))
        assert list(ConnectionConfig.objects.filter(client=reporting)) == [owner_config]

    def test_other_tenants_tokens_are_revoked_the_owners_kept(
        self, reporting, alice_client, in_use
    ):
        alice_client.post(unpublish_url(reporting))
        for name in ("globex", "hooli"):
            access, refresh = in_use[name]
            assert not AccessToken.objects.filter(pk=access.pk).exists(), name
            assert RevokedToken.objects.filter(jti=access.jti).exists(), name
            refresh.refresh_from_db()
            assert refresh.revoked is not None, name
        access, refresh = in_use["acme"]
        assert AccessToken.objects.filter(pk=access.pk).exists()
        assert not RevokedToken.objects.filter(jti=access.jti).exists()
        refresh.refresh_from_db()
        assert refresh.revoked is None

    def test_other_tenants_consents_are_withdrawn_the_owners_kept(
        self, reporting, alice_client, in_use, tenant_a
    ):
        alice_client.post(unpublish_url(reporting))
        assert list(
            ConsentGrant.objects.filter(client=reporting).values_list("tenant", flat=True)
        ) == [tenant_a.pk]

    def test_nothing_of_other_clients_is_touched(
        self, reporting, alice_client, in_use, tenant_a, tenant_b, alice, carol, dave
    ):
        other, _secret = create_oauth_client(tenant_a, actor=alice, name="Other app")
        publish_client(other, actor=alice)
        approve_client_for_tenant(tenant_b, other, actor=carol)
        access, _refresh = make_tokens(tenant_b, other, dave)
        alice_client.post(unpublish_url(reporting))
        assert ConnectionConfig.objects.filter(client=other, tenant=tenant_b).exists()
        assert AccessToken.objects.filter(pk=access.pk).exists()
        other.refresh_from_db()
        assert other.is_published

    def test_the_other_tenants_no_longer_know_the_client(
        self, reporting, alice_client, carol, dave, tenant_b
    ):
        approve_client_for_tenant(tenant_b, reporting, actor=carol)
        alice_client.post(unpublish_url(reporting))
        for user in (carol, dave):
            response = authorize(
                client_for(tenant_b, user),
                Registered(reporting, None, REDIRECT),
                CHALLENGE,
                state="s",
            )
            assert response.status_code == 400
            assert "Location" not in response
        assert "Reporting app" not in client_for(tenant_b, carol).get(LIST_URL).content.decode()

    def test_the_owner_tenant_still_signs_in_through_it(
        self, reporting, alice_client, bob, tenant_a
    ):
        alice_client.post(unpublish_url(reporting))
        page = authorize(
            client_for(tenant_a, bob), Registered(reporting, None, REDIRECT), CHALLENGE, state="s"
        )
        assert page.status_code == 200
        assert "wants to use your account" in page.content.decode()

    def test_published_again_every_tenant_must_approve_again(
        self, reporting, alice_client, alice, carol, tenant_b
    ):
        approve_client_for_tenant(tenant_b, reporting, actor=carol)
        alice_client.post(unpublish_url(reporting))
        alice_client.post(reverse("oauth_clients:publish", args=[reporting.client_id]))
        reporting.refresh_from_db()
        assert reporting.is_published
        assert not ConnectionConfig.objects.filter(client=reporting, tenant=tenant_b).exists()
        page = authorize(
            client_for(tenant_b, carol), Registered(reporting, None, REDIRECT), CHALLENGE, state="s"
        )
        assert page.status_code == 200
        assert "Approve for Globex" in page.content.decode()

    def test_unpublishing_an_unpublished_client_changes_nothing(
        self, tenant_a, alice, alice_client
    ):
        client, _secret = create_oauth_client(tenant_a, actor=alice, name="Private app")
        before = state()
        response = alice_client.post(unpublish_url(client))
        assert response.status_code == 302
        assert state() == before
        assert not AuditEvent.objects.filter(action="oauth_client.unpublished").exists()

    def test_the_activity_trail_says_it_in_words(self, reporting, alice_client):
        alice_client.post(unpublish_url(reporting))
        html = alice_client.get(
            reverse("oauth_clients:activity", args=[reporting.client_id])
        ).content.decode()
        cells = re.findall(r"<td>(.*?)</td>", html, re.DOTALL)
        assert "Published the client" in cells
        assert "oauth_client.unpublished" not in html


# --- Who may unpublish --------------------------------------------------------------------------


class TestAccess:
    def test_an_approving_tenants_admin_gets_404(self, reporting, tenant_b, carol, in_use):
        http = client_for(tenant_b, carol)
        published_at = reporting.published_at
        before = state()
        assert http.get(unpublish_url(reporting)).status_code == 404
        assert http.post(unpublish_url(reporting)).status_code == 404
        assert unchanged_publication(reporting, published_at)
        assert state() == before

    def test_another_tenants_client_is_404(self, alice_client, tenant_b, carol):
        theirs, _secret = create_oauth_client(tenant_b, actor=carol, name="Globex app")
        publish_client(theirs, actor=carol)
        theirs.refresh_from_db()
        assert alice_client.get(unpublish_url(theirs)).status_code == 404
        assert alice_client.post(unpublish_url(theirs)).status_code == 404
        assert unchanged_publication(theirs, theirs.published_at)

    def test_an_unknown_client_is_404(self, reporting, alice_client):
        target = reverse("oauth_clients:unpublish", args=["0" * 32])
        assert alice_client.get(target).status_code == 404
        assert alice_client.post(target).status_code == 404

    def test_a_deleted_client_is_404(self, reporting, alice_client, alice, tenant_a):
        delete_clients(tenant_a, [reporting.pk], actor=alice)
        published_at = reporting.published_at
        assert alice_client.get(unpublish_url(reporting)).status_code == 404
        assert alice_client.post(unpublish_url(reporting)).status_code == 404
        assert unchanged_publication(reporting, published_at)

    def test_a_member_gets_403(self, reporting, bob_client):
        published_at = reporting.published_at
        assert bob_client.get(unpublish_url(reporting)).status_code == 403
        assert bob_client.post(unpublish_url(reporting)).status_code == 403
        assert unchanged_publication(reporting, published_at)

    def test_anonymous_is_sent_to_sign_in(self, reporting, anon_client):
        published_at = reporting.published_at
        for method in ("get", "post"):
            response = getattr(anon_client, method)(unpublish_url(reporting))
            assert response.status_code == 302, method
            assert response["Location"] == f"/login/?next={unpublish_url(reporting)}"
        assert unchanged_publication(reporting, published_at)

    def test_htmx_anonymous_is_sent_to_sign_in_as_a_whole_page(self, reporting, anon_client):
        response = anon_client.get(unpublish_url(reporting), **HTMX)
        assert response["HX-Redirect"] == f"/login/?next={unpublish_url(reporting)}"

    def test_other_methods_are_405(self, reporting, alice_client):
        published_at = reporting.published_at
        for method in sorted(ALL_METHODS - {"GET", "POST"}):
            response = getattr(alice_client, method.lower())(unpublish_url(reporting))
            assert response.status_code == 405, method
        assert unchanged_publication(reporting, published_at)

    def test_post_without_csrf_token_is_refused(self, reporting, alice, tenant_a):
        http = client_for(tenant_a, alice, enforce_csrf_checks=True)
        published_at = reporting.published_at
        assert http.post(unpublish_url(reporting)).status_code == 403
        assert unchanged_publication(reporting, published_at)
