"""How the APIs answer errors: the platform's envelope (``oauth_clients.oauth.errors``)."""

from django.http import HttpRequest, JsonResponse
from django.views.decorators.csrf import csrf_exempt

from oauth_clients.oauth.errors import error_item, oauth_error_response


class ApiError(Exception):
    """A refusal: the status and the ``errors`` items of the answer (``error_item``)."""

    def __init__(self, status: int, items: list[dict]):
        super().__init__("; ".join(item["detail"] for item in items))
        self.status = status
        self.items = items


def refusal(status: int, code: str, detail: str, *, pointer: str = "") -> ApiError:
    """A refusal with one error; ``pointer`` names the member of the body it is about."""
    return ApiError(status, [error_item(code, detail, status, pointer=pointer)])


def error_response(error: ApiError) -> JsonResponse:
    """The management API answers the ``errors`` list alone, never cached."""
    response = JsonResponse({"errors": error.items}, status=error.status)
    response["Cache-Control"] = "no-store"
    return response


@csrf_exempt
def not_found(request: HttpRequest, path: str = "") -> JsonResponse:
    """Any path under ``/api/`` that is no API: a JSON 404, never the HTML page."""
    return oauth_error_response("not_found", "There is no API at this path.", 404)
