"""What the platform team watches: Prometheus metrics and the security-event log.

Other code calls the small functions below; they only increment a counter
or write a log line, so they cost next to nothing on a hot path:

- ``count_token_issued(grant_type)``: the token endpoint answered 200.
- ``count_auth_failure(kind)``: ``"sign_in"`` or ``"client"`` (client authentication).
- ``count_rate_limited(name)``: a limit of ``settings.RATE_LIMITS`` refused a request.
- ``count_cache_failure()``: the cache could not be read or written.
- ``security_event(event, ...)``: one line on the ``oauth_console.security`` logger.

Labels are a small fixed set, never a path, client ID, user or tenant: a
label value is a time series, and one per tenant would be a million of them.

Under gunicorn the workers share their counts through files in
``PROMETHEUS_MULTIPROC_DIR`` (prometheus_client's multiprocess mode, set up
by ``config/gunicorn.conf.py``); without it (tests, one process) the counts
live in this process.
"""

import contextvars
import logging
import os
import time

from prometheus_client import (
    CONTENT_TYPE_LATEST,
    REGISTRY,
    CollectorRegistry,
    Counter,
    Gauge,
    Histogram,
    generate_latest,
    multiprocess,
)
from prometheus_client.core import GaugeMetricFamily

# The request being served, for log lines written deep below the view (the
# validator, the rate limiter) that have no HttpRequest at hand. Used for
# logging only: nothing decides anything by it.
current_request_id: contextvars.ContextVar[str | None] = contextvars.ContextVar(
    "current_request_id", default=None
)

security_log = logging.getLogger("oauth_console.security")

REQUESTS = Histogram(
    "http_request_duration_seconds",
    "Time to answer a request, by URL route name, method and status class "
    "(its _count is the number of requests).",
    ["route", "method", "status"],
)
TOKENS_ISSUED = Counter(
    "oauth_tokens_issued", "Token responses with status 200, by grant type.", ["grant_type"]
)
AUTH_FAILURES = Counter(
    "auth_failures", "Failed sign-ins and failed client authentications.", ["kind"]
)
RATE_LIMITED = Counter("rate_limited", "Requests refused by a rate limit, by limit.", ["limit"])
CACHE_FAILURES = Counter("cache_failures", "Cache reads or writes that failed.")
# Per process; the scrape turns it into the age of the stalest list (revocation_list_age).
REVOCATION_LIST_REFRESHED = Gauge(
    "oauth_revocation_list_refreshed_timestamp_seconds",
    "When this process last re-read the list of revoked tokens.",
    multiprocess_mode="liveall",
)

GRANT_TYPES = frozenset({"authorization_code", "refresh_token", "client_credentials"})
AUTH_FAILURE_KINDS = frozenset({"sign_in", "client"})
METHODS = frozenset({"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"})
STATUS_CLASSES = {1: "1xx", 2: "2xx", 3: "3xx", 4: "4xx", 5: "5xx"}


def count_token_issued(grant_type: str) -> None:
    TOKENS_ISSUED.labels(grant_type if grant_type in GRANT_TYPES else "other").inc()


def count_auth_failure(kind: str) -> None:
    AUTH_FAILURES.labels(kind if kind in AUTH_FAILURE_KINDS else "other").inc()


def count_rate_limited(name: str) -> None:
    """``name`` is a key of ``settings.RATE_LIMITS`` (chosen by code, never by a client)."""
    RATE_LIMITED.labels(name).inc()


def count_cache_failure() -> None:
    CACHE_FAILURES.inc()


def revocation_list_refreshed() -> None:
    REVOCATION_LIST_REFRESHED.set(time.time())


def observe_request(route: str, method: str, status: int, seconds: float) -> None:
    REQUESTS.labels(
        route,
        method if method in METHODS else "other",
        STATUS_CLASSES.get(status // 100, "other"),
    ).observe(seconds)


def security_event(event: str, *, tenant=None, level: int = logging.WARNING, **fields) -> None:
    """One line on the security log: ``event`` and plain fields (ids, names, counts).

    Never pass a secret, token, code, password or a user's email address:
    whatever is passed here is written out as it is.
    """
    if security_log.isEnabledFor(level):
        hostname = tenant.hostname if tenant is not None else None
        extra = {"event": event, "request_id": current_request_id.get(), "tenant": hostname}
        security_log.log(level, event, extra={**extra, **fields}, stacklevel=2)


# --- The scrape ---------------------------------------------------------------------------


class _WithRevocationListAge:
    """The metrics of ``registry``, with the per-process refresh times of the revocation
    list turned into one gauge: seconds since the stalest list was re-read.

    A list is re-read before use once it is a second old, so a growing age
    while bearer tokens are being checked means a process cannot re-read it.
    Processes that have not checked a token yet (time 0) have no list to age.
    """

    def __init__(self, registry):
        self.registry = registry

    def collect(self):
        refreshed = []
        for family in self.registry.collect():
            if family.name == "oauth_revocation_list_refreshed_timestamp_seconds":
                refreshed = [sample.value for sample in family.samples if sample.value > 0]
                continue
            yield family
        age = GaugeMetricFamily(
            "oauth_revocation_list_age_seconds",
            "Seconds since the stalest per-process list of revoked tokens was re-read.",
        )
        if refreshed:
            age.add_metric([], max(0.0, time.time() - min(refreshed)))
        yield age


def render_metrics() -> tuple[bytes, str]:
    """The Prometheus text format of every worker's metrics (or this process's)."""
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        registry = CollectorRegistry()
        multiprocess.MultiProcessCollector(registry)
    else:
        registry = REGISTRY
    return generate_latest(_WithRevocationListAge(registry)), CONTENT_TYPE_LATEST
