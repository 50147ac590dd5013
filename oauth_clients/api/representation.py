"""How a client, its secrets and a connection config read in the management API.

camelCase JSON, shaped like the product's ``/api/v1/oauth-clients`` (the
schemas in ``openapi.json``); times in UTC as RFC 3339 with ``Z``.
"""

from oauth_clients.models import ClientSecret, ConnectionConfig, OAuthClient


def iso(value) -> str | None:
    return value.isoformat().replace("+00:00", "Z") if value else None


def grant_types(client: OAuthClient) -> list[str]:
    """What the client may use at the token endpoint (every client has the code flow)."""
    types = ["authorization_code", "refresh_token"]
    if client.machine_to_machine:
        types.append("client_credentials")
    return types


def represent(client: OAuthClient, config: ConnectionConfig | None, secrets=()) -> dict:
    """The ``OAuthClient`` schema; ``config`` is the current tenant's connection to it."""
    return {
        "clientId": client.client_id,
        "clientName": client.name,
        "description": client.description,
        "appType": client.app_type,
        "redirectUris": client.redirect_uri_list,
        "allowedOrigins": client.allowed_origin_list,
        "allowedScopes": client.allowed_scope_list,
        "allowedGrantTypes": grant_types(client),
        "connectionConfig": connection_config(config),
        "clientSecrets": [represent_secret(secret) for secret in secrets],
        "createdAt": iso(client.created),
        "updatedAt": iso(client.updated),
        "publishedAt": iso(client.published_at),
        "tenantId": str(client.tenant_id),
    }


def represent_secret(secret: ClientSecret) -> dict:
    """``ClientSecretInfo``: never the secret, only its hint (its last characters)."""
    return {
        "hint": secret.hint,
        "createdAt": iso(secret.created_at),
        "createdBy": str(secret.created_by_id) if secret.created_by_id else None,
        "lastUsedAt": iso(secret.last_used_at),
        "expiresAt": iso(secret.expires_at),
    }


def created_secret(client: OAuthClient, secret: ClientSecret, plaintext: str) -> dict:
    """``ClientSecretCreated``: the one answer that holds the plaintext."""
    return {
        "clientId": client.client_id,
        "clientSecret": plaintext,
        "hint": secret.hint,
        "createdAt": iso(secret.created_at),
        "createdBy": str(secret.created_by_id) if secret.created_by_id else None,
    }


def connection_config(config: ConnectionConfig | None) -> dict:
    """``ConnectionConfig``; without a row, what a new connection would be."""
    if config is None:
        return {"consentMethod": ConnectionConfig.ConsentMethod.REQUIRED, "status": "pending"}
    return {
        "consentMethod": config.consent_method,
        "status": "approved" if config.is_approved else "pending",
    }
