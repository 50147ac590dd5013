"""The OAuth endpoints, under DOT's ``oauth2_provider`` namespace and URL names (DOT reverses them).

Only the endpoints we offer: no application-management or device-flow views.
"""

from django.urls import path

from consent.views import AuthorizationView
from oauth_clients.oauth import views

app_name = "oauth2_provider"

urlpatterns = [
    path("oauth/authorize", AuthorizationView.as_view(), name="authorize"),
    path("oauth/token", views.TokenView.as_view(), name="token"),
    path("oauth/revoke", views.RevokeTokenView.as_view(), name="revoke-token"),
    path("oauth/introspect", views.IntrospectView.as_view(), name="introspect"),
    path("oauth/userinfo", views.userinfo, name="user-info"),
    path(
        ".well-known/openid-configuration",
        views.openid_configuration,
        name="oidc-connect-discovery-info",
    ),
    path(
        ".well-known/oauth-authorization-server",
        views.oauth_authorization_server,
        name="oauth-server-metadata",
    ),
    path(".well-known/jwks.json", views.JwksView.as_view(), name="jwks-info"),
]
