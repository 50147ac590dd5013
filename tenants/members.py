"""Members as token subjects, from a per-process cache (``tenants.generations``).

Every bearer check finds the member a token's ``sub`` stands for, and every
token issued needs its subject. Both directions are cached per process and
emptied within a second of any change to a membership or to a user's
active flag, name or email, in every process (database triggers), at once
in the process that made it; a removed or deactivated member stops counting
within that second everywhere. The instances are shared: read them only.
"""

from tenants import generations
from tenants.models import Membership

cache = generations.ProcessCache("members", "MEMBER_CACHE_SIZE")


def subject_of(tenant, user_id) -> str | None:
    """The token subject of ``user_id`` at ``tenant``, while an active member there."""
    return cache.get(
        ("subject", tenant.pk, user_id), lambda: Membership.objects.subject_of(tenant, user_id)
    )


def member_for(tenant, subject: str) -> Membership | None:
    """The active member (with the user) whom a token subject stands for at ``tenant``."""
    return cache.get(
        ("member", tenant.pk, subject), lambda: Membership.objects.member_for(tenant, subject)
    )
