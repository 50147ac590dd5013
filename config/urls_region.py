"""URLs of a region host, e.g. eu.localhost:8000 (no tenant is known there yet)."""

from django.urls import include, path

from consent import views as consent_views
from tenants import views as tenant_views

urlpatterns = [
    path("healthz", tenant_views.healthz, name="healthz"),
    path("i18n/", include("django.conf.urls.i18n")),
    path("oauth/authorize", consent_views.tenant_picker, name="region_authorize"),
]

handler400 = "config.errors.bad_request"
handler500 = "config.errors.server_error"
