"""``/oauth/authorize`` on a region host (``eu.localhost``): which tenant?

The client and redirect URL are checked as a tenant host checks them (an
unknown client or unregistered redirect URL gets an error page, never a
redirect); then a "Tenant hostname" form sends the user to the chosen
tenant's own ``/oauth/authorize`` with the query unchanged, and only ever to
an active tenant of this region.
"""

import re
from urllib.parse import urlencode, urlsplit

import pytest
from django.test import Client

from oauth_clients.models import AuthorizationCode, ConnectionConfig
from oauth_clients.services import delete_clients, publish_client, unpublish_client
from tests.factories import TenantFactory, create_oauth_client
from tests.flows import (
    AUTHORIZE,
    ERROR_PAGE_HEADING,
    REDIRECT,
    Registered,
    authorize_params,
    client_for,
    pkce_pair,
)

pytestmark = pytest.mark.django_db

REGION_HOST = "eu.localhost"


# --- Helpers -----------------------------------------------------------------------------


def region_http(host: str = REGION_HOST, **defaults) -> Client:
    return Client(HTTP_HOST=host, **defaults)


def query_for(registered: Registered, **extra) -> str:
    _verifier, challenge = pkce_pair()
    return urlencode(authorize_params(registered, challenge, **extra))


def assert_picker_error_page(response) -> None:
    assert response.status_code == 400, (response.status_code, response.get("Location"))
    assert "Location" not in response
    html = response.content.decode()
    assert ERROR_PAGE_HEADING in html
    assert 'name="hostname"' not in html


def assert_form(response, *, error: bool) -> str:
    assert response.status_code == 200, response.status_code
    assert "Location" not in response
    html = response.content.decode()
    assert "Tenant hostname" in html
    assert 'name="hostname"' in html
    assert "Continue" in html
    assert ('class="errorlist"' in html) is error, html
    return html


def pick(query: str, hostname: str, http: Client | None = None):
    return (http or region_http()).post(f"{AUTHORIZE}?{query}", {"hostname": hostname})


# --- Fixtures ----------------------------------------------------------------------------


@pytest.fixture
def initech(region_us):
    return TenantFactory(slug="initech", name="Initech", region=region_us)


@pytest.fixture
def globex_in_us(region_us):
    """A tenant named like Globex, in the other region."""
    return TenantFactory(slug="globex", name="Globex US", region=region_us)


# --- The form --------------------------------------------------------------------------------


class TestForm:
    def test_it_shows_the_tenant_hostname_form(self, published):
        response = region_http().get(f"{AUTHORIZE}?{query_for(published)}")
        html = assert_form(response, error=False)
        assert "Sign in to <bdi>Web app</bdi>" in html
        assert "Europe" in html
        assert 'method="post"' in html
        assert "csrfmiddlewaretoken" in html

    def test_the_form_posts_to_the_same_url_with_its_query(self, published):
        query = query_for(published)
        html = region_http().get(f"{AUTHORIZE}?{query}").content.decode()
        action = re.search(r'<form method="post" action="([^"]*)"', html).group(1)
        assert action.replace("&amp;", "&") == f"{AUTHORIZE}?{query}"

    def test_it_is_not_cached(self, published):
        response = region_http().get(f"{AUTHORIZE}?{query_for(published)}")
        assert "no-store" in response["Cache-Control"] or "no-cache" in response["Cache-Control"]

    def test_it_escapes_the_client_name(self, tenant_a, alice):
        client, secret = create_oauth_client(
            tenant_a, actor=alice, name="<script>x()</script>", redirect_uris=[REDIRECT]
        )
        publish_client(client, actor=alice)
        html = region_http().get(f"{AUTHORIZE}?{query_for(Registered(client, secret))}")
        html = html.content.decode()
        assert "<script>x()</script>" not in html
        assert "&lt;script&gt;x()&lt;/script&gt;" in html

    def test_it_records_nothing(self, published, tenant_b):
        region_http().get(f"{AUTHORIZE}?{query_for(published)}")
        pick(query_for(published), "globex")
        assert AuthorizationCode.objects.count() == 0
        assert not ConnectionConfig.objects.filter(tenant=tenant_b).exists()

    @pytest.mark.parametrize("method", ["put", "patch", "delete"])
    def test_other_methods_are_405(self, published, method):
        url = f"{AUTHORIZE}?{query_for(published)}"
        assert getattr(region_http(), method)(url).status_code == 405

    def test_the_post_needs_a_csrf_token(self, published, tenant_b):
        http = region_http(enforce_csrf_checks=True)
        response = http.post(f"{AUTHORIZE}?{query_for(published)}", {"hostname": "globex"})
        assert response.status_code == 403
        assert "Location" not in response

    def test_with_the_csrf_token_of_its_page_the_post_goes_through(self, published, tenant_b):
        http = region_http(enforce_csrf_checks=True)
        url = f"{AUTHORIZE}?{query_for(published)}"
        html = http.get(url).content.decode()
        token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', html).group(1)
        response = http.post(url, {"hostname": "globex", "csrfmiddlewaretoken": token})
        assert response.status_code == 302
        assert response["Location"].startswith(f"{tenant_b.base_url}{AUTHORIZE}?")

    def test_an_unknown_region_host_is_404(self, published):
        response = region_http("xx.localhost").get(f"{AUTHORIZE}?{query_for(published)}")
        assert response.status_code == 404


# --- Client and redirect URL, checked before anything is shown --------------------------------


class TestRequestValidation:
    def test_an_unknown_client_gets_an_error_page(self, published):
        query = query_for(published, client_id="0" * 32)
        assert_picker_error_page(region_http().get(f"{AUTHORIZE}?{query}"))

    def test_a_missing_client_id_gets_an_error_page(self, published):
        query = query_for(published, client_id=None)
        assert_picker_error_page(region_http().get(f"{AUTHORIZE}?{query}"))

    def test_a_malformed_client_id_gets_an_error_page(self, published):
        query = query_for(published, client_id="x' OR '1'='1")
        assert_picker_error_page(region_http().get(f"{AUTHORIZE}?{query}"))

    def test_no_query_at_all_gets_an_error_page(self, published):
        assert_picker_error_page(region_http().get(AUTHORIZE))

    def test_an_unpublished_client_gets_an_error_page(self, web):
        assert_picker_error_page(region_http().get(f"{AUTHORIZE}?{query_for(web)}"))

    def test_an_unpublished_again_client_gets_an_error_page(self, published, alice):
        unpublish_client(published.client, actor=alice)
        assert_picker_error_page(region_http().get(f"{AUTHORIZE}?{query_for(published)}"))

    def test_a_deleted_client_gets_an_error_page(self, published, alice, tenant_a):
        delete_clients(tenant_a, [published.client.pk], actor=alice)
        assert_picker_error_page(region_http().get(f"{AUTHORIZE}?{query_for(published)}"))

    def test_a_client_published_in_another_region_gets_an_error_page(self, published, initech):
        response = region_http("us.localhost").get(f"{AUTHORIZE}?{query_for(published)}")
        assert_picker_error_page(response)

    def test_a_client_of_the_other_region_is_unknown_here(self, region_eu, initech):
        client, secret = create_oauth_client(initech, name="US app", redirect_uris=[REDIRECT])
        publish_client(client, actor=None)
        registered = Registered(client, secret)
        assert_picker_error_page(region_http().get(f"{AUTHORIZE}?{query_for(registered)}"))
        assert_form(
            region_http("us.localhost").get(f"{AUTHORIZE}?{query_for(registered)}"), error=False
        )

    @pytest.mark.parametrize(
        "redirect_uri",
        [
            "https://evil.example/callback",
            "https://app.example.com/callback/",
            "https://app.example.com/callback?x=1",
            "https://app.example.com/Callback",
            "http://app.example.com/callback",
            "https://app.example.com.evil.example/callback",
            "https://app.example.com@evil.example/callback",
            "https://app.example.com/callback#frag",
            "",
        ],
    )
    def test_an_unregistered_redirect_url_gets_an_error_page(self, published, redirect_uri):
        query = query_for(published, redirect_uri=redirect_uri)
        assert_picker_error_page(region_http().get(f"{AUTHORIZE}?{query}"))
        assert_picker_error_page(pick(query, "globex"))

    def test_the_second_registered_redirect_url_works(self, published):
        query = query_for(published, redirect_uri="http://localhost:8080/cb")
        assert_form(region_http().get(f"{AUTHORIZE}?{query}"), error=False)

    def test_a_loopback_redirect_url_may_change_its_port_as_at_a_tenant_host(self, published):
        query = query_for(published, redirect_uri="http://localhost:51234/cb")
        assert_form(region_http().get(f"{AUTHORIZE}?{query}"), error=False)

    def test_a_missing_redirect_url_with_one_registered_is_accepted_as_at_a_tenant_host(
        self, tenant_a, alice
    ):
        # A tenant host uses the only registered URL when none is sent (RFC 6749 §3.1.2.3).
        client, secret = create_oauth_client(tenant_a, actor=alice, redirect_uris=[REDIRECT])
        publish_client(client, actor=alice)
        query = query_for(Registered(client, secret), redirect_uri=None)
        assert_form(region_http().get(f"{AUTHORIZE}?{query}"), error=False)

    def test_a_missing_redirect_url_with_several_registered_gets_an_error_page(self, published):
        query = query_for(published, redirect_uri=None)
        assert_picker_error_page(region_http().get(f"{AUTHORIZE}?{query}"))

    def test_a_post_of_an_invalid_request_redirects_nowhere(self, published):
        query = query_for(published, client_id="0" * 32)
        assert_picker_error_page(pick(query, "globex"))


# --- Choosing a tenant ------------------------------------------------------------------------


class TestChoosingATenant:
    @pytest.mark.parametrize(
        "hostname",
        [
            "globex",
            "globex.eu.localhost",
            "GLOBEX",
            "Globex.EU.localhost",
            "  globex  ",
            "globex.eu.localhost.",
        ],
    )
    def test_a_tenant_of_the_region_gets_the_original_query_unchanged(
        self, published, tenant_b, hostname
    ):
        query = query_for(published, state="a b&c=d/é", nonce="n%1")
        response = pick(query, hostname)
        assert response.status_code == 302
        assert response["Location"] == f"{tenant_b.base_url}{AUTHORIZE}?{query}"

    def test_the_raw_query_string_is_passed_on_byte_for_byte(self, published, tenant_b):
        # Parameter order, repeated keys and encoding are the client's business.
        raw = (
            f"state=s%20t&client_id={published.client_id}&response_type=code"
            f"&redirect_uri=https%3A%2F%2Fapp.example.com%2Fcallback"
            "&code_challenge=abcdefghijklmnopqrstuvwxyz0123456789ABCDEFG"
            "&code_challenge_method=S256&scope=user_default+offline_access&extra=1"
        )
        response = pick(raw, "globex")
        assert response.status_code == 302
        assert response["Location"] == f"{tenant_b.base_url}{AUTHORIZE}?{raw}"

    def test_the_owner_tenant_can_be_chosen_too(self, published, tenant_a):
        query = query_for(published)
        response = pick(query, "acme")
        assert response["Location"] == f"{tenant_a.base_url}{AUTHORIZE}?{query}"

    def test_the_redirect_goes_to_the_tenant_host_only(self, published, tenant_b):
        location = pick(query_for(published), "globex")["Location"]
        parts = urlsplit(location)
        assert parts.scheme == "http"
        assert parts.netloc == tenant_b.hostname
        assert parts.path == AUTHORIZE

    def test_the_chosen_tenants_admin_then_sees_the_approval_page(self, published, carol, tenant_b):
        location = pick(query_for(published), "globex")["Location"]
        parts = urlsplit(location)
        http = client_for(tenant_b, carol)
        page = http.get(f"{parts.path}?{parts.query}")
        assert page.status_code == 200
        assert "Approve for Globex" in page.content.decode()


class TestRefusedHostnames:
    @pytest.mark.parametrize(
        "hostname",
        [
            "nobody",
            "nobody.eu.localhost",
            "initech",
            "initech.us.localhost",
            "globex.us.localhost",
            "acme.us.localhost",
            "eu.localhost",
            "localhost",
            "globex.eu.localhost/oauth/authorize",
            "globex/",
            "http://globex.eu.localhost",
            "https://globex.eu.localhost/",
            "//globex.eu.localhost",
            "127.0.0.1",
            "10.0.0.1",
            "[::1]",
            "::1",
            "example.com",
            "evil.example",
            "globex.eu.localhost.evil.example",
            "globex.eu.localhost:9999",
            "globex:80",
            "user@globex.eu.localhost",
            "globex.eu.localhost\\@evil.example",
            "glo bex",
            "a.globex.eu.localhost",
            "",
            "   ",
        ],
    )
    def test_it_shows_the_form_again_with_an_error(self, published, initech, hostname):
        response = pick(query_for(published), hostname)
        assert_form(response, error=True)

    def test_a_namesake_in_another_region_is_not_chosen(self, published, globex_in_us, tenant_b):
        # "globex" names the eu tenant at the eu host, never the us one.
        query = query_for(published)
        assert pick(query, "globex")["Location"].startswith(tenant_b.base_url)
        assert_form(pick(query, "globex.us.localhost"), error=True)

    def test_a_deactivated_tenant_is_refused(self, published, tenant_b):
        tenant_b.is_active = False
        tenant_b.save()
        assert_form(pick(query_for(published), "globex"), error=True)
        assert_form(pick(query_for(published), "globex.eu.localhost"), error=True)

    def test_the_error_names_the_problem_and_keeps_the_answer(self, published):
        html = assert_form(pick(query_for(published), "nobody"), error=True)
        assert "There is no tenant nobody in the Europe region." in html
        assert 'value="nobody"' in html

    def test_a_host_of_another_region_is_named_as_such(self, published, initech):
        html = assert_form(pick(query_for(published), "initech.us.localhost"), error=True)
        assert "initech.us.localhost is not a tenant of the Europe region." in html

    def test_an_answer_with_markup_is_escaped(self, published):
        html = assert_form(pick(query_for(published), "<b>x</b>"), error=True)
        assert "<b>x</b>" not in html
