"""The token-side endpoints on every tenant host: token, revocation, introspection,
discovery, JWKS and userinfo.

DOT's views where they fit (subclassed for the tenant and our error shape),
our own where DOT's answer differs from what we promise (introspection,
discovery documents built from the tenant's issuer).
"""

import json

from django.db import transaction
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.utils.decorators import method_decorator
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.debug import sensitive_post_parameters
from django.views.decorators.http import require_http_methods, require_safe
from django.views.generic import View
from oauth2_provider import views as dot_views
from oauth2_provider.views.mixins import OAuthLibMixin
from oauthlib.common import Request as OAuthlibRequest
from oauthlib.oauth2.rfc6749 import errors

from oauth_clients.models import AccessToken, RefreshToken, token_checksum
from oauth_clients.oauth import metadata
from oauth_clients.oauth.backend import parse_body
from oauth_clients.oauth.basic import is_basic
from oauth_clients.oauth.bearer import authenticate_bearer, bearer_token, require_bearer
from oauth_clients.oauth.errors import ERROR_TITLES, oauth_error_body, oauth_error_response
from oauth_clients.revocation import revoke_jti
from tenants import members, telemetry


def oauth_response(
    request: HttpRequest, headers: dict, body: str | None, status: int
) -> HttpResponse:
    """An oauthlib answer as a Django response, errors in our shape, never cached."""
    content = body or ""
    if status >= 400 and content:
        try:
            data = json.loads(content)
        except ValueError:
            data = None
        if isinstance(data, dict) and "error" in data:
            description = data.get("error_description") or ERROR_TITLES.get(data["error"], "")
            content = json.dumps(oauth_error_body(data["error"], description, status))
    response = HttpResponse(content, status=status, content_type="application/json")
    for name, value in headers.items():
        if name.lower() != "content-type":
            response[name] = value
    if status == 401 and is_basic(request.headers.get("Authorization")):
        # RFC 6749 §5.2: invalid_client after HTTP Basic answers with its challenge.
        response["WWW-Authenticate"] = 'Basic realm="oauth"'
    response["Cache-Control"] = "no-store"
    response["Pragma"] = "no-cache"
    return response


def body_error(error: errors.OAuth2Error) -> HttpResponse:
    return oauth_error_response(error.error, error.description, error.status_code)


SENSITIVE = ("client_secret", "code", "refresh_token", "code_verifier", "token")


@method_decorator(csrf_exempt, name="dispatch")
@method_decorator(sensitive_post_parameters(*SENSITIVE), name="dispatch")
class TokenView(dot_views.TokenView):
    """``POST /oauth/token`` (RFC 6749 §3.2), form or JSON body.

    A code exchange or a refresh runs in one transaction: the code or refresh
    token row is locked, so concurrent redemptions yield exactly one token
    and no orphan rows. A client-credentials token is a single INSERT and
    needs no transaction around it.
    """

    LOCKING_GRANTS = frozenset({"authorization_code", "refresh_token"})

    def post(self, request, *args, **kwargs):
        try:
            params = dict(parse_body(request))
        except errors.OAuth2Error as error:
            return body_error(error)
        if not params.get("grant_type"):
            return body_error(
                errors.InvalidRequestError(description="Missing grant_type parameter.")
            )
        if params["grant_type"] in self.LOCKING_GRANTS:
            with transaction.atomic():
                _url, headers, body, status = self.create_token_response(request)
        else:
            _url, headers, body, status = self.create_token_response(request)
        if status == 200:
            telemetry.count_token_issued(params["grant_type"])
        return oauth_response(request, headers, body, status)


@method_decorator(csrf_exempt, name="dispatch")
@method_decorator(sensitive_post_parameters(*SENSITIVE), name="dispatch")
class RevokeTokenView(dot_views.RevokeTokenView):
    """``POST /oauth/revoke`` (RFC 7009): a client revokes one of its own tokens."""

    def post(self, request, *args, **kwargs):
        try:
            params = dict(parse_body(request))
        except errors.OAuth2Error as error:
            return body_error(error)
        if self.revokes_itself(request, params.get("token", "")):
            return oauth_response(request, {}, "", 200)
        with transaction.atomic():
            _url, headers, body, status = self.create_revocation_response(request)
        return oauth_response(request, headers, body, status)

    @staticmethod
    def revokes_itself(request, token: str) -> bool:
        """A live access token presented as the bearer revokes itself, without client credentials.

        Holding the token is the right to end it; the product's SDKs sign out
        this way (``Authorization: Bearer`` and the same token in the body).
        """
        if not token or bearer_token(request) != token:
            return False
        result = authenticate_bearer(token, request.tenant)
        if result.error:
            return False
        revoke_jti(result.claims.jti)
        return True


@method_decorator(csrf_exempt, name="dispatch")
@method_decorator(sensitive_post_parameters(*SENSITIVE), name="dispatch")
class IntrospectView(OAuthLibMixin, View):
    """``POST /oauth/introspect`` (RFC 7662), for an authenticated client.

    ``active`` is true only for a live token of this tenant issued to the
    calling client; anything else is ``{"active": false}`` (RFC 7662 §2.2).
    """

    http_method_names = ["post", "options"]

    def post(self, request, *args, **kwargs):
        try:
            params = dict(parse_body(request))
        except errors.OAuth2Error as error:
            return body_error(error)
        server = self.get_server()
        core = self.get_oauthlib_backend_class()(server)
        # DOT's public authenticate_client answers a bool; we need the client it
        # authenticated, so the oauthlib request is built as DOT builds it (private
        # _extract_params; contract: tests/oauth/test_library_contract.py).
        uri, http_method, body, headers = core._extract_params(request)
        oauth_request = OAuthlibRequest(uri, http_method, body, headers)
        try:
            authenticated = server.request_validator.authenticate_client(oauth_request)
        except errors.OAuth2Error as error:  # two methods at once (400), too many failures (429)
            return oauth_response(request, error.headers, error.json, error.status_code)
        if not authenticated:
            return oauth_response(
                request,
                {},
                json.dumps(
                    {
                        "error": "invalid_client",
                        "error_description": "Client authentication failed.",
                    }
                ),
                401,
            )
        client = oauth_request.client
        token = params.get("token", "")
        if not token:
            return body_error(errors.InvalidRequestError(description="Missing token parameter."))
        response = JsonResponse(
            self.introspect(request, client, token, params.get("token_type_hint"))
        )
        response["Cache-Control"] = "no-store"
        return response

    def introspect(self, request, client, token: str, hint: str | None) -> dict:
        # The hint only orders the search (RFC 7662 §2.1): both kinds are tried.
        access = authenticate_bearer(token, request.tenant)
        claims = access.claims if not access.error else None
        if claims is not None:
            if claims.client_id != client.client_id:
                return {"active": False}
            # Authoritative: the database, not this process's revocation list (which
            # may be up to a second behind a revocation made by another worker).
            if not AccessToken.objects.filter(jti=claims.jti, tenant=request.tenant).exists():
                return {"active": False}
            return {
                "active": True,
                "token_type": "access_token",
                "client_id": claims.client_id,
                "scope": " ".join(sorted(claims.scopes)),
                "sub": claims.subject,
                "exp": claims.expires_at,
                "iss": request.tenant.base_url,
                "jti": claims.jti,
            }
        refresh = self.live_refresh_token(request, client, token)
        if refresh is None:
            return {"active": False}
        return {
            "active": True,
            "token_type": "refresh_token",
            "client_id": client.client_id,
            "scope": refresh.scope,
            "iss": request.tenant.base_url,
        }

    @staticmethod
    def live_refresh_token(request, client, token: str):
        """A refresh token the token endpoint would still accept (but for the client's secret)."""
        rt = (
            RefreshToken.objects.for_tenant(request.tenant)
            .filter(
                token_checksum=token_checksum(token),
                application=client,
                revoked__isnull=True,
                user__is_active=True,
            )
            .first()
        )
        if rt is None or rt.family_has_ended():
            return None
        if members.subject_of(request.tenant, rt.user_id) is None:
            return None
        return rt


@csrf_exempt
@require_http_methods(["GET", "POST"])
@require_bearer("openid")
def userinfo(request: HttpRequest) -> JsonResponse:
    """``GET/POST /oauth/userinfo`` (OpenID Connect Core §5.3).

    The token comes from the Authorization header only (RFC 9700 §4.3.2);
    claims follow the token's scopes (§5.4).
    """
    bearer = request.bearer
    user = bearer.user
    claims = {"sub": bearer.claims.subject}
    if "profile" in bearer.claims.scopes:
        claims["name"] = user.name
    if "email" in bearer.claims.scopes and not user.is_service:
        claims["email"] = user.email
        claims["email_verified"] = True
    response = JsonResponse(claims)
    response["Cache-Control"] = "no-store"
    return response


@require_safe
def openid_configuration(request: HttpRequest) -> HttpResponse:
    response = HttpResponse(
        metadata.server_metadata_json(request.tenant), content_type="application/json"
    )
    response["Access-Control-Allow-Origin"] = "*"
    return response


oauth_authorization_server = openid_configuration


class JwksView(dot_views.JwksInfoView):
    """``GET /.well-known/jwks.json``: DOT's, listing the current and previous keys."""
