"""Counting failures (and other costly requests) in Django's cache.

With CACHE_URL pointing at Redis the counts are shared by every worker and
instance; with the default local-memory cache each process counts alone.
The windows are fixed: a key lives ``window`` seconds from its first hit.

This module is the only code that talks to the cache, and the counters are
the only thing kept there: sessions, codes, tokens and the revocation list
live in the database. So a cache outage may only cost rate limiting, never
authentication: counting fails open (``is_limited`` answers "not limited",
``hit`` counts nothing), every failure goes through ``_cache_failed``, and
after one this process leaves the cache alone for CACHE_RETRY_SECONDS (a
circuit breaker), so a cache host that drops packets costs one short
timeout (CACHE_TIMEOUT_MS) every few seconds, not one per request.
"""

import hashlib
import logging
import threading
from collections.abc import Callable
from time import monotonic
from typing import TypeVar

from django.conf import settings
from django.core.cache import cache
from django.http import HttpRequest

from tenants import telemetry

log = logging.getLogger(__name__)

T = TypeVar("T")

# A cache outage is worth one line in the log a minute, not one per request.
WARNING_INTERVAL = 60.0


class _Guard:
    """This process's view of the cache: paused until when, and when it last warned."""

    def __init__(self):
        # gunicorn's sync workers run one request at a time, but runserver and
        # threaded workers do not: the lock keeps "once a minute" true there.
        self.lock = threading.Lock()
        self.reset()

    def reset(self) -> None:
        self.paused_until = float("-inf")
        self.warned_at = float("-inf")


_guard = _Guard()


def reset_cache_guard() -> None:
    """Forget past cache failures (tests; a process that knows the cache is back)."""
    _guard.reset()


def _cache_failed(error: Exception) -> None:
    """The one place every cache failure goes through: pause, warn at most once a minute."""
    now = monotonic()
    with _guard.lock:
        _guard.paused_until = now + settings.CACHE_RETRY_SECONDS
        warn = now - _guard.warned_at >= WARNING_INTERVAL
        if warn:
            _guard.warned_at = now
    if warn:
        log.warning(
            "The cache is unavailable (%s: %s); rate limits are not enforced until it "
            "answers again (retried every %s s; this is logged at most once a minute).",
            type(error).__name__,
            error,
            settings.CACHE_RETRY_SECONDS,
        )
    telemetry.count_cache_failure()


def _cached(operation: Callable[[], T], fallback: T) -> T:
    """``operation()`` against the cache, or ``fallback`` while it is paused or if it fails."""
    if monotonic() < _guard.paused_until:
        return fallback
    try:
        return operation()
    except Exception as error:
        # Any backend error, whatever its class (redis.RedisError, OSError, a
        # memcached client's own): a counter must never fail a request.
        _cache_failed(error)
        return fallback


def _key(name: str, subject: str) -> str:
    # Hash the subject: emails and addresses stay out of cache keys.
    digest = hashlib.sha256(subject.lower().encode()).hexdigest()[:32]
    return f"rl:{name}:{digest}"


def client_address(request: HttpRequest) -> str:
    """The address of whoever sent the request: what per-address limits count.

    Directly exposed, the peer (``REMOTE_ADDR``). Behind ``FORWARDED_FOR_PROXIES``
    trusted proxies, each appending the address it received the request from
    to ``X-Forwarded-For``, the entry that many places from the right: what the
    outermost trusted proxy saw. Entries further left are the client's own
    claims and never trusted; without enough entries the peer counts.
    """
    proxies = settings.FORWARDED_FOR_PROXIES
    if proxies:
        hops = [hop.strip() for hop in request.META.get("HTTP_X_FORWARDED_FOR", "").split(",")]
        if len(hops) >= proxies and hops[-proxies]:
            return hops[-proxies][:64]
    return request.META.get("REMOTE_ADDR", "")


def is_limited(name: str, subject: str) -> int | None:
    """Seconds to wait if ``subject`` has used up limit ``name``, else None (also without cache)."""
    limit, window = settings.RATE_LIMITS[name]
    if (_cached(lambda: cache.get(_key(name, subject)), None) or 0) >= limit:
        telemetry.count_rate_limited(name)
        return window
    return None


def hit(name: str, subject: str) -> int:
    """Count one more against ``subject``; returns the count in the current window.

    0 when the cache is unavailable: nothing was counted.
    """
    limit, window = settings.RATE_LIMITS[name]
    count = _cached(lambda: _increment(_key(name, subject), window), 0)
    if count == limit:
        # The subject (an account, address or client) stays out of the log, as out of the key.
        telemetry.security_event("rate_limit_lockout", limit=name, window_seconds=window)
    return count


def _increment(key: str, window: int) -> int:
    cache.add(key, 0, window)
    try:
        return cache.incr(key)
    except ValueError:  # expired between add and incr
        cache.add(key, 1, window)
        return 1


def exceeded(name: str, count: int) -> int | None:
    """Seconds to wait if ``count`` (as ``hit`` returned it) is past limit ``name``, else None."""
    limit, window = settings.RATE_LIMITS[name]
    if count <= limit:
        return None
    telemetry.count_rate_limited(name)
    return window


def reset(name: str, subject: str) -> None:
    _cached(lambda: cache.delete(_key(name, subject)), None)


def cache_available() -> bool:
    """Whether the cache answers now (for /healthz); False while paused after a failure."""
    return _cached(_probe, False)


def _probe() -> bool:
    cache.get("healthz")
    return True
