from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.views.decorators.http import require_safe

from tenants.decorators import tenant_admin_required


@require_safe
@tenant_admin_required
def client_list(request: HttpRequest) -> HttpResponse:
    return render(request, "oauth_clients/client_list.html", {"active_section": "oauth"})
