"""The OAuth client and the four token models django-oauth-toolkit stores.

All five are DOT's swappable models (``OAUTH2_PROVIDER_*_MODEL``), so that
each row carries the tenant it belongs to: a client its owner tenant, a
code or token the tenant where it was issued.
"""

import secrets

from django.db import models
from oauth2_provider.models import (
    AbstractAccessToken,
    AbstractApplication,
    AbstractGrant,
    AbstractIDToken,
    AbstractRefreshToken,
    ApplicationManager,
    ClientSecretField,
)

from tenants.models import Tenant, TenantScopedQuerySet


def generate_client_id() -> str:
    """32 lowercase hex characters (128 random bits), unique across the platform."""
    return secrets.token_hex(16)


class OAuthClientQuerySet(TenantScopedQuerySet):
    pass


class OAuthClient(AbstractApplication):
    tenant = models.ForeignKey(Tenant, on_delete=models.CASCADE, related_name="oauth_clients")
    client_id = models.CharField(
        max_length=32, unique=True, default=generate_client_id, editable=False
    )
    # Our own ClientSecret rows hold the secrets (as keyed digests); DOT's
    # column stays empty and unhashed, so creating a client costs no PBKDF2.
    client_secret = ClientSecretField(max_length=255, blank=True, default="")
    hash_client_secret = models.BooleanField(default=False)

    objects = ApplicationManager.from_queryset(OAuthClientQuerySet)()

    class Meta(AbstractApplication.Meta):
        swappable = "OAUTH2_PROVIDER_APPLICATION_MODEL"

    def natural_key(self):
        return (self.client_id,)


class AuthorizationCode(AbstractGrant):
    tenant = models.ForeignKey(Tenant, on_delete=models.CASCADE, related_name="+")

    objects = TenantScopedQuerySet.as_manager()

    class Meta(AbstractGrant.Meta):
        swappable = "OAUTH2_PROVIDER_GRANT_MODEL"


class AccessToken(AbstractAccessToken):
    tenant = models.ForeignKey(Tenant, on_delete=models.CASCADE, related_name="+")
    # The JWT's "jti": how a signed token is found again to revoke it.
    jti = models.CharField(max_length=64, unique=True, null=True, blank=True)

    objects = TenantScopedQuerySet.as_manager()

    class Meta(AbstractAccessToken.Meta):
        swappable = "OAUTH2_PROVIDER_ACCESS_TOKEN_MODEL"


class RefreshToken(AbstractRefreshToken):
    tenant = models.ForeignKey(Tenant, on_delete=models.CASCADE, related_name="+")

    objects = TenantScopedQuerySet.as_manager()

    class Meta(AbstractRefreshToken.Meta):
        swappable = "OAUTH2_PROVIDER_REFRESH_TOKEN_MODEL"


class IDToken(AbstractIDToken):
    tenant = models.ForeignKey(Tenant, on_delete=models.CASCADE, related_name="+")

    objects = TenantScopedQuerySet.as_manager()

    class Meta(AbstractIDToken.Meta):
        swappable = "OAUTH2_PROVIDER_ID_TOKEN_MODEL"
