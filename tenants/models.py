import uuid

from django.conf import settings
from django.contrib.auth.base_user import AbstractBaseUser, BaseUserManager
from django.core.validators import RegexValidator
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from tenants import hosts

# One DNS label: what may stand left of the platform domain in a host name.
dns_label = RegexValidator(
    r"^[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?$",
    _("Use lowercase letters, digits and hyphens (not at the start or end)."),
)


class TenantScopedQuerySet(models.QuerySet):
    """Base queryset for every model that belongs to a tenant.

    ``for_tenant`` is the one way views and services reach tenant-owned rows
    (see ``tenants.scoping``).
    """

    def for_tenant(self, tenant: "Tenant"):
        return self.filter(tenant=tenant)


class UserManager(BaseUserManager):
    use_in_migrations = True

    @classmethod
    def normalize_email(cls, email: str | None) -> str:
        # Email is the login name; compare it case-insensitively by storing it lowercased.
        return (email or "").strip().lower()

    def create_user(self, email: str, password: str | None = None, **fields) -> "User":
        if not email:
            raise ValueError("A user needs an email address.")
        user = self.model(email=self.normalize_email(email), **fields)
        user.set_password(password)
        user.save(using=self._db)
        return user


class User(AbstractBaseUser):
    """A person who can sign in. Which tenants they belong to is in ``Membership``."""

    email = models.EmailField(_("email"), unique=True)
    name = models.CharField(_("name"), max_length=150, blank=True)
    is_active = models.BooleanField(_("active"), default=True)
    # The identity of a machine-to-machine OAuth client (client credentials):
    # no usable password, never signs in through a form.
    is_service = models.BooleanField(default=False)
    date_joined = models.DateTimeField(_("date joined"), default=timezone.now)

    objects = UserManager()

    USERNAME_FIELD = "email"
    EMAIL_FIELD = "email"
    REQUIRED_FIELDS = ["name"]

    class Meta:
        verbose_name = _("user")
        verbose_name_plural = _("users")

    def __str__(self) -> str:
        return self.email

    def clean(self) -> None:
        super().clean()
        self.email = type(self).objects.normalize_email(self.email)

    @property
    def display_name(self) -> str:
        return self.name or self.email


class Region(models.Model):
    code = models.CharField(_("code"), max_length=20, unique=True, validators=[dns_label])
    name = models.CharField(_("name"), max_length=100)

    class Meta:
        ordering = ["code"]
        verbose_name = _("region")
        verbose_name_plural = _("regions")

    def __str__(self) -> str:
        return self.name

    @property
    def hostname(self) -> str:
        return hosts.region_hostname(self.code)


class Tenant(models.Model):
    region = models.ForeignKey(Region, on_delete=models.PROTECT, related_name="tenants")
    slug = models.CharField(_("tenant name"), max_length=63, validators=[dns_label])
    name = models.CharField(_("display name"), max_length=100)
    is_active = models.BooleanField(_("active"), default=True)
    created_at = models.DateTimeField(_("created"), auto_now_add=True)

    class Meta:
        ordering = ["slug"]
        constraints = [
            models.UniqueConstraint(
                fields=["region", "slug"], name="tenant_unique_slug_per_region"
            ),
        ]
        verbose_name = _("tenant")
        verbose_name_plural = _("tenants")

    def __str__(self) -> str:
        return self.name

    @property
    def hostname(self) -> str:
        return hosts.tenant_hostname(self.slug, self.region.code)

    @property
    def base_url(self) -> str:
        """The tenant's public origin, built from settings (also its OAuth issuer)."""
        return hosts.origin(self.hostname)


class MembershipQuerySet(TenantScopedQuerySet):
    """The two directions between a member and a token's ``sub`` at a tenant."""

    def subject_of(self, tenant: "Tenant", user_id) -> str | None:
        """The token subject of ``user_id`` at ``tenant``, while an active member there."""
        subjects = self.for_tenant(tenant).filter(user_id=user_id, user__is_active=True)
        # [:1], not .first(): one row at most, so no ORDER BY is needed.
        subject = next(iter(subjects.values_list("subject", flat=True)[:1]), None)
        return str(subject) if subject is not None else None

    def member_for(self, tenant: "Tenant", subject: str) -> "Membership | None":
        """The active member (with the user) whom a token subject stands for at ``tenant``."""
        members = self.for_tenant(tenant).filter(subject=subject, user__is_active=True)
        return next(iter(members.select_related("user")[:1]), None)


class Membership(models.Model):
    class Role(models.TextChoices):
        ADMIN = "admin", _("Tenant admin")
        MEMBER = "member", _("Member")

    tenant = models.ForeignKey(Tenant, on_delete=models.CASCADE, related_name="memberships")
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="memberships"
    )
    role = models.CharField(_("role"), max_length=10, choices=Role.choices, default=Role.MEMBER)
    # The opaque, stable "sub" of this user's tokens at this tenant: it says
    # nothing about the user and differs between tenants.
    subject = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    created_at = models.DateTimeField(_("created"), auto_now_add=True)

    objects = MembershipQuerySet.as_manager()

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["tenant", "user"], name="membership_unique_user"),
        ]
        verbose_name = _("membership")
        verbose_name_plural = _("memberships")

    def __str__(self) -> str:
        return f"{self.user} @ {self.tenant.slug} ({self.role})"

    @property
    def is_admin(self) -> bool:
        return self.role == self.Role.ADMIN


class AuditEvent(models.Model):
    """Who did what, when, in a tenant. Rows outlive what they describe.

    The actor and target are also kept as text, so an event stays readable
    after the user or the object is gone.
    """

    tenant = models.ForeignKey(Tenant, on_delete=models.CASCADE, related_name="audit_events")
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    actor_label = models.CharField(max_length=254, blank=True)
    action = models.CharField(max_length=64)
    target_type = models.CharField(max_length=64, blank=True)
    target_id = models.CharField(max_length=64, blank=True)
    target_label = models.CharField(max_length=255, blank=True)
    data = models.JSONField(default=dict, blank=True)
    created_at = models.DateTimeField(default=timezone.now)

    objects = TenantScopedQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [
            models.Index(fields=["tenant", "-created_at"], name="audit_tenant_recent"),
            models.Index(fields=["tenant", "target_type", "target_id"], name="audit_tenant_target"),
        ]

    def __str__(self) -> str:
        return f"{self.created_at:%Y-%m-%d %H:%M} {self.actor_label} {self.action}"


class Generation(models.Model):
    """A counter per kind of cached row (``tenants.generations``): bumped on every change."""

    name = models.CharField(max_length=50, primary_key=True)
    value = models.BigIntegerField(default=0)

    def __str__(self) -> str:
        return f"{self.name}: {self.value}"
