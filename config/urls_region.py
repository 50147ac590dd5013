"""URLs of a region host, e.g. eu.localhost:8000 (no tenant is known there yet)."""

from django.urls import include, path

from tenants import views as tenant_views

urlpatterns = [
    path("healthz", tenant_views.healthz, name="healthz"),
    path("i18n/", include("django.conf.urls.i18n")),
]
