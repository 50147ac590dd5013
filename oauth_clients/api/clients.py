"""``/api/v1/oauth-clients``: the console's actions as a JSON API, shaped like the product's.

Every rule is the console's: input goes through the same ``ClientForm`` and
the same services (with their audit entries); this module only translates
between JSON (camelCase) and them.
"""

import base64
import binascii
import json
import re
from functools import wraps
from pathlib import Path

from django.core.exceptions import PermissionDenied, RequestDataTooBig, ValidationError
from django.db.models import Q
from django.http import HttpRequest, HttpResponse, JsonResponse, QueryDict
from django.views.decorators.cache import never_cache
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_http_methods

from oauth_clients import services
from oauth_clients.console.forms import ClientForm
from oauth_clients.models import ClientSecret, ConnectionConfig, OAuthClient
from oauth_clients.oauth.bearer import require_bearer
from tenants.scoping import scoped

ADMIN_SCOPE = "admin_classic"
MAX_LIMIT = 100
DEFAULT_LIMIT = 20
SORTS = {
    "clientName": ("name", "pk"),
    "-clientName": ("-name", "-pk"),
    "createdAt": ("created", "pk"),
    "-createdAt": ("-created", "-pk"),
}
GRANT_TYPES = {"authorization_code", "refresh_token", "client_credentials"}
# Form field → API field, for error pointers.
FORM_FIELDS = {
    "name": "clientName",
    "description": "description",
    "app_type": "appType",
    "redirect_uris": "redirectUris",
    "new_redirect_uri": "redirectUris",
    "allowed_origins": "allowedOrigins",
    "new_allowed_origin": "allowedOrigins",
    "allowed_scopes": "allowedScopes",
    "machine_to_machine": "allowedGrantTypes",
    "consent_method": "connectionConfig.consentMethod",
}
PATCHABLE = {
    "/clientName",
    "/description",
    "/redirectUris",
    "/allowedOrigins",
    "/allowedScopes",
    "/allowedGrantTypes",
}
FILTER_TERM = re.compile(
    r'\s*(?P<field>clientName|appType|clientId)\s+(?P<op>eq|co|sw)\s+"(?P<value>(?:[^"\\]|\\.)*)"\s*'
)
FILTER_AND = re.compile(r"and\s+", re.IGNORECASE)
MAX_OFFSET = 1_000_000
PATCH_INDEX = re.compile(r"0|[1-9][0-9]*|-")
TITLES = {
    400: "Bad request",
    401: "Unauthorized",
    403: "Forbidden",
    404: "Not found",
    405: "Method not allowed",
    409: "Conflict",
    415: "Unsupported media type",
}


class ApiError(Exception):
    def __init__(self, status: int, detail: str, code: str = "", field: str = ""):
        super().__init__(detail)
        self.status, self.detail, self.code, self.field = status, detail, code, field


def error_response(status: int, errors: list[dict]) -> JsonResponse:
    response = JsonResponse({"errors": errors}, status=status)
    response["Cache-Control"] = "no-store"
    return response


def api_error(error: ApiError) -> JsonResponse:
    item = {
        "code": error.code or TITLES.get(error.status, "error").lower().replace(" ", "_"),
        "title": TITLES.get(error.status, "Error"),
        "detail": error.detail,
        "status": str(error.status),
    }
    if error.field:
        item["source"] = {"pointer": "/" + error.field.replace(".", "/")}
    return error_response(error.status, [item])


def form_errors(form: ClientForm) -> JsonResponse:
    errors = []
    for field, messages in form.errors.items():
        api_field = FORM_FIELDS.get(field, "")
        for message in messages:
            item = {
                "code": "invalid_value",
                "title": "Invalid value",
                "detail": f"{api_field}: {message}" if api_field else str(message),
                "status": "400",
            }
            if api_field:
                item["source"] = {"pointer": "/" + api_field.replace(".", "/")}
            errors.append(item)
    return error_response(400, errors)


def management_api(view):
    """Bearer token with admin_classic whose subject is, now, an admin of this tenant."""

    @csrf_exempt
    @never_cache
    @require_bearer(ADMIN_SCOPE)
    @wraps(view)
    def wrapper(request, *args, **kwargs):
        if not request.bearer.membership.is_admin:
            return api_error(
                ApiError(403, "Only tenant admins may manage OAuth clients.", "forbidden")
            )
        try:
            return view(request, *args, **kwargs)
        except ApiError as error:
            return api_error(error)
        except PermissionDenied as error:
            return api_error(ApiError(403, str(error) or "Forbidden."))

    return wrapper


def json_body(request: HttpRequest):
    if request.content_type != "application/json":
        raise ApiError(415, "Send the body as application/json.", "unsupported_media_type")
    try:
        document = json.loads(request.body or b"null")
    except RequestDataTooBig:
        raise ApiError(400, "The body is too large.", "request_too_large") from None
    except (ValueError, RecursionError):
        raise ApiError(400, "The body is not valid JSON.", "invalid_json") from None
    _check_text(document)
    return document


def _check_text(value) -> None:
    """Strings must be text a database can store: no lone surrogates (valid JSON escapes
    such as "\\udc80" decode to them). A NUL is left to the fields' own validation,
    which names the field."""
    if isinstance(value, str):
        try:
            value.encode("utf-8")
        except UnicodeEncodeError:
            raise ApiError(
                400, "The body holds a string that is not valid Unicode.", "invalid_json"
            ) from None
    elif isinstance(value, list):
        for item in value:
            _check_text(item)
    elif isinstance(value, dict):
        for key, item in value.items():
            _check_text(key)
            _check_text(item)


def actor(request: HttpRequest):
    return request.bearer.user


# --- Representation -------------------------------------------------------------------
def grant_types(client: OAuthClient) -> list[str]:
    types = ["authorization_code", "refresh_token"]
    if client.machine_to_machine:
        types.append("client_credentials")
    return types


def iso(value) -> str | None:
    return value.isoformat().replace("+00:00", "Z") if value else None


def represent(client: OAuthClient, config: ConnectionConfig | None, secrets=None) -> dict:
    return {
        "clientId": client.client_id,
        "clientName": client.name,
        "description": client.description,
        "appType": client.app_type,
        "redirectUris": client.redirect_uri_list,
        "allowedOrigins": client.allowed_origin_list,
        "allowedScopes": client.allowed_scope_list,
        "allowedGrantTypes": grant_types(client),
        "connectionConfig": connection_config(config),
        "clientSecrets": [represent_secret(s) for s in (secrets if secrets is not None else [])],
        "createdAt": iso(client.created),
        "updatedAt": iso(client.updated),
        "publishedAt": iso(client.published_at),
        "tenantId": str(client.tenant_id),
    }


def represent_secret(secret: ClientSecret) -> dict:
    return {
        "hint": secret.hint,
        "createdAt": iso(secret.created_at),
        "createdBy": str(secret.created_by_id) if secret.created_by_id else None,
        "lastUsedAt": iso(secret.last_used_at),
        "expiresAt": iso(secret.expires_at),
    }


def connection_config(config: ConnectionConfig | None) -> dict:
    if config is None:
        return {"consentMethod": ConnectionConfig.ConsentMethod.REQUIRED, "status": "pending"}
    return {
        "consentMethod": config.consent_method,
        "status": "approved" if config.is_approved else "pending",
    }


def own_client(request: HttpRequest, client_id: str) -> OAuthClient:
    client = scoped(request, OAuthClient).filter(client_id=client_id).first()
    if client is None:
        raise ApiError(404, "No OAuth client with this clientId.", "not_found")
    return client


def own_config(request: HttpRequest, client: OAuthClient) -> ConnectionConfig | None:
    return scoped(request, ConnectionConfig).filter(client=client).first()


def client_document(request: HttpRequest, client: OAuthClient) -> dict:
    return represent(client, own_config(request, client), list(client.secrets.all()))


# --- Input → the console's form -----------------------------------------------------------
def _strings(value, field: str, *, many: bool):
    if many:
        if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
            raise ApiError(400, f"{field} must be a list of strings.", "invalid_value", field)
        return value
    if not isinstance(value, str):
        raise ApiError(400, f"{field} must be a string.", "invalid_value", field)
    return value


def form_data(document: dict, *, consent_method: str) -> QueryDict:
    """A console form submission that says what the JSON document says."""
    data = QueryDict(mutable=True)
    data["intent"] = "save"
    data["name"] = _strings(document.get("clientName", ""), "clientName", many=False)
    data["description"] = _strings(document.get("description", ""), "description", many=False)
    if "appType" in document:
        data["app_type"] = _strings(document["appType"], "appType", many=False)
    data.setlist(
        "redirect_uris", _strings(document.get("redirectUris", []), "redirectUris", many=True)
    )
    data.setlist(
        "allowed_origins",
        _strings(document.get("allowedOrigins", []), "allowedOrigins", many=True),
    )
    data.setlist(
        "allowed_scopes", _strings(document.get("allowedScopes", []), "allowedScopes", many=True)
    )
    grants = _strings(document.get("allowedGrantTypes", []), "allowedGrantTypes", many=True)
    unknown = set(grants) - GRANT_TYPES
    if unknown:
        raise ApiError(
            400,
            f"allowedGrantTypes: unknown grant type {sorted(unknown)[0]}.",
            "invalid_value",
            "allowedGrantTypes",
        )
    if "client_credentials" in grants:
        data["machine_to_machine"] = "on"
    data["consent_method"] = consent_method
    return data


# --- Views -------------------------------------------------------------------------------------
@require_http_methods(["GET", "POST"])
@management_api
def oauth_clients(request: HttpRequest) -> HttpResponse:
    if request.method == "POST":
        return create(request)
    return listing(request)


def create(request: HttpRequest) -> HttpResponse:
    document = json_body(request)
    if not isinstance(document, dict):
        raise ApiError(400, "The body must be a JSON object.", "invalid_json")
    config = document.get("connectionConfig") or {}
    if not isinstance(config, dict):
        raise ApiError(
            400, "connectionConfig must be an object.", "invalid_value", "connectionConfig"
        )
    consent = config.get("consentMethod", ConnectionConfig.ConsentMethod.REQUIRED)
    form = ClientForm(
        form_data(
            document, consent_method=_strings(consent, "connectionConfig.consentMethod", many=False)
        )
    )
    if not form.is_valid():
        return form_errors(form)
    try:
        client, secret = services.create_client(
            request.tenant,
            form.to_data(),
            app_type=form.cleaned_data["app_type"],
            actor=actor(request),
        )
    except ValidationError as error:
        raise ApiError(409, " ".join(error.messages), "limit_reached") from None
    body = client_document(request, client)
    if secret:
        body["clientSecret"] = secret
        body["clientSecretHint"] = secret[-ClientSecret.HINT_LENGTH :]
    response = JsonResponse(body, status=201)
    response["Location"] = f"/api/v1/oauth-clients/{client.client_id}"
    return response


def parse_filter(expression: str) -> Q:
    """``clientName co "x" and appType eq "web"`` (a SCIM-like subset).

    Terms are read left to right, so ``and`` inside a quoted value is text.
    """
    fields = {"clientName": "name", "appType": "app_type", "clientId": "client_id"}
    lookups = {"eq": "", "co": "__icontains", "sw": "__istartswith"}
    invalid = ApiError(
        400,
        'filter: use terms like clientName co "text" or appType eq "web", joined by "and".',
        "invalid_filter",
        "filter",
    )
    query, position, expression = Q(), 0, expression.strip()
    while True:
        match = FILTER_TERM.match(expression, position)
        if not match:
            raise invalid
        field, op, value = match.group("field", "op", "value")
        value = value.replace('\\"', '"').replace("\\\\", "\\")
        if "\x00" in value:
            raise ApiError(400, "filter: values cannot contain NUL.", "invalid_filter", "filter")
        lookup = (
            "name__iexact" if (field, op) == ("clientName", "eq") else fields[field] + lookups[op]
        )
        query &= Q(**{lookup: value})
        position = match.end()
        if position == len(expression):
            return query
        joiner = FILTER_AND.match(expression, position)
        if not joiner:
            raise invalid
        position = joiner.end()


def _cursor(offset: int) -> str:
    return base64.urlsafe_b64encode(json.dumps({"o": offset}).encode()).decode().rstrip("=")


def _offset(cursor: str) -> int:
    try:
        padded = cursor + "=" * (-len(cursor) % 4)
        offset = json.loads(base64.urlsafe_b64decode(padded))["o"]
    except (ValueError, KeyError, TypeError, binascii.Error):
        raise ApiError(
            400, "page: not a cursor this API gave out.", "invalid_cursor", "page"
        ) from None
    if not isinstance(offset, int) or not 0 <= offset <= MAX_OFFSET:
        raise ApiError(400, "page: not a cursor this API gave out.", "invalid_cursor", "page")
    return offset


def listing(request: HttpRequest) -> JsonResponse:
    params = request.GET
    if params.get("totalResults", "false") not in {"true", "false"}:
        raise ApiError(400, "totalResults must be true or false.", "invalid_value", "totalResults")
    try:
        limit = int(params.get("limit", DEFAULT_LIMIT))
    except ValueError:
        raise ApiError(400, "limit must be a whole number.", "invalid_value", "limit") from None
    if not 1 <= limit <= MAX_LIMIT:
        raise ApiError(400, f"limit must be between 1 and {MAX_LIMIT}.", "invalid_value", "limit")
    sort = params.get("sort", "clientName")
    if sort not in SORTS:
        raise ApiError(400, f"sort must be one of {', '.join(SORTS)}.", "invalid_value", "sort")
    clients = scoped(request, OAuthClient)
    if params.get("filter"):
        clients = clients.filter(parse_filter(params["filter"]))
    offset = _offset(params["page"]) if params.get("page") else 0
    rows = list(
        clients.order_by(*SORTS[sort]).prefetch_related("secrets")[offset : offset + limit + 1]
    )
    configs = {
        c.client_id: c
        for c in scoped(request, ConnectionConfig).filter(client__in=[r.pk for r in rows])
    }
    data = [represent(c, configs.get(c.pk), list(c.secrets.all())) for c in rows[:limit]]

    def link(page_offset: int) -> dict:
        query = params.copy()
        query["page"] = _cursor(page_offset)
        query["limit"] = str(limit)
        return {"href": f"{request.tenant.base_url}/api/v1/oauth-clients?{query.urlencode()}"}

    links = {"self": {"href": request.tenant.base_url + request.get_full_path()}}
    if len(rows) > limit:
        links["next"] = link(offset + limit)
    if offset > 0:
        links["prev"] = link(max(0, offset - limit))
    body = {"data": data, "links": links}
    if params.get("totalResults") == "true":
        body["totalResults"] = clients.count()
    return JsonResponse(body)


@require_http_methods(["GET", "PATCH", "DELETE"])
@management_api
def oauth_client(request: HttpRequest, client_id: str) -> HttpResponse:
    client = own_client(request, client_id)
    if request.method == "GET":
        return JsonResponse(client_document(request, client))
    if request.method == "DELETE":
        services.delete_clients(request.tenant, [client.pk], actor=actor(request))
        return HttpResponse(status=204)
    operations = json_body(request)
    document = apply_patch(client_document(request, client), operations, PATCHABLE)
    config = own_config(request, client)
    consent = config.consent_method if config else ConnectionConfig.ConsentMethod.REQUIRED
    form = ClientForm(form_data(document, consent_method=consent), client=client)
    if not form.is_valid():
        return form_errors(form)
    services.update_client(client, form.to_data(), actor=actor(request))
    return HttpResponse(status=204)


def apply_patch(document: dict, operations, allowed: set[str]) -> dict:
    """JSON Patch (RFC 6902) ``add``/``remove``/``replace`` on the allowed members."""
    if not isinstance(operations, list) or not operations:
        raise ApiError(400, "The body must be a non-empty JSON Patch array.", "invalid_patch")
    document = json.loads(json.dumps(document))
    for number, operation in enumerate(operations):
        where = f"operation {number}"
        if not isinstance(operation, dict):
            raise ApiError(400, f"{where}: must be an object.", "invalid_patch")
        op, path = operation.get("op"), operation.get("path")
        if op not in {"add", "remove", "replace"}:
            raise ApiError(400, f"{where}: op must be add, remove or replace.", "invalid_patch")
        if not isinstance(path, str):
            raise ApiError(400, f"{where}: path must be a string.", "invalid_patch")
        parts = path.split("/")
        member = parts[1] if len(parts) > 1 else ""
        index = parts[2] if len(parts) == 3 else ""
        valid_shape = parts[0] == "" and (
            len(parts) == 2 or (len(parts) == 3 and PATCH_INDEX.fullmatch(index))
        )
        if not valid_shape or "/" + member not in allowed:
            raise ApiError(400, f"{where}: {path} cannot be changed.", "invalid_patch", member)
        if op != "remove" and "value" not in operation:
            raise ApiError(400, f"{where}: value is missing.", "invalid_patch", member)
        value = operation.get("value")
        if not index:
            if op == "remove":
                document[member] = [] if isinstance(document[member], list) else ""
            else:
                document[member] = value
            continue
        items = document[member]
        if not isinstance(items, list):
            raise ApiError(400, f"{where}: {path} is not a list.", "invalid_patch", member)
        if index == "-" and op == "add":
            items.append(value)
            continue
        if index == "-" or len(index) > 9 or int(index) >= len(items) + (op == "add"):
            raise ApiError(400, f"{where}: {path} is out of range.", "invalid_patch", member)
        position = int(index)
        if op == "add":
            items.insert(position, value)
        elif op == "replace":
            items[position] = value
        else:
            del items[position]
    return document


@require_http_methods(["POST"])
@management_api
def publish(request: HttpRequest, client_id: str) -> HttpResponse:
    client = services.publish_client(own_client(request, client_id), actor=actor(request))
    return JsonResponse({"publishedAt": iso(client.published_at)}, status=201)


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
        raise ApiError(400, "Only web clients have client secrets.", "invalid_value", "appType")
    try:
        secret, plaintext = services.generate_secret(client, actor=actor(request))
    except ValidationError as error:
        raise ApiError(409, " ".join(error.messages), "limit_reached") from None
    return JsonResponse(
        {
            "clientId": client.client_id,
            "clientSecret": plaintext,
            "hint": secret.hint,
            "createdAt": iso(secret.created_at),
            "createdBy": str(secret.created_by_id) if secret.created_by_id else None,
        },
        status=201,
    )


@require_http_methods(["DELETE"])
@management_api
def client_secret(request: HttpRequest, client_id: str, hint: str) -> HttpResponse:
    client = own_client(request, client_id)
    secret = scoped(request, ClientSecret).filter(client=client, hint=hint).first()
    if secret is None:
        raise ApiError(404, "No secret with this hint.", "not_found")
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
        raise ApiError(404, "This tenant has no connection to this client.", "not_found")
    if request.method == "GET":
        document = connection_config(config)
        if config.client.is_external_to(request.tenant):
            # What this tenant's admin approved; the client may ask for more since.
            document["approvedScopes"] = config.approved_scope_list
        return JsonResponse(document)
    if request.method == "DELETE":
        if not config.client.is_external_to(request.tenant):
            raise ApiError(
                409, "A tenant cannot revoke its own client; delete it instead.", "conflict"
            )
        services.revoke_client_for_tenant(config, actor=actor(request))
        return HttpResponse(status=204)
    document = apply_patch(connection_config(config), json_body(request), {"/consentMethod"})
    method = document.get("consentMethod")
    if method not in ConnectionConfig.ConsentMethod.values:
        raise ApiError(
            400, "consentMethod must be required or trusted.", "invalid_value", "consentMethod"
        )
    services.set_consent_method(config, method, actor=actor(request))
    return HttpResponse(status=204)


OPENAPI_PATH = Path(__file__).with_name("openapi.json")


@require_http_methods(["GET"])
def openapi_document(request: HttpRequest) -> HttpResponse:
    """The OpenAPI 3.1 description of this API, as kept in the repository."""
    response = HttpResponse(OPENAPI_PATH.read_bytes(), content_type="application/json")
    response["Access-Control-Allow-Origin"] = "*"
    return response
