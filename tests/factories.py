import secrets
from datetime import timedelta

import factory
from django.utils import timezone

from tenants.models import Membership, Region, Tenant, User

# Every user the factories make signs in with this password.
PASSWORD = "password"


class RegionFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Region
        django_get_or_create = ("code",)

    code = "eu"
    name = factory.LazyAttribute(lambda r: r.code.upper())


class TenantFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Tenant

    region = factory.SubFactory(RegionFactory)
    slug = factory.Sequence(lambda n: f"tenant{n}")
    name = factory.LazyAttribute(lambda t: t.slug.capitalize())


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = User

    email = factory.Sequence(lambda n: f"user{n}@example.test")
    name = factory.Sequence(lambda n: f"User {n}")
    password = factory.django.Password(PASSWORD)


class MembershipFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Membership

    tenant = factory.SubFactory(TenantFactory)
    user = factory.SubFactory(UserFactory)
    role = Membership.Role.MEMBER


def create_oauth_client(tenant, *, actor=None, app_type="web", **fields):
    """A client made the way the console makes it (connection config, first secret, audit).

    Returns ``(client, plaintext_secret)``; the secret is None for SPA and Native clients.
    """
    from oauth_clients.services import ClientData, create_client

    data = {
        "name": "Reporting app",
        "redirect_uris": ["https://app.example.com/callback"],
        "allowed_scopes": ["user_default"],
        **fields,
    }
    return create_client(tenant, ClientData(**data), app_type=app_type, actor=actor)


def client_form_data(**overrides) -> dict:
    """What the console's client dialog posts to create "Reporting app" ("Save")."""
    data = {
        "intent": "save",
        "name": "Reporting app",
        "description": "Monthly reports",
        "app_type": "web",
        "redirect_uris": ["https://app.example.com/callback"],
        "new_redirect_uri": "",
        "allowed_origins": [],
        "new_allowed_origin": "",
        "allowed_scopes": ["user_default"],
        "consent_method": "required",
    }
    data.update(overrides)
    return data


def make_tokens(tenant, client, user):
    """An access token and its refresh token, as rows (the flow itself is not run).

    Returns ``(access, refresh)``.
    """
    from oauth_clients.models import AccessToken, RefreshToken

    access = AccessToken.objects.create(
        tenant=tenant,
        application=client,
        user=user,
        token=secrets.token_hex(16),
        jti=secrets.token_hex(12),
        expires=timezone.now() + timedelta(hours=1),
    )
    refresh = RefreshToken.objects.create(
        tenant=tenant,
        application=client,
        user=user,
        token=secrets.token_hex(16),
        access_token=access,
    )
    return access, refresh
