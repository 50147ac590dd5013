"""Our OAUTH2_BACKEND_CLASS: request bodies and the tenant, handed to oauthlib."""

import json

from django.core.exceptions import RequestDataTooBig, TooManyFieldsSent
from oauth2_provider.oauth2_backends import OAuthLibCore
from oauthlib.oauth2.rfc6749 import errors

from oauth_clients.oauthlib_request import (
    AUTH_TIME_KEY,
    CLIENT_ADDRESS_KEY,
    TENANT_KEY,
)
from tenants.ratelimit import client_address


def _reject_duplicate_keys(pairs):
    keys = [key for key, _value in pairs]
    repeated = sorted({key for key in keys if keys.count(key) > 1})
    if repeated:
        raise errors.InvalidRequestError(description=f"Repeated parameter: {', '.join(repeated)}.")
    return dict(pairs)


def parse_body(request) -> list[tuple[str, str]]:
    """The body's parameters, as form (RFC 6749 Appendix B) or JSON (the product's own clients).

    Repeated parameters (RFC 6749 §3.1, §3.2: "MUST NOT be included more than
    once") and non-string values are an ``invalid_request``. Parsed once per
    request.
    """
    if hasattr(request, "_oauth_body"):
        return request._oauth_body
    try:
        return _parse_body(request)
    except (RequestDataTooBig, TooManyFieldsSent):
        raise errors.InvalidRequestError(description="The request body is too large.") from None


def _parse_body(request) -> list[tuple[str, str]]:
    if request.method != "POST":
        request._oauth_body = []
        return []
    if request.content_type == "application/json":
        try:
            data = json.loads(request.body or b"{}", object_pairs_hook=_reject_duplicate_keys)
        except (ValueError, RecursionError):  # also invalid UTF-8 and absurd nesting
            raise errors.InvalidRequestError(
                description="The JSON body cannot be parsed."
            ) from None
        if not isinstance(data, dict):
            raise errors.InvalidRequestError(description="The JSON body must be an object.")
        items = list(data.items())
    else:
        items = []
        for key, values in request.POST.lists():
            if len(values) > 1:
                raise errors.InvalidRequestError(description=f"Repeated parameter: {key}.")
            items.append((key, values[0]))
    for key, value in items:
        if not isinstance(value, str):
            raise errors.InvalidRequestError(description=f"The parameter {key} must be a string.")
        if "\x00" in value:
            raise errors.InvalidRequestError(description=f"The parameter {key} is not valid.")
    request._oauth_body = items
    return items


class TenantOAuthLibCore(OAuthLibCore):
    def extract_headers(self, request):
        headers = super().extract_headers(request)
        headers[TENANT_KEY] = request.tenant
        # Set by the authorization view from the session; stored with the code.
        headers[AUTH_TIME_KEY] = getattr(request, "oauth_auth_time", None)
        headers[CLIENT_ADDRESS_KEY] = client_address(request)
        return headers

    def extract_body(self, request):
        return parse_body(request)
