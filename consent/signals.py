"""Consent grants end with what they were given within.

A user who leaves a tenant, is demoted or is deactivated loses what they
granted there: the bearer check already refuses a token whose member is gone
or inactive; these receivers also withdraw the user's consent grants and
revoke their tokens, so nothing can be refreshed later. A tenant's
connection to a client that ends (its approval revoked, the client
unpublished) takes its users' grants for that client along.
"""

from django.db import transaction

from consent.models import ConsentGrant
from oauth_clients.models import ConnectionConfig
from oauth_clients.services import revoke_tokens
from tenants.models import Membership


def revoke_member_access(membership: Membership) -> None:
    revoke_tokens(membership.tenant, user=membership.user)
    ConsentGrant.objects.for_tenant(membership.tenant).filter(user=membership.user).delete()


def membership_deleted(sender, instance: Membership, **kwargs) -> None:
    transaction.on_commit(lambda: revoke_member_access(instance))


def membership_saving(sender, instance: Membership, **kwargs) -> None:
    """Remember whether this save demotes an admin."""
    if instance.pk is None:
        instance._demoted = False
        return
    previous = Membership.objects.filter(pk=instance.pk).values_list("role", flat=True).first()
    instance._demoted = previous == Membership.Role.ADMIN and instance.role != Membership.Role.ADMIN


def membership_saved(sender, instance: Membership, created: bool, **kwargs) -> None:
    if getattr(instance, "_demoted", False):
        transaction.on_commit(lambda: revoke_member_access(instance))


def user_saved(sender, instance, created: bool, **kwargs) -> None:
    if created or instance.is_active:
        return
    for membership in Membership.objects.filter(user=instance).select_related("tenant"):
        transaction.on_commit(lambda m=membership: revoke_member_access(m))


def connection_deleted(sender, instance: ConnectionConfig, **kwargs) -> None:
    ConsentGrant.objects.filter(tenant_id=instance.tenant_id, client_id=instance.client_id).delete()
