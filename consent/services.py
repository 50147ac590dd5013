from django.conf import settings
from django.db import transaction

from consent.models import ConsentGrant
from oauth_clients.models import ConnectionConfig, OAuthClient
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


def is_approved(tenant: Tenant, client: OAuthClient) -> bool:
    return (
        ConnectionConfig.objects.for_tenant(tenant)
        .filter(client=client, approved_at__isnull=False)
        .exists()
    )


def is_tenant_admin(tenant: Tenant, user) -> bool:
    return (
        Membership.objects.for_tenant(tenant).filter(user=user, role=Membership.Role.ADMIN).exists()
    )


def needs_consent(tenant: Tenant, user, client: OAuthClient, scopes, prompt=frozenset()) -> bool:
    """Whether to show the consent page: ``prompt=consent``, or the *required* method
    with a scope this user has not yet granted this client at this tenant."""
    if "consent" in prompt:
        return True
    config = ConnectionConfig.objects.for_tenant(tenant).filter(client=client).first()
    if config is not None and config.consent_method == ConnectionConfig.ConsentMethod.TRUSTED:
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
