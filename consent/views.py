"""The authorization endpoint with its sign-in and consent screens, and the user's own grants."""

import time
from urllib.parse import parse_qsl, urlencode, urlsplit

from django.contrib import messages
from django.contrib.auth.views import redirect_to_login
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.decorators import method_decorator
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_http_methods, require_POST, require_safe
from oauth2_provider import views as dot_views
from oauth2_provider.exceptions import OAuthToolkitError
from oauth2_provider.http import OAuth2ResponseRedirect

# Private in DOT, used as it is: RFC 9207's iss on every redirect, errors included,
# exactly as DOT adds it to codes (contract: tests/oauth/test_library_contract.py).
from oauth2_provider.oauth2_backends import _add_iss_to_redirect

from consent import services
from consent.forms import TenantHostnameForm
from consent.models import ConsentGrant
from oauth_clients.models import ADMIN_SCOPES, OAuthClient
from oauth_clients.services import approve_client_for_tenant
from tenants import ratelimit, sessions
from tenants.decorators import tenant_member_required
from tenants.scoping import get_scoped_or_404, scoped

# What an authorization request may carry (OAuth 2.0, PKCE, OpenID Connect).
AUTHORIZATION_PARAMETERS = frozenset(
    {
        "response_type",
        "client_id",
        "redirect_uri",
        "scope",
        "state",
        "code_challenge",
        "code_challenge_method",
        "nonce",
        "prompt",
        "max_age",
        "ui_locales",
        "login_hint",
    }
)


def valid_max_age(value: str | None) -> bool:
    """``max_age``: absent, or a whole number of seconds (OpenID Connect Core §3.1.2.1)."""
    return value is None or (value.isascii() and value.isdigit() and len(value) <= 10)


@method_decorator(never_cache, name="dispatch")
class AuthorizationView(dot_views.AuthorizationView):
    """``/oauth/authorize`` (RFC 6749 §4.1.1) on a tenant host.

    DOT and oauthlib validate the request; this view decides whether to ask:
    the tenant's consent method for the client and the user's recorded
    grants, never the client-controlled ``approval_prompt``. Every redirect
    to the client carries ``iss`` (RFC 9207), errors included.
    """

    template_name = "consent/authorize.html"

    def get_login_url(self):
        return reverse("tenants:login")

    def redirect(self, redirect_to, application):
        return OAuth2ResponseRedirect(
            _add_iss_to_redirect(redirect_to, self.request.tenant.base_url),
            application.get_allowed_schemes() if application else ["https"],
        )

    def handle_no_permission(self):
        """Not signed in: check the request before asking anyone to sign in.

        An unknown client or an unregistered redirect URL is an error page at
        once (RFC 6749 §4.1.2.1); other errors go back to the client. Only a
        valid request leads to the sign-in page, which then satisfies
        ``prompt=login`` and ``max_age`` (they are taken out of the way back).
        ``prompt=none`` answers ``login_required`` (DOT's handling).
        """
        prompt = set(self.request.GET.get("prompt", "").split())
        if self.request.method != "GET" or "none" in prompt:
            return super().handle_no_permission()
        try:
            self.validate_authorization_request(self.request)
        except OAuthToolkitError as error:
            return self.error_response(error, application=None)
        return redirect_to_login(self.continue_url(), self.get_login_url())

    def continue_url(self) -> str:
        """This request's URL without what a fresh sign-in satisfies (prompt=login, max_age)."""
        parts = urlsplit(self.request.get_full_path())
        query = []
        for key, item in parse_qsl(parts.query, keep_blank_values=True):
            if key == "prompt":
                item = " ".join(p for p in item.split() if p != "login")
                if not item:
                    continue
            if key != "max_age":
                query.append((key, item))
        return parts._replace(query=urlencode(query)).geturl()

    def reauthenticate(self):
        """``prompt=login`` or a too old sign-in for ``max_age`` (OpenID Connect Core §3.1.2.1).

        The user proves who they are again without being signed out first, so
        a link cannot end anyone's session: the same account keeps its session,
        another account replaces it only once its own sign-in succeeds.
        """
        query = urlencode({"next": self.continue_url(), "reauth": "1"})
        return HttpResponseRedirect(f"{reverse('tenants:login')}?{query}")

    def needs_reauthentication(self, prompt) -> bool:
        if "login" in prompt:
            return True
        max_age = self.request.GET.get("max_age")
        if max_age is None:
            return False
        signed_in = sessions.auth_time(self.request)
        return signed_in is None or time.time() - signed_in.timestamp() > int(max_age)

    def error_redirect(self, credentials, application, error: str, description: str):
        params = {"error": error, "error_description": description}
        if credentials.get("state"):
            params["state"] = credentials["state"]
        uri = credentials["redirect_uri"]
        return self.redirect(f"{uri}{'&' if '?' in uri else '?'}{urlencode(params)}", application)

    def get(self, request, *args, **kwargs):
        prompt = set(request.GET.get("prompt", "").split())
        try:
            scopes, credentials = self.validate_authorization_request(request)
        except OAuthToolkitError as error:
            return self.error_response(error, application=None)
        application: OAuthClient = credentials["request"].client
        if not valid_max_age(request.GET.get("max_age")):
            return self.error_redirect(
                credentials, application, "invalid_request", "max_age must be a whole number."
            )
        if self.needs_reauthentication(prompt):
            # Only a valid request may ask for the password again.
            return self.reauthenticate()
        if refusal := self.refuse_admin_scopes(credentials, application, scopes):
            return refusal
        tenant = request.tenant
        config = services.connection_at(tenant, application)
        if services.needs_approval(tenant, application, config, scopes):
            # Not approved here, or asking for a scope this tenant never approved.
            if "none" in prompt and services.is_tenant_admin(tenant, request.user):
                # prompt=none shows no page (OpenID Connect Core §3.1.2.6).
                return self.error_redirect(
                    credentials,
                    application,
                    "interaction_required",
                    "A tenant admin must approve this application first.",
                )
            return self.approval_gate(credentials, application, scopes, config)
        return self.continue_authorization(credentials, application, scopes, prompt, config)

    def refuse_admin_scopes(self, credentials, application, scopes):
        """Administration scopes are for tenant admins only."""
        if ADMIN_SCOPES.isdisjoint(scopes) or services.is_tenant_admin(
            self.request.tenant, self.request.user
        ):
            return None
        return self.error_redirect(
            credentials,
            application,
            "invalid_scope",
            "Only tenant admins can grant admin_classic.",
        )

    def refuse_unapproved(self, credentials, application):
        return self.error_redirect(
            credentials,
            application,
            "access_denied",
            "A tenant admin must approve this application before it can be used here.",
        )

    def continue_authorization(self, credentials, application, scopes, prompt, config):
        request, tenant = self.request, self.request.tenant
        if not services.needs_consent(tenant, request.user, application, scopes, prompt, config):
            return self.authorize(credentials, scopes, application)
        if "none" in prompt:
            return self.error_redirect(
                credentials, application, "consent_required", "The user has not consented yet."
            )
        self.oauth2_data = {
            "client_id": credentials["client_id"],
            "redirect_uri": credentials["redirect_uri"],
            "response_type": credentials["response_type"],
            "state": credentials.get("state"),
            "code_challenge": credentials.get("code_challenge"),
            "code_challenge_method": credentials.get("code_challenge_method"),
            "nonce": credentials.get("nonce"),
            "scopes": scopes,
        }
        form = self.get_form(self.get_form_class())
        return self.render_to_response(self.consent_context(form, application, scopes))

    def approval_gate(self, credentials, application, scopes, config):
        """A published client asking for what this tenant has not approved: its admin decides.

        The page lists what the client asks for, marking what the approval
        would add; nobody else can approve.
        """
        if not services.is_tenant_admin(self.request.tenant, self.request.user):
            return self.refuse_unapproved(credentials, application)
        hidden = {
            key: value for key, value in self.request.GET.items() if key in AUTHORIZATION_PARAMETERS
        }
        new = set(config.unapproved(scopes))
        descriptions = services.scope_descriptions()
        return render(
            self.request,
            "consent/approve.html",
            {
                "application": application,
                "owner": application.tenant,
                "redirect_host": urlsplit(credentials["redirect_uri"]).hostname,
                "scopes": [
                    (scope, descriptions.get(scope, scope), scope in new) for scope in scopes
                ],
                "widening": config.is_approved,
                "hidden": hidden,
            },
        )

    def post(self, request, *args, **kwargs):
        """Consent and approval answers, at most RATE_LIMITS["authorize_post_per_user"]."""
        user_key = str(request.user.pk)
        if wait := ratelimit.is_limited("authorize_post_per_user", user_key):
            response = render(request, "consent/too_many.html", status=429)
            response["Retry-After"] = str(wait)
            return response
        ratelimit.hit("authorize_post_per_user", user_key)
        if "tenant_approval" in request.POST:
            return self.tenant_approval(request)
        return super().post(request, *args, **kwargs)

    def tenant_approval(self, request):
        """The approval page's answer, a CSRF-protected POST that repeats the request.

        The approval covers the scopes of this request (those the page showed),
        added to what this tenant approved before.
        """
        try:
            scopes, credentials = self.validate_authorization_request(request)
        except OAuthToolkitError as error:
            return self.error_response(error, application=None)
        application: OAuthClient = credentials["request"].client
        if request.POST["tenant_approval"] != "approve":
            return self.error_redirect(
                credentials, application, "access_denied", "The tenant admin did not approve it."
            )
        if not services.is_tenant_admin(request.tenant, request.user):
            return self.refuse_unapproved(credentials, application)
        if refusal := self.refuse_admin_scopes(credentials, application, scopes):
            return refusal
        if application.is_external_to(request.tenant):
            approve_client_for_tenant(
                request.tenant, application, scopes=scopes, actor=request.user
            )
        config = services.connection_at(request.tenant, application)
        return self.continue_authorization(credentials, application, scopes, set(), config)

    def create_authorization_response(self, request, scopes, credentials, allow):
        # The code remembers when this session's user signed in (its ID token's auth_time).
        request.oauth_auth_time = sessions.auth_time(request)
        return super().create_authorization_response(request, scopes, credentials, allow)

    def consent_context(self, form, application, scopes) -> dict:
        descriptions = services.scope_descriptions()
        return {
            "form": form,
            "application": application,
            "owner": application.tenant,
            "scopes": [(scope, descriptions.get(scope, scope)) for scope in scopes],
        }

    def authorize(self, credentials, scopes, application):
        credentials = {
            key: value
            for key, value in credentials.items()
            if key
            in {
                "client_id",
                "redirect_uri",
                "response_type",
                "state",
                "code_challenge",
                "code_challenge_method",
                "nonce",
                "claims",
            }
            and value is not None
        }
        try:
            uri, _headers, _body, _status = self.create_authorization_response(
                request=self.request, scopes=" ".join(scopes), credentials=credentials, allow=True
            )
        except OAuthToolkitError as error:
            return self.error_response(error, application)
        return self.redirect(uri, application)

    def form_valid(self, form):
        """The consent form's Allow or Deny (a CSRF-protected POST of the signed-in user).

        The posted request is validated again before DOT looks the client up.
        """
        try:
            scopes, credentials = self.validate_authorization_request(self.request)
        except OAuthToolkitError as error:
            return self.error_response(error, application=None)
        application: OAuthClient = credentials["request"].client
        tenant = self.request.tenant
        config = services.connection_at(tenant, application)
        if services.needs_approval(tenant, application, config, scopes):
            # The approval gate holds for a posted consent form too.
            return self.refuse_unapproved(credentials, application)
        if refusal := self.refuse_admin_scopes(credentials, application, scopes):
            return refusal
        response = super().form_valid(form)
        granted = form.cleaned_data.get("allow") and "code=" in response.get("Location", "")
        if granted:
            services.record_consent(
                tenant,
                self.request.user,
                application,
                form.cleaned_data["scope"].split(),
            )
        return response


@never_cache
@require_safe
@tenant_member_required
def account_apps(request: HttpRequest) -> HttpResponse:
    """``/account/apps/``: the applications this user has allowed at this tenant."""
    grants = (
        scoped(request, ConsentGrant)
        .filter(user=request.user, client__deleted_at__isnull=True)
        .select_related("client", "client__tenant")
        .order_by("client__name")
    )
    descriptions = services.scope_descriptions()
    for grant in grants:
        grant.scope_items = [(s, descriptions.get(s, s)) for s in grant.scope_list]
    return render(request, "consent/account_apps.html", {"grants": grants})


@require_POST
@tenant_member_required
def account_app_revoke(request: HttpRequest, pk: int) -> HttpResponse:
    grant = get_scoped_or_404(request, ConsentGrant, pk=pk, user=request.user)
    name = grant.client.name
    services.revoke_consent(grant)
    messages.success(request, _("%(name)s can no longer use your account.") % {"name": name})
    return redirect("consent:account_apps")


@never_cache
@require_http_methods(["GET", "POST"])
def tenant_picker(request: HttpRequest) -> HttpResponse:
    """``/oauth/authorize`` on a region host: ask for the tenant, then go there.

    The client and redirect URL are checked exactly as a tenant host would
    before anything is shown; an unknown client or unregistered redirect URL
    gets an error page, never a redirect. The original query is passed on
    unchanged to the chosen tenant's own authorize endpoint.
    """
    client = services.find_published_client(request.region, request.GET.get("client_id", ""))
    redirect_uri = request.GET.get("redirect_uri")
    if redirect_uri is None and client is not None and len(client.redirect_uri_list) == 1:
        redirect_uri = client.redirect_uri_list[0]  # as a tenant host defaults it
    if client is None or not redirect_uri or not client.redirect_uri_allowed(redirect_uri):
        return render(request, "consent/picker_error.html", status=400)
    data = request.POST if request.method == "POST" else None
    form = TenantHostnameForm(data, region=request.region)
    if request.method == "POST" and form.is_valid():
        query = request.META.get("QUERY_STRING", "")
        return HttpResponseRedirect(f"{form.tenant.base_url}/oauth/authorize?{query}")
    return render(request, "consent/picker.html", {"form": form, "application": client})
