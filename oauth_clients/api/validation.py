"""The management API's input, checked on its own terms, then by the domain's rules.

First the JSON itself (RFC 8259) and the type ``openapi.json`` gives each
member: a string, a list of strings, one of the enum values. Then
``services.validate_client_data``, the rules the console's form runs too.
Every error points at its member with a JSON Pointer (RFC 6901), down to the
item where one item of a list is wrong (``/redirectUris/2``).
"""

import json
from collections.abc import Mapping
from dataclasses import dataclass

from django.core.exceptions import ValidationError
from django.db.models import Q

from oauth_clients.api.errors import ApiError, refusal
from oauth_clients.api.query import QueryError, decode_cursor, parse_filter
from oauth_clients.models import ConnectionConfig, OAuthClient
from oauth_clients.oauth.errors import error_item
from oauth_clients.services import ClientData, validate_client_data

# ClientData field → the API's member (dotted below an object).
MEMBERS = {
    "name": "clientName",
    "description": "description",
    "app_type": "appType",
    "redirect_uris": "redirectUris",
    "allowed_origins": "allowedOrigins",
    "allowed_scopes": "allowedScopes",
    "machine_to_machine": "allowedGrantTypes",
    "consent_method": "connectionConfig.consentMethod",
}
APP_TYPES = tuple(OAuthClient.AppType.values)
CONSENT_METHODS = tuple(ConnectionConfig.ConsentMethod.values)
GRANT_TYPES = ("authorization_code", "refresh_token", "client_credentials")
DEFAULT_LIMIT = 20
MAX_LIMIT = 100
# sort → order_by, ascending or (with "-") descending; the id breaks ties, so that
# pages neither overlap nor skip a client.
SORTS = {
    f"{sign}{member}": (f"{sign}{column}", f"{sign}pk")
    for member, column in (("clientName", "name"), ("createdAt", "created"))
    for sign in ("", "-")
}


def invalid_value(member: str, detail: str, index: int | None = None) -> dict:
    """An ``errors`` item about a member of the body (or one item of a list member)."""
    pointer = "/" + member.replace(".", "/") + ("" if index is None else f"/{index}")
    return error_item("invalid_value", detail, 400, pointer=pointer)


# --- The body --------------------------------------------------------------------------
def parse_json(body: bytes):
    """The JSON document of a request body, whose strings are text a database can store."""
    try:
        document = json.loads(body or b"null")
    except (ValueError, RecursionError):
        raise refusal(400, "invalid_json", "The body is not valid JSON.") from None
    _check_text(document)
    return document


def _check_text(value) -> None:
    """No lone surrogates: JSON may escape one ("\\udc80"), but it is no character and
    PostgreSQL cannot store it. A NUL is left to the fields' rules, which name the field."""
    if isinstance(value, str):
        try:
            value.encode("utf-8")
        except UnicodeEncodeError:
            raise refusal(
                400, "invalid_json", "The body holds a string that is not valid Unicode."
            ) from None
    elif isinstance(value, list):
        for item in value:
            _check_text(item)
    elif isinstance(value, dict):
        for key, item in value.items():
            _check_text(key)
            _check_text(item)


# --- A client ----------------------------------------------------------------------------
class _Members:
    """Reads members by the type the API documents, noting every one that is wrong."""

    def __init__(self):
        self.errors: list[dict] = []

    def string(self, name: str, value, choices=()) -> str:
        if isinstance(value, str) and (not choices or value in choices):
            return value
        kind = f"one of {', '.join(choices)}" if choices else "a string"
        self.errors.append(invalid_value(name, f"{name} must be {kind}."))
        return ""

    def strings(self, name: str, value, choices=()) -> list[str]:
        if not isinstance(value, list):
            self.errors.append(invalid_value(name, f"{name} must be a list of strings."))
            return []
        for index, item in enumerate(value):
            if not isinstance(item, str):
                self.errors.append(invalid_value(name, f"{name} must be a list of strings.", index))
            elif choices and item not in choices:
                detail = f"{name}: {item} is not one of {', '.join(choices)}."
                self.errors.append(invalid_value(name, detail, index))
        return value

    def object(self, name: str, value) -> dict:
        if isinstance(value, dict):
            return value
        self.errors.append(invalid_value(name, f"{name} must be an object."))
        return {}


def client_input(document) -> tuple[ClientData, str]:
    """What a client document asks for: its fields and client type, or a 400 naming
    every wrong member. The document is a POST body, or a client after a JSON Patch.

    Names are trimmed as the console trims what is typed; absent members are empty.
    """
    if not isinstance(document, dict):
        raise refusal(400, "invalid_json", "The body must be a JSON object.")
    read = _Members()
    config = read.object("connectionConfig", document.get("connectionConfig", {}))
    default_consent = ConnectionConfig.ConsentMethod.REQUIRED
    grants = read.strings("allowedGrantTypes", document.get("allowedGrantTypes", []), GRANT_TYPES)
    app_type = read.string("appType", document.get("appType"), APP_TYPES)
    data = ClientData(
        name=read.string("clientName", document.get("clientName", "")).strip(),
        description=read.string("description", document.get("description", "")).strip(),
        redirect_uris=read.strings("redirectUris", document.get("redirectUris", [])),
        allowed_origins=read.strings("allowedOrigins", document.get("allowedOrigins", [])),
        allowed_scopes=read.strings("allowedScopes", document.get("allowedScopes", [])),
        machine_to_machine="client_credentials" in grants,
        consent_method=read.string(
            "connectionConfig.consentMethod",
            config.get("consentMethod", default_consent),
            CONSENT_METHODS,
        ),
    )
    if read.errors:
        raise ApiError(400, read.errors)
    try:
        validate_client_data(data, app_type=app_type)
    except ValidationError as error:
        raise ApiError(400, rule_errors(error)) from None
    return data, app_type


def rule_errors(error: ValidationError) -> list[dict]:
    """The domain's errors (keyed by ``ClientData`` field) as ``errors`` items."""
    items = []
    for field, errors in error.error_dict.items():
        member = MEMBERS.get(field, field)
        for each in errors:
            index = (each.params or {}).get("index")
            items.append(invalid_value(member, f"{member}: {each.messages[0]}", index))
    return items


def consent_method_input(document: dict) -> str:
    """The consent method of a connection config after a JSON Patch."""
    method = document.get("consentMethod")
    if not isinstance(method, str) or method not in CONSENT_METHODS:
        detail = f"consentMethod must be one of {', '.join(CONSENT_METHODS)}."
        raise ApiError(400, [invalid_value("consentMethod", detail)])
    return method


# --- The listing's query parameters ---------------------------------------------------------
@dataclass(frozen=True)
class Listing:
    limit: int
    order_by: tuple[str, ...]
    where: Q
    offset: int
    total: bool


def listing_query(params: Mapping[str, str]) -> Listing:
    """``limit``, ``sort``, ``filter``, ``page`` (a cursor) and ``totalResults``."""
    total = params.get("totalResults", "false")
    if total not in ("true", "false"):
        raise _bad_parameter("totalResults", "totalResults must be true or false.")
    try:
        limit = int(params.get("limit", DEFAULT_LIMIT))
    except ValueError:
        raise _bad_parameter("limit", "limit must be a whole number.") from None
    if not 1 <= limit <= MAX_LIMIT:
        raise _bad_parameter("limit", f"limit must be between 1 and {MAX_LIMIT}.")
    sort = params.get("sort", "clientName")
    if sort not in SORTS:
        raise _bad_parameter("sort", f"sort must be one of {', '.join(SORTS)}.")
    try:
        where = parse_filter(params["filter"]) if params.get("filter") else Q()
    except QueryError as error:
        raise _bad_parameter("filter", f"filter: {error.detail}", "invalid_filter") from None
    try:
        offset = decode_cursor(params["page"]) if params.get("page") else 0
    except QueryError as error:
        raise _bad_parameter("page", f"page: {error.detail}", "invalid_cursor") from None
    return Listing(limit, SORTS[sort], where, offset, total == "true")


def _bad_parameter(name: str, detail: str, code: str = "invalid_value") -> ApiError:
    return refusal(400, code, detail, pointer=f"/{name}")
