from django.contrib.auth import views as auth_views
from django.db import DatabaseError, connection
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_safe

from tenants.decorators import tenant_admin_required, tenant_member_required
from tenants.forms import SignInForm
from tenants.middleware import SESSION_TENANT_KEY


class SignInView(auth_views.LoginView):
    """Django's LoginView (safe ``next`` handling, CSRF, session rotation), bound to the tenant."""

    form_class = SignInForm
    template_name = "tenants/login.html"
    redirect_authenticated_user = True

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
