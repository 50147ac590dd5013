"""JWTs in tests: reading a token's parts without checking them, and signing claims ourselves.

``craft_token`` signs arbitrary claims the way the token endpoint does (RS256,
``typ: at+jwt``, our key's ``kid``), so a test can make a token the endpoint
would not issue: expired, for another tenant, signed with another key.
"""

import base64
import json
import secrets
import time

from django.conf import settings
from jwcrypto import jws

from oauth_clients.keys import kid, signing_key


def b64url(data: bytes) -> str:
    """base64url without padding (RFC 7515 §2)."""
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def encode_segment(value: dict) -> str:
    """A JWT segment: compact JSON, base64url-encoded."""
    return b64url(json.dumps(value, separators=(",", ":")).encode())


def decode_segment(segment: str) -> dict:
    return json.loads(base64.urlsafe_b64decode(segment + "=" * (-len(segment) % 4)))


def header_of(token: str) -> dict:
    return decode_segment(token.split(".")[0])


def payload_of(token: str) -> dict:
    """A JWT's claims, unchecked."""
    return decode_segment(token.split(".")[1])


def jti_of(token: str) -> str:
    return payload_of(token)["jti"]


def sign(claims: dict, pem: str | None = None, **header) -> str:
    """A compact JWS of ``claims``, signed with ``pem`` (ours by default); header values
    override ours, None drops one."""
    pem = pem or settings.SIGNING_KEY_PEM
    protected = {"alg": "RS256", "typ": "at+jwt", "kid": kid(pem), **header}
    protected = {k: v for k, v in protected.items() if v is not None}
    token = jws.JWS(json.dumps(claims, separators=(",", ":")))
    token.add_signature(signing_key(pem), alg="RS256", protected=protected)
    return token.serialize(compact=True)


def subject_of(user, tenant) -> str:
    """The ``sub`` of ``user``'s tokens at ``tenant`` (their membership's subject)."""
    from tenants.models import Membership

    return str(Membership.objects.get(user=user, tenant=tenant).subject)


def claims_for(tenant, subject: str, **overrides) -> dict:
    """The claims the token endpoint would put in a token of ``tenant``; None drops one."""
    now = int(time.time())
    claims = {
        "iss": tenant.base_url,
        "aud": tenant.base_url,
        "sub": subject,
        "client_id": "crafted-client",
        "scope": "user_default",
        "tenant_id": str(tenant.pk),
        "iat": now,
        "exp": now + 3600,
        "jti": secrets.token_urlsafe(18),
    }
    claims.update(overrides)
    return {k: v for k, v in claims.items() if v is not None}


def craft_token(tenant, user, *, pem: str | None = None, header=None, **claims) -> str:
    """A token for ``user``'s membership at ``tenant``, signed with ``pem`` (ours by default)."""
    return sign(claims_for(tenant, subject_of(user, tenant), **claims), pem, **(header or {}))
