import hmac
import sys

from django.conf import settings
from django.contrib.auth import views as auth_views
from django.db import DatabaseError, InterfaceError, OperationalError, connection
from django.http import Http404, HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.template.loader import render_to_string
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_safe

from tenants import ratelimit, telemetry
from tenants.decorators import tenant_admin_required, tenant_member_required
from tenants.forms import SignInForm
from tenants.middleware import SESSION_TENANT_KEY
from tenants.models import UserManager


class SignInView(auth_views.LoginView):
    """Django's LoginView (safe ``next`` handling, CSRF, session rotation), bound to the tenant.

    Failed sign-ins are counted per account and per address; past the limit
    the form answers 429 until the window ends. Successful sign-ins never wait.
    """

    form_class = SignInForm
    template_name = "tenants/login.html"
    redirect_authenticated_user = True

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
        telemetry.count_auth_failure("sign_in")
        # No account name: it is an email address, and often a password typed in the wrong box.
        telemetry.security_event(
            "sign_in_failed",
            tenant=self.request.tenant,
            remote_addr=ratelimit.client_address(self.request),
        )
        return super().form_invalid(form)

    def form_valid(self, form):
        response = super().form_valid(form)
        self.request.session[SESSION_TENANT_KEY] = self.request.tenant.pk
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


@never_cache
@require_safe
def metrics(request: HttpRequest) -> HttpResponse:
    """Prometheus metrics, for a scraper that presents ``Bearer <METRICS_TOKEN>``.

    Without a configured token there is no such page (404).
    """
    if not settings.METRICS_TOKEN:
        raise Http404
    presented = request.headers.get("Authorization", "").encode()
    if not hmac.compare_digest(presented, f"Bearer {settings.METRICS_TOKEN}".encode()):
        response = HttpResponse("Unauthorized\n", status=401, content_type="text/plain")
        response["WWW-Authenticate"] = 'Bearer realm="metrics"'
        return response
    body, content_type = telemetry.render_metrics()
    return HttpResponse(body, content_type=content_type)


def server_error(request: HttpRequest) -> HttpResponse:
    """handler500: a database outage is a 503 the client may retry, never a trace.

    Connections fail fast (``connect_timeout``) and are checked before reuse
    (``CONN_HEALTH_CHECKS``), so the server recovers by itself afterwards.
    """
    _type, error, _traceback = sys.exc_info()
    unavailable = isinstance(error, (OperationalError, InterfaceError))
    status = 503 if unavailable else 500
    # Shown to the user, who can quote it; the log lines of this request carry it.
    request_id = getattr(request, "request_id", None)
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
                "request_id": request_id,
            },
            status=status,
        )
    else:
        # Rendered without the request: no context processor touches the database.
        page = render_to_string(
            "503.html" if unavailable else "500.html", {"request_id": request_id}
        )
        response = HttpResponse(page, status=status)
    if unavailable:
        response["Retry-After"] = "5"
    return response
