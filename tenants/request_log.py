"""Every request: a request ID, one log line and its count in the metrics.

``RequestLogMiddleware`` is the first middleware, so it times and logs
every answer, also redirects to https, unknown hosts and error pages.
"""

import logging
import re
import time
import uuid

from django.conf import settings

from tenants import telemetry

# An ID a proxy or client sent (X-Request-ID) is kept when it is this plain.
_VALID_REQUEST_ID = re.compile(r"[A-Za-z0-9._:-]{1,64}")
_STATIC_PREFIX = "/" + settings.STATIC_URL.lstrip("/")

log = logging.getLogger("oauth_console.request")


def request_id_of(request) -> str:
    """The caller's X-Request-ID if it is valid, else a new one."""
    offered = request.META.get("HTTP_X_REQUEST_ID")
    if offered and _VALID_REQUEST_ID.fullmatch(offered):
        return offered
    return uuid.uuid4().hex


def route_of(request) -> str:
    """The URL's route name (``oauth2_provider:token``): a label, never the path itself."""
    match = request.resolver_match
    if match is not None:
        return match.view_name
    if request.path_info.startswith(_STATIC_PREFIX):
        return "static"
    return "unmatched"  # unknown host or path


class RequestLogMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        started = time.perf_counter()
        request_id = request.request_id = request_id_of(request)
        context = telemetry.current_request_id.set(request_id)
        try:
            response = self.get_response(request)
            seconds = time.perf_counter() - started
            response["X-Request-ID"] = request_id
            route = route_of(request)
            status = response.status_code
            telemetry.observe_request(route, request.method, status, seconds)
            level = logging.ERROR if status >= 500 else logging.INFO
            if log.isEnabledFor(level):
                self.log_request(request, route, status, seconds, level)
            return response
        finally:
            telemetry.current_request_id.reset(context)

    @staticmethod
    def log_request(request, route: str, status: int, seconds: float, level: int) -> None:
        tenant = getattr(request, "tenant", None)
        duration_ms = round(seconds * 1000, 1)
        # request.path has no query string: codes, state and login_hint travel there.
        log.log(
            level,
            "%s %s %s %sms",
            request.method,
            request.path,
            status,
            duration_ms,
            extra={
                "request_id": request.request_id,
                "method": request.method,
                "path": request.path,
                "status": status,
                "duration_ms": duration_ms,
                "tenant": tenant.hostname if tenant is not None else None,
                "route": route,
            },
        )
