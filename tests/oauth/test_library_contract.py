"""What the OAuth glue relies on in django-oauth-toolkit, oauthlib and Django internals.

Each private method that ``oauth_clients`` overrides or calls is listed with
the signature and the call sites the code depends on. An upgrade that
changes one fails here with a message naming the place to look at, instead
of silently changing the token endpoint. The versions are pinned exactly in
pyproject.toml; bump them together with this file.
"""

import inspect

import pytest
from django.contrib.auth.mixins import LoginRequiredMixin
from django.db.models import QuerySet
from oauth2_provider import oauth2_backends
from oauth2_provider.oauth2_validators import OAuth2Validator
from oauth2_provider.views.base import AuthorizationView

from oauth_clients.oauth.validator import TenantOAuth2Validator


def parameters(function) -> list[str]:
    return list(inspect.signature(function).parameters)


def source(function) -> str:
    return inspect.getsource(function)


# (method, the parameters our override takes, a caller in DOT that must still call it)
OVERRIDDEN = [
    ("_load_application", ["self", "client_id", "request"], "validate_client_id"),
    (
        "_create_authorization_code",
        ["self", "request", "code", "expires"],
        "save_authorization_code",
    ),
    (
        "_create_access_token",
        ["self", "expires", "request", "token", "source_refresh_token"],
        "_save_bearer_token",
    ),
    (
        "_create_refresh_token",
        ["self", "request", "refresh_token_code", "access_token", "previous_refresh_token"],
        "_save_bearer_token",
    ),
    (
        "_save_id_token",
        ["self", "jti", "request", "expires", "args", "kwargs"],
        "finalize_id_token",
    ),
    ("_check_and_set_request_resource", ["self", "request"], "_save_bearer_token"),
]


@pytest.mark.parametrize(("name", "ours", "caller"), OVERRIDDEN, ids=[o[0] for o in OVERRIDDEN])
def test_each_overridden_private_method_is_still_dots_and_still_called(name, ours, caller):
    theirs = getattr(OAuth2Validator, name, None)
    assert theirs is not None, f"DOT no longer has OAuth2Validator.{name}: see our override"
    assert parameters(getattr(TenantOAuth2Validator, name)) == ours
    assert parameters(theirs)[: len(ours) - 2] == ours[: len(ours) - 2], (
        f"OAuth2Validator.{name} changed its parameters: {parameters(theirs)}"
    )
    assert f"self.{name}(" in source(getattr(OAuth2Validator, caller)), (
        f"OAuth2Validator.{caller} no longer calls {name}: our override would be skipped"
    )


def test_the_bearer_token_path_passes_what_our_row_builders_read():
    save = "".join(source(OAuth2Validator._save_bearer_token).split())
    # Our _create_refresh_token reads the previous token (family, scope) from here.
    assert (
        "self._create_refresh_token(request,refresh_token_code,access_token,refresh_token_instance)"
        in save
    )
    assert "source_refresh_token=refresh_token_instance" in save
    # A refresh that rotates revokes the previous refresh token first.
    assert "refresh_token_instance.revoke()" in save


def test_save_bearer_token_only_adds_a_transaction_around_the_method_we_call():
    body = "".join(source(OAuth2Validator.save_bearer_token).split("\n")[-3:])
    assert "transaction.atomic(" in body
    assert "return self._save_bearer_token(token, request, *args, **kwargs)" in body
    assert parameters(OAuth2Validator._save_bearer_token) == [
        "self",
        "token",
        "request",
        "args",
        "kwargs",
    ]


def test_the_id_token_claims_come_from_the_public_hook_we_extend():
    assert "self.get_id_token_dictionary(token, token_handler, request)" in source(
        OAuth2Validator.finalize_id_token
    )
    assert '"auth_time"' in source(OAuth2Validator.get_id_token_dictionary)


def test_the_backend_still_builds_oauthlib_requests_with_extract_params():
    extract = oauth2_backends.OAuthLibCore._extract_params
    assert parameters(extract) == ["self", "request"]
    body = source(extract)
    assert "self.extract_headers(request)" in body and "self.extract_body(request)" in body


def test_the_iss_helper_adds_one_iss_to_the_query():
    add = oauth2_backends._add_iss_to_redirect
    assert add("https://app.test/cb?code=x&iss=evil", "https://acme.test") == (
        "https://app.test/cb?code=x&iss=https%3A%2F%2Facme.test"
    )


def test_the_authorize_view_hooks_we_override_are_still_used():
    # consent's view checks the request before the sign-in in handle_no_permission.
    assert issubclass(AuthorizationView, LoginRequiredMixin)
    assert "self.handle_no_permission()" in source(LoginRequiredMixin.dispatch)
    assert "self.validate_authorization_request(" in source(AuthorizationView.get)
    assert parameters(AuthorizationView.create_authorization_response) == [
        "self",
        "request",
        "scopes",
        "credentials",
        "allow",
    ]


def test_djangos_raw_delete_is_one_statement_without_the_collector():
    assert parameters(QuerySet._raw_delete) == ["self", "using"]
    assert "Collector" not in source(QuerySet._raw_delete)
