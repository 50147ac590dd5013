"""Give existing rows the scopes the new columns record.

- A refresh token's ``scope`` is the scope its family was granted: read from
  the access token it is paired with (or, for a rotated one, the access token
  minted from it).
- An approval of another tenant's published client covered, until now,
  whatever the client asked for. From here on it covers a set of scopes:
  existing approvals get the client's scopes at migration time, admin scopes
  excluded (those need the tenant admin's explicit approval). Tokens issued
  at the approving tenant that hold a scope outside that set are revoked,
  with their whole refresh family.
"""

from django.db import migrations
from django.db.models import F, OuterRef, Subquery, Value
from django.db.models.functions import Coalesce
from django.utils import timezone

# As defined in oauth_clients.models at the time of this migration.
ADMIN_SCOPES = {"admin_classic"}


def backfill_refresh_scopes(apps, schema_editor):
    RefreshToken = apps.get_model("oauth_clients", "RefreshToken")
    AccessToken = apps.get_model("oauth_clients", "AccessToken")
    paired = AccessToken.objects.filter(pk=OuterRef("access_token_id")).values("scope")[:1]
    minted = AccessToken.objects.filter(source_refresh_token=OuterRef("pk")).values("scope")[:1]
    RefreshToken.objects.filter(scope="").update(
        scope=Coalesce(Subquery(paired), Subquery(minted), Value(""))
    )


def scope_existing_approvals(apps, schema_editor):
    ConnectionConfig = apps.get_model("oauth_clients", "ConnectionConfig")
    RefreshToken = apps.get_model("oauth_clients", "RefreshToken")
    AccessToken = apps.get_model("oauth_clients", "AccessToken")
    RevokedToken = apps.get_model("oauth_clients", "RevokedToken")
    now = timezone.now()
    approvals = (
        ConnectionConfig.objects.filter(approved_at__isnull=False)
        .exclude(tenant_id=F("client__tenant_id"))
        .select_related("client")
    )
    for config in approvals:
        approved = [s for s in config.client.allowed_scopes.split() if s not in ADMIN_SCOPES]
        config.approved_scopes = " ".join(approved)
        config.save(update_fields=["approved_scopes"])

        def outside(scope: str) -> bool:
            return not set(scope.split()) <= set(approved)  # noqa: B023 - used at once

        here = {"tenant_id": config.tenant_id, "application_id": config.client_id}
        families = {
            family
            for family, scope in RefreshToken.objects.filter(**here, revoked__isnull=True)
            .values_list("token_family", "scope")
            .iterator()
            if outside(scope)
        }
        doomed = {
            pk
            for pk, scope in AccessToken.objects.filter(**here).values_list("pk", "scope").iterator()
            if outside(scope)
        }
        families.discard(None)
        if families:
            RefreshToken.objects.filter(token_family__in=families, revoked__isnull=True).update(
                revoked=now, updated=now, access_token=None
            )
            doomed |= set(
                AccessToken.objects.filter(token_family__in=families).values_list("pk", flat=True)
            )
        tokens = AccessToken.objects.filter(pk__in=doomed)
        for jti, expires in tokens.exclude(jti=None).values_list("jti", "expires"):
            RevokedToken.objects.get_or_create(jti=jti, defaults={"expires_at": expires})
        RefreshToken.objects.filter(access_token__in=doomed).update(access_token=None)
        tokens.delete()


class Migration(migrations.Migration):
    dependencies = [
        ("oauth_clients", "0004_approved_scopes_refresh_scope_auth_time"),
    ]

    operations = [
        migrations.RunPython(backfill_refresh_scopes, migrations.RunPython.noop),
        migrations.RunPython(scope_existing_approvals, migrations.RunPython.noop),
    ]
