"""The in-process list of revoked access tokens.

Access tokens are JWTs checked without the database. Revoking one records
its ``jti`` in ``RevokedToken``; each process re-reads recent rows at most
once a second, so a revocation takes effect everywhere within a second
while a bearer check costs no database round trip for it.
"""

import threading
import time
from datetime import timedelta

from django.db import connection
from django.utils import timezone
from oauth2_provider.models import revoke_access_token

from oauth_clients.models import AccessToken, RevokedToken
from tenants import telemetry

REFRESH_SECONDS = 1.0
# Rows are read again from a little before the last read: a transaction that
# committed late may carry a revoked_at slightly in the past.
OVERLAP = timedelta(seconds=30)


class RevocationList:
    def __init__(self):
        self._lock = threading.Lock()
        self._expiry: dict[str, float] = {}
        self._checked = float("-inf")
        self._since = None

    def is_revoked(self, jti: str) -> bool:
        if time.monotonic() - self._checked >= REFRESH_SECONDS:
            self.refresh()
        return jti in self._expiry

    def refresh(self) -> None:
        with self._lock:
            now = timezone.now()
            rows = RevokedToken.objects.filter(expires_at__gt=now)
            if self._since is not None:
                rows = rows.filter(revoked_at__gte=self._since - OVERLAP)
            for jti, expires_at in rows.values_list("jti", "expires_at"):
                self._expiry[jti] = expires_at.timestamp()
            stamp = now.timestamp()
            self._expiry = {jti: exp for jti, exp in self._expiry.items() if exp > stamp}
            self._since = now
            self._checked = time.monotonic()
        telemetry.revocation_list_refreshed()

    def mark_stale(self) -> None:
        """A revocation happened in this process: re-read the list at the next check."""
        self._checked = float("-inf")

    def clear(self) -> None:
        """Forget everything (tests; the next check reads the table again)."""
        with self._lock:
            self._expiry.clear()
            self._since = None
            self._checked = float("-inf")


revocations = RevocationList()


def record_revocations(tokens) -> None:
    """Put the jtis of a queryset of access tokens on the revocation list.

    One INSERT ... SELECT, whatever the number of tokens; for paths that then
    delete the rows without Django's collector (deleting clients).
    """
    table = RevokedToken._meta.db_table
    sql, params = tokens.filter(jti__isnull=False).values("jti", "expires").query.sql_with_params()
    with connection.cursor() as cursor:
        # Django's ORM has no set-based insert from a query.
        cursor.execute(
            f"INSERT INTO {table} (jti, expires_at, revoked_at) "  # noqa: S608 - names from models
            f"SELECT U.jti, U.expires, %s FROM ({sql}) U "
            f"WHERE NOT EXISTS (SELECT 1 FROM {table} R WHERE R.jti = U.jti)",
            [timezone.now(), *params],
        )
    revocations.mark_stale()


def access_token_deleted(sender, instance: AccessToken, **kwargs) -> None:
    """Deleting an access token row (DOT's way of revoking one) revokes its JWT."""
    if instance.jti:
        RevokedToken.objects.get_or_create(
            jti=instance.jti, defaults={"expires_at": instance.expires}
        )
        revocations.mark_stale()


def revoke_jti(jti: str) -> None:
    """Revoke one access token (and the refresh token bound to it) by its ``jti``."""
    token = AccessToken.objects.filter(jti=jti).first()
    if token is not None:
        revoke_access_token(token)  # DOT's path: the bound refresh token goes too
