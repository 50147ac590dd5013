"""The error handlers of both URL sets (``handler400``, ``handler500``).

The token endpoints and the APIs promise JSON errors in the platform's
envelope, even for what Django refuses before any view runs; pages get the
product's pages. Each shows the request ID, which a user can quote.
"""

import sys

from django.db import InterfaceError, OperationalError
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.template.loader import render_to_string
from django.views import defaults

from oauth_clients.oauth.errors import oauth_error_body

JSON_PATHS = ("/api/", "/oauth/token", "/oauth/revoke", "/oauth/introspect")


def json_error(request: HttpRequest, error: str, detail: str, status: int) -> JsonResponse:
    body = oauth_error_body(error, detail, status)
    body["request_id"] = getattr(request, "request_id", None)
    return JsonResponse(body, status=status)


def bad_request(request: HttpRequest, exception) -> HttpResponse:
    """An oversized or malformed body (``RequestDataTooBig``, ``TooManyFieldsSent``)."""
    if request.path.startswith(JSON_PATHS):
        return json_error(request, "invalid_request", "The request cannot be read.", 400)
    return defaults.bad_request(request, exception)


def server_error(request: HttpRequest) -> HttpResponse:
    """A database outage is a 503 the client may retry, never a trace.

    Connections fail fast (``connect_timeout``) and are checked before reuse
    (``CONN_HEALTH_CHECKS``), so the server recovers by itself afterwards.
    """
    _type, error, _traceback = sys.exc_info()
    unavailable = isinstance(error, (OperationalError, InterfaceError))
    status = 503 if unavailable else 500
    if request.path.startswith(JSON_PATHS):
        code = "temporarily_unavailable" if unavailable else "server_error"
        detail = (
            "The service is temporarily unavailable." if unavailable else "The server had an error."
        )
        response = json_error(request, code, detail, status)
    else:
        # Rendered without the request: no context processor touches the database.
        page = render_to_string(
            "503.html" if unavailable else "500.html",
            {"request_id": getattr(request, "request_id", None)},
        )
        response = HttpResponse(page, status=status)
    if unavailable:
        response["Retry-After"] = "5"
    return response
