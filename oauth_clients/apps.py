from django.apps import AppConfig
from django.db.models.signals import post_delete
from django.utils.translation import gettext_lazy as _


class OAuthClientsConfig(AppConfig):
    name = "oauth_clients"
    verbose_name = _("OAuth clients")

    def ready(self):
        from oauth_clients.console.panel import console_panel
        from oauth_clients.models import AccessToken
        from oauth_clients.revocation import access_token_deleted
        from tenants.console import register_panel

        post_delete.connect(access_token_deleted, sender=AccessToken, dispatch_uid="revoke-jwt")
        register_panel(console_panel)
