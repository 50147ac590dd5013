"""CORS for single-page apps, from the indexed table of registered origins.

Only an origin registered by a live SPA client usable at this tenant (one of
its own, or another tenant's published client this tenant approved) may call
the token and revocation endpoints (with credentials, as browser SDKs send
them), userinfo and the APIs (bearer tokens only). A preflight carries no
client_id, so the origin alone decides. The authorization endpoint never
answers CORS.
"""

from django.http import HttpResponse

from oauth_clients import lookups

TOKEN_PATHS = frozenset({"/oauth/token", "/oauth/revoke"})
# Bearer endpoints: the APIs, and OpenID Connect's userinfo (Core §5.3).
BEARER_PATHS = frozenset({"/oauth/userinfo"})
API_PREFIX = "/api/"
MAX_AGE = "600"


def _kind(path: str) -> str | None:
    if path in TOKEN_PATHS:
        return "token"
    if path.startswith(API_PREFIX) or path in BEARER_PATHS:
        return "api"
    return None


class CorsMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        origin = request.headers.get("Origin")
        kind = _kind(request.path_info) if origin and request.tenant is not None else None
        if kind is None:
            return self.get_response(request)
        allowed = lookups.origin_allowed(origin, request.tenant)
        preflight = (
            request.method == "OPTIONS" and "Access-Control-Request-Method" in request.headers
        )
        response = HttpResponse(status=204) if preflight else self.get_response(request)
        if allowed:
            response["Access-Control-Allow-Origin"] = origin
            if kind == "token":
                response["Access-Control-Allow-Credentials"] = "true"
            if preflight:
                response["Access-Control-Allow-Methods"] = (
                    "POST, OPTIONS" if kind == "token" else "GET, POST, PUT, PATCH, DELETE, OPTIONS"
                )
                response["Access-Control-Allow-Headers"] = (
                    "content-type"
                    if kind == "token"
                    else "authorization, content-type, qlik-api-version"
                )
                response["Access-Control-Max-Age"] = MAX_AGE
        response["Vary"] = ", ".join(filter(None, [response.get("Vary"), "Origin"]))
        return response
