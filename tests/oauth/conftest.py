"""Fixtures of the authorization server's tests (the shared ones are in tests/conftest.py)."""

import pytest

from oauth_clients import revocation


class Clock:
    """A stand-in for the revocation module's ``time``: seconds pass when the test says."""

    def __init__(self):
        self.now = 10_000.0

    def monotonic(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds


@pytest.fixture
def revocation_clock(monkeypatch) -> Clock:
    """The revocation list's clock, stopped: the list re-reads the database only when the
    test advances it."""
    clock = Clock()
    monkeypatch.setattr(revocation, "time", clock)
    return clock
