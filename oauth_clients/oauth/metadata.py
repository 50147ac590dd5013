"""Where a tenant's authorization server answers: the one list of its endpoints.

Discovery (RFC 8414, OpenID Connect Discovery) publishes it; the console's
*View OAuth configuration* shows the part an application needs.
"""

import json
from functools import lru_cache

from django.conf import settings

from tenants.hosts import origin

PATHS = {
    "authorization_endpoint": "/oauth/authorize",
    "token_endpoint": "/oauth/token",
    "revocation_endpoint": "/oauth/revoke",
    "introspection_endpoint": "/oauth/introspect",
    "userinfo_endpoint": "/oauth/userinfo",
    "jwks_uri": "/.well-known/jwks.json",
}
DISCOVERY_PATH = "/.well-known/openid-configuration"
SECRET_AUTH_METHODS = ["client_secret_basic", "client_secret_post"]


def endpoints(tenant) -> dict[str, str]:
    """The issuer and every endpoint URL of ``tenant``'s authorization server."""
    return _endpoints(tenant.base_url)


def _endpoints(issuer: str) -> dict[str, str]:
    return {"issuer": issuer, **{name: issuer + path for name, path in PATHS.items()}}


def region_authorization_endpoint(tenant) -> str:
    """Where a multi-tenant application starts: the region asks for the tenant."""
    return f"{origin(tenant.region.hostname)}{PATHS['authorization_endpoint']}"


def server_metadata_json(tenant) -> bytes:
    """The discovery document as served: built once per process for each tenant's issuer."""
    return _document(tenant.base_url)


@lru_cache(maxsize=4096)
def _document(issuer: str) -> bytes:
    return json.dumps(_metadata(issuer)).encode()


def server_metadata(tenant) -> dict:
    """Authorization server metadata (RFC 8414) and OpenID provider metadata."""
    return _metadata(tenant.base_url)


def _metadata(issuer: str) -> dict:
    return {
        **_endpoints(issuer),
        "scopes_supported": list(settings.OAUTH2_PROVIDER["SCOPES"]),
        "response_types_supported": ["code"],
        "response_modes_supported": ["query"],
        "grant_types_supported": ["authorization_code", "refresh_token", "client_credentials"],
        "code_challenge_methods_supported": ["S256"],
        "token_endpoint_auth_methods_supported": [*SECRET_AUTH_METHODS, "none"],
        "revocation_endpoint_auth_methods_supported": [*SECRET_AUTH_METHODS, "none"],
        "introspection_endpoint_auth_methods_supported": SECRET_AUTH_METHODS,
        "subject_types_supported": ["public"],
        "id_token_signing_alg_values_supported": ["RS256"],
        "claims_supported": ["sub", "iss", "aud", "exp", "iat", "name", "email", "email_verified"],
        "prompt_values_supported": ["none", "login", "consent"],
        "authorization_response_iss_parameter_supported": True,
    }
