"""The admin console's home page, filled by the apps above ``tenants``.

``tenants`` owns the page but knows nothing of what the other apps show on
it (the apps' arrows point down to it, never up): an app registers a panel,
a template and a function giving its context, in its ``AppConfig.ready``,
as ``django.contrib.admin`` builds its app list from registrations. The
home page renders the panels in their order.
"""

from collections.abc import Callable
from dataclasses import dataclass

from django.http import HttpRequest
from django.template.loader import render_to_string
from django.utils.safestring import SafeString


@dataclass(frozen=True)
class Panel:
    name: str
    template: str
    context: Callable[[HttpRequest], dict]
    order: int = 100


_panels: dict[str, Panel] = {}


def register_panel(panel: Panel) -> None:
    """Add (or replace, by name) a panel of the console home page."""
    _panels[panel.name] = panel


def render_panels(request: HttpRequest) -> list[SafeString]:
    """Each registered panel, rendered for this request's tenant admin."""
    panels = sorted(_panels.values(), key=lambda panel: (panel.order, panel.name))
    return [render_to_string(p.template, p.context(request), request) for p in panels]
