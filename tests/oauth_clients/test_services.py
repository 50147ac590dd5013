import hashlib
import hmac
from datetime import timedelta

import pytest
from django.core.exceptions import ValidationError
from django.utils import timezone

from oauth_clients import services
from oauth_clients.models import (
    AccessToken,
    AuthorizationCode,
    ClientSecret,
    ConnectionConfig,
    OAuthClient,
    RefreshToken,
)
from tenants.models import AuditEvent
from tests.factories import create_oauth_client

pytestmark = pytest.mark.django_db


class TestSecrets:
    def test_only_a_keyed_digest_is_stored(self, tenant_a, alice, settings):
        client, plaintext = create_oauth_client(tenant_a, actor=alice)
        secret = ClientSecret.objects.get(client=client)
        expected = hmac.new(
            settings.CLIENT_SECRET_DIGEST_KEY.encode(), plaintext.encode(), hashlib.sha256
        ).hexdigest()
        assert secret.digest == expected
        assert plaintext not in secret.digest
        assert client.client_secret == ""  # DOT's own column is never used

    def test_the_digest_key_is_not_secret_key(self, tenant_a, alice, settings):
        client, plaintext = create_oauth_client(tenant_a, actor=alice)
        secret = ClientSecret.objects.get(client=client)
        settings.SECRET_KEY = "rotated-session-key"
        assert secret.matches(plaintext)
        settings.CLIENT_SECRET_DIGEST_KEY = "another-digest-key"
        assert not secret.matches(plaintext)

    def test_a_secret_has_at_least_256_random_bits_and_a_five_character_hint(self, tenant_a):
        client, plaintext = create_oauth_client(tenant_a)
        secret = ClientSecret.objects.get(client=client)
        assert len(plaintext) == 72 and int(plaintext, 16) >= 0  # 72 hex digits: 288 bits
        assert secret.hint == plaintext[-5:]
        assert secret.matches(plaintext)
        assert not secret.matches(plaintext[:-1] + ("0" if plaintext[-1] != "0" else "1"))

    def test_hints_are_unique_per_client(self, tenant_a, alice):
        client, _ = create_oauth_client(tenant_a, actor=alice)
        for _i in range(4):
            services.generate_secret(client, actor=alice)
        hints = list(client.secrets.values_list("hint", flat=True))
        assert len(hints) == len(set(hints)) == 5

    def test_the_secret_limit_is_enforced(self, tenant_a, alice, settings):
        settings.OAUTH_CLIENT_LIMITS = {**settings.OAUTH_CLIENT_LIMITS, "secrets": 2}
        client, _ = create_oauth_client(tenant_a, actor=alice)
        services.generate_secret(client, actor=alice)
        with pytest.raises(ValidationError):
            services.generate_secret(client, actor=alice)
        assert client.secrets.count() == 2

    def test_expiry_is_set_from_the_chosen_days(self, tenant_a, alice):
        client, _ = create_oauth_client(tenant_a, actor=alice)
        secret, _ = services.generate_secret(client, expires_in_days=30, actor=alice)
        assert abs(secret.expires_at - (timezone.now() + timedelta(days=30))) < timedelta(minutes=1)
        assert not secret.is_expired()
        assert secret.is_expired(now=timezone.now() + timedelta(days=31))

    def test_public_clients_get_no_secret(self, tenant_a, alice):
        client, plaintext = create_oauth_client(tenant_a, actor=alice, app_type="spa")
        assert plaintext is None
        assert not client.secrets.exists()
        with pytest.raises(ValidationError):
            services.generate_secret(client, actor=alice)


class TestClientModel:
    def test_dot_fields_follow_the_client_type(self, tenant_a):
        web, _ = create_oauth_client(tenant_a, app_type="web", machine_to_machine=True)
        spa, _ = create_oauth_client(tenant_a, app_type="spa")
        assert web.client_type == OAuthClient.CLIENT_CONFIDENTIAL
        assert spa.client_type == OAuthClient.CLIENT_PUBLIC
        assert web.allows_grant_type(OAuthClient.GRANT_CLIENT_CREDENTIALS)
        assert not spa.allows_grant_type(OAuthClient.GRANT_CLIENT_CREDENTIALS)
        assert spa.allows_grant_type(OAuthClient.GRANT_AUTHORIZATION_CODE)
        assert not spa.allows_grant_type(OAuthClient.GRANT_IMPLICIT, OAuthClient.GRANT_PASSWORD)

    def test_client_ids_are_32_lowercase_hex(self, tenant_a):
        client, _ = create_oauth_client(tenant_a)
        assert len(client.client_id) == 32
        assert client.client_id == client.client_id.lower()
        int(client.client_id, 16)

    def test_allowed_schemes_come_from_the_registered_urls(self, tenant_a):
        client, _ = create_oauth_client(
            tenant_a, redirect_uris=["https://a.example/cb", "http://localhost:8080/cb"]
        )
        assert client.get_allowed_schemes() == ["http", "https"]

    def test_the_model_refuses_what_the_form_refuses(self, tenant_a):
        with pytest.raises(ValidationError) as error:
            create_oauth_client(tenant_a, redirect_uris=["http://example.com/cb"])
        assert "redirect_uris" in error.value.message_dict
        assert not OAuthClient.objects.exists()

    def test_the_owner_connection_config_carries_the_consent_method(self, tenant_a, alice):
        client, _ = create_oauth_client(tenant_a, actor=alice, consent_method="trusted")
        config = ConnectionConfig.objects.get(client=client)
        assert config.tenant == tenant_a
        assert config.consent_method == "trusted"
        assert config.approved_by == alice


class TestDeleteClients:
    def make_tokens(self, client, user):
        now = timezone.now()
        AuthorizationCode.objects.create(
            tenant=client.tenant,
            application=client,
            user=user,
            code=f"code-{client.pk}",
            expires=now,
            redirect_uri=client.redirect_uri_list[0],
        )
        access = AccessToken.objects.create(
            tenant=client.tenant,
            application=client,
            user=user,
            token=f"at-{client.pk}",
            expires=now + timedelta(hours=1),
        )
        RefreshToken.objects.create(
            tenant=client.tenant,
            application=client,
            user=user,
            token=f"rt-{client.pk}",
            access_token=access,
        )

    def test_it_soft_deletes_and_hard_deletes_everything_that_grants_access(
        self, tenant_a, tenant_b, alice, carol
    ):
        mine, _ = create_oauth_client(tenant_a, actor=alice)
        theirs, _ = create_oauth_client(tenant_b, actor=carol)
        self.make_tokens(mine, alice)
        self.make_tokens(theirs, carol)

        names = services.delete_clients(tenant_a, [mine.pk, theirs.pk], actor=alice)

        assert names == ["Reporting app"]
        mine.refresh_from_db()
        theirs.refresh_from_db()
        assert mine.deleted_at is not None
        assert theirs.deleted_at is None
        for model in (ClientSecret, AuthorizationCode, AccessToken, RefreshToken):
            assert not model.objects.filter(
                **{"client" if model is ClientSecret else "application": mine}
            ).exists()
            assert model.objects.filter(
                **{"client" if model is ClientSecret else "application": theirs}
            ).exists()
        assert ConnectionConfig.objects.filter(client=mine).exists()
        assert (
            AuditEvent.objects.filter(tenant=tenant_a, action="oauth_client.deleted").count() == 1
        )
        assert not OAuthClient.objects.for_tenant(tenant_a).exists()

    def test_deleting_nothing_of_ones_own_changes_nothing(self, tenant_a, tenant_b, carol, alice):
        theirs, _ = create_oauth_client(tenant_b, actor=carol)
        assert services.delete_clients(tenant_a, [theirs.pk], actor=alice) == []
        theirs.refresh_from_db()
        assert theirs.deleted_at is None
        assert not AuditEvent.objects.filter(action="oauth_client.deleted").exists()
