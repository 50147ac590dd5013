"""The token-side OAuth endpoints, with DOT's URL names (DOT reverses them).

``config.urls`` puts them in DOT's ``oauth2_provider`` namespace, together
with the authorization endpoint of ``consent``. Only the endpoints we offer:
no application-management or device-flow views.
"""

from django.urls import path

from oauth_clients.oauth import views

urlpatterns = [
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
