"""How the APIs answer errors: the platform's envelope (``oauth_clients.oauth.errors``)."""

from django.http import HttpRequest, JsonResponse
from django.views.decorators.csrf import csrf_exempt

from oauth_clients.oauth.errors import oauth_error_response


@csrf_exempt
def not_found(request: HttpRequest, path: str = "") -> JsonResponse:
    """Any path under ``/api/`` that is no API: a JSON 404, never the HTML page."""
    return oauth_error_response("not_found", "There is no API at this path.", 404)
