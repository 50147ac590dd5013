"""``/api/v1/oauth-clients``: the console's actions as a JSON API, shaped like the product's.

HTTP glue only. The input is checked by ``validation`` (the API's types, then
the domain's rules, the console's too), written by the same services (with
their audit entries) and answered through ``representation``.
"""

from functools import wraps
from pathlib import Path

from django.core.exceptions import PermissionDenied, RequestDataTooBig, ValidationError
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.views.decorators.cache import never_cache
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_http_methods

from oauth_clients import services
from oauth_clients.api import representation, validation
from oauth_clients.api.errors import ApiError, error_response, refusal
from oauth_clients.api.jsonpatch import PatchError, apply_patch
from oauth_clients.api.query import encode_cursor
from oauth_clients.models import ClientSecret, ConnectionConfig, OAuthClient
from oauth_clients.oauth.bearer import require_bearer
from tenants.scoping import scoped

ADMIN_SCOPE = "admin_classic"
PATCHABLE = {
    "/clientName",
    "/description",
    "/redirectUris",
    "/allowedOrigins",
    "/allowedScopes",
    "/allowedGrantTypes",
}


def management_api(view):
    """Bearer token with admin_classic whose subject is, now, an admin of this tenant."""

    @csrf_exempt
    @never_cache
    @require_bearer(ADMIN_SCOPE)
    @wraps(view)
    def wrapper(request, *args, **kwargs):
        try:
            if not request.bearer.membership.is_admin:
                raise refusal(403, "forbidden", "Only tenant admins may manage OAuth clients.")
            return view(request, *args, **kwargs)
        except ApiError as error:
            return error_response(error)
        except PermissionDenied as error:
            return error_response(refusal(403, "forbidden", str(error) or "Forbidden."))

    return wrapper


def json_body(request: HttpRequest):
    if request.content_type != "application/json":
        raise refusal(415, "unsupported_media_type", "Send the body as application/json.")
    try:
        body = request.body
    except RequestDataTooBig:
        raise refusal(400, "request_too_large", "The body is too large.") from None
    return validation.parse_json(body)


def patched(document: dict, request: HttpRequest, allowed: set[str]) -> dict:
    """``document`` after the request's JSON Patch (RFC 6902) on the ``allowed`` members."""
    try:
        return apply_patch(document, json_body(request), allowed)
    except PatchError as error:
        pointer = f"/{error.member}" if error.member else ""
        raise refusal(400, "invalid_patch", error.detail, pointer=pointer) from None


def actor(request: HttpRequest):
    return request.bearer.user


def own_client(request: HttpRequest, client_id: str) -> OAuthClient:
    client = scoped(request, OAuthClient).filter(client_id=client_id).first()
    if client is None:
        raise refusal(404, "not_found", "No OAuth client with this clientId.")
    return client


def own_config(request: HttpRequest, client: OAuthClient) -> ConnectionConfig | None:
    return scoped(request, ConnectionConfig).filter(client=client).first()


def client_document(request: HttpRequest, client: OAuthClient) -> dict:
    config = own_config(request, client)
    return representation.represent(client, config, list(client.secrets.all()))


@require_http_methods(["GET", "POST"])
@management_api
def oauth_clients(request: HttpRequest) -> HttpResponse:
    if request.method == "POST":
        return create(request)
    return listing(request)


def create(request: HttpRequest) -> HttpResponse:
    data, app_type = validation.client_input(json_body(request))
    try:
        client, secret = services.create_client(
            request.tenant, data, app_type=app_type, actor=actor(request)
        )
    except ValidationError as error:
        raise refusal(409, "limit_reached", " ".join(error.messages)) from None
    body = client_document(request, client)
    if secret:
        body["clientSecret"] = secret
        body["clientSecretHint"] = secret[-ClientSecret.HINT_LENGTH :]
    response = JsonResponse(body, status=201)
    response["Location"] = f"/api/v1/oauth-clients/{client.client_id}"
    return response


def listing(request: HttpRequest) -> JsonResponse:
    query = validation.listing_query(request.GET)
    clients = scoped(request, OAuthClient).filter(query.where)
    start, end = query.offset, query.offset + query.limit
    # One row more than the page: whether there is a next page.
    rows = list(clients.order_by(*query.order_by).prefetch_related("secrets")[start : end + 1])
    configs = {
        config.client_id: config
        for config in scoped(request, ConnectionConfig).filter(client__in=[r.pk for r in rows])
    }
    data = [
        representation.represent(c, configs.get(c.pk), list(c.secrets.all()))
        for c in rows[: query.limit]
    ]
    links = {"self": {"href": request.tenant.base_url + request.get_full_path()}}
    if len(rows) > query.limit:
        links["next"] = page_link(request, query, end)
    if start > 0:
        links["prev"] = page_link(request, query, max(0, start - query.limit))
    body = {"data": data, "links": links}
    if query.total:
        body["totalResults"] = clients.count()
    return JsonResponse(body)


def page_link(request: HttpRequest, query: validation.Listing, offset: int) -> dict:
    params = request.GET.copy()
    params["page"] = encode_cursor(offset)
    params["limit"] = str(query.limit)
    return {"href": f"{request.tenant.base_url}/api/v1/oauth-clients?{params.urlencode()}"}


@require_http_methods(["GET", "PATCH", "DELETE"])
@management_api
def oauth_client(request: HttpRequest, client_id: str) -> HttpResponse:
    client = own_client(request, client_id)
    if request.method == "GET":
        return JsonResponse(client_document(request, client))
    if request.method == "DELETE":
        services.delete_clients(request.tenant, [client.pk], actor=actor(request))
        return HttpResponse(status=204)
    document = patched(client_document(request, client), request, PATCHABLE)
    data, _app_type = validation.client_input(document)
    services.update_client(client, data, actor=actor(request))
    return HttpResponse(status=204)


@require_http_methods(["POST"])
@management_api
def publish(request: HttpRequest, client_id: str) -> HttpResponse:
    client = services.publish_client(own_client(request, client_id), actor=actor(request))
    return JsonResponse({"publishedAt": representation.iso(client.published_at)}, status=201)


@require_http_methods(["POST"])
@management_api
def unpublish(request: HttpRequest, client_id: str) -> HttpResponse:
    services.unpublish_client(own_client(request, client_id), actor=actor(request))
    return HttpResponse(status=204)


@require_http_methods(["POST"])
@management_api
def client_secrets(request: HttpRequest, client_id: str) -> HttpResponse:
    client = own_client(request, client_id)
    if not client.is_confidential:
        detail = "Only web clients have client secrets."
        raise refusal(400, "invalid_value", detail, pointer="/appType")
    try:
        secret, plaintext = services.generate_secret(client, actor=actor(request))
    except ValidationError as error:
        raise refusal(409, "limit_reached", " ".join(error.messages)) from None
    return JsonResponse(representation.created_secret(client, secret, plaintext), status=201)


@require_http_methods(["DELETE"])
@management_api
def client_secret(request: HttpRequest, client_id: str, hint: str) -> HttpResponse:
    client = own_client(request, client_id)
    secret = scoped(request, ClientSecret).filter(client=client, hint=hint).first()
    if secret is None:
        raise refusal(404, "not_found", "No secret with this hint.")
    services.delete_secret(secret, actor=actor(request))
    return HttpResponse(status=204)


@require_http_methods(["GET", "PATCH", "DELETE"])
@management_api
def connection_config_me(request: HttpRequest, client_id: str) -> HttpResponse:
    """This tenant's consent method for a client, and its approval of a published one."""
    config = (
        scoped(request, ConnectionConfig)
        .filter(client__client_id=client_id, client__deleted_at__isnull=True)
        .select_related("client")
        .first()
    )
    if config is None:
        raise refusal(404, "not_found", "This tenant has no connection to this client.")
    if request.method == "GET":
        document = representation.connection_config(config)
        if config.client.is_external_to(request.tenant):
            # What this tenant's admin approved; the client may ask for more since.
            document["approvedScopes"] = config.approved_scope_list
        return JsonResponse(document)
    if request.method == "DELETE":
        if not config.client.is_external_to(request.tenant):
            raise refusal(
                409, "conflict", "A tenant cannot revoke its own client; delete it instead."
            )
        services.revoke_client_for_tenant(config, actor=actor(request))
        return HttpResponse(status=204)
    document = patched(representation.connection_config(config), request, {"/consentMethod"})
    method = validation.consent_method_input(document)
    services.set_consent_method(config, method, actor=actor(request))
    return HttpResponse(status=204)


OPENAPI_PATH = Path(__file__).with_name("openapi.json")


@require_http_methods(["GET"])
def openapi_document(request: HttpRequest) -> HttpResponse:
    """The OpenAPI 3.1 description of this API, as kept in the repository."""
    response = HttpResponse(OPENAPI_PATH.read_bytes(), content_type="application/json")
    response["Access-Control-Allow-Origin"] = "*"
    return response
