"""tenants/ratelimit.py when the cache fails: counting fails open, nothing else fails.

A cache outage must never take authentication down. Every cache failure goes
through one place, which pauses the cache for CACHE_RETRY_SECONDS in this
process (so a cache host that drops packets costs one timeout, not one per
request) and logs a warning at most once a minute.
"""

import logging

import pytest

from tenants import ratelimit
from tests.broken_cache import BROKEN_CACHES, BrokenCache


class Clock:
    """A stand-in for time.monotonic that moves only when told."""

    def __init__(self):
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def clock(monkeypatch) -> Clock:
    clock = Clock()
    monkeypatch.setattr(ratelimit, "monotonic", clock)
    return clock


@pytest.fixture
def broken(settings):
    settings.CACHES = BROKEN_CACHES
    settings.CACHE_RETRY_SECONDS = 5
    BrokenCache.calls = 0
    return BrokenCache


@pytest.fixture
def limits(settings):
    settings.RATE_LIMITS = {**settings.RATE_LIMITS, "test": (2, 60)}


def warnings_in(caplog) -> list[str]:
    return [r.getMessage() for r in caplog.records if r.name == "tenants.ratelimit"]


def test_counting_works_with_the_cache(limits):
    assert ratelimit.hit("test", "x") == 1
    assert ratelimit.is_limited("test", "x") is None
    assert ratelimit.hit("test", "x") == 2
    assert ratelimit.is_limited("test", "x") == 60
    assert ratelimit.cache_available()


def test_a_broken_cache_means_not_limited_and_nothing_counted(broken, limits, clock):
    assert ratelimit.is_limited("test", "x") is None
    clock.now += 10
    assert ratelimit.hit("test", "x") == 0
    clock.now += 10
    ratelimit.reset("test", "x")
    clock.now += 10
    assert not ratelimit.cache_available()
    assert broken.calls == 4  # each tried once, none raised


def test_after_a_failure_the_cache_is_left_alone_for_a_while(broken, limits, clock):
    ratelimit.is_limited("test", "x")
    assert broken.calls == 1
    for _ in range(50):
        ratelimit.hit("test", "x")
        ratelimit.is_limited("test", "x")
    assert not ratelimit.cache_available()
    clock.now += 4.9
    ratelimit.hit("test", "x")
    assert broken.calls == 1
    clock.now += 0.2
    ratelimit.hit("test", "x")  # tried again, and paused again
    ratelimit.hit("test", "x")
    assert broken.calls == 2


def test_it_recovers_when_the_cache_answers_again(broken, limits, clock, settings):
    ratelimit.hit("test", "x")
    settings.CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}
    assert ratelimit.hit("test", "x") == 0  # still paused
    clock.now += 6
    assert ratelimit.hit("test", "x") == 1
    assert ratelimit.cache_available()


def test_the_failure_is_logged_at_most_once_a_minute(broken, limits, clock, caplog):
    caplog.set_level(logging.WARNING, logger="tenants.ratelimit")
    for _ in range(5):
        ratelimit.hit("test", "x")  # first fails, the rest are skipped
    assert len(warnings_in(caplog)) == 1
    for _ in range(10):
        clock.now += 5.5  # past each pause: fails again, every time
        ratelimit.hit("test", "x")
    assert broken.calls == 11
    assert len(warnings_in(caplog)) == 1  # 55 s after the first
    clock.now += 5.5
    ratelimit.hit("test", "x")
    messages = warnings_in(caplog)
    assert len(messages) == 2
    assert "rate limits are not enforced" in messages[0]
    assert "CacheDown" in messages[0]


def test_every_cache_failure_goes_through_one_function(broken, limits, clock, monkeypatch):
    """tenants.telemetry.count_cache_failure() will be called there (one place to hook)."""
    seen = []
    monkeypatch.setattr(ratelimit, "_cache_failed", seen.append)
    ratelimit.is_limited("test", "x")
    ratelimit.hit("test", "y")
    ratelimit.reset("test", "z")
    ratelimit.cache_available()
    assert [type(error).__name__ for error in seen] == ["CacheDown"] * 4
