"""Our OAuth2Validator: DOT's, bound to the tenant and to our client secrets.

Configured as ``OAUTH2_PROVIDER["OAUTH2_VALIDATOR_CLASS"]``. Each override
names the RFC rule it implements; everything else is DOT's and oauthlib's.
"""

import logging
from datetime import timedelta

from django.conf import settings
from django.db.models import F
from django.utils import timezone
from oauth2_provider.models import revoke_access_token, set_token_value
from oauth2_provider.oauth2_validators import OAuth2Validator
from oauthlib.oauth2.rfc6749 import errors

from oauth_clients import lookups
from oauth_clients.models import (
    AccessToken,
    AuthorizationCode,
    ClientSecret,
    ConnectionConfig,
    IDToken,
    OAuthClient,
    RefreshToken,
    token_checksum,
)
from oauth_clients.oauth import client_auth
from oauth_clients.oauth.basic import decode_basic, is_basic
from oauth_clients.oauthlib_request import (
    AUTH_TIME_KEY,
    client_address_of,
    tenant_of,
)
from oauth_clients.revocation import record_revocations
from tenants import members, telemetry
from tenants.services import record_event

log = logging.getLogger(__name__)

# Secrets' last-used time is written at most this often (a write per token
# request would be a hot-path cost for nothing).
LAST_USED_RESOLUTION = timedelta(minutes=1)
# A burst of failed client authentications worth an audit entry.
FAILED_AUTH_BURST = 10


class TenantOAuth2Validator(OAuth2Validator):
    # --- Clients -----------------------------------------------------------------
    def _decode_basic_auth(self, request) -> tuple[str, str] | None:
        """(client_id, secret) from an HTTP Basic header (RFC 6749 §2.3.1), or None without one.

        A malformed Basic header is ("", ""): the client chose Basic, so it
        fails as Basic rather than falling back to the body. Read through
        oauth_clients.oauth.basic, not DOT's ``_extract_basic_auth``, which
        takes only "Basic" spelt so (RFC 9110 §11.1: the scheme is
        case-insensitive).
        """
        header = request.headers.get("HTTP_AUTHORIZATION")
        if not is_basic(header):
            return None
        return decode_basic(header) or ("", "")

    def _load_application(self, client_id, request):
        """The client from the per-process cache (``oauth_clients.lookups``), if usable here.

        Private in DOT, overridden because every client lookup of the validator
        goes through it and no public hook caches it (contract:
        tests/oauth/test_library_contract.py). Unlike DOT's, it answers the
        client asked for, not the first one loaded during this request.
        """
        if not client_id or "\x00" in client_id:
            return None  # PostgreSQL cannot even compare a string with a NUL in it
        client = lookups.client(client_id)
        if client is None or not client.is_usable(request):
            return None
        request.client = client
        return client

    def client_authentication_required(self, request, *args, **kwargs):
        """Confidential clients authenticate; so does any request that sends a secret.

        A refresh request may omit client_id (RFC 6749 §6): the client is then
        the refresh token's own.
        """
        sends_basic = self._decode_basic_auth(request) is not None
        refresh_without_client_id = (
            request.grant_type == "refresh_token" and not request.client_id and not sends_basic
        )
        if refresh_without_client_id:
            refresh = self._find_refresh_token(request.refresh_token, request)
            if refresh is not None:
                request.client_id = refresh.application.client_id
        if sends_basic or request.client_secret is not None:
            return True
        client = self._load_application(request.client_id, request) if request.client_id else None
        if client is None:
            return True  # unknown client: authenticating it fails with invalid_client
        return client.is_confidential

    def authenticate_client(self, request, *args, **kwargs):
        """Client authentication with one of the client's current secrets (RFC 6749 §2.3.1).

        HTTP Basic or client_id + client_secret in the body, never both
        (RFC 6749 §2.3: "MUST NOT use more than one authentication method").
        A public client that sends a secret is refused. Secrets are compared
        as HMAC digests in constant time: microseconds, not a password hash.
        So the right secret is accepted however many failures were counted;
        a wrong one past a limit is a 429 (_note_failed_authentication).
        """
        basic = self._decode_basic_auth(request)
        request.tried_basic_auth = basic is not None
        if basic is not None and request.client_secret is not None:
            raise errors.InvalidRequestError(
                description="Use one client authentication method, not both.", request=request
            )
        if basic is not None:
            client_id, secret = basic
            if request.client_id and request.client_id != client_id:
                return False
        else:
            client_id, secret = request.client_id, request.client_secret
        if not client_id or secret is None:
            return False
        client = self._load_application(client_id, request)
        if client is None:
            self._note_failed_authentication(None, request)
            return False
        request.client_id = client_id
        if not client.is_confidential:
            return False
        now = timezone.now()
        for stored in client.secrets.all():  # loaded with the cached client
            if not stored.is_expired(now) and stored.matches(secret):
                if stored.last_used_at is None or now - stored.last_used_at >= LAST_USED_RESOLUTION:
                    # At most once a minute per process: the stamp is kept on the cached row.
                    stored.last_used_at = now
                    ClientSecret.objects.filter(pk=stored.pk).update(last_used_at=now)
                return True
        self._note_failed_authentication(client, request)
        return False

    def _note_failed_authentication(self, client: OAuthClient | None, request) -> None:
        """Count the failure per address and per client and address; log it; audit a burst once.

        Past a limit the failure is a 429 instead of a 401
        (oauth_clients.oauth.client_auth says why a correct secret never is).
        """
        failures, wait = client_auth.count_failure(
            client.client_id if client else None, client_address_of(request)
        )
        telemetry.count_auth_failure("client")
        telemetry.security_event(
            "client_auth_failed",
            tenant=tenant_of(request),
            client_id=client.client_id if client else None,
            remote_addr=client_address_of(request),
        )
        if client is not None and failures == FAILED_AUTH_BURST:
            record_event(
                client.tenant,
                "oauth_client.authentication_failures",
                actor=None,
                target=client,
                failures=failures,
            )
        if wait:
            raise client_auth.TooManyFailedAuthentications(wait, request=request)

    def authenticate_client_id(self, client_id, request, *args, **kwargs):
        """A public client identifies itself by client_id alone (and proves itself with PKCE)."""
        client = self._load_application(client_id, request)
        return client is not None and not client.is_confidential

    def validate_client_id(self, client_id, request, *args, **kwargs):
        return self._load_application(client_id, request) is not None

    def validate_grant_type(self, client_id, grant_type, client, request, *args, **kwargs):
        if grant_type == "client_credentials" and (
            not request.client.machine_to_machine
            or request.client.is_external_to(tenant_of(request))
        ):
            # A client's own tokens exist only at its owner tenant.
            return False
        config = self._connection_here(request.client, request)
        if config is not None and not config.is_approved:
            return False
        return super().validate_grant_type(client_id, grant_type, client, request, *args, **kwargs)

    def is_origin_allowed(self, client_id, origin, request, *args, **kwargs):
        # CORS is answered by oauth_clients.cors for every endpoint alike.
        return False

    # --- Scopes and redirect URLs ---------------------------------------------------
    def validate_scopes(self, client_id, scopes, client, request, *args, **kwargs):
        """Only scopes the client is allowed (RFC 6749 §3.3); otherwise invalid_scope.

        ``scope=`` (empty or only spaces) means the defaults, as a missing scope
        does; oauthlib would pass it on as one empty scope.
        """
        scopes = [scope for scope in scopes if scope]
        if not scopes:
            request.scopes = self.get_default_scopes(client_id, request)
            return True
        request.scopes = scopes
        return set(scopes) <= set(client.allowed_scope_list)

    def get_default_scopes(self, client_id, request, *args, **kwargs):
        """An empty scope means the client's allowed scopes, except offline_access."""
        return [s for s in request.client.allowed_scope_list if s != "offline_access"]

    def validate_redirect_uri(self, client_id, redirect_uri, request, *args, **kwargs):
        return request.client.redirect_uri_allowed(redirect_uri)

    def validate_silent_login(self, request):
        # OpenID prompt=none: the authorize view answers login_required itself
        # before oauthlib sees an unauthenticated request.
        return True

    def validate_silent_authorization(self, request):
        # The authorize view decides consent_required from the consent method.
        return True

    # --- Authorization codes ----------------------------------------------------------
    def _create_authorization_code(self, request, code, expires=None):
        """DOT's code row, with our columns: tenant and auth_time.

        Private in DOT; the public ``save_authorization_code`` would need the
        whole of DOT's logic copied to add two columns (contract test).
        """
        expires = expires or timezone.now() + timedelta(
            seconds=settings.OAUTH2_PROVIDER["AUTHORIZATION_CODE_EXPIRE_SECONDS"]
        )
        return AuthorizationCode.objects.create(
            tenant=tenant_of(request),
            application=request.client,
            user=request.user,
            code=code["code"],
            expires=expires,
            redirect_uri=request.redirect_uri,
            scope=" ".join(request.scopes),
            code_challenge=request.code_challenge or "",
            code_challenge_method=request.code_challenge_method or "",
            nonce=request.nonce or "",
            claims="{}",
            auth_time=request.headers.get(AUTH_TIME_KEY),
        )

    def _grant(self, code, request) -> AuthorizationCode | None:
        """The code's row, locked for this token request (one redemption at a time)."""
        cached = getattr(request, "grant_row", None)
        if cached is not None and cached.code == code:
            return cached
        # Read once per token request, by code and tenant (the client is checked
        # by the callers: the OpenID dispatcher reads the code before the client
        # is known).
        grant = (
            AuthorizationCode.objects.select_for_update(of=("self",))
            .filter(code=code, tenant=tenant_of(request))
            .select_related("user")
            .first()
        )
        request.grant_row = grant
        return grant

    def validate_code(self, client_id, code, client, request, *args, **kwargs):
        """A live, unused code of this client and tenant (RFC 6749 §4.1.3).

        A second redemption is refused, and revokes every token issued from
        the first (RFC 6749 §4.1.2). A code_verifier for a code issued without
        a challenge is a PKCE downgrade (RFC 9700 §4.8) and is refused.
        """
        grant = self._grant(code, request)
        if grant is None or grant.application_id != client.pk or grant.is_expired():
            return False
        if grant.used_at is not None:
            self._revoke_family(grant.token_family)
            record_event(
                tenant_of(request),
                "oauth_client.code_replayed",
                actor=None,
                target=client,
                user_id=grant.user_id,
            )
            return False
        if request.code_verifier is not None and not grant.code_challenge:
            return False
        if not self._member_subject(grant.user, request):
            return False
        if not self._approved_here(client, grant.scope.split(), request):
            return False  # the approval was narrowed or withdrawn since the code was issued
        request.scopes = grant.scope.split()
        request.user = grant.user
        request.token_family = grant.token_family
        request.auth_time = grant.auth_time
        if grant.nonce:
            request.nonce = grant.nonce
        return True

    def get_code_challenge(self, code, request):
        grant = self._grant(code, request)
        return (grant.code_challenge or None) if grant else None

    def get_code_challenge_method(self, code, request):
        grant = self._grant(code, request)
        return (grant.code_challenge_method or None) if grant else None

    def confirm_redirect_uri(self, client_id, code, redirect_uri, client, *args, **kwargs):
        """The redirect_uri of the authorization request, to the letter (RFC 6749 §4.1.3)."""
        request = kwargs.get("request") or args[-1]
        grant = self._grant(code, request)
        return (
            grant is not None
            and grant.application_id == client.pk
            and grant.redirect_uri == redirect_uri
        )

    def invalidate_authorization_code(self, client_id, code, request, *args, **kwargs):
        """Mark the code used (kept until it expires, so a replay is recognised)."""
        grant = self._grant(code, request)
        updated = grant is not None and AuthorizationCode.objects.filter(
            pk=grant.pk, application=request.client, used_at__isnull=True
        ).update(used_at=timezone.now())
        if not updated:
            raise errors.InvalidGrantError(request=request)

    def get_authorization_code_scopes(self, client_id, code, redirect_uri, request):
        grant = self._grant(code, request)
        return grant.scope.split() if grant else []

    def get_authorization_code_nonce(self, client_id, code, redirect_uri, request):
        grant = self._grant(code, request)
        return (grant.nonce or None) if grant else None

    def _check_and_set_request_resource(self, request):
        """No RFC 8707 resource indicators here: a token is for its tenant's APIs.

        Private in DOT; its version would re-read the code row on every code
        exchange (one more query), and no setting turns it off (contract test).
        """
        request.resource = []

    # --- Tokens -------------------------------------------------------------------------
    def save_bearer_token(self, token, request, *args, **kwargs):
        """Refresh tokens only with offline_access (DOT would always issue one).

        A refresh always rotates (RFC 9700 §4.14.2), whatever scope it asks
        for: the new refresh token carries the family's scope, not the
        request's (RFC 6749 §6). Only when the family has lost offline_access
        (the client may no longer have it) does the refresh end it: the
        presented token is revoked and no new one is issued.
        """
        if request.grant_type == "refresh_token":
            offline = "offline_access" in request.family_scopes
        else:
            offline = "offline_access" in token.get("scope", "").split()
        if not offline:
            token.pop("refresh_token", None)
            if request.grant_type == "refresh_token":
                request.refresh_token_instance.revoke()
        # DOT's save_bearer_token only wraps this in a transaction (a savepoint inside
        # the token view's): the code and refresh grants already run in one, and a
        # client-credentials token is one INSERT that needs none (DOT documents
        # _save_bearer_token as the method to extend; contract test).
        return self._save_bearer_token(token, request, *args, **kwargs)

    def _create_access_token(self, expires, request, token, source_refresh_token=None):
        """DOT's access-token row, with our columns: tenant, jti, token family.

        Private in DOT; ``save_bearer_token`` is public but its rotation and
        grace-period logic would have to be copied to add columns (contract test).
        """
        id_token = token.get("id_token")
        if id_token:
            id_token = self._load_id_token(id_token)
        access_token = AccessToken(
            tenant=tenant_of(request),
            user=request.user,
            scope=token["scope"],
            expires=expires,
            id_token=id_token,
            application=request.client,
            source_refresh_token=source_refresh_token,
            jti=getattr(request, "access_token_jti", None),
            token_family=getattr(request, "token_family", None),
        )
        set_token_value(access_token, token["access_token"])
        access_token.save()
        return access_token

    def _create_refresh_token(
        self, request, refresh_token_code, access_token, previous_refresh_token
    ):
        """DOT's refresh-token row, with our columns: tenant, family start, scope, auth_time.

        Private in DOT, for the same reason as ``_create_access_token`` (contract test).
        """
        if previous_refresh_token is not None:
            family = previous_refresh_token.token_family
            started = previous_refresh_token.family_started_at
            scope = " ".join(request.family_scopes)
        else:
            family = getattr(request, "token_family", None)
            started = timezone.now()
            scope = access_token.scope
        refresh_token = RefreshToken(
            tenant=tenant_of(request),
            user=request.user,
            application=request.client,
            access_token=access_token,
            token_family=family,
            family_started_at=started,
            scope=scope,
            auth_time=getattr(request, "auth_time", None),
        )
        set_token_value(refresh_token, refresh_token_code)
        refresh_token.save()
        return refresh_token

    def _save_id_token(self, jti, request, expires, *args, **kwargs):
        """DOT's ID-token row, with its tenant.

        Private in DOT; ``finalize_id_token`` (public) would have to be copied
        whole to change the row it saves (contract test).
        """
        return IDToken.objects.create(
            tenant=tenant_of(request),
            user=request.user,
            scope=request.scope or " ".join(request.scopes),
            expires=expires,
            jti=jti,
            application=request.client,
        )

    def _find_refresh_token(self, token, request) -> RefreshToken | None:
        if not token:
            return None
        return (
            RefreshToken.objects.filter(
                token_checksum=token_checksum(token), tenant=tenant_of(request)
            )
            .select_related("application", "user", "access_token")
            .order_by(F("revoked").desc(nulls_first=True))
            .first()
        )

    def validate_refresh_token(self, refresh_token, client, request, *args, **kwargs):
        """A live refresh token of this client and tenant (RFC 6749 §6).

        The row is locked, so of two concurrent refreshes one rotates and the
        other finds it revoked. A rotated token presented again revokes its
        whole family (RFC 9700 §4.14.2). The family lives at most
        REFRESH_TOKEN_EXPIRE_SECONDS from its first token, however often it
        is refreshed.
        """
        found = self._find_refresh_token(refresh_token, request)
        if found is None:
            return False
        rt = (
            RefreshToken.objects.select_for_update(of=("self",))
            .select_related("application", "user", "access_token")
            .get(pk=found.pk)
        )
        if rt.application_id != client.pk:
            return False
        if rt.revoked is not None:
            # A revoked token presented again: the whole family goes (RFC 9700
            # §4.14.2). The audit trail records it when something was still live
            # (a reuse), not when the family had already ended (after sign-out).
            if self._revoke_family(rt.token_family):
                record_event(
                    rt.tenant,
                    "oauth_client.refresh_family_revoked",
                    actor=None,
                    target=client,
                    user_id=rt.user_id,
                )
            return False
        if rt.family_has_ended():
            return False
        if not self._member_subject(rt.user, request):
            return False
        request.user = rt.user
        request.refresh_token = refresh_token
        request.refresh_token_instance = rt
        request.token_family = rt.token_family
        request.auth_time = rt.auth_time
        return True

    def get_original_scopes(self, refresh_token, request, *args, **kwargs):
        """The family's scope, less what the client may no longer have here (RFC 6749 §6).

        A scope removed from the client, or not (or no longer) approved by this
        tenant for another tenant's published client, drops out of the family
        silently; a refresh asking for it explicitly is an invalid_scope
        (oauthlib checks the request against this list). When nothing useful
        is left, the refresh is refused.
        """
        allowed = set(request.client.allowed_scope_list)
        config = self._connection_here(request.client, request)
        if config is not None:
            allowed &= set(config.approved_scope_list) if config.is_approved else set()
        scopes = [
            scope for scope in request.refresh_token_instance.scope.split() if scope in allowed
        ]
        if not set(scopes) - {"offline_access"}:
            raise errors.InvalidScopeError(
                description="None of this sign-in's scopes is allowed for the client any more.",
                request=request,
            )
        request.family_scopes = scopes
        return scopes

    def revoke_token(self, token, token_type_hint, request, *args, **kwargs):
        """Revoke one of the calling client's tokens issued at this tenant (RFC 7009 §2.1).

        A published client is one row at every tenant, so the tenant is part of
        the lookup: revoking at acme never touches a token issued at globex.
        Unknown tokens are ignored (§2.2: still a 200).
        """
        lookup = {
            "token_checksum": token_checksum(token),
            "application": request.client,
            "tenant": tenant_of(request),
        }
        order = ["access_token", "refresh_token"]
        if token_type_hint == "refresh_token":
            order.reverse()
        for kind in order:
            if kind == "access_token":
                access = AccessToken.objects.filter(**lookup).first()
                if access is not None:
                    revoke_access_token(access)
                    return
            else:
                refresh = RefreshToken.objects.filter(**lookup, revoked__isnull=True).first()
                if refresh is not None:
                    refresh.revoke()
                    return

    def _revoke_family(self, family) -> bool:
        """Revoke every access and refresh token of a family (replay or reuse detected).

        Returns whether any of them was still live.
        """
        if family is None:
            return False
        access_tokens = AccessToken.objects.filter(token_family=family)
        live = (
            access_tokens.exists()
            or RefreshToken.objects.filter(token_family=family, revoked__isnull=True).exists()
        )
        record_revocations(access_tokens)
        RefreshToken.revoke_family(family)
        access_tokens.delete()
        return live

    def _connection_here(self, client: OAuthClient, request) -> ConnectionConfig | None:
        """This tenant's connection to another tenant's published client, read once per request.

        None for the tenant's own clients (they need no approval). For a client
        this tenant never approved, an unsaved, unapproved config.
        """
        tenant = tenant_of(request)
        if not client.is_external_to(tenant):
            return None
        return lookups.connection(client, tenant) or ConnectionConfig(client=client, tenant=tenant)

    def _approved_here(self, client: OAuthClient, scopes, request) -> bool:
        """A published client of another tenant works here only for the scopes approved here."""
        config = self._connection_here(client, request)
        return config is None or config.covers(scopes)

    def _member_subject(self, user, request) -> str | None:
        """The token subject of an active member of this tenant (kept for the token), or None."""
        if user is None or not user.is_active:
            return None
        subject = members.subject_of(tenant_of(request), user.pk)
        if subject is not None:
            request.token_subject = subject
        return subject

    # --- OpenID Connect -----------------------------------------------------------------
    def get_oidc_issuer_endpoint(self, request):
        return tenant_of(request).base_url

    def get_claim_dict(self, request):
        claims = {
            "sub": lambda r: (
                getattr(r, "token_subject", None) or members.subject_of(tenant_of(r), r.user.pk)
            ),
            "name": lambda r: r.user.name,
            "email": lambda r: r.user.email,
            "email_verified": lambda r: True,
        }
        return claims

    def get_id_token_dictionary(self, token, token_handler, request):
        """DOT's claims, with ``auth_time`` from the session that signed the user in.

        DOT uses the user's last_login, which any of their browsers moves; the
        code (and its refresh family) carries its own session's time instead
        (OpenID Connect Core §2, §3.1.2.1 max_age).
        """
        claims, expires = super().get_id_token_dictionary(token, token_handler, request)
        auth_time = getattr(request, "auth_time", None)
        if auth_time is not None:
            claims["auth_time"] = int(auth_time.timestamp())
        return claims, expires

    def get_discovery_claims(self, request):
        return ["sub", "name", "email", "email_verified"]
