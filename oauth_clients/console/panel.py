"""Integration → OAuth on the console home page (registered in ``OAuthClientsConfig.ready``)."""

from django.http import HttpRequest

from oauth_clients.models import OAuthClient
from tenants.console import Panel
from tenants.scoping import scoped


def panel_context(request: HttpRequest) -> dict:
    return {"client_count": scoped(request, OAuthClient).count()}


console_panel = Panel(
    name="oauth_clients", template="oauth_clients/_console_panel.html", context=panel_context
)
