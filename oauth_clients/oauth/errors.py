"""The one error envelope of the token endpoints, the APIs and bearer checks.

RFC 6749 §5.2's ``error`` and ``error_description``, plus the ``errors``
list that the product's own clients read (``{code, title, detail, status}``,
with ``source.pointer`` naming a field of a JSON body). The management API
answers the ``errors`` list alone, as the product does.
"""

from django.http import JsonResponse

ERROR_TITLES = {
    "invalid_request": "Invalid request",
    "invalid_client": "Client authentication failed",
    "invalid_grant": "Invalid grant",
    "unauthorized_client": "Unauthorized client",
    "unsupported_grant_type": "Unsupported grant type",
    "invalid_scope": "Invalid scope",
    "access_denied": "Access denied",
    "invalid_token": "Invalid token",
    "insufficient_scope": "Insufficient scope",
    "too_many_requests": "Too many requests",
    "not_found": "Not found",
    "invalid_json": "Invalid JSON",
}


def error_item(code: str, detail: str, status: int, *, title: str = "", pointer: str = "") -> dict:
    """One entry of ``errors``."""
    item = {
        "code": code,
        "title": title or ERROR_TITLES.get(code, code.replace("_", " ").capitalize()),
        "detail": detail,
        "status": str(status),
    }
    if pointer:
        item["source"] = {"pointer": pointer}
    return item


def oauth_error_body(error: str, description: str, status: int) -> dict:
    """RFC 6749 §5.2 fields, plus the ``errors`` list."""
    return {
        "error": error,
        "error_description": description,
        "errors": [error_item(error, description, status)],
    }


def oauth_error_response(error: str, description: str, status: int) -> JsonResponse:
    """The envelope as a response that is never cached."""
    response = JsonResponse(oauth_error_body(error, description, status), status=status)
    response["Cache-Control"] = "no-store"
    return response
