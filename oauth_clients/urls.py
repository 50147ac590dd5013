from django.urls import path

from oauth_clients import views

app_name = "oauth_clients"

urlpatterns = [
    path("", views.client_list, name="list"),
]
