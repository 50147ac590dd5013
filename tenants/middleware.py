from asgiref.sync import sync_to_async
from django.contrib import auth
from django.contrib.auth.middleware import AuthenticationMiddleware
from django.contrib.auth.models import AnonymousUser
from django.shortcuts import render
from django.utils.functional import SimpleLazyObject

from tenants import generations, hosts
from tenants.models import Region, Tenant
from tenants.sessions import TENANT_KEY as SESSION_TENANT_KEY

# Paths that answer on any allowed host, before tenant resolution: load
# balancers and metrics scrapers call them by IP address.
HOST_INDEPENDENT_PATHS = frozenset({"/healthz", "/metrics"})

REGION_URLCONF = "config.urls_region"

# Host labels → the active tenant or region (or None: unknown hosts are cached
# too, so a flood of them costs no queries). Cleared when any tenant or region
# changes (tenants.apps connects the bumps), within a second in every process.
host_cache = generations.ProcessCache("tenants", "TENANT_CACHE_SIZE")


def find_tenant(slug: str, region_code: str) -> Tenant | None:
    tenants = Tenant.objects.select_related("region").filter(
        slug=slug, region__code=region_code, is_active=True
    )
    return next(iter(tenants[:1]), None)


def find_region(code: str) -> Region | None:
    return next(iter(Region.objects.filter(code=code)[:1]), None)


class TenantMiddleware:
    """Resolve the Host header to exactly one tenant or region, or answer 404.

    Sets ``request.tenant`` (and ``request.region``) on a tenant host, or only
    ``request.region`` on a region host, whose URLs are a different set.
    There is no default tenant: an unknown or deactivated tenant is a 404.
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        request.tenant = None
        request.region = None
        if request.path_info in HOST_INDEPENDENT_PATHS:
            return self.get_response(request)

        labels = hosts.parse_host(request.get_host())
        if labels is None:
            return self.not_found(request)
        if labels.tenant is None:
            region = host_cache.get(labels, lambda: find_region(labels.region))
            if region is None:
                return self.not_found(request)
            request.region = region
            request.urlconf = REGION_URLCONF
        else:
            tenant = host_cache.get(labels, lambda: find_tenant(labels.tenant, labels.region))
            if tenant is None:
                return self.not_found(request)
            request.tenant = tenant
            request.region = tenant.region
        return self.get_response(request)

    @staticmethod
    def not_found(request):
        return render(request, "404_host.html", status=404)


def get_tenant_user(request):
    """The session's user, but only on the tenant host where they signed in."""
    if not hasattr(request, "_cached_user"):
        user = auth.get_user(request)
        tenant = request.tenant
        if user.is_authenticated and (
            tenant is None or request.session.get(SESSION_TENANT_KEY) != tenant.pk
        ):
            user = AnonymousUser()
        request._cached_user = user
    return request._cached_user


class TenantAuthenticationMiddleware(AuthenticationMiddleware):
    """Django's authentication, bound to the tenant the session was created at.

    Session cookies are host-only already; this also refuses a session
    cookie copied from one tenant host to another.
    """

    def process_request(self, request):
        request.user = SimpleLazyObject(lambda: get_tenant_user(request))
        request.auser = lambda: sync_to_async(get_tenant_user)(request)
