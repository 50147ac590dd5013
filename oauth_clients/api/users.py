"""The platform's APIs that OAuth access tokens open (the resource server).

Bearer tokens only: the console's session cookie never authenticates here,
and API paths never redirect to the sign-in page.
"""

from django.http import HttpRequest, JsonResponse
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_safe

from oauth_clients.oauth.bearer import require_bearer


@never_cache
@require_safe
@require_bearer("user_default")
def users_me(request: HttpRequest) -> JsonResponse:
    """``GET /api/v1/users/me``: who the token speaks for."""
    membership = request.bearer.membership
    user = membership.user
    tenant = request.tenant
    data = {
        "id": str(membership.subject),
        "subject": str(membership.subject),
        "tenantId": str(tenant.pk),
        "tenant": {"id": str(tenant.pk), "name": tenant.name, "hostname": tenant.hostname},
        "name": user.name,
        "status": "active",
        "roles": ["TenantAdmin"] if membership.is_admin else [],
    }
    if user.is_service:
        data["type"] = "service"
        data["clientId"] = request.bearer.claims.client_id
    else:
        data["type"] = "user"
        data["email"] = user.email
    return JsonResponse(data)
