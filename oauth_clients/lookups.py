"""The OAuth clients and connections the hot paths read, from a per-process cache.

The token endpoint, the authorization endpoint and CORS read the same
clients again and again. A client is loaded once per process with its
tenant, region and secrets (``tenants.generations``: a bounded LRU cache,
emptied within a second of any change to a client, a secret or a
connection, in every process, by database triggers; at once in the
process that made it). The instances are shared between requests: read
them, never change them (the secrets' last-used stamp aside).
"""

from django.db.models import Q

from oauth_clients.models import AllowedOrigin, ConnectionConfig, OAuthClient
from tenants import generations

cache = generations.ProcessCache("clients", "CLIENT_CACHE_SIZE")


def client(client_id: str) -> OAuthClient | None:
    """The client with this ID (deleted ones too: callers check), with its secrets."""
    return cache.get(("client", client_id), lambda: _load(client_id))


def _load(client_id: str) -> OAuthClient | None:
    found = (
        OAuthClient.objects.select_related("tenant__region")
        .prefetch_related("secrets")
        .filter(client_id=client_id)
    )
    return next(iter(found[:1]), None)


def connection(client: OAuthClient, tenant) -> ConnectionConfig | None:
    """``tenant``'s connection to ``client`` (consent method, approval), if it has one."""
    return cache.get(
        ("connection", client.pk, tenant.pk),
        lambda: ConnectionConfig.objects.filter(client=client, tenant=tenant).first(),
    )


def origin_allowed(origin: str, tenant) -> bool:
    """Registered by a live SPA client of this tenant, or of another tenant approved here."""
    return cache.get(("origin", origin, tenant.pk), lambda: _origin_allowed(origin, tenant))


def _origin_allowed(origin: str, tenant) -> bool:
    usable_here = Q(client__tenant=tenant) | Q(
        client__published_at__isnull=False,
        client__connection_configs__tenant=tenant,
        client__connection_configs__approved_at__isnull=False,
    )
    return (
        AllowedOrigin.objects.filter(
            usable_here, origin=origin, client__deleted_at__isnull=True, client__app_type="spa"
        )
        .values("pk")[:1]
        .exists()
    )
