"""Integration → OAuth: the console screens for a tenant's OAuth clients.

Each dialog is one URL: htmx requests get the dialog fragment (shown in
``#modal``), plain requests the same fragment inside a full page, so every
screen works without JavaScript.
"""

import json
from urllib.parse import urlencode

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.db.models import OuterRef, Q, Subquery
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_http_methods, require_POST, require_safe
from django.views.decorators.vary import vary_on_headers

from oauth_clients import services
from oauth_clients.console.forms import (
    BulkDeleteForm,
    ClientForm,
    ConsentMethodForm,
    GenerateSecretForm,
    intent_of,
)
from oauth_clients.console.rows import client_rows
from oauth_clients.models import AUDIT_ACTION_LABELS, ClientSecret, ConnectionConfig, OAuthClient
from oauth_clients.oauth import metadata
from tenants.decorators import tenant_admin_required
from tenants.models import AuditEvent
from tenants.scoping import get_scoped_or_404, scoped

PAGE_SIZE = 20
SORTS = {
    "name": ("name", "pk"),
    "-name": ("-name", "-pk"),
    "created": ("created", "pk"),
    "-created": ("-created", "-pk"),
}
CLIENTS_CHANGED = "clients-changed"  # htmx event: the list reloads itself


def render_dialog(
    request: HttpRequest, fragment: str, context: dict, *, status=200
) -> HttpResponse:
    """The dialog alone for htmx, or inside a console page without JavaScript."""
    context = {"fragment": f"oauth_clients/{fragment}", "active_section": "oauth", **context}
    template = context["fragment"] if request.htmx else "oauth_clients/dialog_page.html"
    return render(request, template, context, status=status)


def finish(request: HttpRequest, message: str, *, level=messages.SUCCESS) -> HttpResponse:
    """After a change: close the dialog and reload the list (htmx), or go back to it."""
    messages.add_message(request, level, message)
    if request.htmx:
        response = HttpResponse(render_to_string("_messages_oob.html", request=request))
        response["HX-Trigger"] = CLIENTS_CHANGED
        return response
    return redirect("oauth_clients:list")


def get_client(request: HttpRequest, client_id: str) -> OAuthClient:
    return get_scoped_or_404(request, OAuthClient, client_id=client_id)


def own_consent_method(request: HttpRequest, client: OAuthClient) -> str:
    config = scoped(request, ConnectionConfig).filter(client=client).first()
    return config.consent_method if config else ConnectionConfig.ConsentMethod.REQUIRED


@require_safe
@vary_on_headers("HX-Request")
@tenant_admin_required
def client_list(request: HttpRequest) -> HttpResponse:
    raw_query = request.GET.get("q", "")
    query = raw_query.replace("\x00", "").strip()[:100]
    sort = request.GET.get("sort", "name")
    if sort not in SORTS:
        sort = "name"
    consent = scoped(request, ConnectionConfig).filter(client=OuterRef("pk"))
    clients = scoped(request, OAuthClient).annotate(
        consent_method=Subquery(consent.values("consent_method")[:1])
    )
    if query:
        clients = clients.filter(Q(name__icontains=query) | Q(client_id__icontains=query.lower()))
    if "\x00" in raw_query:
        clients = clients.none()  # no name holds a NUL (and PostgreSQL cannot compare one)
    page = Paginator(clients.order_by(*SORTS[sort]), PAGE_SIZE).get_page(request.GET.get("page"))

    def list_url(**params) -> str:
        params = {"q": query, "sort": sort, **params}
        return (
            reverse("oauth_clients:list") + "?" + urlencode({k: v for k, v in params.items() if v})
        )

    sort_links = {}
    for field in ("name", "created"):
        state = {field: "ascending", f"-{field}": "descending"}.get(sort, "none")
        sort_links[field] = {
            "url": list_url(sort=f"-{field}" if sort == field else field),
            "state": state,
            "arrow": {"ascending": "▲", "descending": "▼"}.get(state, ""),
        }
    externals = (
        scoped(request, ConnectionConfig)
        .filter(approved_at__isnull=False)
        .exclude(client__tenant=request.tenant)
        .select_related("client", "client__tenant__region", "approved_by")
        .order_by("client__name", "pk")
    )
    if "\x00" in raw_query:
        externals = externals.none()
    elif query:
        externals = externals.filter(
            Q(client__name__icontains=query) | Q(client__client_id__icontains=query.lower())
        )
    externals = list(externals)
    # Whether the tenant has any client at all, own or external, whatever the search.
    has_any = bool(page.paginator.count) or bool(externals) or scoped(request, OAuthClient).exists()
    if not has_any:
        has_any = (
            scoped(request, ConnectionConfig)
            .filter(approved_at__isnull=False)
            .exclude(client__tenant=request.tenant)
            .exists()
        )
    context = {
        "page": page,
        "rows": client_rows(page.object_list, reverse("oauth_clients:list")),
        "externals": externals,
        "query": query,
        "sort": sort,
        "has_any": has_any,
        "sort_links": sort_links,
        "previous_url": list_url(page=page.previous_page_number()) if page.has_previous() else "",
        "next_url": list_url(page=page.next_page_number()) if page.has_next() else "",
        "active_section": "oauth",
    }
    if request.htmx and request.htmx.target == "clients-table":
        return render(request, "oauth_clients/_table.html", context)
    return render(request, "oauth_clients/client_list.html", context)


@never_cache
@require_http_methods(["GET", "POST"])
@vary_on_headers("HX-Request")
@tenant_admin_required
def client_create(request: HttpRequest) -> HttpResponse:
    form = ClientForm()
    if request.method == "POST":
        intent = intent_of(request.POST)
        form = ClientForm(request.POST, intent=intent)
        if intent != "save":
            form = form if form.errors else form.after_list_intent()
        elif form.is_valid():
            try:
                client, secret = services.create_client(
                    request.tenant,
                    form.to_data(),
                    app_type=form.cleaned_data["app_type"],
                    actor=request.user,
                )
            except ValidationError as error:
                form.add_error(None, error)
            else:
                response = render_dialog(
                    request, "_created.html", {"client": client, "secret": secret}
                )
                response["HX-Trigger"] = CLIENTS_CHANGED
                return response
    return render_dialog(request, "_form.html", {"form": form, "title": _("Create new")})


@never_cache
@require_http_methods(["GET", "POST"])
@vary_on_headers("HX-Request")
@tenant_admin_required
def client_edit(request: HttpRequest, client_id: str) -> HttpResponse:
    client = get_client(request, client_id)
    form = ClientForm.for_client(client, own_consent_method(request, client))
    if request.method == "POST":
        intent = intent_of(request.POST)
        form = ClientForm(request.POST, client=client, intent=intent)
        if intent != "save":
            form = form if form.errors else form.after_list_intent()
        elif form.is_valid():
            try:
                services.update_client(client, form.to_data(), actor=request.user)
            except ValidationError as error:
                form.add_error(None, error)
            else:
                return finish(request, _("Saved %(name)s.") % {"name": client.name})
    return render_dialog(
        request, "_form.html", {"form": form, "client": client, "title": _("Edit")}
    )


def _secrets_context(client: OAuthClient, **extra) -> dict:
    return {
        "client": client,
        "secrets": client.secrets.select_related("created_by"),
        "generate_form": GenerateSecretForm(),
        **extra,
    }


@never_cache
@require_safe
@vary_on_headers("HX-Request")
@tenant_admin_required
def client_secrets(request: HttpRequest, client_id: str) -> HttpResponse:
    client = get_client(request, client_id)
    return render_dialog(request, "_secrets.html", _secrets_context(client))


@never_cache
@require_POST
@vary_on_headers("HX-Request")
@tenant_admin_required
def secret_generate(request: HttpRequest, client_id: str) -> HttpResponse:
    client = get_client(request, client_id)
    form = GenerateSecretForm(request.POST)
    context = _secrets_context(client, generate_form=form)
    if form.is_valid():
        try:
            secret, plaintext = services.generate_secret(
                client, expires_in_days=form.cleaned_data["expires_in_days"], actor=request.user
            )
        except ValidationError as error:
            form.add_error(None, error)
        else:
            context.update(
                new_secret=secret, plaintext=plaintext, generate_form=GenerateSecretForm()
            )
    return render_dialog(request, "_secrets.html", context)


@never_cache
@require_http_methods(["GET", "POST"])
@vary_on_headers("HX-Request")
@tenant_admin_required
def secret_delete(request: HttpRequest, client_id: str, hint: str) -> HttpResponse:
    client = get_client(request, client_id)
    secret = get_scoped_or_404(request, ClientSecret, client=client, hint=hint)
    if request.method == "POST":
        services.delete_secret(secret, actor=request.user)
        deleted = _("Deleted the secret ending in %(hint)s.") % {"hint": secret.hint}
        if not request.htmx:
            messages.success(request, deleted)
            return redirect("oauth_clients:secrets", client_id=client.client_id)
        return render_dialog(request, "_secrets.html", _secrets_context(client, notice=deleted))
    is_last = client.secrets.count() == 1
    return render_dialog(
        request,
        "_secret_delete_confirm.html",
        {"client": client, "secret": secret, "is_last": is_last},
    )


@require_safe
@vary_on_headers("HX-Request")
@tenant_admin_required
def client_configuration(request: HttpRequest, client_id: str) -> HttpResponse:
    client = get_client(request, client_id)
    return render_dialog(request, "_configuration.html", configuration_context(request, client))


# What View OAuth configuration lists of the tenant's endpoints.
CONFIGURATION_ENDPOINTS = (
    "issuer",
    "authorization_endpoint",
    "token_endpoint",
    "revocation_endpoint",
    "jwks_uri",
)


def configuration_context(request: HttpRequest, client: OAuthClient, *, external=False) -> dict:
    """What an application needs to sign users in through ``client`` at this tenant."""
    every = metadata.endpoints(request.tenant)
    shown = (
        "issuer",
        "authorization_endpoint",
        "token_endpoint",
        "revocation_endpoint",
        "jwks_uri",
    )
    endpoints = {name: every[name] for name in shown}
    endpoints["discovery_url"] = every["issuer"] + metadata.DISCOVERY_PATH
    if client.is_published:
        endpoints["region_authorization_endpoint"] = metadata.region_authorization_endpoint(
            request.tenant
        )
    config = {
        **endpoints,
        "client_id": client.client_id,
        "client_type": client.app_type,
        "redirect_uris": client.redirect_uri_list,
        "scopes": client.allowed_scope_list,
    }
    if client.is_confidential and not external:
        config["client_secret"] = "<YOUR_CLIENT_SECRET>"
    redirect_uri = client.redirect_uri_list[0] if client.redirect_uri_list else ""
    query = urlencode(
        {
            "response_type": "code",
            "client_id": client.client_id,
            "redirect_uri": redirect_uri,
            "scope": " ".join(client.allowed_scope_list),
            "state": "STATE",
            "code_challenge": "CODE_CHALLENGE",
            "code_challenge_method": "S256",
        }
    )
    return {
        "client": client,
        "external": external,
        "config_json": json.dumps(config, indent=2),
        "authorize_url": f"{endpoints['authorization_endpoint']}?{query}",
        "endpoints": endpoints,
        "redirect_uri": redirect_uri,
        "scope": " ".join(client.allowed_scope_list),
    }


PUBLISHING = {
    "publish": (services.publish_client, _("Published %(name)s."), "_publish_confirm.html"),
    "unpublish": (services.unpublish_client, _("Unpublished %(name)s."), "_unpublish_confirm.html"),
}


@require_http_methods(["GET", "POST"])
@vary_on_headers("HX-Request")
@tenant_admin_required
def client_publishing(request: HttpRequest, client_id: str, action: str) -> HttpResponse:
    """Publish or Unpublish: a confirmation dialog (GET), carried out by its POST."""
    client = get_client(request, client_id)
    act, message, template = PUBLISHING[action]
    if request.method == "POST":
        act(client, actor=request.user)
        return finish(request, message % {"name": client.name})
    return render_dialog(request, template, {"client": client})


def get_external(request: HttpRequest, client_id: str) -> ConnectionConfig:
    """This tenant's approval of another tenant's client (404 for anything else)."""
    config = get_scoped_or_404(
        request, ConnectionConfig, client__client_id=client_id, approved_at__isnull=False
    )
    if not config.client.is_external_to(request.tenant):
        raise Http404
    return config


@require_safe
@vary_on_headers("HX-Request")
@tenant_admin_required
def external_configuration(request: HttpRequest, client_id: str) -> HttpResponse:
    config = get_external(request, client_id)
    if config.client.is_deleted:
        raise Http404
    context = configuration_context(request, config.client, external=True)
    return render_dialog(request, "_configuration.html", context)


@require_http_methods(["GET", "POST"])
@vary_on_headers("HX-Request")
@tenant_admin_required
def external_consent_method(request: HttpRequest, client_id: str) -> HttpResponse:
    config = get_external(request, client_id)
    data = request.POST if request.method == "POST" else None
    form = ConsentMethodForm(data, initial={"consent_method": config.consent_method})
    if request.method == "POST" and form.is_valid():
        services.set_consent_method(config, form.cleaned_data["consent_method"], actor=request.user)
        return finish(request, _("Saved %(name)s.") % {"name": config.client.name})
    return render_dialog(request, "_consent_method.html", {"config": config, "form": form})


@require_http_methods(["GET", "POST"])
@vary_on_headers("HX-Request")
@tenant_admin_required
def external_revoke(request: HttpRequest, client_id: str) -> HttpResponse:
    """Revoke access (or remove a client its owner deleted) for this tenant."""
    config = get_external(request, client_id)
    if request.method == "POST":
        services.revoke_client_for_tenant(config, actor=request.user)
        return finish(request, _("Revoked access for %(name)s.") % {"name": config.client.name})
    return render_dialog(request, "_external_revoke_confirm.html", {"config": config})


@require_safe
@vary_on_headers("HX-Request")
@tenant_admin_required
def client_delete(request: HttpRequest, client_id: str) -> HttpResponse:
    """Delete from a client's … menu: the same confirmation as a bulk delete of one."""
    client = get_client(request, client_id)
    return render_dialog(request, "_bulk_delete_confirm.html", {"selected": [client]})


@require_POST
@vary_on_headers("HX-Request")
@tenant_admin_required
def clients_bulk_delete(request: HttpRequest) -> HttpResponse:
    """Two POSTs, as Django admin's delete_selected: the selection, then ``confirm=yes``."""
    form = BulkDeleteForm(request.POST, queryset=scoped(request, OAuthClient))
    if not form.is_valid():
        return finish(request, " ".join(form.non_field_errors()), level=messages.ERROR)
    if request.POST.get("confirm") != "yes":
        return render_dialog(request, "_bulk_delete_confirm.html", {"selected": form.selected})
    names = services.delete_clients(
        request.tenant, [client.pk for client in form.selected], actor=request.user
    )
    return finish(request, _("Deleted: %(names)s.") % {"names": ", ".join(names)})


@require_safe
@vary_on_headers("HX-Request")
@tenant_admin_required
def client_activity(request: HttpRequest, client_id: str) -> HttpResponse:
    client = get_client(request, client_id)
    events = list(
        scoped(request, AuditEvent).filter(
            target_type=OAuthClient._meta.label_lower, target_id=str(client.pk)
        )[:50]
    )
    for event in events:
        event.label = AUDIT_ACTION_LABELS.get(event.action, event.action)
    return render_dialog(request, "_activity.html", {"client": client, "events": events})
