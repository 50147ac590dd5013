"""The resource-server side: bearer tokens on the platform's APIs (RFC 6750).

A token is checked without the database (signature, issuer, tenant, expiry,
revocation list); one indexed query then finds the member it stands for,
which also makes a removed membership or a deactivated user count at once.
"""

from dataclasses import dataclass
from functools import wraps

from django.http import JsonResponse

from oauth_clients.oauth.errors import oauth_error_response
from oauth_clients.oauth.tokens import AccessTokenClaims, verify_access_token
from tenants import members
from tenants.models import Membership


@dataclass
class BearerResult:
    claims: AccessTokenClaims | None = None
    membership: Membership | None = None
    error: str = ""
    description: str = ""

    @property
    def user(self):
        return self.membership.user if self.membership else None


def bearer_token(request) -> str | None:
    header = request.headers.get("Authorization", "")
    scheme, _, token = header.partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        return None
    return token.strip()


def authenticate_bearer(token: str, tenant, scopes=()) -> BearerResult:
    claims = verify_access_token(token, tenant)
    if claims is None:
        return BearerResult(error="invalid_token", description="The access token is invalid.")
    membership = members.member_for(tenant, claims.subject)
    if membership is None:
        return BearerResult(error="invalid_token", description="The access token is invalid.")
    if not set(scopes) <= claims.scopes:
        return BearerResult(
            claims=claims,
            membership=membership,
            error="insufficient_scope",
            description=f"The access token needs the scope {' '.join(scopes)}.",
        )
    return BearerResult(claims=claims, membership=membership)


def _error(status: int, error: str, description: str, scopes=()) -> JsonResponse:
    response = oauth_error_response(error, description, status)
    challenge = f'Bearer realm="api", error="{error}"'
    if scopes:
        challenge += f', scope="{" ".join(scopes)}"'
    response["WWW-Authenticate"] = challenge
    return response


def require_bearer(*scopes: str):
    """API views: a bearer token of this tenant with ``scopes`` (never the session cookie).

    Missing or invalid → 401 ``invalid_token``; valid without the scopes →
    403 ``insufficient_scope`` (RFC 6750 §3.1). Sets ``request.bearer``.
    """

    def decorator(view):
        @wraps(view)
        def wrapper(request, *args, **kwargs):
            token = bearer_token(request)
            if token is None:
                response = _error(401, "invalid_token", "An access token is required.")
                response["WWW-Authenticate"] = 'Bearer realm="api"'
                return response
            result = authenticate_bearer(token, request.tenant, scopes)
            if result.error == "insufficient_scope":
                return _error(403, result.error, result.description, scopes)
            if result.error:
                return _error(401, result.error, result.description)
            request.bearer = result
            return view(request, *args, **kwargs)

        return wrapper

    return decorator
