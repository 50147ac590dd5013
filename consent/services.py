from django.conf import settings
from django.db import transaction

from consent.models import ConsentGrant
from oauth_clients import lookups
from oauth_clients.models import ADMIN_SCOPES, ConnectionConfig, OAuthClient
from oauth_clients.services import revoke_tokens
from tenants.models import Membership, Tenant


def scope_descriptions() -> dict[str, str]:
    return {name: str(text) for name, text in settings.OAUTH2_PROVIDER["SCOPES"].items()}


def find_published_client(region, client_id: str) -> OAuthClient | None:
    """A live client published in ``region`` (the region host knows no tenant yet)."""
    if not client_id or "\x00" in client_id:
        return None
    return (
        OAuthClient.objects.filter(
            client_id=client_id,
            tenant__region=region,
            published_at__isnull=False,
            deleted_at__isnull=True,
        )
        .select_related("tenant")
        .first()
    )


def connection_at(tenant: Tenant, client: OAuthClient) -> ConnectionConfig:
    """This tenant's connection to ``client``: the consent method here, and for another
    tenant's published client, what this tenant approved (unsaved and unapproved if never)."""
    return lookups.connection(client, tenant) or ConnectionConfig(client=client, tenant=tenant)


def needs_approval(tenant: Tenant, client: OAuthClient, config: ConnectionConfig, scopes) -> bool:
    """Another tenant's client asking here for a scope this tenant's admin has not approved."""
    return client.is_external_to(tenant) and not config.covers(scopes)


def is_tenant_admin(tenant: Tenant, user) -> bool:
    return (
        Membership.objects.for_tenant(tenant).filter(user=user, role=Membership.Role.ADMIN).exists()
    )


def needs_consent(
    tenant: Tenant, user, client: OAuthClient, scopes, prompt, config: ConnectionConfig
) -> bool:
    """Whether to show the consent page: ``prompt=consent``, or the *required* method
    with a scope this user has not yet granted this client at this tenant.

    An admin scope asked for by another tenant's client is always the user's own
    decision: the *trusted* method does not cover it.
    """
    if "consent" in prompt:
        return True
    trusted = config.consent_method == ConnectionConfig.ConsentMethod.TRUSTED
    if trusted and (not client.is_external_to(tenant) or ADMIN_SCOPES.isdisjoint(scopes)):
        return False
    grant = ConsentGrant.objects.for_tenant(tenant).filter(user=user, client=client).first()
    return grant is None or not grant.covers(scopes)


@transaction.atomic
def record_consent(tenant: Tenant, user, client: OAuthClient, scopes) -> ConsentGrant:
    """Remember the scopes the user allowed; later requests ask only for new ones."""
    grant, _ = ConsentGrant.objects.select_for_update().get_or_create(
        tenant=tenant, user=user, client=client
    )
    merged = sorted(set(grant.scope_list) | set(scopes))
    if merged != sorted(grant.scope_list):
        grant.scopes = " ".join(merged)
        grant.save(update_fields=["scopes", "updated_at"])
    return grant


@transaction.atomic
def revoke_consent(grant: ConsentGrant) -> None:
    """The user withdraws: the grant goes, and so do that client's tokens for them here."""
    revoke_tokens(grant.tenant, client=grant.client, user=grant.user)
    grant.delete()
