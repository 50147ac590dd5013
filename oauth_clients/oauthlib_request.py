"""Reading our context off oauthlib's request object."""

from django.core.exceptions import ImproperlyConfigured

# The key under which the backend hands the resolved tenant to oauthlib. It is
# not an HTTP header name (those arrive as HTTP_*), so no client can set it.
TENANT_KEY = "oauth_clients.tenant"
# When the signed-in user authenticated (authorization requests only).
AUTH_TIME_KEY = "oauth_clients.auth_time"
# The sender's address, as rate limits count it (tenants.ratelimit.client_address).
CLIENT_ADDRESS_KEY = "oauth_clients.client_address"


def __init__(self):
    self.clients = {}


def client_address_of(request) -> str:
    return request.headers.get(CLIENT_ADDRESS_KEY, "")


def tenant_of(request):
    """The tenant whose host received this oauthlib request."""
    tenant = request.headers.get(TENANT_KEY)
    if tenant is None:
        raise ImproperlyConfigured("OAuth request without a tenant: is TenantOAuthLibCore in use?")
    return tenant
