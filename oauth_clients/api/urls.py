"""The platform's bearer APIs under ``/api/`` (included by ``config.urls``)."""

from django.urls import path, re_path

from oauth_clients.api import clients, errors, users

urlpatterns = [
    path("v1/users/me", users.users_me, name="api-users-me"),
    path("v1/openapi.json", clients.openapi_document, name="api-openapi"),
    path("v1/oauth-clients", clients.oauth_clients, name="api-oauth-clients"),
    path("v1/oauth-clients/<slug:client_id>", clients.oauth_client, name="api-oauth-client"),
    path(
        "v1/oauth-clients/<slug:client_id>/actions/publish",
        clients.publish,
        name="api-oauth-client-publish",
    ),
    path(
        "v1/oauth-clients/<slug:client_id>/actions/unpublish",
        clients.unpublish,
        name="api-oauth-client-unpublish",
    ),
    path(
        "v1/oauth-clients/<slug:client_id>/client-secrets",
        clients.client_secrets,
        name="api-oauth-client-secrets",
    ),
    path(
        "v1/oauth-clients/<slug:client_id>/client-secrets/<slug:hint>",
        clients.client_secret,
        name="api-oauth-client-secret",
    ),
    path(
        "v1/oauth-clients/<slug:client_id>/connection-configs/me",
        clients.connection_config_me,
        name="api-oauth-client-connection-config",
    ),
    # Anything else under /api/ is a JSON 404, newlines in the path too.
    re_path(r"^(?P<path>[\s\S]*)$", errors.not_found),
]
