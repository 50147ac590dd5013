"""``services.validate_client_data``: the one set of rules for a client's fields.

The console's form and the management API both run it on their input, and
every write through the services runs it again. Tables of accepted and
rejected examples; no database needed.
"""

import dataclasses

import pytest
from django.core.exceptions import ValidationError

from oauth_clients.services import ClientData, validate_client_data

VALID = {
    "name": "Reports",
    "redirect_uris": ["https://app.example.com/cb"],
    "allowed_scopes": ["user_default"],
}
SPA_VALID = {**VALID, "allowed_origins": ["https://app.example.com"]}

ACCEPTED = [
    ("web", VALID),
    ("web", {**VALID, "name": "x" * 100, "description": "x" * 1000}),
    ("web", {**VALID, "description": "Line one\r\nLine two\ttabbed"}),
    ("web", {**VALID, "name": "می‌خواهم 👩‍💻"}),  # joiners stay allowed
    ("web", {**VALID, "redirect_uris": ["http://localhost:8080/cb", "http://[::1]/cb"]}),
    ("web", {**VALID, "redirect_uris": [f"https://app.example.com/{n}" for n in range(5)]}),
    ("web", {**VALID, "allowed_scopes": ["user_default", "openid", "admin_classic"]}),
    ("web", {**VALID, "machine_to_machine": True}),
    ("web", {**VALID, "consent_method": "trusted"}),
    ("native", {**VALID, "redirect_uris": ["com.example.app:/callback"]}),
    ("spa", SPA_VALID),
    ("spa", {**SPA_VALID, "allowed_origins": []}),
    ("spa", {**SPA_VALID, "allowed_origins": [f"https://{n}.example.com" for n in range(5)]}),
]


@pytest.mark.parametrize(("app_type", "fields"), ACCEPTED, ids=[str(a) for a in ACCEPTED])
def test_accepted(app_type, fields):
    validate_client_data(ClientData(**fields), app_type=app_type)


# (app type, fields, the field named, the index named by the error or None)
REJECTED = [
    ("web", {**VALID, "name": ""}, "name", None),
    ("web", {**VALID, "name": "   "}, "name", None),
    ("web", {**VALID, "name": "x" * 101}, "name", None),
    ("web", {**VALID, "name": "\u202eelgooG"}, "name", None),
    ("web", {**VALID, "name": "a\x00b"}, "name", None),
    ("web", {**VALID, "name": "Two\nlines"}, "name", None),
    ("web", {**VALID, "description": "x" * 1001}, "description", None),
    ("web", {**VALID, "description": "Goo\u200bgle"}, "description", None),
    ("desktop", VALID, "app_type", None),
    ("web", {**VALID, "redirect_uris": []}, "redirect_uris", None),
    ("web", {**VALID, "redirect_uris": ["https://a.example.com/", ""]}, "redirect_uris", 1),
    (
        "web",
        {**VALID, "redirect_uris": ["https://a.example.com/", "https://b.example.com/", "x"]},
        "redirect_uris",
        2,
    ),
    ("web", {**VALID, "redirect_uris": ["http://app.example.com/cb"]}, "redirect_uris", 0),
    ("web", {**VALID, "redirect_uris": ["https://app.example.com/cb#f"]}, "redirect_uris", 0),
    ("web", {**VALID, "redirect_uris": ["com.example.app:/callback"]}, "redirect_uris", 0),
    ("spa", {**SPA_VALID, "redirect_uris": ["com.example.app:/callback"]}, "redirect_uris", 0),
    ("web", {**VALID, "redirect_uris": ["https://a.example.com/"] * 2}, "redirect_uris", 1),
    (
        "web",
        {**VALID, "redirect_uris": [f"https://app.example.com/{n}" for n in range(6)]},
        "redirect_uris",
        None,
    ),
    ("web", {**VALID, "allowed_origins": ["https://app.example.com"]}, "allowed_origins", None),
    ("native", {**VALID, "allowed_origins": ["https://a.example.com"]}, "allowed_origins", None),
    ("spa", {**SPA_VALID, "allowed_origins": ["https://a.example.com/x"]}, "allowed_origins", 0),
    ("spa", {**SPA_VALID, "allowed_origins": ["http://a.example.com"]}, "allowed_origins", 0),
    ("spa", {**SPA_VALID, "allowed_origins": ["*"]}, "allowed_origins", 0),
    (
        "spa",
        {**SPA_VALID, "allowed_origins": ["https://a.example.com", "https://a.example.com"]},
        "allowed_origins",
        1,
    ),
    (
        "spa",
        {**SPA_VALID, "allowed_origins": [f"https://{n}.example.com" for n in range(6)]},
        "allowed_origins",
        None,
    ),
    ("web", {**VALID, "allowed_scopes": []}, "allowed_scopes", None),
    ("web", {**VALID, "allowed_scopes": ["user_default", "root"]}, "allowed_scopes", 1),
    ("web", {**VALID, "allowed_scopes": ["openid", "openid"]}, "allowed_scopes", 1),
    ("spa", {**SPA_VALID, "machine_to_machine": True}, "machine_to_machine", None),
    ("native", {**VALID, "machine_to_machine": True}, "machine_to_machine", None),
    ("web", {**VALID, "consent_method": "never"}, "consent_method", None),
    ("web", {**VALID, "consent_method": ""}, "consent_method", None),
]


def refusal(app_type: str, fields: dict) -> dict[str, list[ValidationError]]:
    with pytest.raises(ValidationError) as raised:
        validate_client_data(ClientData(**fields), app_type=app_type)
    return raised.value.error_dict


@pytest.mark.parametrize(
    ("app_type", "fields", "field", "index"), REJECTED, ids=[str(r[:3]) for r in REJECTED]
)
def test_rejected_naming_the_field_and_the_item(app_type, fields, field, index):
    errors = refusal(app_type, fields)
    assert set(errors) == {field}
    indexes = [(error.params or {}).get("index") for error in errors[field]]
    assert index in indexes, indexes


def test_every_broken_rule_is_reported_at_once():
    errors = refusal(
        "spa",
        {
            "name": "",
            "description": "x" * 1001,
            "redirect_uris": ["http://app.example.com/cb"],
            "allowed_origins": ["https://a.example.com/path"],
            "allowed_scopes": ["root"],
            "machine_to_machine": True,
            "consent_method": "never",
        },
    )
    assert set(errors) == {field.name for field in dataclasses.fields(ClientData)}


def test_an_item_error_names_the_value_and_why():
    [error] = refusal("web", {**VALID, "redirect_uris": ["http://app.example.com/cb"]})[
        "redirect_uris"
    ]
    assert error.messages[0].startswith("http://app.example.com/cb: Use https://.")


def test_the_limits_are_the_settings(settings):
    settings.OAUTH_CLIENT_LIMITS = {**settings.OAUTH_CLIENT_LIMITS, "redirect_uris": 2}
    uris = ["https://app.example.com/1", "https://app.example.com/2", "https://app.example.com/3"]
    [error] = refusal("web", {**VALID, "redirect_uris": uris})["redirect_uris"]
    assert error.messages == ["At most 2 are allowed."]


def test_a_name_too_long_and_with_hidden_characters_says_both():
    errors = refusal("web", {**VALID, "name": "\u202e" + "x" * 100})["name"]
    assert len(errors) == 2


@pytest.mark.django_db
def test_the_services_run_the_rules_on_every_write(tenant_a, alice):
    from oauth_clients.models import OAuthClient
    from oauth_clients.services import update_client
    from tests.factories import create_oauth_client

    client, _ = create_oauth_client(tenant_a, actor=alice)
    with pytest.raises(ValidationError) as raised:
        update_client(client, ClientData(**{**VALID, "allowed_scopes": ["root"]}), actor=alice)
    assert set(raised.value.error_dict) == {"allowed_scopes"}
    assert OAuthClient.objects.get(pk=client.pk).allowed_scope_list == ["user_default"]
