"""``oauth_clients.api.validation``: the API's input on its own terms, as tables.

First the types the OpenAPI document gives each member, then the domain's
rules (``services.validate_client_data``), each error pointing at its member
or at the item of a list (RFC 6901). No database needed.
"""

import pytest
from django.db.models import Q

from oauth_clients.api.errors import ApiError
from oauth_clients.api.query import encode_cursor
from oauth_clients.api.validation import (
    client_input,
    consent_method_input,
    listing_query,
    parse_json,
)
from oauth_clients.services import ClientData

REDIRECT = "https://app.example.com/cb"
VALID = {
    "clientName": "Reports",
    "appType": "web",
    "redirectUris": [REDIRECT],
    "allowedScopes": ["user_default"],
}

ACCEPTED = [
    (VALID, ClientData(name="Reports", redirect_uris=[REDIRECT], allowed_scopes=["user_default"])),
    (
        {**VALID, "clientName": "  Reports  ", "description": " Monthly\n"},
        ClientData(
            name="Reports",
            description="Monthly",
            redirect_uris=[REDIRECT],
            allowed_scopes=["user_default"],
        ),
    ),
    (
        {**VALID, "allowedGrantTypes": ["authorization_code", "client_credentials"]},
        ClientData(
            name="Reports",
            redirect_uris=[REDIRECT],
            allowed_scopes=["user_default"],
            machine_to_machine=True,
        ),
    ),
    (
        {**VALID, "connectionConfig": {"consentMethod": "trusted", "status": "approved"}},
        ClientData(
            name="Reports",
            redirect_uris=[REDIRECT],
            allowed_scopes=["user_default"],
            consent_method="trusted",
        ),
    ),
    (
        {
            **VALID,
            "appType": "spa",
            "allowedOrigins": ["https://app.example.com"],
            "clientId": "ignored",
            "unknown": [1, 2],
        },
        ClientData(
            name="Reports",
            redirect_uris=[REDIRECT],
            allowed_origins=["https://app.example.com"],
            allowed_scopes=["user_default"],
        ),
    ),
]


@pytest.mark.parametrize(("document", "data"), ACCEPTED, ids=range(len(ACCEPTED)))
def test_accepted(document, data):
    assert client_input(document) == (data, document["appType"])


def pointers(document) -> list[str]:
    with pytest.raises(ApiError) as raised:
        client_input(document)
    assert raised.value.status == 400
    for item in raised.value.items:
        assert item["code"] == "invalid_value"
        assert item["status"] == "400"
    return [item["source"]["pointer"] for item in raised.value.items]


REJECTED = [
    # The API's types.
    ({**VALID, "clientName": None}, ["/clientName"]),
    ({**VALID, "clientName": 42}, ["/clientName"]),
    ({**VALID, "clientName": ["Reports"]}, ["/clientName"]),
    ({**VALID, "description": None}, ["/description"]),
    ({k: v for k, v in VALID.items() if k != "appType"}, ["/appType"]),
    ({**VALID, "appType": "WEB"}, ["/appType"]),
    ({**VALID, "appType": ["web"]}, ["/appType"]),
    ({**VALID, "redirectUris": REDIRECT}, ["/redirectUris"]),
    ({**VALID, "redirectUris": None}, ["/redirectUris"]),
    ({**VALID, "redirectUris": [REDIRECT, 7]}, ["/redirectUris/1"]),
    ({**VALID, "allowedScopes": "user_default"}, ["/allowedScopes"]),
    ({**VALID, "allowedScopes": [None]}, ["/allowedScopes/0"]),
    ({**VALID, "allowedOrigins": [1]}, ["/allowedOrigins/0"]),
    ({**VALID, "allowedGrantTypes": "client_credentials"}, ["/allowedGrantTypes"]),
    ({**VALID, "allowedGrantTypes": ["refresh_token", "password"]}, ["/allowedGrantTypes/1"]),
    ({**VALID, "allowedGrantTypes": [True]}, ["/allowedGrantTypes/0"]),
    ({**VALID, "connectionConfig": "trusted"}, ["/connectionConfig"]),
    ({**VALID, "connectionConfig": None}, ["/connectionConfig"]),
    (
        {**VALID, "connectionConfig": {"consentMethod": "never"}},
        ["/connectionConfig/consentMethod"],
    ),
    ({**VALID, "connectionConfig": {"consentMethod": None}}, ["/connectionConfig/consentMethod"]),
    # Every wrong type at once.
    (
        {"clientName": 1, "appType": "x", "redirectUris": 2},
        ["/appType", "/clientName", "/redirectUris"],
    ),
    # The domain's rules.
    ({**VALID, "clientName": ""}, ["/clientName"]),
    ({**VALID, "clientName": "   "}, ["/clientName"]),
    ({**VALID, "clientName": "x" * 101}, ["/clientName"]),
    ({**VALID, "clientName": "a\x00b"}, ["/clientName"]),
    ({**VALID, "clientName": "\u202eelgooG"}, ["/clientName"]),
    ({**VALID, "description": "x" * 1001}, ["/description"]),
    ({**VALID, "redirectUris": []}, ["/redirectUris"]),
    (
        {**VALID, "redirectUris": [REDIRECT, "https://b.example.com/", "not a url"]},
        ["/redirectUris/2"],
    ),
    ({**VALID, "redirectUris": [REDIRECT, REDIRECT]}, ["/redirectUris/1"]),
    ({**VALID, "redirectUris": ["com.example.app:/cb"]}, ["/redirectUris/0"]),
    (
        {**VALID, "redirectUris": [f"https://a.example.com/{n}" for n in range(6)]},
        ["/redirectUris"],
    ),
    ({**VALID, "allowedOrigins": ["https://app.example.com"]}, ["/allowedOrigins"]),
    (
        {**VALID, "appType": "spa", "allowedOrigins": ["https://a.example.com/x"]},
        ["/allowedOrigins/0"],
    ),
    ({**VALID, "allowedScopes": []}, ["/allowedScopes"]),
    ({**VALID, "allowedScopes": ["user_default", "root"]}, ["/allowedScopes/1"]),
    (
        {**VALID, "appType": "native", "allowedGrantTypes": ["client_credentials"]},
        ["/allowedGrantTypes"],
    ),
    ({**VALID, "clientName": "", "allowedScopes": ["root"]}, ["/clientName", "/allowedScopes/0"]),
]


@pytest.mark.parametrize(("document", "expected"), REJECTED, ids=range(len(REJECTED)))
def test_rejected_pointing_at_the_member(document, expected):
    assert sorted(pointers(document)) == sorted(expected)


def test_the_detail_names_the_member_and_the_item():
    with pytest.raises(ApiError) as raised:
        client_input({**VALID, "redirectUris": [REDIRECT, "http://app.example.com/cb"]})
    [item] = raised.value.items
    assert item["detail"].startswith("redirectUris: http://app.example.com/cb: Use https://.")


@pytest.mark.parametrize("document", [[], "Reports", 42, None, True])
def test_a_client_document_is_an_object(document):
    with pytest.raises(ApiError) as raised:
        client_input(document)
    assert raised.value.items[0]["code"] == "invalid_json"


@pytest.mark.parametrize(
    ("body", "document"),
    [(b"", None), (b"{}", {}), (b'{"a": ["\\u00e9"]}', {"a": ["é"]}), (b"null", None)],
)
def test_json_bodies(body, document):
    assert parse_json(body) == document


@pytest.mark.parametrize(
    "body", [b"{", b"{'a': 1}", b"\xff\xfe", b"[" * 100_000, b'{"a": "\\udc80"}', b'{"\\ud800": 1}']
)
def test_a_body_that_is_not_storable_json_is_refused(body):
    with pytest.raises(ApiError) as raised:
        parse_json(body)
    assert raised.value.items[0]["code"] == "invalid_json"


@pytest.mark.parametrize("method", ["required", "trusted"])
def test_a_consent_method(method):
    assert consent_method_input({"consentMethod": method, "status": "approved"}) == method


@pytest.mark.parametrize("method", ["never", "TRUSTED", None, ["trusted"], "", {"a": 1}])
def test_anything_else_is_not_a_consent_method(method):
    with pytest.raises(ApiError) as raised:
        consent_method_input({"consentMethod": method})
    assert raised.value.items[0]["source"] == {"pointer": "/consentMethod"}


def test_the_listing_defaults():
    query = listing_query({})
    assert (query.limit, query.order_by, query.where, query.offset, query.total) == (
        20,
        ("name", "pk"),
        Q(),
        0,
        False,
    )


def test_the_listing_parameters():
    query = listing_query(
        {
            "limit": "5",
            "sort": "-createdAt",
            "filter": 'appType eq "spa"',
            "page": encode_cursor(10),
            "totalResults": "true",
        }
    )
    assert (query.limit, query.order_by, query.where, query.offset, query.total) == (
        5,
        ("-created", "-pk"),
        Q(app_type="spa"),
        10,
        True,
    )


@pytest.mark.parametrize(
    ("params", "parameter", "code"),
    [
        ({"limit": "0"}, "limit", "invalid_value"),
        ({"limit": "101"}, "limit", "invalid_value"),
        ({"limit": "ten"}, "limit", "invalid_value"),
        ({"sort": "name"}, "sort", "invalid_value"),
        ({"totalResults": "yes"}, "totalResults", "invalid_value"),
        ({"filter": "report"}, "filter", "invalid_filter"),
        ({"page": "not-a-cursor"}, "page", "invalid_cursor"),
    ],
)
def test_a_wrong_listing_parameter_is_named(params, parameter, code):
    with pytest.raises(ApiError) as raised:
        listing_query(params)
    [item] = raised.value.items
    assert (item["code"], item["source"]["pointer"]) == (code, f"/{parameter}")
    assert item["detail"].startswith(parameter)
