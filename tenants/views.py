import sys

from django.contrib.auth import views as auth_views
from django.db import DatabaseError, InterfaceError, OperationalError, connection
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.template.loader import render_to_string
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_safe

from tenants import ratelimit
from tenants.decorators import tenant_admin_required, tenant_member_required
from tenants.forms import SignInForm
from tenants.middleware import SESSION_TENANT_KEY
from tenants.sign_in_limits import SignInAttempt, remember_device


class SignInView(auth_views.LoginView):
    """Django's LoginView (safe ``next`` handling, CSRF, session rotation), bound to the tenant.

    Failed sign-ins are counted (tenants/sign_in_limits.py: per device cookie
    for a browser that signed in to the account before, otherwise per
    account and address, per address and per account); past a limit the
    form answers 429 until the window ends. Successful sign-ins never wait.
    """

    form_class = SignInForm
    template_name = "tenants/login.html"
    redirect_authenticated_user = True

    def post(self, request, *args, **kwargs):
        self.attempt = SignInAttempt.of(request)
        if wait := self.attempt.wait():
            # An unbound form: nothing is authenticated while the limit holds.
            form = self.form_class(self.request, initial={"username": self.attempt.account})
            response = self.render_to_response(
                self.get_context_data(form=form, too_many_attempts=True), status=429
            )
            response["Retry-After"] = str(wait)
            return response
        return super().post(request, *args, **kwargs)

    def form_invalid(self, form):
        self.attempt.failed()
        return super().form_invalid(form)

    def form_valid(self, form):
        response = super().form_valid(form)
        self.request.session[SESSION_TENANT_KEY] = self.request.tenant.pk
        remember_device(self.request, response, self.attempt.account)
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
    """Liveness and database reachability for load balancers, and the cache's state.

    503 only when the database cannot be queried. The cache holds nothing
    but rate-limit counters, so without it the instance still serves every
    request: 200 with ``"cache": "unavailable"``, answered at once while the
    cache is paused after a failure (tenants/ratelimit.py).
    """
    cache = "ok" if ratelimit.cache_available() else "unavailable"
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
            cursor.fetchone()
    except DatabaseError:
        return JsonResponse(
            {"status": "unavailable", "database": "unavailable", "cache": cache}, status=503
        )
    return JsonResponse({"status": "ok", "database": "ok", "cache": cache})


def server_error(request: HttpRequest) -> HttpResponse:
    """handler500: a database outage is a 503 the client may retry, never a trace.

    Connections fail fast (``connect_timeout``) and are checked before reuse
    (``CONN_HEALTH_CHECKS``), so the server recovers by itself afterwards.
    """
    _type, error, _traceback = sys.exc_info()
    unavailable = isinstance(error, (OperationalError, InterfaceError))
    status = 503 if unavailable else 500
    wants_json = request.path.startswith(
        ("/api/", "/oauth/token", "/oauth/revoke", "/oauth/introspect")
    )
    if wants_json:
        code = "temporarily_unavailable" if unavailable else "server_error"
        detail = (
            "The service is temporarily unavailable." if unavailable else "The server had an error."
        )
        response = JsonResponse(
            {
                "error": code,
                "error_description": detail,
                "errors": [
                    {"code": code, "title": detail, "detail": detail, "status": str(status)}
                ],
            },
            status=status,
        )
    else:
        # Rendered without the request: no context processor touches the database.
        page = render_to_string("503.html" if unavailable else "500.html")
        response = HttpResponse(page, status=status)
    if unavailable:
        response["Retry-After"] = "5"
    return response
