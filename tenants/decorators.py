from functools import wraps

from django.contrib.auth import logout
from django.contrib.auth.views import redirect_to_login
from django.core.exceptions import PermissionDenied
from django_htmx.http import HttpResponseClientRedirect

from tenants.models import Membership
from tenants.scoping import scoped


def _to_login(request):
    response = redirect_to_login(request.get_full_path())
    if request.htmx:
        # A fragment request would swap the sign-in page into a dialog; send
        # the whole browser there instead.
        return HttpResponseClientRedirect(response.url)
    return response


def tenant_member_required(view):
    """Signed in at this tenant and still a member of it; sets ``request.membership``."""

    @wraps(view)
    def wrapper(request, *args, **kwargs):
        if not request.user.is_authenticated:
            return _to_login(request)
        membership = scoped(request, Membership).filter(user=request.user).first()
        if membership is None:
            # Removed from the tenant since signing in: the session is over.
            logout(request)
            return _to_login(request)
        request.membership = membership
        return view(request, *args, **kwargs)

    return wrapper


def tenant_admin_required(view):
    """Like ``tenant_member_required``, and the member must be a tenant admin (else 403)."""

    @wraps(view)
    def admin_only(request, *args, **kwargs):
        if not request.membership.is_admin:
            raise PermissionDenied
        return view(request, *args, **kwargs)

    return tenant_member_required(admin_only)
