"""Everything that writes OAuth clients: one transaction and one audit entry per action.

The console and the management API call these; the rules for a client's
fields are ``validate_client_data``, which both run on their input and every
write here runs again. Never in a view, never only in a form.
"""

import logging
import secrets
from dataclasses import dataclass, field
from datetime import timedelta
from functools import partial

from django.conf import settings
from django.contrib.auth.hashers import make_password
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.validators import MaxLengthValidator
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from oauth_clients import uris
from oauth_clients.models import (
    ADMIN_SCOPES,
    AccessToken,
    AllowedOrigin,
    AuthorizationCode,
    ClientSecret,
    ConnectionConfig,
    IDToken,
    OAuthClient,
    RefreshToken,
    platform_scopes,
    secret_digest,
)
from oauth_clients.revocation import record_revocations
from tenants import generations, telemetry
from tenants.models import Membership, Tenant, User
from tenants.services import record_event
from tenants.text import validate_visible_text

SECRET_RANDOM_BYTES = 36  # 72 hex characters: 268 random bits besides the 5-character hint
SECRET_EXPIRY_DAYS = (30, 90, 180, 365)


@dataclass
class ClientData:
    """The editable fields of a client, as a form or the API hands them over."""

    name: str
    description: str = ""
    redirect_uris: list[str] = field(default_factory=list)
    allowed_origins: list[str] = field(default_factory=list)
    allowed_scopes: list[str] = field(default_factory=list)
    machine_to_machine: bool = False
    consent_method: str = ConnectionConfig.ConsentMethod.REQUIRED


def client_limit(name: str) -> int:
    """How many redirect URLs, allowed origins, secrets or clients there may be."""
    return settings.OAUTH_CLIENT_LIMITS[name]


def validate_client_data(data: ClientData, *, app_type: str) -> None:
    """The rules for a client's editable fields, whichever way they come in (console, API).

    Raises ``ValidationError`` keyed by ``ClientData`` field, with every broken
    rule at once. An error about one item of a list carries the item's
    position as ``params["index"]`` (the API points at it, RFC 6901).
    """
    errors = {
        "name": _text_errors(data.name, OAuthClient.NAME_MAX_LENGTH, required=True),
        "description": _text_errors(
            data.description, OAuthClient.DESCRIPTION_MAX_LENGTH, multiline=True
        ),
        "app_type": (
            []
            if app_type in OAuthClient.AppType.values
            else [ValidationError(_("Choose a client type."), code="invalid_choice")]
        ),
        "redirect_uris": _redirect_uri_errors(data.redirect_uris, app_type=app_type),
        "allowed_origins": _origin_errors(data.allowed_origins, app_type=app_type),
        "allowed_scopes": _scope_errors(data.allowed_scopes),
        "machine_to_machine": (
            [ValidationError(_("Only Web clients can be machine-to-machine."))]
            if data.machine_to_machine and app_type != OAuthClient.AppType.WEB
            else []
        ),
        "consent_method": (
            []
            if data.consent_method in ConnectionConfig.ConsentMethod.values
            else [ValidationError(_("Choose Required or Trusted."))]
        ),
    }
    errors = {name: found for name, found in errors.items() if found}
    if errors:
        raise ValidationError(errors)


def validate_list_item(name: str, value: str, *, app_type: str) -> None:
    """One redirect URL (RFC 9700 §4.1.3; a native app's private-use scheme, RFC 8252 §7.1)
    or one allowed origin."""
    if name == "redirect_uris":
        native = app_type == OAuthClient.AppType.NATIVE
        uris.validate_redirect_uri(value, allow_private_use_scheme=native)
    else:
        uris.validate_origin(value)


def _required() -> ValidationError:
    return ValidationError(_("This field is required."), code="required")


def _text_errors(value: str, max_length: int, *, required=False, multiline=False) -> list:
    """A name or description: shown to other tenants' users, so visible text only."""
    if required and not value.strip():
        return [_required()]
    return _collect(
        partial(validate_visible_text, allow_newlines=multiline),
        MaxLengthValidator(max_length),
        value=value,
    )


def _collect(*validators, value) -> list:
    found = []
    for validate in validators:
        try:
            validate(value)
        except ValidationError as error:
            found.extend(error.error_list)
    return found


def _list_errors(name: str, values: list[str], *, app_type: str) -> list:
    """Each item's own problem, then the first duplicate, then the limit."""
    found = []
    for index, value in enumerate(values):
        try:
            validate_list_item(name, value, app_type=app_type)
        except ValidationError as error:
            found.append(_item_error(index, value, error.messages[0]))
    found += _collect(uris.validate_unique, value=values)
    if len(values) > client_limit(name):
        found.append(
            ValidationError(_("At most %(max)d are allowed."), params={"max": client_limit(name)})
        )
    return found


def _item_error(index: int, value: str, reason: str) -> ValidationError:
    return ValidationError(
        "%(value)s: %(reason)s", params={"value": value, "reason": reason, "index": index}
    )


def _redirect_uri_errors(values: list[str], *, app_type: str) -> list:
    if not values:
        return [ValidationError(_("Add at least one redirect URL."), code="required")]
    return _list_errors("redirect_uris", values, app_type=app_type)


def _origin_errors(values: list[str], *, app_type: str) -> list:
    """Only a single-page app runs in a browser and needs CORS (the token endpoint's)."""
    if values and app_type != OAuthClient.AppType.SPA:
        return [ValidationError(_("Only single-page apps have allowed origins."))]
    return _list_errors("allowed_origins", values, app_type=app_type)


def _scope_errors(values: list[str]) -> list:
    """At least one scope, each one of the platform's (settings ``OAUTH2_PROVIDER["SCOPES"]``)."""
    if not values:
        return [_required()]
    known = set(platform_scopes())
    found = [
        ValidationError(_("Unknown scope: %(scopes)s"), params={"scopes": value, "index": index})
        for index, value in enumerate(values)
        if value not in known
    ]
    return found + _collect(uris.validate_unique, value=values)


def _apply(client: OAuthClient, data: ClientData) -> None:
    validate_client_data(data, app_type=client.app_type)
    client.name = data.name
    client.description = data.description
    client.redirect_uris = " ".join(data.redirect_uris)
    client.allowed_origins = " ".join(data.allowed_origins)
    client.allowed_scopes = " ".join(data.allowed_scopes)
    client.machine_to_machine = data.machine_to_machine


@transaction.atomic
def create_client(
    tenant: Tenant, data: ClientData, *, app_type: str, actor
) -> tuple[OAuthClient, str | None]:
    """Create a client for ``tenant``; returns it and, for a Web client, its first secret."""
    # Lock the tenant row so that two concurrent creations cannot both pass the limit.
    Tenant.objects.select_for_update().filter(pk=tenant.pk).first()
    if OAuthClient.objects.for_tenant(tenant).count() >= client_limit("clients"):
        raise ValidationError(
            _("This tenant already has %(max)d OAuth clients, the most allowed. Delete one first.")
            % {"max": client_limit("clients")}
        )
    client = OAuthClient(tenant=tenant, app_type=app_type, created_by=actor, updated_by=actor)
    _apply(client, data)
    client.save()
    _sync_origins(client)
    _sync_service_identity(client)
    ConnectionConfig.objects.create(
        client=client,
        tenant=tenant,
        consent_method=data.consent_method,
        approved_by=actor,
        approved_at=timezone.now(),
    )
    record_event(tenant, "oauth_client.created", actor=actor, target=client, app_type=app_type)
    plaintext = None
    if client.is_confidential:
        plaintext = _add_secret(client, expires_in_days=None, actor=actor)[1]
    return client, plaintext


@transaction.atomic
def update_client(client: OAuthClient, data: ClientData, *, actor) -> OAuthClient:
    """Change the editable fields; the client type is fixed at creation."""
    _apply(client, data)
    client.updated_by = actor
    client.save()
    _sync_origins(client)
    _sync_service_identity(client)
    ConnectionConfig.objects.filter(client=client, tenant=client.tenant).update(
        consent_method=data.consent_method, updated_at=timezone.now()
    )
    record_event(client.tenant, "oauth_client.updated", actor=actor, target=client)
    return client


def _sync_origins(client: OAuthClient) -> None:
    """Keep the indexed origin table (read by CORS preflights) equal to the client's list."""
    AllowedOrigin.objects.filter(client=client).exclude(
        origin__in=client.allowed_origin_list
    ).delete()
    existing = set(AllowedOrigin.objects.filter(client=client).values_list("origin", flat=True))
    AllowedOrigin.objects.bulk_create(
        [
            AllowedOrigin(client=client, origin=o)
            for o in client.allowed_origin_list
            if o not in existing
        ]
    )


def _sync_service_identity(client: OAuthClient) -> None:
    """A machine-to-machine client acts as its own service account, an admin of its tenant.

    Turning machine-to-machine off removes the membership, which ends the
    client's own tokens at once (bearer checks look the member up).
    """
    if client.machine_to_machine:
        if client.service_user is None:
            client.service_user = User.objects.create(
                email=f"{client.client_id}@clients.{client.tenant.hostname}",
                name=client.name,
                is_service=True,
                password=make_password(None),
            )
            client.save(update_fields=["service_user"])
        Membership.objects.get_or_create(
            tenant=client.tenant, user=client.service_user, defaults={"role": Membership.Role.ADMIN}
        )
    elif client.service_user is not None:
        Membership.objects.filter(tenant=client.tenant, user=client.service_user).delete()
        # The client's own tokens (client credentials) carry no user row.
        revoke_tokens(client.tenant, client=client, service_tokens=True)


def _add_secret(
    client: OAuthClient, *, expires_in_days: int | None, actor
) -> tuple[ClientSecret, str]:
    hints = set(client.secrets.values_list("hint", flat=True))
    while True:
        plaintext = secrets.token_hex(SECRET_RANDOM_BYTES)
        hint = plaintext[-ClientSecret.HINT_LENGTH :]
        if hint not in hints:
            break
    now = timezone.now()
    secret = ClientSecret.objects.create(
        client=client,
        tenant=client.tenant,
        digest=secret_digest(plaintext),
        hint=hint,
        created_at=now,
        created_by=actor,
        expires_at=now + timedelta(days=expires_in_days) if expires_in_days else None,
    )
    record_event(
        client.tenant,
        "oauth_client.secret_generated",
        actor=actor,
        target=client,
        hint=hint,
        expires_at=secret.expires_at.isoformat() if secret.expires_at else None,
    )
    return secret, plaintext


@transaction.atomic
def generate_secret(
    client: OAuthClient, *, expires_in_days: int | None = None, actor
) -> tuple[ClientSecret, str]:
    """Add a secret to a Web client; the plaintext is returned this once and never stored."""
    if not client.is_confidential:
        raise ValidationError(_("Only Web clients have client secrets."))
    if expires_in_days is not None and expires_in_days not in SECRET_EXPIRY_DAYS:
        raise ValidationError(_("Choose an expiry from the list."))
    # Lock the client so that concurrent requests cannot pass the limit together.
    OAuthClient.objects.select_for_update().filter(pk=client.pk).first()
    if client.secrets.count() >= client_limit("secrets"):
        raise ValidationError(
            _("A client can have at most %(max)d secrets. Delete one first.")
            % {"max": client_limit("secrets")}
        )
    return _add_secret(client, expires_in_days=expires_in_days, actor=actor)


@transaction.atomic
def delete_secret(secret: ClientSecret, *, actor) -> None:
    """Delete a secret at once: it no longer authenticates (deleting the last one is allowed)."""
    client = secret.client
    secret.delete()
    record_event(
        client.tenant, "oauth_client.secret_deleted", actor=actor, target=client, hint=secret.hint
    )


@transaction.atomic
def publish_client(client: OAuthClient, *, actor) -> OAuthClient:
    if client.is_published:
        return client
    client.published_at = timezone.now()
    client.published_by = actor
    client.save(update_fields=["published_at", "published_by", "updated"])
    record_event(client.tenant, "oauth_client.published", actor=actor, target=client)
    return client


@transaction.atomic
def unpublish_client(client: OAuthClient, *, actor) -> OAuthClient:
    """Withdraw a published client: other tenants lose their approvals, grants and tokens."""
    if not client.is_published:
        return client
    client.published_at = None
    client.published_by = None
    client.save(update_fields=["published_at", "published_by", "updated"])
    others = ConnectionConfig.objects.filter(client=client).exclude(tenant=client.tenant)
    for config in others.select_related("tenant"):
        revoke_tokens(config.tenant, client=client)
    # Users' consent grants there end with the connections (a receiver in consent).
    others.delete()
    record_event(client.tenant, "oauth_client.unpublished", actor=actor, target=client)
    return client


@transaction.atomic
def approve_client_for_tenant(
    tenant: Tenant, client: OAuthClient, *, scopes=None, actor
) -> ConnectionConfig:
    """A tenant admin lets a published client of another tenant be used at their tenant.

    The approval covers ``scopes`` (what the approval page showed), added to
    what this tenant approved before; without ``scopes``, the client's current
    scopes but the admin scopes, which are approved only when asked for by name.
    Its users can then sign in through it, each consenting as the tenant's own
    consent method for it says (*required* until the admin changes it).
    """
    if not client.is_published or client.is_deleted or not client.usable_at(tenant):
        raise PermissionDenied("This client is not published in this tenant's region.")
    if not client.is_external_to(tenant):
        raise ValidationError(_("A tenant's own clients need no approval."))
    if scopes is None:
        scopes = [scope for scope in client.allowed_scope_list if scope not in ADMIN_SCOPES]
    if not set(scopes) <= set(client.allowed_scope_list):
        raise ValidationError(_("The client does not ask for these scopes."))
    config, _created = ConnectionConfig.objects.select_for_update().get_or_create(
        client=client, tenant=tenant
    )
    added = config.unapproved(scopes)
    if config.is_approved and not added:
        return config
    first = not config.is_approved
    config.approved_scopes = " ".join(sorted(set(config.approved_scope_list) | set(scopes)))
    if first:
        config.approved_at = timezone.now()
        config.approved_by = actor
    config.save(update_fields=["approved_scopes", "approved_at", "approved_by", "updated_at"])
    action = "oauth_client.approved" if first else "oauth_client.approval_widened"
    record_event(
        tenant,
        action,
        actor=actor,
        target=client,
        owner_tenant=client.tenant.hostname,
        scopes=sorted(added),
    )
    telemetry.security_event(
        action.replace(".", "_"),
        tenant=tenant,
        level=logging.INFO,
        client_id=client.client_id,
        actor_id=actor.pk,
        owner_tenant=client.tenant.hostname,
        scopes=sorted(added),
    )
    return config


@transaction.atomic
def revoke_client_for_tenant(config: ConnectionConfig, *, actor) -> None:
    """Withdraw this tenant's approval of an external client: its tokens here end at once."""
    tenant, client = config.tenant, config.client
    revoke_tokens(tenant, client=client)
    config.delete()  # and with it the users' consent grants there (a receiver in consent)
    record_event(
        tenant,
        "oauth_client.approval_revoked",
        actor=actor,
        target=client,
        owner_tenant=client.tenant.hostname,
    )


@transaction.atomic
def set_consent_method(config: ConnectionConfig, consent_method: str, *, actor) -> ConnectionConfig:
    if consent_method not in ConnectionConfig.ConsentMethod.values:
        raise ValidationError(_("Choose Required or Trusted."))
    config.consent_method = consent_method
    config.save(update_fields=["consent_method", "updated_at"])
    record_event(
        config.tenant,
        "oauth_client.consent_method_changed",
        actor=actor,
        target=config.client,
        consent_method=consent_method,
    )
    return config


@transaction.atomic
def delete_clients(tenant: Tenant, client_ids, *, actor) -> list[str]:
    """Soft-delete the tenant's clients among ``client_ids`` and revoke all access through them.

    Ids of other tenants' clients are ignored. A constant number of set-based
    statements however many clients: one update, one delete per dependent
    table (not Django's row-by-row collector), one audit entry.
    Connection configs and audit events are kept. Returns the deleted names.
    """
    clients = OAuthClient.objects.for_tenant(tenant).filter(pk__in=list(client_ids))
    doomed = list(clients.select_for_update().values_list("pk", "client_id", "name"))
    if not doomed:
        return []
    pks = [pk for pk, _client_id, _name in doomed]
    now = timezone.now()
    OAuthClient.objects.filter(pk__in=pks).update(deleted_at=now, updated=now, updated_by=actor)
    # Set-based writes send no signals: this process's caches drop the clients and their
    # service members at once (the database triggers tell the other processes).
    generations.changed("clients")
    generations.changed("members")
    # Every token row of these clients goes; nothing else references them, so the
    # statements need no cascade (foreign keys are checked at commit). The
    # access tokens' jtis go on the revocation list first: they are JWTs.
    record_revocations(AccessToken.objects.filter(application__in=pks))
    # Django's private QuerySet._raw_delete is one DELETE statement; delete() would
    # read the rows and delete them in batches of 100 (contract:
    # tests/oauth/test_library_contract.py).
    # A machine-to-machine client's service account stops being a member (its
    # tokens are these clients' tokens, revoked here already: no signals needed).
    service_members = Membership.objects.filter(tenant=tenant, user__service_client__in=pks)
    Membership.objects.filter(pk__in=service_members.values("pk"))._raw_delete(
        Membership.objects.db
    )
    for model in (ClientSecret, AuthorizationCode, RefreshToken, AccessToken, IDToken):
        model.objects.filter(**{_client_field(model): pks})._raw_delete(model.objects.db)
    # One audit entry for the whole deletion keeps the statement count constant;
    # it names every client, so the trail reads well after they are gone.
    record_event(
        tenant,
        "oauth_client.deleted",
        actor=actor,
        target=OAuthClient(pk=pks[0], name=doomed[0][2]) if len(pks) == 1 else None,
        target_label=", ".join(name for _pk, _client_id, name in doomed),
        clients=[
            {"id": pk, "client_id": client_id, "name": name} for pk, client_id, name in doomed
        ],
    )
    return [name for _pk, _client_id, name in doomed]


def _client_field(model) -> str:
    return "client__in" if model is ClientSecret else "application__in"


@transaction.atomic
def revoke_tokens(
    tenant: Tenant, *, client: OAuthClient | None = None, user=None, service_tokens=False
) -> None:
    """Revoke the access and refresh tokens issued at ``tenant`` (to a client, for a user,
    or a client's own client-credentials tokens)."""
    filters = {}
    if client is not None:
        filters["application"] = client
    if user is not None:
        filters["user"] = user
    if service_tokens:
        filters["user__isnull"] = True
    now = timezone.now()
    access_tokens = AccessToken.objects.for_tenant(tenant).filter(**filters)
    record_revocations(access_tokens)
    RefreshToken.objects.for_tenant(tenant).filter(revoked__isnull=True, **filters).update(
        revoked=now, updated=now, access_token=None
    )
    access_tokens.delete()
