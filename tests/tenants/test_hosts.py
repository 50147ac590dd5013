import pytest
from django.test import Client, RequestFactory

from tenants.middleware import REGION_URLCONF, TenantMiddleware


def resolve(host: str):
    """Run the middleware on a request for ``host`` and return the request it saw."""
    seen = {}

    def get_response(request):
        seen["request"] = request
        return "passed"

    request = RequestFactory().get("/", HTTP_HOST=host)
    response = TenantMiddleware(get_response)(request)
    return seen.get("request"), response


@pytest.mark.django_db
class TestHostResolution:
    def test_tenant_host_sets_tenant_and_region(self, tenant_a):
        request, _ = resolve("acme.eu.localhost:8000")
        assert request.tenant == tenant_a
        assert request.region == tenant_a.region
        assert not hasattr(request, "urlconf")

    def test_region_host_sets_region_only_and_region_urls(self, region_eu):
        request, _ = resolve("eu.localhost:8000")
        assert request.tenant is None
        assert request.region == region_eu
        assert request.urlconf == REGION_URLCONF

    @pytest.mark.parametrize(
        "host",
        [
            "nope.eu.localhost",  # unknown tenant
            "acme.us.localhost",  # tenant exists, but not in that region
            "xx.localhost",  # unknown region
            "localhost",  # the platform domain itself is no tenant
            "127.0.0.1",
            "a.acme.eu.localhost",  # too many labels
        ],
    )
    def test_unknown_host_is_404_without_a_default_tenant(self, tenant_a, region_us, host):
        request, response = resolve(host)
        assert request is None
        assert response.status_code == 404
        assert b"There is no tenant at this address" in response.content

    def test_deactivated_tenant_is_404(self, tenant_a):
        tenant_a.is_active = False
        tenant_a.save()
        request, response = resolve("acme.eu.localhost")
        assert request is None
        assert response.status_code == 404

    @pytest.mark.parametrize(
        "host", ["ACME.EU.LOCALHOST", "acme.eu.localhost.", "acme.eu.localhost:1234"]
    )
    def test_case_port_and_trailing_dot_variants_resolve_to_the_same_tenant(self, tenant_a, host):
        request, _ = resolve(host)
        assert request.tenant == tenant_a

    def test_x_forwarded_host_is_ignored(self, tenant_a, tenant_b):
        request = RequestFactory().get(
            "/", HTTP_HOST="acme.eu.localhost", HTTP_X_FORWARDED_HOST="globex.eu.localhost"
        )
        seen = {}
        TenantMiddleware(lambda r: seen.setdefault("tenant", r.tenant))(request)
        assert seen["tenant"] == tenant_a


@pytest.mark.django_db
def test_unknown_host_answers_a_404_page_over_http(tenant_a):
    response = Client(HTTP_HOST="nope.eu.localhost").get("/login/")
    assert response.status_code == 404


@pytest.mark.django_db
def test_host_outside_the_platform_domain_is_refused(tenant_a):
    response = Client(HTTP_HOST="evil.test").get("/login/")
    assert response.status_code == 400  # DisallowedHost


def test_tenant_base_url_comes_from_settings_not_the_request(settings, tenant_a):
    settings.PLATFORM_SCHEME = "https"
    settings.PLATFORM_PORT = 8443
    assert tenant_a.base_url == "https://acme.eu.localhost:8443"
    settings.PLATFORM_PORT = None
    assert tenant_a.base_url == "https://acme.eu.localhost"
