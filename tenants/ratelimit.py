"""Counting failures (and other costly requests) in Django's cache.

With CACHE_URL pointing at Redis the counts are shared by every worker and
instance; with the default local-memory cache each process counts alone.
The windows are fixed: a key lives ``window`` seconds from its first hit.
"""

import hashlib

from django.conf import settings
from django.core.cache import cache
from django.http import HttpRequest


def _key(name: str, subject: str) -> str:
    # Hash the subject: emails and addresses stay out of cache keys.
    digest = hashlib.sha256(subject.lower().encode()).hexdigest()[:32]
    return f"rl:{name}:{digest}"


def client_address(request: HttpRequest) -> str:
    """The peer address (behind a proxy, configure it to set REMOTE_ADDR)."""
    return request.META.get("REMOTE_ADDR", "")


def is_limited(name: str, subject: str) -> int | None:
    """Seconds to wait if ``subject`` has used up limit ``name``, else None."""
    limit, window = settings.RATE_LIMITS[name]
    if (cache.get(_key(name, subject)) or 0) >= limit:
        return window
    return None


def hit(name: str, subject: str) -> int:
    """Count one more against ``subject``; returns the count in the current window."""
    _limit, window = settings.RATE_LIMITS[name]
    key = _key(name, subject)
    cache.add(key, 0, window)
    try:
        return cache.incr(key)
    except ValueError:  # expired between add and incr
        cache.add(key, 1, window)
        return 1


def exceeded(name: str, count: int) -> int | None:
    """Seconds to wait if ``count`` (as ``hit`` returned it) is past limit ``name``, else None."""
    limit, window = settings.RATE_LIMITS[name]
    return window if count > limit else None


def reset(name: str, subject: str) -> None:
    cache.delete(_key(name, subject))
