from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from tenants.models import Tenant, TenantScopedQuerySet


class ConsentGrant(models.Model):
    """The scopes a user has allowed a client to use at one tenant.

    Under the *required* consent method the user is asked again only for
    scopes not yet in this grant.
    """

    tenant = models.ForeignKey(Tenant, on_delete=models.CASCADE, related_name="+")
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="consent_grants"
    )
    client = models.ForeignKey(
        settings.OAUTH2_PROVIDER_APPLICATION_MODEL, on_delete=models.CASCADE, related_name="+"
    )
    scopes = models.TextField(_("scopes"), blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    objects = TenantScopedQuerySet.as_manager()

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["tenant", "user", "client"], name="consentgrant_unique"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.user_id} → {self.client_id}: {self.scopes}"

    @property
    def scope_list(self) -> list[str]:
        return self.scopes.split()

    def covers(self, scopes) -> bool:
        return set(scopes) <= set(self.scope_list)
