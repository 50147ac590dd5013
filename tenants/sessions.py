"""What a successful sign-in leaves in the session.

The session remembers the tenant it was created at (it counts nowhere else)
and when the user last proved who they are there: the ``auth_time`` of
OpenID Connect (Core §2), which ``max_age`` is measured against. Each
browser has its own, unlike the user's ``last_login``.
"""

import time
from datetime import UTC, datetime

TENANT_KEY = "_tenant_id"
AUTH_TIME_KEY = "_auth_time"


def record_sign_in(request) -> None:
    """Call after ``django.contrib.auth.login`` at ``request.tenant``."""
    request.session[TENANT_KEY] = request.tenant.pk
    request.session[AUTH_TIME_KEY] = int(time.time())


def auth_time(request) -> datetime | None:
    """When this session's user last signed in (or re-authenticated), if known."""
    stamp = request.session.get(AUTH_TIME_KEY)
    if not isinstance(stamp, int):
        return None
    return datetime.fromtimestamp(stamp, UTC)
