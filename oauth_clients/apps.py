from django.apps import AppConfig
from django.db.models.signals import post_delete, post_save
from django.utils.translation import gettext_lazy as _


class OAuthClientsConfig(AppConfig):
    name = "oauth_clients"
    verbose_name = _("OAuth clients")

    def ready(self):
        from oauth_clients.console.panel import console_panel
        from oauth_clients.models import (
            AccessToken,
            AllowedOrigin,
            ClientSecret,
            ConnectionConfig,
            OAuthClient,
        )
        from oauth_clients.revocation import access_token_deleted
        from tenants.console import register_panel
        from tenants.generations import clearer

        post_delete.connect(access_token_deleted, sender=AccessToken, dispatch_uid="revoke-jwt")
        register_panel(console_panel)
        # The clients cache (oauth_clients.lookups) follows clients, secrets, connections
        # and origins: the database bumps the generation, this clears this process's copy.
        clear_clients = clearer("clients")
        for model in (OAuthClient, ClientSecret, ConnectionConfig, AllowedOrigin):
            for signal in (post_save, post_delete):
                signal.connect(
                    clear_clients, sender=model, weak=False, dispatch_uid=f"gen-{model.__name__}"
                )
