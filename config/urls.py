"""URLs of a tenant host, e.g. acme.eu.localhost:8000.

Region hosts use ``config.urls_region`` (chosen by ``TenantMiddleware``).
"""

from django.urls import include, path

from tenants import views as tenant_views

urlpatterns = [
    path("healthz", tenant_views.healthz, name="healthz"),
    path("i18n/", include("django.conf.urls.i18n")),
    path("", include("tenants.urls")),
    path("console/integration/oauth/", include("oauth_clients.urls")),
]
