"""Access tokens as signed JWTs (RFC 9068), RS256 with the platform's signing keys.

The token endpoint issues them (``ACCESS_TOKEN_GENERATOR``); protected APIs
verify them with the public keys and the revocation list, without a
database lookup for the token itself.
"""

import json
import secrets
import time
from dataclasses import dataclass
from functools import cache

from django.conf import settings
from jwcrypto import jws
from jwcrypto.common import JWException, json_decode

from oauth_clients.keys import kid, signing_key
from oauth_clients.oauthlib_request import tenant_of
from oauth_clients.revocation import revocations
from tenants import members

ACCESS_TOKEN_TYPE = "at+jwt"


def subject_of(request) -> str:
    """The token's ``sub``: the membership's opaque subject.

    The member is the user, or for client credentials the client's service identity.
    """
    cached = getattr(request, "token_subject", None)
    if cached:
        return cached
    tenant = tenant_of(request)
    user_id = request.user.pk if request.user is not None else None
    if user_id is None and request.grant_type == "client_credentials":
        user_id = request.client.service_user_id
    subject = members.subject_of(tenant, user_id)
    if subject is None:
        # Validation runs before issuance and refuses non-members; this is a backstop.
        raise PermissionError("No membership for the token's subject at this tenant.")
    request.token_subject = subject
    return subject


def generate_access_token(request) -> str:
    """oauthlib's token generator: a JWT whose ``jti`` is also kept on the request."""
    tenant = tenant_of(request)
    issuer = tenant.base_url
    now = int(time.time())
    jti = secrets.token_urlsafe(18)
    claims = {
        "iss": issuer,
        "aud": issuer,
        "sub": subject_of(request),
        "client_id": request.client.client_id,
        "scope": " ".join(request.scopes or []),
        "tenant_id": str(tenant.pk),
        "iat": now,
        "exp": now + settings.OAUTH2_PROVIDER["ACCESS_TOKEN_EXPIRE_SECONDS"],
        "jti": jti,
    }
    request.access_token_jti = jti
    pem = settings.SIGNING_KEY_PEM
    token = jws.JWS(json.dumps(claims, separators=(",", ":")))
    token.add_signature(
        signing_key(pem),
        alg="RS256",
        protected={"alg": "RS256", "typ": ACCESS_TOKEN_TYPE, "kid": kid(pem)},
    )
    return token.serialize(compact=True)


@dataclass(frozen=True)
class AccessTokenClaims:
    subject: str
    client_id: str
    scopes: frozenset
    jti: str
    expires_at: int


def _verification_keys() -> dict:
    return _keys_by_kid(settings.SIGNING_KEY_PEM, tuple(settings.PREVIOUS_SIGNING_KEY_PEMS))


@cache
def _keys_by_kid(current: str, previous: tuple[str, ...]) -> dict:
    """Built once per process (and per key set): a thumbprint costs a hash each time."""
    return {kid(pem): signing_key(pem) for pem in (current, *previous)}


def verify_access_token(token: str, tenant) -> AccessTokenClaims | None:
    """The claims of a valid access token of ``tenant``, or None.

    Valid: signed RS256 by one of our keys (current or previous), typ at+jwt,
    issued by and for this tenant, not expired, not revoked.
    """
    # A JWT is compact-serialized only (RFC 7519 §7.2); the JSON serialization
    # would also let an unsigned header claim "typ".
    if token.count(".") != 2 or token.lstrip().startswith("{"):
        return None
    try:
        parsed = jws.JWS()
        parsed.deserialize(token)
        header = json_decode(parsed.objects["protected"])  # the signed header only
        if header.get("alg") != "RS256" or header.get("typ") != ACCESS_TOKEN_TYPE:
            return None
        key = _verification_keys().get(header.get("kid"))
        if key is None:
            return None
        parsed.allowed_algs = ["RS256"]
        parsed.verify(key, alg="RS256")
        claims = json_decode(parsed.payload)
    except (JWException, ValueError, TypeError, KeyError):
        return None
    issuer = tenant.base_url
    try:
        if (
            claims["iss"] != issuer
            or claims["aud"] != issuer
            or claims["tenant_id"] != str(tenant.pk)
            or int(claims["exp"]) <= time.time()
        ):
            return None
        if revocations.is_revoked(claims["jti"]):
            return None
        return AccessTokenClaims(
            subject=claims["sub"],
            client_id=claims["client_id"],
            scopes=frozenset(str(claims.get("scope", "")).split()),
            jti=claims["jti"],
            expires_at=int(claims["exp"]),
        )
    except (KeyError, TypeError, ValueError):
        return None
