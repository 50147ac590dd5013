"""Hostile request bodies and fields: a clear 400 or field error, never a 500, nothing saved.

- Bodies over DATA_UPLOAD_MAX_MEMORY_SIZE (or with too many fields).
- Over-long fields, NUL bytes, invalid UTF-8, absurdly nested or non-object
  JSON, non-string JSON values and repeated parameters.

NUL bytes matter most on PostgreSQL, whose text columns refuse them: run this
module there too (DATABASE_URL=postgres://...).
"""

import base64
import json
import re
from urllib.parse import quote, urlencode

import pytest
from django.conf import settings
from django.urls import reverse

from oauth_clients.models import (
    AccessToken,
    AuthorizationCode,
    ClientSecret,
    ConnectionConfig,
    IDToken,
    OAuthClient,
    RefreshToken,
    RevokedToken,
)
from oauth_clients.services import publish_client
from tenants.models import AuditEvent, User
from tests.factories import client_form_data, create_oauth_client
from tests.flows import (
    REDIRECT,
    Registered,
    assert_oauth_error,
    authorize_params,
    basic,
    client_for,
    get_code,
    pkce_pair,
)

pytestmark = pytest.mark.django_db

CREATE_URL = reverse("oauth_clients:create")
LIST_URL = reverse("oauth_clients:list")
LOGIN_URL = reverse("tenants:login")
FORM = "application/x-www-form-urlencoded"
JSON = "application/json"
ENDPOINTS = ["/oauth/token", "/oauth/revoke", "/oauth/introspect"]


def db_state() -> dict:
    """Every row a token request or a console form could write (but a secret's last use)."""
    models = (
        OAuthClient,
        ClientSecret,
        ConnectionConfig,
        AuthorizationCode,
        AccessToken,
        RefreshToken,
        IDToken,
        RevokedToken,
        AuditEvent,
        User,
    )
    state = {m.__name__: list(m._base_manager.order_by("pk").values()) for m in models}
    for row in state["ClientSecret"]:
        # A client that authenticated before its request was refused was still used.
        del row["last_used_at"]
    return state


@pytest.fixture
def api_no_raise(tenant_a):
    """The token endpoints' caller; a 500 comes back as a response, not an exception."""
    return client_for(tenant_a, raise_request_exception=False)


@pytest.fixture
def alice_no_raise(tenant_a, alice):
    return client_for(tenant_a, alice, raise_request_exception=False)


@pytest.fixture
def code_request(web, alice_no_raise):
    """A complete authorization_code token request (form fields) for a live code."""
    code, verifier = get_code(alice_no_raise, web)
    return {
        "grant_type": "authorization_code",
        "code": code,
        "redirect_uri": REDIRECT,
        "code_verifier": verifier,
        "client_id": web.client_id,
        "client_secret": web.secret,
    }


def test_the_well_formed_requests_used_here_succeed(api_no_raise, m2m):
    """The control: without the hostile part, each request gets a token."""
    form = api_no_raise.post("/oauth/token", {"grant_type": "client_credentials"}, **auth(m2m))
    assert form.status_code == 200, form.content
    as_json = api_no_raise.post(
        "/oauth/token",
        json.dumps({"grant_type": "client_credentials"}),
        content_type=JSON,
        **auth(m2m),
    )
    assert as_json.status_code == 200, as_json.content


def auth(registered: Registered) -> dict:
    return {"HTTP_AUTHORIZATION": basic(registered)}


# --- Oversized bodies -----------------------------------------------------------------------------


def oversized_form(**fields) -> str:
    padding = "a" * (settings.DATA_UPLOAD_MAX_MEMORY_SIZE + 1024)
    return urlencode({**fields, "padding": padding})


@pytest.mark.parametrize("path", ENDPOINTS)
@pytest.mark.parametrize("content_type", [FORM, JSON])
def test_an_oversized_body_at_the_token_endpoints_is_a_400(api_no_raise, m2m, path, content_type):
    if content_type == FORM:
        body = oversized_form(grant_type="client_credentials", token="x")
    else:
        padding = "a" * (settings.DATA_UPLOAD_MAX_MEMORY_SIZE + 1024)
        body = json.dumps({"grant_type": "client_credentials", "token": "x", "padding": padding})
    before = db_state()
    response = api_no_raise.post(path, body, content_type=content_type, **auth(m2m))
    assert response.status_code == 400
    assert b"Traceback" not in response.content
    assert db_state() == before


@pytest.mark.parametrize("content_type", [FORM, JSON])
def test_an_oversized_token_request_gets_an_oauth_json_error(api_no_raise, m2m, content_type):
    """RFC 6749 §5.2: the token endpoint's errors are JSON, whatever went wrong."""
    if content_type == FORM:
        body = oversized_form(grant_type="client_credentials")
    else:
        padding = "a" * (settings.DATA_UPLOAD_MAX_MEMORY_SIZE + 1024)
        body = json.dumps({"grant_type": "client_credentials", "padding": padding})
    response = api_no_raise.post("/oauth/token", body, content_type=content_type, **auth(m2m))
    assert_oauth_error(response, 400, "invalid_request")


def test_too_many_fields_at_the_token_endpoint_is_a_400(api_no_raise, m2m):
    fields = {f"f{i}": "1" for i in range(settings.DATA_UPLOAD_MAX_NUMBER_FIELDS + 1)}
    before = db_state()
    response = api_no_raise.post(
        "/oauth/token",
        urlencode({"grant_type": "client_credentials", **fields}),
        content_type=FORM,
        **auth(m2m),
    )
    assert response.status_code == 400
    assert db_state() == before


@pytest.fixture
def existing(tenant_a, alice) -> OAuthClient:
    client, _secret = create_oauth_client(tenant_a, actor=alice, name="Existing app")
    return client


def console_urls(client: OAuthClient) -> dict[str, str]:
    return {
        "create": CREATE_URL,
        "edit": reverse("oauth_clients:edit", args=[client.client_id]),
        "secret_generate": reverse("oauth_clients:secret_generate", args=[client.client_id]),
        "bulk_delete": reverse("oauth_clients:bulk_delete"),
        "sign_in": LOGIN_URL,
    }


@pytest.mark.parametrize("form", ["create", "edit", "secret_generate", "bulk_delete", "sign_in"])
def test_an_oversized_console_form_is_a_400(alice_no_raise, existing, form):
    before = db_state()
    body = (
        urlencode({**client_form_data(), "ids": str(existing.pk), "confirm": "yes"}, doseq=True)
        + "&description="
        + "a" * (settings.DATA_UPLOAD_MAX_MEMORY_SIZE + 1024)
    )
    response = alice_no_raise.post(console_urls(existing)[form], body, content_type=FORM)
    assert response.status_code == 400
    assert b"Traceback" not in response.content
    assert db_state() == before


def test_too_many_fields_in_a_console_form_is_a_400(alice_no_raise):
    before = db_state()
    data = client_form_data(redirect_uris=[f"https://a{i}.example.com/cb" for i in range(250)])
    response = alice_no_raise.post(CREATE_URL, data)
    assert response.status_code == 400
    assert db_state() == before


# --- Over-long fields -----------------------------------------------------------------------------


def field_errors(html: str, field: str) -> str:
    match = re.search(rf'<ul class="errorlist" id="id_{field}-errors">(.*?)</ul>', html, re.DOTALL)
    return match.group(1) if match else ""


LONG_FIELDS = [
    ("name", {"name": "n" * 10_000}, "name", "at most 100 characters"),
    ("description", {"description": "d" * 10_000}, "description", "at most 1000 characters"),
    (
        "redirect_uri",
        {"redirect_uris": ["https://app.example.com/" + "p" * 10_000]},
        "new_redirect_uri",
        "longer than 2000 characters",
    ),
    (
        "new_redirect_uri",
        {"redirect_uris": [], "new_redirect_uri": "https://app.example.com/" + "p" * 10_000},
        "new_redirect_uri",
        "longer than 2000 characters",
    ),
    (
        "allowed_origin",
        {
            "app_type": "spa",
            "allowed_origins": ["https://" + "o" * 10_000 + ".example.com"],
        },
        "new_allowed_origin",
        "longer than 2000 characters",
    ),
]


@pytest.mark.parametrize(
    "overrides,field,message", [f[1:] for f in LONG_FIELDS], ids=[f[0] for f in LONG_FIELDS]
)
def test_an_over_long_field_is_a_field_error_on_create(alice_no_raise, overrides, field, message):
    before = db_state()
    response = alice_no_raise.post(CREATE_URL, client_form_data(**overrides))
    assert response.status_code == 200
    assert message in field_errors(response.content.decode(), field)
    assert db_state() == before


@pytest.mark.parametrize(
    "overrides,field,message",
    [f[1:] for f in LONG_FIELDS if f[0] != "allowed_origin"],
    ids=[f[0] for f in LONG_FIELDS if f[0] != "allowed_origin"],
)
def test_an_over_long_field_is_a_field_error_on_edit(
    alice_no_raise, existing, overrides, field, message
):
    before = db_state()
    edit = reverse("oauth_clients:edit", args=[existing.client_id])
    response = alice_no_raise.post(edit, client_form_data(**overrides))
    assert response.status_code == 200
    assert message in field_errors(response.content.decode(), field)
    assert db_state() == before


def test_a_100_kb_code_verifier_is_an_invalid_request(api_no_raise, code_request):
    before = db_state()
    response = api_no_raise.post("/oauth/token", {**code_request, "code_verifier": "a" * 100_000})
    body = assert_oauth_error(response, 400, "invalid_request")
    assert "code_verifier" in body["error_description"]
    assert db_state() == before


def test_a_100_kb_client_id_or_secret_is_refused(api_no_raise, m2m):
    before = db_state()
    long_id = api_no_raise.post(
        "/oauth/token",
        {"grant_type": "client_credentials", "client_id": "c" * 100_000, "client_secret": "x"},
    )
    assert long_id.status_code in (400, 401)
    long_secret = api_no_raise.post(
        "/oauth/token",
        {
            "grant_type": "client_credentials",
            "client_id": m2m.client_id,
            "client_secret": "s" * 100_000,
        },
    )
    assert_oauth_error(long_secret, 401, "invalid_client")
    assert db_state() == before


# --- NUL bytes ------------------------------------------------------------------------------------


@pytest.mark.parametrize("path", ENDPOINTS)
@pytest.mark.parametrize("where", ["form", "json"])
def test_a_nul_byte_in_a_token_endpoint_parameter_is_an_invalid_request(
    api_no_raise, m2m, path, where
):
    data = {"grant_type": "client_credentials", "scope": "user_default\x00", "token": "t\x00"}
    before = db_state()
    if where == "form":
        response = api_no_raise.post(path, data, **auth(m2m))
    else:
        response = api_no_raise.post(path, json.dumps(data), content_type=JSON, **auth(m2m))
    assert_oauth_error(response, 400, "invalid_request")
    assert db_state() == before


def test_a_nul_byte_in_the_code_is_an_invalid_request(api_no_raise, code_request):
    before = db_state()
    response = api_no_raise.post(
        "/oauth/token", {**code_request, "code": code_request["code"] + "\x00"}
    )
    assert_oauth_error(response, 400, "invalid_request")
    assert db_state() == before


@pytest.mark.parametrize("path", ENDPOINTS)
def test_a_nul_byte_in_the_basic_client_id_is_refused_without_a_500(api_no_raise, m2m, path):
    """The header is decoded by the validator, not by the body parser: PostgreSQL
    refuses a NUL in a query parameter."""
    header = "Basic " + base64.b64encode(f"{m2m.client_id}\x00:{m2m.secret}".encode()).decode()
    before = db_state()
    response = api_no_raise.post(
        path, {"grant_type": "client_credentials", "token": "t"}, HTTP_AUTHORIZATION=header
    )
    assert response.status_code in (400, 401), response.content[:300]
    assert response.json()["error"] in ("invalid_request", "invalid_client")
    assert db_state() == before


def test_a_nul_byte_in_the_authorize_query_is_refused_without_a_500(alice_no_raise, web):
    _verifier, challenge = pkce_pair()
    query = {
        "response_type": "code",
        "client_id": web.client_id + "\x00",
        "redirect_uri": REDIRECT,
        "state": "xyz",
        "code_challenge": challenge,
        "code_challenge_method": "S256",
    }
    before = db_state()
    response = alice_no_raise.get("/oauth/authorize?" + urlencode(query))
    assert response.status_code == 400, response.status_code
    assert "Location" not in response
    assert db_state() == before


def test_a_nul_byte_in_the_region_pickers_client_id_is_refused_without_a_500(tenant_a, alice, web):
    publish_client(web.client, actor=alice)
    region = client_for(tenant_a, raise_request_exception=False)
    query = urlencode({"client_id": web.client_id + "\x00", "redirect_uri": REDIRECT})
    response = region.get(f"/oauth/authorize?{query}", HTTP_HOST=tenant_a.region.hostname)
    assert response.status_code == 400


def test_a_nul_byte_in_the_client_search_finds_nothing_without_a_500(alice_no_raise, existing):
    response = alice_no_raise.get(LIST_URL + "?" + urlencode({"q": "Existing\x00"}))
    assert response.status_code == 200
    assert "Existing app" not in response.content.decode()


NUL_FIELDS = [
    ("name", {"name": "Bad\x00name"}, "name"),
    ("description", {"description": "Bad\x00description"}, "description"),
    ("redirect_uri", {"redirect_uris": ["https://app.example.com/c\x00b"]}, "new_redirect_uri"),
    (
        "new_redirect_uri",
        {"redirect_uris": [], "new_redirect_uri": "https://app.example.com/c\x00b"},
        "new_redirect_uri",
    ),
    (
        "allowed_origin",
        {"app_type": "spa", "allowed_origins": ["https://spa.example.com\x00"]},
        "new_allowed_origin",
    ),
    ("consent_method", {"consent_method": "required\x00"}, "consent_method"),
    ("allowed_scopes", {"allowed_scopes": ["user_default\x00"]}, "allowed_scopes"),
]


@pytest.mark.parametrize(
    "overrides,field", [f[1:] for f in NUL_FIELDS], ids=[f[0] for f in NUL_FIELDS]
)
def test_a_nul_byte_in_a_console_field_is_a_field_error(alice_no_raise, overrides, field):
    before = db_state()
    response = alice_no_raise.post(CREATE_URL, client_form_data(**overrides))
    assert response.status_code == 200
    assert field_errors(response.content.decode(), field)
    assert db_state() == before


@pytest.mark.parametrize(
    "overrides,field",
    [f[1:] for f in NUL_FIELDS if f[0] != "allowed_origin"],
    ids=[f[0] for f in NUL_FIELDS if f[0] != "allowed_origin"],
)
def test_a_nul_byte_in_an_edit_field_is_a_field_error(alice_no_raise, existing, overrides, field):
    before = db_state()
    edit = reverse("oauth_clients:edit", args=[existing.client_id])
    response = alice_no_raise.post(edit, client_form_data(**overrides))
    assert response.status_code == 200
    assert field_errors(response.content.decode(), field)
    assert db_state() == before


def test_a_nul_byte_in_the_secret_expiry_is_a_field_error(alice_no_raise, existing):
    before = db_state()
    url = reverse("oauth_clients:secret_generate", args=[existing.client_id])
    response = alice_no_raise.post(url, {"expires_in_days": "30\x00"})
    assert response.status_code == 200
    assert 'id="new-client-secret"' not in response.content.decode()
    assert db_state() == before


def test_a_nul_byte_in_the_bulk_selection_selects_nothing(alice_no_raise, existing):
    before = db_state()
    response = alice_no_raise.post(
        reverse("oauth_clients:bulk_delete"), {"ids": [f"{existing.pk}\x00"], "confirm": "yes"}
    )
    assert response.status_code in (200, 302)
    assert db_state() == before


def test_a_nul_byte_in_the_sign_in_form_is_a_form_error(tenant_a, alice):
    http = client_for(tenant_a, raise_request_exception=False)
    response = http.post(LOGIN_URL, {"username": "alice@acme.test\x00", "password": "password"})
    assert response.status_code == 200
    assert "_auth_user_id" not in http.session


# --- Invalid UTF-8 --------------------------------------------------------------------------------


@pytest.mark.parametrize("raw", [b"%FF%FE", b"\xff\xfe"], ids=["percent_encoded", "raw"])
def test_invalid_utf8_in_a_form_body_is_a_400(api_no_raise, code_request, raw):
    """Django decodes a form body leniently; the mangled code is still refused with a 400."""
    fields = {k: v for k, v in code_request.items() if k != "code"}
    body = urlencode(fields).encode() + b"&code=" + raw
    before = db_state()
    response = api_no_raise.post("/oauth/token", body, content_type=FORM)
    assert response.status_code == 400, response.content[:300]
    assert response.json()["error"] in ("invalid_request", "invalid_grant")
    assert db_state() == before


def test_invalid_utf8_in_the_grant_type_is_a_400(api_no_raise, m2m):
    before = db_state()
    response = api_no_raise.post(
        "/oauth/token", b"grant_type=client_credentials%FF", content_type=FORM, **auth(m2m)
    )
    assert response.status_code == 400
    assert response.json()["error"] in ("invalid_request", "unsupported_grant_type")
    assert db_state() == before


@pytest.mark.parametrize("path", ENDPOINTS)
def test_invalid_utf8_in_a_json_body_is_an_invalid_request(api_no_raise, m2m, path):
    body = b'{"grant_type": "client_credentials", "token": "t", "scope": "user_\xff\xfe"}'
    before = db_state()
    response = api_no_raise.post(path, body, content_type=JSON, **auth(m2m))
    assert_oauth_error(response, 400, "invalid_request")
    assert db_state() == before


def test_invalid_utf8_in_a_console_form_saves_no_mangled_bytes(alice_no_raise):
    """The browser always sends UTF-8; junk is replaced, never a 500."""
    body = urlencode(client_form_data(), doseq=True).replace("name=Reporting+app", "name=Bad%FF")
    response = alice_no_raise.post(CREATE_URL, body, content_type=FORM)
    assert response.status_code == 200
    for name in OAuthClient.objects.values_list("name", flat=True):
        name.encode("utf-8")  # stored text is valid Unicode


# --- JSON shapes ----------------------------------------------------------------------------------


@pytest.mark.parametrize("path", ENDPOINTS)
@pytest.mark.parametrize("depth", [1_000, 100_000])
def test_deeply_nested_json_arrays_are_an_invalid_request(api_no_raise, m2m, path, depth):
    before = db_state()
    response = api_no_raise.post(path, "[" * depth + "]" * depth, content_type=JSON, **auth(m2m))
    assert_oauth_error(response, 400, "invalid_request")
    assert db_state() == before


def test_deeply_nested_json_objects_are_an_invalid_request(api_no_raise, m2m):
    depth = 40_000  # 240 KB: just under the body limit
    body = '{"a":' * depth + "1" + "}" * depth
    assert len(body) < settings.DATA_UPLOAD_MAX_MEMORY_SIZE
    before = db_state()
    response = api_no_raise.post("/oauth/token", body, content_type=JSON, **auth(m2m))
    assert_oauth_error(response, 400, "invalid_request")
    assert db_state() == before


@pytest.mark.parametrize("path", ENDPOINTS)
@pytest.mark.parametrize(
    "body",
    ['["client_credentials"]', '"client_credentials"', "42", "null", "true", "", "{", "{}x"],
    ids=["array", "string", "number", "null", "true", "empty", "truncated", "trailing"],
)
def test_json_that_is_not_one_object_is_an_invalid_request(api_no_raise, m2m, path, body):
    before = db_state()
    response = api_no_raise.post(path, body, content_type=JSON, **auth(m2m))
    assert_oauth_error(response, 400, "invalid_request")
    assert db_state() == before


@pytest.mark.parametrize(
    "value",
    [["client_credentials"], {"v": "client_credentials"}, 1, 1.5, None, True],
    ids=["array", "object", "int", "float", "null", "bool"],
)
@pytest.mark.parametrize("key", ["grant_type", "scope", "client_id"])
def test_a_json_value_that_is_not_a_string_is_an_invalid_request(api_no_raise, m2m, key, value):
    data = {"grant_type": "client_credentials", key: value}
    before = db_state()
    response = api_no_raise.post("/oauth/token", json.dumps(data), content_type=JSON, **auth(m2m))
    assert_oauth_error(response, 400, "invalid_request")
    assert db_state() == before


# --- Repeated parameters --------------------------------------------------------------------------


@pytest.mark.parametrize("path", ENDPOINTS)
@pytest.mark.parametrize("name", ["grant_type", "token", "client_id", "scope"])
def test_a_repeated_form_parameter_is_an_invalid_request(api_no_raise, m2m, path, name):
    data = {"grant_type": "client_credentials", "token": "t", "scope": "user_default"}
    value = data.get(name, m2m.client_id)
    body = urlencode(data) + f"&{name}={quote(value)}"
    if name == "client_id":
        body += f"&client_id={quote(value)}"
    before = db_state()
    response = api_no_raise.post(path, body, content_type=FORM, **auth(m2m))
    body = assert_oauth_error(response, 400, "invalid_request")
    assert name in body["error_description"]
    assert db_state() == before


@pytest.mark.parametrize("path", ENDPOINTS)
def test_a_repeated_json_key_is_an_invalid_request(api_no_raise, m2m, path):
    body = '{"grant_type": "client_credentials", "token": "t", "grant_type": "client_credentials"}'
    before = db_state()
    response = api_no_raise.post(path, body, content_type=JSON, **auth(m2m))
    body = assert_oauth_error(response, 400, "invalid_request")
    assert "grant_type" in body["error_description"]
    assert db_state() == before


def test_a_repeated_code_parameter_is_an_invalid_request(api_no_raise, code_request):
    body = urlencode(code_request) + "&code=" + quote(code_request["code"])
    before = db_state()
    response = api_no_raise.post("/oauth/token", body, content_type=FORM)
    assert_oauth_error(response, 400, "invalid_request")
    assert db_state() == before
    # The code was not touched: the proper request still redeems it.
    assert api_no_raise.post("/oauth/token", code_request).status_code == 200


# --- Redirect URLs: what the console accepts, the authorization endpoint honours ------------------

ODD_QUERIES = ['"', "<", ">", "`", "{", "}", "|", "\\", "^", "'", "é", "%22"]


@pytest.mark.parametrize("odd", ODD_QUERIES)
def test_a_redirect_url_the_console_accepts_is_usable_at_the_authorization_endpoint(
    alice_no_raise, odd
):
    """A registered URL must either be refused with a field error when it is entered, or
    work at /oauth/authorize; never registered but unusable."""
    redirect_uri = f"https://app.example.com/cb?x={odd}"
    response = alice_no_raise.post(
        CREATE_URL,
        client_form_data(name="Odd", redirect_uris=[redirect_uri], consent_method="trusted"),
    )
    assert response.status_code == 200
    client = OAuthClient.objects.filter(name="Odd").first()
    if client is None:
        assert field_errors(response.content.decode(), "new_redirect_uri")
        return
    _verifier, challenge = pkce_pair()
    query = authorize_params(Registered(client, None, redirect_uri), challenge)
    authorized = alice_no_raise.get("/oauth/authorize?" + urlencode(query))
    assert authorized.status_code == 302, authorized.content[:300]
    assert "code=" in authorized["Location"]


# --- Odd numbers: never a 500 -----------------------------------------------------------------


@pytest.mark.parametrize("value", ["²", "٣", "1" * 5000, "9" * 19])
def test_an_odd_number_in_the_bulk_selection_selects_nothing(alice_no_raise, existing, value):
    before = db_state()
    response = alice_no_raise.post(
        reverse("oauth_clients:bulk_delete"), {"ids": [value]}, follow=True
    )
    assert response.status_code == 200
    assert "Select at least one OAuth client." in response.content.decode()
    assert db_state() == before


@pytest.mark.parametrize("index", ["²", "1" * 5000])
def test_an_odd_list_index_in_the_client_form_removes_nothing(alice_no_raise, index):
    before = db_state()
    response = alice_no_raise.post(
        CREATE_URL, client_form_data(intent=f"remove:redirect_uris:{index}")
    )
    assert response.status_code == 200
    assert REDIRECT in response.content.decode()
    assert db_state() == before


# --- Names that display as something else ------------------------------------------------------

SPOOFS = {
    "right-to-left override": "\u202eelgooG",
    "isolate": "Google\u2066 x",
    "zero-width space": "Goo\u200bgle",
    "byte order mark": "\ufeffGoogle",
    "control character": "Google\x07",
}


@pytest.mark.parametrize("field", ["name", "description"])
@pytest.mark.parametrize("spoof", SPOOFS.values(), ids=SPOOFS.keys())
def test_a_name_with_hidden_characters_is_a_field_error(alice_no_raise, field, spoof):
    before = db_state()
    response = alice_no_raise.post(CREATE_URL, client_form_data(**{field: spoof}))
    assert response.status_code == 200
    assert "Remove the invisible or direction-changing characters" in response.content.decode()
    assert db_state() == before


def test_joiners_and_line_breaks_stay_allowed(alice_no_raise):
    response = alice_no_raise.post(
        CREATE_URL,
        client_form_data(name="می‌خواهم 👩‍💻", description="Line one\r\nLine two"),
    )
    assert response.status_code in (200, 302)
    assert OAuthClient.objects.filter(name="می‌خواهم 👩‍💻").exists()
