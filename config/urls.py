"""URLs of a tenant host, e.g. acme.eu.localhost:8000.

Region hosts use ``config.urls_region`` (chosen by ``TenantMiddleware``).
"""

from django.urls import include, path, re_path

from oauth_clients import api
from tenants import views as tenant_views

urlpatterns = [
    path("healthz", tenant_views.healthz, name="healthz"),
    path("i18n/", include("django.conf.urls.i18n")),
    path("", include("tenants.urls")),
    path("console/integration/oauth/", include("oauth_clients.urls")),
    path("account/apps/", include("consent.urls")),
    path("", include("oauth_clients.oauth.urls")),
    path("api/v1/users/me", api.users_me, name="api-users-me"),
    re_path(r"^api/(?P<path>.*)$", api.not_found),
]

handler500 = "tenants.views.server_error"
