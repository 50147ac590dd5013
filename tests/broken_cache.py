"""A cache backend that is always down, as Redis is when it cannot be reached.

Used with ``settings.CACHES = BROKEN_CACHES``; ``BrokenCache.calls`` counts
how often anything tried it.
"""

from django.core.cache.backends.base import BaseCache

BROKEN_CACHES = {"default": {"BACKEND": "tests.broken_cache.BrokenCache"}}


class CacheDown(Exception):
    """Not a Python ConnectionError: redis-py raises its own classes (redis.RedisError)."""


class BrokenCache(BaseCache):
    calls = 0

    def __init__(self, location, params):
        super().__init__(params)

    def _fail(self, *args, **kwargs):
        BrokenCache.calls += 1
        raise CacheDown("Error 111 connecting to 127.0.0.1:1. Connection refused.")

    add = get = set = touch = delete = clear = incr = get_many = has_key = _fail
