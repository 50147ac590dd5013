from django.urls import path

from consent import views

app_name = "consent"

urlpatterns = [
    path("", views.account_apps, name="account_apps"),
    path("<int:pk>/revoke/", views.account_app_revoke, name="account_app_revoke"),
]
