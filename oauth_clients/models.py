"""The OAuth client, its secrets and per-tenant connection configs, and the
four token models django-oauth-toolkit stores.

The client and the token models are DOT's swappable models
(``OAUTH2_PROVIDER_*_MODEL``), so that each row carries its tenant: a
client its owner tenant, a code or token the tenant where it was issued.
"""

import hashlib
import hmac
import secrets
import uuid
from datetime import timedelta
from urllib.parse import urlsplit

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.functional import cached_property
from django.utils.translation import gettext_lazy as _
from oauth2_provider.models import (
    AbstractAccessToken,
    AbstractApplication,
    AbstractGrant,
    AbstractIDToken,
    AbstractRefreshToken,
    ApplicationManager,
    ClientSecretField,
)

from oauth_clients import uris
from oauth_clients.oauthlib_request import tenant_of
from tenants.models import Tenant, TenantScopedQuerySet


def generate_client_id() -> str:
    """32 lowercase hex characters (128 random bits), unique across the platform."""
    return secrets.token_hex(16)


def platform_scopes() -> list[str]:
    """The scopes a client may be allowed, in the order the console lists them."""
    return list(settings.OAUTH2_PROVIDER["SCOPES"])


# Scopes that administer a tenant. Granted only to tenant admins; a published
# client of another tenant gets one only through that tenant admin's explicit
# approval of it, and then only with each user's own consent.
ADMIN_SCOPES = frozenset({"admin_classic"})


# What the audit trail says for each action on a client.
AUDIT_ACTION_LABELS = {
    "oauth_client.created": _("Created the client"),
    "oauth_client.updated": _("Edited the client"),
    "oauth_client.secret_generated": _("Generated a client secret"),
    "oauth_client.secret_deleted": _("Deleted a client secret"),
    "oauth_client.published": _("Published the client"),
    "oauth_client.deleted": _("Deleted the client"),
    "oauth_client.unpublished": _("Unpublished the client"),
    "oauth_client.approved": _("Approved the client for this tenant"),
    "oauth_client.approval_widened": _("Approved more scopes for the client at this tenant"),
    "oauth_client.approval_revoked": _("Revoked the client's access to this tenant"),
    "oauth_client.consent_method_changed": _("Changed the consent method"),
    "oauth_client.code_replayed": _(
        "An authorization code was used twice; its tokens were revoked"
    ),
    "oauth_client.refresh_family_revoked": _(
        "A refresh token was used again; its token family was revoked"
    ),
    "oauth_client.authentication_failures": _("Many failed client authentications"),
}


class OAuthClientQuerySet(TenantScopedQuerySet):
    def for_tenant(self, tenant: Tenant):
        """The clients a tenant owns and has not deleted."""
        return self.filter(tenant=tenant, deleted_at__isnull=True)


class OAuthClient(AbstractApplication):
    class AppType(models.TextChoices):
        WEB = "web", _("Web")
        SPA = "spa", _("Single-page app")
        NATIVE = "native", _("Native")

    tenant = models.ForeignKey(Tenant, on_delete=models.CASCADE, related_name="oauth_clients")
    client_id = models.CharField(
        max_length=32, unique=True, default=generate_client_id, editable=False
    )
    # Our ClientSecret rows hold the secrets (as keyed digests); DOT's column
    # stays empty and unhashed, so creating a client costs no PBKDF2.
    client_secret = ClientSecretField(max_length=255, blank=True, default="")
    hash_client_secret = models.BooleanField(default=False)

    # Shown to other tenants' users on consent and approval pages.
    NAME_MAX_LENGTH = 100
    DESCRIPTION_MAX_LENGTH = 1000

    description = models.TextField(_("description"), max_length=DESCRIPTION_MAX_LENGTH, blank=True)
    app_type = models.CharField(
        _("client type"), max_length=10, choices=AppType.choices, default=AppType.WEB
    )
    allowed_scopes = models.TextField(_("scopes"), blank=True, help_text="space separated")
    machine_to_machine = models.BooleanField(_("machine-to-machine"), default=False)

    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    updated_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    published_at = models.DateTimeField(_("published"), null=True, blank=True)
    published_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    deleted_at = models.DateTimeField(null=True, blank=True, db_index=True)
    # The identity of a machine-to-machine client's own tokens.
    service_user = models.OneToOneField(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="service_client",
    )

    objects = ApplicationManager.from_queryset(OAuthClientQuerySet)()

    class Meta(AbstractApplication.Meta):
        swappable = "OAUTH2_PROVIDER_APPLICATION_MODEL"
        verbose_name = _("OAuth client")
        verbose_name_plural = _("OAuth clients")
        indexes = [models.Index(fields=["tenant", "name"], name="oauthclient_tenant_name")]

    def natural_key(self):
        return (self.client_id,)

    def save(self, *args, **kwargs):
        # DOT's own fields follow from the client type.
        self.client_type = (
            self.CLIENT_CONFIDENTIAL if self.app_type == self.AppType.WEB else self.CLIENT_PUBLIC
        )
        self.authorization_grant_type = self.GRANT_AUTHORIZATION_CODE
        # ID tokens are signed with the platform's RSA key.
        self.algorithm = self.RS256_ALGORITHM
        if self.app_type != self.AppType.WEB:
            self.machine_to_machine = False
        super().save(*args, **kwargs)

    # --- Lists stored space-separated, as DOT stores redirect URIs --------------
    @property
    def redirect_uri_list(self) -> list[str]:
        return self.redirect_uris.split()

    @property
    def allowed_origin_list(self) -> list[str]:
        return self.allowed_origins.split()

    @property
    def allowed_scope_list(self) -> list[str]:
        return self.allowed_scopes.split()

    # --- State -----------------------------------------------------------------
    @property
    def is_confidential(self) -> bool:
        return self.app_type == self.AppType.WEB

    @property
    def is_published(self) -> bool:
        return self.published_at is not None

    @property
    def is_deleted(self) -> bool:
        return self.deleted_at is not None

    # --- Rules -----------------------------------------------------------------
    def clean(self) -> None:
        """Not DOT's rules, which would refuse loopback http origins.

        Ours are ``services.validate_client_data``: every write through the
        services runs them on the fields as entered, before the lists are
        joined for storage (a joined list can no longer say which item was wrong).
        """

    def redirect_uri_allowed(self, uri: str) -> bool:
        """Exact, case-sensitive match with a registered URL (RFC 9700 §4.1.3).

        The one tolerance: the port of a loopback http URL, which a native app
        picks at run time (RFC 8252 §7.3).
        """
        registered = self.redirect_uri_list
        if uri in registered:
            return True
        if not uris.is_loopback_http(uri):
            return False
        wanted = uris.without_port(uri)
        return any(
            uris.is_loopback_http(candidate) and uris.without_port(candidate) == wanted
            for candidate in registered
        )

    def is_usable(self, request) -> bool:
        """DOT's checkpoint at authorize, token and revocation.

        A live client owned by this tenant, or published in this tenant's
        region. Whether this tenant has approved a published client is a
        separate check (the authorize view, then token and refresh), so an
        unapproved client reaches the approval page instead of looking unknown.
        """
        return self.deleted_at is None and self.usable_at(tenant_of(request))

    def usable_at(self, tenant) -> bool:
        if self.tenant_id == tenant.pk:
            return True
        return self.is_published and self.tenant.region_id == tenant.region_id

    def is_external_to(self, tenant) -> bool:
        return self.tenant_id != tenant.pk

    def get_allowed_schemes(self) -> list[str]:
        """https, plus the schemes of registered loopback or private-use redirect URLs."""
        return sorted({"https", *(urlsplit(uri).scheme for uri in self.redirect_uri_list)})

    def allows_grant_type(self, *grant_types) -> bool:
        allowed = {self.GRANT_AUTHORIZATION_CODE}
        if self.machine_to_machine and self.app_type == self.AppType.WEB:
            allowed.add(self.GRANT_CLIENT_CREDENTIALS)
        return bool(allowed.intersection(grant_types))


class ConnectionConfig(models.Model):
    """How one tenant uses one client: its consent method there, and its approval.

    The owner tenant's row is created with the client. Another tenant gets a
    row when its admin approves a published client.
    """

    class ConsentMethod(models.TextChoices):
        REQUIRED = "required", _("Required")
        TRUSTED = "trusted", _("Trusted")

    client = models.ForeignKey(
        OAuthClient, on_delete=models.CASCADE, related_name="connection_configs"
    )
    tenant = models.ForeignKey(Tenant, on_delete=models.CASCADE, related_name="+")
    consent_method = models.CharField(
        _("consent method"),
        max_length=10,
        choices=ConsentMethod.choices,
        default=ConsentMethod.REQUIRED,
    )
    approved_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    approved_at = models.DateTimeField(null=True, blank=True)
    # What this tenant's admin approved of another tenant's published client
    # (space separated): the client may ask for these here, nothing more. Its
    # owner may widen the client; each new scope needs this tenant's approval.
    approved_scopes = models.TextField(blank=True, default="")
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    objects = TenantScopedQuerySet.as_manager()

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["client", "tenant"], name="connectionconfig_unique"),
        ]

    def __str__(self) -> str:
        return f"{self.client_id} @ {self.tenant_id}: {self.consent_method}"

    @property
    def is_approved(self) -> bool:
        return self.approved_at is not None

    @property
    def approved_scope_list(self) -> list[str]:
        return self.approved_scopes.split()

    def covers(self, scopes) -> bool:
        """Whether this tenant's approval covers every one of ``scopes``."""
        return self.is_approved and set(scopes) <= set(self.approved_scope_list)

    @property
    def pending_scopes(self) -> list[str]:
        """What the client may ask for that this tenant has not approved (its owner widened it)."""
        return self.unapproved(self.client.allowed_scope_list)

    def unapproved(self, scopes) -> list[str]:
        """The scopes among ``scopes`` that this tenant has not approved, in their order."""
        approved = set(self.approved_scope_list) if self.is_approved else set()
        return [scope for scope in scopes if scope not in approved]


def token_checksum(token: str) -> str:
    """How a stored token row is found again: SHA-256 of the token, as DOT stores it."""
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def secret_digest(plaintext: str) -> str:
    """HMAC-SHA256 of a client secret under its dedicated key.

    Client secrets carry 256+ random bits, so a fast keyed hash is as safe as
    a slow password hash here and costs microseconds on the token endpoint.
    """
    key = settings.CLIENT_SECRET_DIGEST_KEY.encode()
    return hmac.new(key, plaintext.encode(), hashlib.sha256).hexdigest()


class ClientSecret(models.Model):
    """One of a confidential client's secrets; several may be valid at once (rotation)."""

    HINT_LENGTH = 5

    client = models.ForeignKey(OAuthClient, on_delete=models.CASCADE, related_name="secrets")
    tenant = models.ForeignKey(Tenant, on_delete=models.CASCADE, related_name="+")
    digest = models.CharField(max_length=64)
    hint = models.CharField(_("hint"), max_length=HINT_LENGTH)
    created_at = models.DateTimeField(_("created"), default=timezone.now)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    last_used_at = models.DateTimeField(_("last used"), null=True, blank=True)
    expires_at = models.DateTimeField(_("expires"), null=True, blank=True)

    objects = TenantScopedQuerySet.as_manager()

    class Meta:
        ordering = ["created_at", "id"]
        constraints = [
            models.UniqueConstraint(fields=["client", "hint"], name="clientsecret_unique_hint"),
        ]

    def __str__(self) -> str:
        return f"…{self.hint}"

    def matches(self, plaintext: str) -> bool:
        return hmac.compare_digest(secret_digest(plaintext), self.digest)

    def is_expired(self, now=None) -> bool:
        return self.expires_at is not None and (now or timezone.now()) >= self.expires_at

    @cached_property
    def masked(self) -> str:
        return f"••••••{self.hint}"


class AuthorizationCode(AbstractGrant):
    tenant = models.ForeignKey(Tenant, on_delete=models.CASCADE, related_name="+")
    # A redeemed code is kept, marked used, until it expires: a second
    # redemption is then recognised as a replay (RFC 6749 §4.1.2).
    used_at = models.DateTimeField(null=True, blank=True)
    # Every token issued from this code (and from their refreshes) carries this
    # family, so a replay of the code revokes them all.
    token_family = models.UUIDField(default=uuid.uuid4, editable=False)
    # When the user last proved who they are in the session that got this code:
    # the ID token's auth_time (OpenID Connect Core §2), not the user's last_login,
    # which any of their browsers moves.
    auth_time = models.DateTimeField(null=True, blank=True)

    objects = TenantScopedQuerySet.as_manager()

    class Meta(AbstractGrant.Meta):
        swappable = "OAUTH2_PROVIDER_GRANT_MODEL"


class AccessToken(AbstractAccessToken):
    tenant = models.ForeignKey(Tenant, on_delete=models.CASCADE, related_name="+")
    # The JWT's "jti": how a signed token is found again to revoke it.
    jti = models.CharField(max_length=64, unique=True, null=True, blank=True)
    token_family = models.UUIDField(null=True, blank=True, db_index=True)

    objects = TenantScopedQuerySet.as_manager()

    class Meta(AbstractAccessToken.Meta):
        swappable = "OAUTH2_PROVIDER_ACCESS_TOKEN_MODEL"


class RefreshToken(AbstractRefreshToken):
    tenant = models.ForeignKey(Tenant, on_delete=models.CASCADE, related_name="+")
    # When the family (the first token of the chain of rotations) was issued:
    # the family's absolute lifetime counts from here, not from the last refresh.
    family_started_at = models.DateTimeField(null=True, blank=True)
    # The scope the family was granted (RFC 6749 §6: a refresh may narrow the
    # access token's scope, never the refresh token's). Each rotation keeps it,
    # less what the client may no longer have.
    scope = models.TextField(blank=True, default="")
    # The sign-in behind the family (its ID tokens' auth_time).
    auth_time = models.DateTimeField(null=True, blank=True)

    objects = TenantScopedQuerySet.as_manager()

    def family_has_ended(self, now=None) -> bool:
        """Past the family's absolute lifetime, however often it was refreshed."""
        if self.family_started_at is None:
            return False
        lifetime = timedelta(seconds=settings.OAUTH2_PROVIDER["REFRESH_TOKEN_EXPIRE_SECONDS"])
        return self.family_started_at + lifetime <= (now or timezone.now())

    class Meta(AbstractRefreshToken.Meta):
        swappable = "OAUTH2_PROVIDER_REFRESH_TOKEN_MODEL"


class IDToken(AbstractIDToken):
    tenant = models.ForeignKey(Tenant, on_delete=models.CASCADE, related_name="+")

    objects = TenantScopedQuerySet.as_manager()

    class Meta(AbstractIDToken.Meta):
        swappable = "OAUTH2_PROVIDER_ID_TOKEN_MODEL"


class RevokedToken(models.Model):
    """Access tokens (JWTs, by ``jti``) revoked before they expire.

    Every process keeps this list in memory and refreshes it at most once a
    second, so a bearer check needs no database round trip for revocation.
    Rows can go once the token has expired.
    """

    jti = models.CharField(max_length=64, unique=True)
    expires_at = models.DateTimeField(db_index=True)
    revoked_at = models.DateTimeField(default=timezone.now, db_index=True)

    def __str__(self) -> str:
        return self.jti


class AllowedOrigin(models.Model):
    """The allowed origins of SPA clients, indexed for CORS.

    A preflight request carries no client_id, so the origin alone is looked up.
    """

    client = models.ForeignKey(OAuthClient, on_delete=models.CASCADE, related_name="origin_rows")
    origin = models.CharField(max_length=2000, db_index=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["client", "origin"], name="allowedorigin_unique"),
        ]

    def __str__(self) -> str:
        return self.origin
