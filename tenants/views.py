import sys

from django.contrib.auth import views as auth_views
from django.db import DatabaseError, InterfaceError, OperationalError, connection
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.template.loader import render_to_string
from django.views import defaults
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_safe

from tenants import ratelimit, sessions
from tenants.decorators import tenant_admin_required, tenant_member_required
from tenants.forms import SignInForm
from tenants.models import UserManager


class SignInView(auth_views.LoginView):
    """Django's LoginView (safe ``next`` handling, CSRF, session rotation), bound to the tenant.

    Failed sign-ins are counted per account and per address; past the limit
    the form answers 429 until the window ends. Successful sign-ins never wait.
    """

    form_class = SignInForm
    template_name = "tenants/login.html"

    @property
    def reauthenticating(self) -> bool:
        """Asked to prove again who they are (``prompt=login``, ``max_age``), while signed in.

        The session stays until a sign-in succeeds: the same account keeps it,
        another account replaces it then (Django's ``login``).
        """
        data = self.request.POST if self.request.method == "POST" else self.request.GET
        return data.get("reauth") == "1" and self.request.user.is_authenticated

    @property
    def redirect_authenticated_user(self) -> bool:
        return not self.reauthenticating

    def get_initial(self):
        if self.reauthenticating:
            return {"username": self.request.user.email}
        return super().get_initial()

    def get_form(self, form_class=None):
        form = super().get_form(form_class)
        if self.reauthenticating:
            # The email is filled in: the password is what is asked for.
            form.fields["username"].widget.attrs.pop("autofocus", None)
            form.fields["password"].widget.attrs["autofocus"] = True
        return form

    def get_context_data(self, **kwargs):
        return super().get_context_data(reauth=self.reauthenticating, **kwargs)

    def post(self, request, *args, **kwargs):
        account = UserManager.normalize_email(request.POST.get("username", ""))
        wait = ratelimit.is_limited("sign_in_per_account", account) or ratelimit.is_limited(
            "sign_in_per_address", ratelimit.client_address(request)
        )
        if wait:
            # An unbound form: nothing is authenticated while the limit holds.
            form = self.form_class(self.request, initial={"username": account})
            response = self.render_to_response(
                self.get_context_data(form=form, too_many_attempts=True), status=429
            )
            response["Retry-After"] = str(wait)
            return response
        return super().post(request, *args, **kwargs)

    def form_invalid(self, form):
        account = UserManager.normalize_email(self.request.POST.get("username", ""))
        ratelimit.hit("sign_in_per_account", account)
        ratelimit.hit("sign_in_per_address", ratelimit.client_address(self.request))
        return super().form_invalid(form)

    def form_valid(self, form):
        response = super().form_valid(form)
        sessions.record_sign_in(self.request)
        return response


@require_safe
@tenant_member_required
def home(request: HttpRequest) -> HttpResponse:
    if request.membership.is_admin:
        return redirect("tenants:console")
    return render(request, "tenants/home.html")


@require_safe
@tenant_admin_required
def console(request: HttpRequest) -> HttpResponse:
    return render(request, "tenants/console.html", {"active_section": "home"})


@never_cache
@require_safe
def healthz(request: HttpRequest) -> JsonResponse:
    """Liveness and database reachability for load balancers."""
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
            cursor.fetchone()
    except DatabaseError:
        return JsonResponse({"status": "unavailable", "database": "unavailable"}, status=503)
    return JsonResponse({"status": "ok", "database": "ok"})


JSON_PATHS = ("/api/", "/oauth/token", "/oauth/revoke", "/oauth/introspect")


def json_error(code: str, detail: str, status: int) -> JsonResponse:
    """The error envelope of the token endpoints and APIs: RFC 6749 fields and ``errors``."""
    return JsonResponse(
        {
            "error": code,
            "error_description": detail,
            "errors": [{"code": code, "title": detail, "detail": detail, "status": str(status)}],
        },
        status=status,
    )


def bad_request(request: HttpRequest, exception) -> HttpResponse:
    """handler400: the APIs and token endpoints promise JSON errors, even for a body too large.

    Django answers an oversized or malformed body (``RequestDataTooBig``,
    ``TooManyFieldsSent``) here, before any view runs.
    """
    if request.path.startswith(JSON_PATHS):
        return json_error("invalid_request", "The request cannot be read.", 400)
    return defaults.bad_request(request, exception)


def server_error(request: HttpRequest) -> HttpResponse:
    """handler500: a database outage is a 503 the client may retry, never a trace.

    Connections fail fast (``connect_timeout``) and are checked before reuse
    (``CONN_HEALTH_CHECKS``), so the server recovers by itself afterwards.
    """
    _type, error, _traceback = sys.exc_info()
    unavailable = isinstance(error, (OperationalError, InterfaceError))
    status = 503 if unavailable else 500
    if request.path.startswith(JSON_PATHS):
        code = "temporarily_unavailable" if unavailable else "server_error"
        detail = (
            "The service is temporarily unavailable." if unavailable else "The server had an error."
        )
        response = json_error(code, detail, status)
    else:
        # Rendered without the request: no context processor touches the database.
        page = render_to_string("503.html" if unavailable else "500.html")
        response = HttpResponse(page, status=status)
    if unavailable:
        response["Retry-After"] = "5"
    return response
