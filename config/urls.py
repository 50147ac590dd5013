"""URLs of a tenant host, e.g. acme.eu.localhost:8000.

Region hosts use ``config.urls_region`` (chosen by ``TenantMiddleware``).
"""

from django.urls import include, path, re_path

from oauth_clients import api, management_api
from tenants import views as tenant_views

urlpatterns = [
    path("healthz", tenant_views.healthz, name="healthz"),
    path("metrics", tenant_views.metrics, name="metrics"),
    path("i18n/", include("django.conf.urls.i18n")),
    path("", include("tenants.urls")),
    path("console/integration/oauth/", include("oauth_clients.urls")),
    path("account/apps/", include("consent.urls")),
    path("", include("oauth_clients.oauth.urls")),
    path("api/v1/users/me", api.users_me, name="api-users-me"),
    path("api/v1/openapi.json", management_api.openapi_document, name="api-openapi"),
    path("api/v1/oauth-clients", management_api.oauth_clients, name="api-oauth-clients"),
    path(
        "api/v1/oauth-clients/<slug:client_id>",
        management_api.oauth_client,
        name="api-oauth-client",
    ),
    path(
        "api/v1/oauth-clients/<slug:client_id>/actions/publish",
        management_api.publish,
        name="api-oauth-client-publish",
    ),
    path(
        "api/v1/oauth-clients/<slug:client_id>/actions/unpublish",
        management_api.unpublish,
        name="api-oauth-client-unpublish",
    ),
    path(
        "api/v1/oauth-clients/<slug:client_id>/client-secrets",
        management_api.client_secrets,
        name="api-oauth-client-secrets",
    ),
    path(
        "api/v1/oauth-clients/<slug:client_id>/client-secrets/<slug:hint>",
        management_api.client_secret,
        name="api-oauth-client-secret",
    ),
    path(
        "api/v1/oauth-clients/<slug:client_id>/connection-configs/me",
        management_api.connection_config_me,
        name="api-oauth-client-connection-config",
    ),
    re_path(r"^api/(?P<path>[\s\S]*)$", api.not_found),  # newlines too
]

handler500 = "tenants.views.server_error"
