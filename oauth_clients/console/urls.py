from django.urls import path

from oauth_clients.console import views

app_name = "oauth_clients"

PUBLISH, UNPUBLISH = {"action": "publish"}, {"action": "unpublish"}

urlpatterns = [
    path("", views.client_list, name="list"),
    path("new/", views.client_create, name="create"),
    path("delete/", views.clients_bulk_delete, name="bulk_delete"),
    path(
        "external/<slug:client_id>/configuration/",
        views.external_configuration,
        name="external_configuration",
    ),
    path(
        "external/<slug:client_id>/consent-method/",
        views.external_consent_method,
        name="external_consent_method",
    ),
    path("external/<slug:client_id>/revoke/", views.external_revoke, name="external_revoke"),
    path("<slug:client_id>/edit/", views.client_edit, name="edit"),
    path("<slug:client_id>/secrets/", views.client_secrets, name="secrets"),
    path("<slug:client_id>/secrets/new/", views.secret_generate, name="secret_generate"),
    path("<slug:client_id>/secrets/<slug:hint>/delete/", views.secret_delete, name="secret_delete"),
    path("<slug:client_id>/configuration/", views.client_configuration, name="configuration"),
    path("<slug:client_id>/publish/", views.client_publishing, PUBLISH, name="publish"),
    path("<slug:client_id>/unpublish/", views.client_publishing, UNPUBLISH, name="unpublish"),
    path("<slug:client_id>/delete/", views.client_delete, name="delete"),
    path("<slug:client_id>/activity/", views.client_activity, name="activity"),
]
