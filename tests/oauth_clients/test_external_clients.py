"""External clients in the console of the tenant that approved them.

Acme (tenant A) owns and publishes "Reporting app"; Globex (tenant B) has
approved it. Globex's console lists it as External, with its owner and who
approved it when, and offers only: View OAuth configuration, Change consent
method, Revoke access (or Remove, once its owner deleted it).
"""

import json
import re

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone
from django.utils.formats import date_format

from consent.models import ConsentGrant
from oauth_clients.models import (
    AccessToken,
    ClientSecret,
    ConnectionConfig,
    OAuthClient,
    RevokedToken,
)
from oauth_clients.services import (
    approve_client_for_tenant,
    delete_clients,
    publish_client,
    unpublish_client,
)
from tenants.models import AuditEvent
from tests.factories import TenantFactory, create_oauth_client, make_tokens
from tests.flows import client_for

pytestmark = pytest.mark.django_db

LIST_URL = reverse("oauth_clients:list")
HTMX = {"HTTP_HX_REQUEST": "true"}
EXTERNAL_URLS = [
    ("oauth_clients:external_configuration", {"GET", "HEAD"}),
    ("oauth_clients:external_consent_method", {"GET", "POST"}),
    ("oauth_clients:external_revoke", {"GET", "POST"}),
]
# The owner's per-client console URLs, with the methods each answers.
OWNER_URLS = {
    "oauth_clients:edit": {"GET", "POST"},
    "oauth_clients:secrets": {"GET"},
    "oauth_clients:secret_generate": {"POST"},
    "oauth_clients:configuration": {"GET"},
    "oauth_clients:publish": {"GET", "POST"},
    "oauth_clients:unpublish": {"GET", "POST"},
    "oauth_clients:delete": {"GET"},
    "oauth_clients:activity": {"GET"},
}
ALL_METHODS = {"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE"}


# --- Helpers -----------------------------------------------------------------------------


def url(name: str, client: OAuthClient | str) -> str:
    client_id = client if isinstance(client, str) else client.client_id
    return reverse(name, args=[client_id])


def call(http, method: str, target: str, data=None):
    if method == "POST":
        return http.post(target, data or {})
    return getattr(http, method.lower())(target)


def state():
    return (
        list(ConnectionConfig.objects.order_by("pk").values()),
        list(OAuthClient.objects.order_by("pk").values()),
        list(ClientSecret.objects.order_by("pk").values_list("pk", flat=True)),
        AccessToken.objects.count(),
        ConsentGrant.objects.count(),
        AuditEvent.objects.count(),
    )


def globex_config(client) -> ConnectionConfig | None:
    return ConnectionConfig.objects.filter(client=client, tenant__slug="globex").first()


def make_external(owner_tenant, approving_tenant, approver, name: str) -> OAuthClient:
    client, _secret = create_oauth_client(owner_tenant, actor=None, name=name)
    publish_client(client, actor=None)
    approve_client_for_tenant(approving_tenant, client, actor=approver)
    return client


# --- Fixtures ----------------------------------------------------------------------------


@pytest.fixture
def reporting(tenant_a, alice):
    """Acme's published Web client."""
    client, _secret = create_oauth_client(
        tenant_a,
        actor=alice,
        name="Reporting app",
        description="Monthly reports.",
        redirect_uris=["https://reports.example.com/cb"],
        allowed_scopes=["user_default", "openid"],
    )
    publish_client(client, actor=alice)
    return client


@pytest.fixture
def approved_reporting(reporting, tenant_b, carol):
    approve_client_for_tenant(tenant_b, reporting, actor=carol)
    return reporting


@pytest.fixture
def globex_anon(tenant_b):
    return client_for(tenant_b)


# --- The list ----------------------------------------------------------------------------


class TestList:
    def test_it_lists_the_external_client_with_owner_and_approval(
        self, approved_reporting, carol_client, tenant_a, tenant_b
    ):
        response = carol_client.get(LIST_URL)
        assert response.status_code == 200
        html = response.content.decode()
        assert "External clients" in html
        assert f'id="external-{approved_reporting.pk}"' in html
        row = html.split(f'id="external-{approved_reporting.pk}"')[1].split("</tr>")[0]
        assert "Reporting app" in row
        assert '<span class="badge">External</span>' in row
        assert approved_reporting.client_id in row
        assert "Acme" in row and tenant_a.hostname in row
        assert "Required" in row
        config = globex_config(approved_reporting)
        assert config.approved_at is not None
        approved_on = date_format(timezone.localtime(config.approved_at), "DATE_FORMAT")
        assert f"{approved_on} · Carol" in row
        assert response.context["externals"] == [config]

    def test_its_menu_offers_configuration_consent_method_and_revoke(
        self, approved_reporting, carol_client
    ):
        html = carol_client.get(LIST_URL).content.decode()
        row = html.split(f'id="external-{approved_reporting.pk}"')[1].split("</tr>")[0]
        assert url("oauth_clients:external_configuration", approved_reporting) in row
        assert "View OAuth configuration" in row
        assert url("oauth_clients:external_consent_method", approved_reporting) in row
        assert "Change consent method" in row
        assert url("oauth_clients:external_revoke", approved_reporting) in row
        assert "Revoke access" in row

    def test_it_offers_no_owner_action(self, approved_reporting, carol_client):
        html = carol_client.get(LIST_URL).content.decode()
        for name in OWNER_URLS:
            assert url(name, approved_reporting) not in html, name
        assert f'id="client-{approved_reporting.pk}"' not in html
        assert f'name="ids" value="{approved_reporting.pk}"' not in html

    def test_an_unapproved_published_client_is_not_listed(
        self, reporting, carol_client, tenant_a, alice
    ):
        html = carol_client.get(LIST_URL).content.decode()
        assert "Reporting app" not in html
        assert "External clients" not in html

    def test_another_tenants_approval_is_not_listed(self, reporting, carol_client, hooli):
        tenant, admin = hooli
        approve_client_for_tenant(tenant, reporting, actor=admin)
        html = carol_client.get(LIST_URL).content.decode()
        assert "Reporting app" not in html
        assert (
            client_for(tenant, admin)
            .get(LIST_URL)
            .content.decode()
            .count(f'id="external-{reporting.pk}"')
            == 1
        )

    def test_a_tenant_with_only_external_clients_sees_them_not_the_empty_state(
        self, approved_reporting, carol_client
    ):
        html = carol_client.get(LIST_URL).content.decode()
        assert "No OAuth clients yet" not in html
        assert f'id="external-{approved_reporting.pk}"' in html

    def test_own_and_external_clients_are_listed_apart(
        self, approved_reporting, carol_client, tenant_b, carol
    ):
        own, _secret = create_oauth_client(tenant_b, actor=carol, name="Globex portal")
        html = carol_client.get(LIST_URL).content.decode()
        assert f'id="client-{own.pk}"' in html
        assert f'id="external-{own.pk}"' not in html
        assert f'id="external-{approved_reporting.pk}"' in html
        assert f'id="client-{approved_reporting.pk}"' not in html

    def test_the_search_finds_external_clients_by_name_and_client_id(
        self, approved_reporting, carol_client
    ):
        found = carol_client.get(LIST_URL, {"q": "report"}).content.decode()
        assert f'id="external-{approved_reporting.pk}"' in found
        by_id = carol_client.get(
            LIST_URL, {"q": approved_reporting.client_id[:10].upper()}
        ).content.decode()
        assert f'id="external-{approved_reporting.pk}"' in by_id
        missing = carol_client.get(LIST_URL, {"q": "payroll"}).content.decode()
        assert f'id="external-{approved_reporting.pk}"' not in missing

    def test_a_search_without_match_says_so_at_a_tenant_with_only_external_clients(
        self, approved_reporting, carol_client
    ):
        # Not the first-visit empty state: the tenant has a client, the search hid it.
        html = carol_client.get(LIST_URL, {"q": "payroll"}).content.decode()
        assert "No OAuth clients match “payroll”." in html
        assert "Show all" in html
        assert "No OAuth clients yet" not in html

    def test_htmx_gets_the_table_fragment_with_the_external_clients(
        self, approved_reporting, carol_client
    ):
        response = carol_client.get(
            LIST_URL, HTTP_HX_REQUEST="true", HTTP_HX_TARGET="clients-table"
        )
        assert response.status_code == 200
        html = response.content.decode()
        assert "<html" not in html
        assert html.lstrip().startswith('<div id="clients-table"')
        assert f'id="external-{approved_reporting.pk}"' in html

    def test_a_client_deleted_by_its_owner_shows_as_such_with_remove_only(
        self, approved_reporting, carol_client, tenant_a, alice
    ):
        delete_clients(tenant_a, [approved_reporting.pk], actor=alice)
        html = carol_client.get(LIST_URL).content.decode()
        row = html.split(f'id="external-{approved_reporting.pk}"')[1].split("</tr>")[0]
        assert "Deleted by its owner" in row
        assert url("oauth_clients:external_revoke", approved_reporting) in row
        assert ">Remove<" in row
        assert url("oauth_clients:external_configuration", approved_reporting) not in row
        assert url("oauth_clients:external_consent_method", approved_reporting) not in row
        assert "Revoke access" not in row

    def test_an_unpublished_client_leaves_the_list(self, approved_reporting, carol_client, alice):
        unpublish_client(approved_reporting, actor=alice)
        assert (
            f'id="external-{approved_reporting.pk}"'
            not in carol_client.get(LIST_URL).content.decode()
        )

    def test_the_owners_console_does_not_list_other_tenants_approvals(
        self, approved_reporting, alice_client, hooli
    ):
        tenant, admin = hooli
        approve_client_for_tenant(tenant, approved_reporting, actor=admin)
        response = alice_client.get(LIST_URL)
        html = response.content.decode()
        assert response.context["externals"] == []
        assert "External clients" not in html
        assert 'class="badge">External<' not in html
        assert html.count(f'id="client-{approved_reporting.pk}"') == 1
        assert f'id="external-{approved_reporting.pk}"' not in html
        assert response.context["page"].paginator.count == 1
        assert url("oauth_clients:unpublish", approved_reporting) in html

    def test_a_member_gets_403(self, approved_reporting, dave_client):
        assert dave_client.get(LIST_URL).status_code == 403


@pytest.mark.parametrize("htmx", [False, True])
def test_the_list_costs_the_same_for_2_and_20_external_clients(
    tenant_b, carol, carol_client, region_eu, htmx
):
    headers = {"HTTP_HX_REQUEST": "true", "HTTP_HX_TARGET": "clients-table"} if htmx else {}

    def add_externals(count):
        for _ in range(count):
            owner = TenantFactory(region=region_eu)
            make_external(owner, tenant_b, carol, f"External {owner.slug}")

    def load() -> int:
        with CaptureQueriesContext(connection) as queries:
            response = carol_client.get(LIST_URL, **headers)
        assert response.status_code == 200
        return len(queries), len(response.context["externals"])

    add_externals(2)
    small, listed = load()
    assert listed == 2
    add_externals(18)
    large, listed = load()
    assert listed == 20
    assert small == large


# --- View OAuth configuration -------------------------------------------------------------------


class TestConfiguration:
    def test_it_shows_globexs_endpoints_and_no_secret(
        self, approved_reporting, carol_client, tenant_a, tenant_b
    ):
        response = carol_client.get(url("oauth_clients:external_configuration", approved_reporting))
        assert response.status_code == 200
        html = response.content.decode()
        assert "OAuth configuration: Reporting app" in html
        config = json.loads(response.context["config_json"])
        assert config["issuer"] == tenant_b.base_url
        assert config["authorization_endpoint"] == f"{tenant_b.base_url}/oauth/authorize"
        assert config["token_endpoint"] == f"{tenant_b.base_url}/oauth/token"
        assert config["region_authorization_endpoint"] == "http://eu.localhost/oauth/authorize"
        assert config["client_id"] == approved_reporting.client_id
        assert config["redirect_uris"] == ["https://reports.example.com/cb"]
        assert "client_secret" not in config
        assert "YOUR_CLIENT_SECRET" not in html
        assert tenant_a.base_url not in html

    def test_htmx_gets_the_dialog_fragment(self, approved_reporting, carol_client):
        response = carol_client.get(
            url("oauth_clients:external_configuration", approved_reporting), **HTMX
        )
        assert response.status_code == 200
        html = response.content.decode()
        assert "<html" not in html
        assert html.lstrip().startswith("<dialog")

    def test_a_plain_request_gets_a_full_page(self, approved_reporting, carol_client):
        html = carol_client.get(url("oauth_clients:external_configuration", approved_reporting))
        assert "<html" in html.content.decode()

    def test_a_client_deleted_by_its_owner_is_404(
        self, approved_reporting, carol_client, tenant_a, alice
    ):
        delete_clients(tenant_a, [approved_reporting.pk], actor=alice)
        response = carol_client.get(url("oauth_clients:external_configuration", approved_reporting))
        assert response.status_code == 404


# --- Change consent method ------------------------------------------------------------------------


class TestConsentMethod:
    def test_get_shows_the_current_method_and_changes_nothing(
        self, approved_reporting, carol_client
    ):
        before = state()
        response = carol_client.get(
            url("oauth_clients:external_consent_method", approved_reporting)
        )
        assert response.status_code == 200
        html = response.content.decode()
        assert "Change consent method: Reporting app" in html
        assert "Applies to the users of Globex only." in html
        assert re.search(r'<input type="radio"[^>]*value="required"[^>]*checked', html)
        assert not re.search(r'<input type="radio"[^>]*value="trusted"[^>]*checked', html)
        assert 'method="post"' in html
        assert state() == before

    def test_htmx_gets_the_dialog_fragment(self, approved_reporting, carol_client):
        response = carol_client.get(
            url("oauth_clients:external_consent_method", approved_reporting), **HTMX
        )
        assert response.status_code == 200
        assert response.content.decode().lstrip().startswith("<dialog")

    def test_post_saves_it_for_this_tenant_only(
        self, approved_reporting, carol_client, carol, tenant_a, tenant_b
    ):
        response = carol_client.post(
            url("oauth_clients:external_consent_method", approved_reporting),
            {"consent_method": "trusted"},
        )
        assert response.status_code == 302
        assert response["Location"] == LIST_URL
        assert (
            globex_config(approved_reporting).consent_method
            == ConnectionConfig.ConsentMethod.TRUSTED
        )
        owner = ConnectionConfig.objects.get(client=approved_reporting, tenant=tenant_a)
        assert owner.consent_method == ConnectionConfig.ConsentMethod.REQUIRED
        # The approval itself is untouched.
        assert globex_config(approved_reporting).approved_by == carol

    def test_the_change_is_audited_at_the_approving_tenant(
        self, approved_reporting, carol_client, carol, tenant_b
    ):
        carol_client.post(
            url("oauth_clients:external_consent_method", approved_reporting),
            {"consent_method": "trusted"},
        )
        event = AuditEvent.objects.get(action="oauth_client.consent_method_changed")
        assert event.tenant == tenant_b
        assert event.actor == carol
        assert event.target_id == str(approved_reporting.pk)
        assert event.data["consent_method"] == "trusted"

    def test_the_list_shows_the_new_method(self, approved_reporting, carol_client):
        html = carol_client.post(
            url("oauth_clients:external_consent_method", approved_reporting),
            {"consent_method": "trusted"},
            follow=True,
        ).content.decode()
        assert "Saved Reporting app." in html
        row = html.split(f'id="external-{approved_reporting.pk}"')[1].split("</tr>")[0]
        assert "Trusted" in row

    def test_htmx_closes_the_dialog_and_reloads_the_list(self, approved_reporting, carol_client):
        response = carol_client.post(
            url("oauth_clients:external_consent_method", approved_reporting),
            {"consent_method": "trusted"},
            **HTMX,
        )
        assert response.status_code == 200
        assert response["HX-Trigger"] == "clients-changed"
        assert "<html" not in response.content.decode()
        assert (
            globex_config(approved_reporting).consent_method
            == ConnectionConfig.ConsentMethod.TRUSTED
        )

    @pytest.mark.parametrize("data", [{}, {"consent_method": "sometimes"}, {"consent_method": ""}])
    def test_bad_input_shows_a_field_error_and_saves_nothing(
        self, approved_reporting, carol_client, data
    ):
        before = state()
        response = carol_client.post(
            url("oauth_clients:external_consent_method", approved_reporting), data
        )
        assert response.status_code == 200
        html = response.content.decode()
        assert "Change consent method: Reporting app" in html
        assert 'class="errorlist" id="id_consent_method-errors"' in html
        assert state() == before

    def test_trusted_at_globex_skips_the_consent_page_there(
        self, approved_reporting, carol_client, dave_client, tenant_b
    ):
        carol_client.post(
            url("oauth_clients:external_consent_method", approved_reporting),
            {"consent_method": "trusted"},
        )
        response = dave_client.get(
            "/oauth/authorize",
            {
                "response_type": "code",
                "client_id": approved_reporting.client_id,
                "redirect_uri": "https://reports.example.com/cb",
                "scope": "user_default",
                "state": "s",
                "code_challenge": "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM",
                "code_challenge_method": "S256",
            },
        )
        assert response.status_code == 302
        assert response["Location"].startswith("https://reports.example.com/cb?code=")


# --- Revoke access --------------------------------------------------------------------------------


class TestRevoke:
    def test_get_asks_for_confirmation_and_changes_nothing(self, approved_reporting, carol_client):
        before = state()
        response = carol_client.get(url("oauth_clients:external_revoke", approved_reporting))
        assert response.status_code == 200
        html = response.content.decode()
        assert "Revoke access: Reporting app" in html
        assert "will no longer work at Globex" in html
        assert f'action="{url("oauth_clients:external_revoke", approved_reporting)}"' in html
        assert state() == before

    def test_htmx_gets_the_dialog_fragment(self, approved_reporting, carol_client):
        response = carol_client.get(
            url("oauth_clients:external_revoke", approved_reporting), **HTMX
        )
        assert response.status_code == 200
        assert response.content.decode().lstrip().startswith("<dialog")

    def test_post_removes_the_approval_and_globexs_tokens_and_consents_only(
        self, approved_reporting, carol_client, carol, alice, dave, tenant_a, tenant_b
    ):
        globex_access, globex_refresh = make_tokens(tenant_b, approved_reporting, dave)
        acme_access, acme_refresh = make_tokens(tenant_a, approved_reporting, alice)
        ConsentGrant.objects.create(
            tenant=tenant_b, user=dave, client=approved_reporting, scopes="user_default"
        )
        ConsentGrant.objects.create(
            tenant=tenant_a, user=alice, client=approved_reporting, scopes="user_default"
        )
        response = carol_client.post(url("oauth_clients:external_revoke", approved_reporting))
        assert response.status_code == 302
        assert response["Location"] == LIST_URL
        assert globex_config(approved_reporting) is None
        assert not AccessToken.objects.filter(pk=globex_access.pk).exists()
        globex_refresh.refresh_from_db()
        assert globex_refresh.revoked is not None
        assert RevokedToken.objects.filter(jti=globex_access.jti).exists()
        assert not ConsentGrant.objects.filter(tenant=tenant_b).exists()
        # The owner's side is untouched.
        assert AccessToken.objects.filter(pk=acme_access.pk).exists()
        acme_refresh.refresh_from_db()
        assert acme_refresh.revoked is None
        assert ConsentGrant.objects.filter(tenant=tenant_a).exists()
        assert ConnectionConfig.objects.filter(client=approved_reporting, tenant=tenant_a).exists()
        approved_reporting.refresh_from_db()
        assert approved_reporting.is_published and not approved_reporting.is_deleted

    def test_the_revocation_is_audited_at_the_approving_tenant(
        self, approved_reporting, carol_client, carol, tenant_a, tenant_b
    ):
        carol_client.post(url("oauth_clients:external_revoke", approved_reporting))
        event = AuditEvent.objects.get(action="oauth_client.approval_revoked")
        assert event.tenant == tenant_b
        assert event.actor == carol
        assert event.target_id == str(approved_reporting.pk)
        assert event.data["owner_tenant"] == tenant_a.hostname

    def test_the_list_no_longer_shows_it(self, approved_reporting, carol_client):
        html = carol_client.post(
            url("oauth_clients:external_revoke", approved_reporting), follow=True
        ).content.decode()
        assert "Revoked access for Reporting app." in html
        assert f'id="external-{approved_reporting.pk}"' not in html

    def test_htmx_closes_the_dialog_and_reloads_the_list(self, approved_reporting, carol_client):
        response = carol_client.post(
            url("oauth_clients:external_revoke", approved_reporting), **HTMX
        )
        assert response.status_code == 200
        assert response["HX-Trigger"] == "clients-changed"
        assert globex_config(approved_reporting) is None

    def test_after_revoking_the_admin_is_asked_to_approve_again(
        self, approved_reporting, carol_client, tenant_b
    ):
        carol_client.post(url("oauth_clients:external_revoke", approved_reporting))
        page = carol_client.get(
            "/oauth/authorize",
            {
                "response_type": "code",
                "client_id": approved_reporting.client_id,
                "redirect_uri": "https://reports.example.com/cb",
                "scope": "user_default",
                "code_challenge": "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM",
                "code_challenge_method": "S256",
            },
        )
        assert page.status_code == 200
        assert "Approve for Globex" in page.content.decode()

    def test_a_client_deleted_by_its_owner_is_removed(
        self, approved_reporting, carol_client, carol, tenant_a, alice
    ):
        delete_clients(tenant_a, [approved_reporting.pk], actor=alice)
        page = carol_client.get(url("oauth_clients:external_revoke", approved_reporting))
        assert page.status_code == 200
        html = page.content.decode()
        assert "Remove: Reporting app" in html
        assert "Its owner deleted this client." in html
        response = carol_client.post(url("oauth_clients:external_revoke", approved_reporting))
        assert response.status_code == 302
        assert globex_config(approved_reporting) is None
        assert (
            f'id="external-{approved_reporting.pk}"'
            not in carol_client.get(LIST_URL).content.decode()
        )


# --- Who may use the external URLs ----------------------------------------------------------------


class TestAccess:
    @pytest.mark.parametrize("name,methods", EXTERNAL_URLS)
    def test_anonymous_is_sent_to_sign_in(self, approved_reporting, globex_anon, name, methods):
        before = state()
        target = url(name, approved_reporting)
        for method in methods - {"HEAD"}:
            response = call(globex_anon, method, target, {"consent_method": "trusted"})
            assert response.status_code == 302, method
            assert response["Location"] == f"/login/?next={target}"
        assert state() == before

    @pytest.mark.parametrize("name,methods", EXTERNAL_URLS)
    def test_htmx_anonymous_is_sent_to_sign_in_as_a_whole_page(
        self, approved_reporting, globex_anon, name, methods
    ):
        response = globex_anon.get(url(name, approved_reporting), **HTMX)
        assert response["HX-Redirect"].startswith("/login/?next=")

    @pytest.mark.parametrize("name,methods", EXTERNAL_URLS)
    def test_a_member_gets_403_and_changes_nothing(
        self, approved_reporting, dave_client, name, methods
    ):
        before = state()
        for method in methods:
            response = call(
                dave_client, method, url(name, approved_reporting), {"consent_method": "trusted"}
            )
            assert response.status_code == 403, method
        assert state() == before

    @pytest.mark.parametrize("name,methods", EXTERNAL_URLS)
    def test_an_unknown_client_id_is_404(self, approved_reporting, carol_client, name, methods):
        for method in methods:
            assert call(carol_client, method, url(name, "0" * 32)).status_code == 404, method

    @pytest.mark.parametrize("name,methods", EXTERNAL_URLS)
    def test_a_published_client_not_approved_here_is_404(
        self, reporting, carol_client, name, methods
    ):
        before = state()
        for method in methods:
            response = call(
                carol_client, method, url(name, reporting), {"consent_method": "trusted"}
            )
            assert response.status_code == 404, method
        assert state() == before

    @pytest.mark.parametrize("name,methods", EXTERNAL_URLS)
    def test_another_tenants_approval_is_404_and_changes_nothing(
        self, reporting, carol_client, hooli, name, methods
    ):
        tenant, admin = hooli
        approve_client_for_tenant(tenant, reporting, actor=admin)
        before = state()
        for method in methods:
            response = call(
                carol_client, method, url(name, reporting), {"consent_method": "trusted"}
            )
            assert response.status_code == 404, method
        assert state() == before

    @pytest.mark.parametrize("name,methods", EXTERNAL_URLS)
    def test_the_owners_own_client_is_not_external_there(
        self, approved_reporting, alice_client, name, methods
    ):
        before = state()
        for method in methods:
            response = call(
                alice_client, method, url(name, approved_reporting), {"consent_method": "trusted"}
            )
            assert response.status_code == 404, method
        assert state() == before

    @pytest.mark.parametrize("name,methods", EXTERNAL_URLS)
    def test_other_methods_are_405(self, approved_reporting, carol_client, name, methods):
        before = state()
        for method in sorted(ALL_METHODS - methods):
            assert call(carol_client, method, url(name, approved_reporting)).status_code == 405, (
                method
            )
        assert state() == before

    @pytest.mark.parametrize("name", [name for name, methods in EXTERNAL_URLS if "POST" in methods])
    def test_post_without_csrf_token_is_refused(self, approved_reporting, carol, tenant_b, name):
        http = client_for(tenant_b, carol, enforce_csrf_checks=True)
        before = state()
        response = http.post(url(name, approved_reporting), {"consent_method": "trusted"})
        assert response.status_code == 403
        assert state() == before

    @pytest.mark.parametrize("name,methods", OWNER_URLS.items())
    def test_the_owners_actions_are_404_at_the_approving_tenant(
        self, approved_reporting, carol_client, name, methods
    ):
        before = state()
        target = url(name, approved_reporting)
        for method in methods:
            response = call(carol_client, method, target, {"name": "Hijacked", "confirm": "yes"})
            assert response.status_code == 404, method
        assert state() == before

    def test_a_secret_of_the_external_client_cannot_be_deleted_there(
        self, approved_reporting, carol_client
    ):
        hint = approved_reporting.secrets.get().hint
        target = reverse("oauth_clients:secret_delete", args=[approved_reporting.client_id, hint])
        assert carol_client.get(target).status_code == 404
        assert carol_client.post(target).status_code == 404
        assert approved_reporting.secrets.filter(hint=hint).exists()

    def test_bulk_delete_at_the_approving_tenant_ignores_it(self, approved_reporting, carol_client):
        before = state()
        carol_client.post(
            reverse("oauth_clients:bulk_delete"), {"ids": [approved_reporting.pk], "confirm": "yes"}
        )
        approved_reporting.refresh_from_db()
        assert not approved_reporting.is_deleted
        assert state() == before
