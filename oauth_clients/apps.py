from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class OAuthClientsConfig(AppConfig):
    name = "oauth_clients"
    verbose_name = _("OAuth clients")
