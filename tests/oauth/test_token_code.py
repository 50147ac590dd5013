"""``POST /oauth/token`` with ``grant_type=authorization_code`` (RFC 6749 §4.1.3, RFC 7636)."""

import base64
import hashlib
import json
import time
from datetime import timedelta

import pytest
from django.utils import timezone
from jwcrypto import jwk, jws

from oauth_clients.models import AccessToken, AuthorizationCode, RefreshToken
from tenants.models import AuditEvent, Membership
from tests.flows import (
    REDIRECT,
    Registered,
    assert_oauth_error,
    authorize,
    basic,
    client_for,
    get_code,
    query_of,
    redeem,
    users_me,
)
from tests.jwts import decode_segment

pytestmark = pytest.mark.django_db


def token_body(code: str, verifier: str, registered: Registered = None, **extra) -> dict:
    data = {
        "grant_type": "authorization_code",
        "code": code,
        "redirect_uri": REDIRECT if registered is None else registered.redirect_uri,
        "code_verifier": verifier,
    }
    data.update(extra)
    return {k: v for k, v in data.items() if v is not None}


# --- It works ------------------------------------------------------------------------


def test_it_exchanges_a_code_sent_as_a_form(alice_client, api, web):
    code, verifier = get_code(alice_client, web)
    response = redeem(api, web, code, verifier)
    assert response.status_code == 200, response.content
    assert users_me(api, response.json()["access_token"]).status_code == 200


def test_it_exchanges_a_code_sent_as_json(alice_client, api, web):
    code, verifier = get_code(alice_client, web)
    response = api.post(
        "/oauth/token",
        json.dumps(token_body(code, verifier)),
        content_type="application/json",
        HTTP_AUTHORIZATION=basic(web),
    )
    assert response.status_code == 200, response.content
    me = users_me(api, response.json()["access_token"])
    assert me.status_code == 200
    assert me.json()["email"] == "alice@acme.test"


def test_it_exchanges_a_code_with_the_secret_in_a_json_body(alice_client, api, web):
    code, verifier = get_code(alice_client, web)
    body = token_body(code, verifier, client_id=web.client_id, client_secret=web.secret)
    response = api.post("/oauth/token", json.dumps(body), content_type="application/json")
    assert response.status_code == 200, response.content


def test_a_public_client_exchanges_a_code_with_pkce_alone(alice_client, api, spa):
    code, verifier = get_code(alice_client, spa)
    response = redeem(api, spa, code, verifier)
    assert response.status_code == 200, response.content
    assert "refresh_token" not in response.json()


def test_the_token_response_has_the_rfc_6749_shape_and_is_never_cached(alice_client, api, web):
    code, verifier = get_code(alice_client, web, scope="user_default offline_access")
    response = redeem(api, web, code, verifier)
    assert response.status_code == 200, response.content
    assert response["Content-Type"].startswith("application/json")
    assert response["Cache-Control"] == "no-store"
    assert response["Pragma"] == "no-cache"
    body = response.json()
    assert set(body) == {"access_token", "token_type", "expires_in", "scope", "refresh_token"}
    assert body["token_type"] == "Bearer"
    assert body["expires_in"] == 3600
    assert set(body["scope"].split()) == {"user_default", "offline_access"}
    assert isinstance(body["refresh_token"], str) and len(body["refresh_token"]) >= 20
    assert body["refresh_token"] != body["access_token"]


def test_it_issues_no_refresh_token_without_offline_access(alice_client, api, web):
    code, verifier = get_code(alice_client, web, scope="user_default")
    response = redeem(api, web, code, verifier)
    assert response.status_code == 200, response.content
    body = response.json()
    assert "refresh_token" not in body
    assert set(body) == {"access_token", "token_type", "expires_in", "scope"}
    assert body["scope"] == "user_default"
    assert not RefreshToken.objects.filter(application=web.client).exists()


def test_the_access_token_is_an_rs256_jwt_with_the_rfc_9068_claims(
    alice_client, api, web, tenant_a, alice
):
    code, verifier = get_code(alice_client, web, scope="user_default offline_access")
    before = int(time.time())
    body = redeem(api, web, code, verifier).json()
    after = int(time.time())

    header_b64, payload_b64, signature_b64 = body["access_token"].split(".")
    assert signature_b64
    header = decode_segment(header_b64)
    assert header["alg"] == "RS256"
    assert header["typ"] == "at+jwt"
    assert header["kid"]

    claims = decode_segment(payload_b64)
    assert {"iss", "aud", "sub", "exp", "iat", "jti", "client_id", "scope", "tenant_id"} <= set(
        claims
    )
    assert claims["iss"] == tenant_a.base_url
    assert claims["aud"] == tenant_a.base_url
    assert claims["tenant_id"] == str(tenant_a.pk)
    assert claims["client_id"] == web.client_id
    assert set(claims["scope"].split()) == {"user_default", "offline_access"}
    # The subject is the membership's opaque id, not the user's id or email.
    assert claims["sub"] == str(Membership.objects.get(tenant=tenant_a, user=alice).subject)
    assert claims["sub"] != str(alice.pk)
    assert claims["sub"] != alice.email
    assert before <= claims["iat"] <= after
    assert claims["exp"] - claims["iat"] == 3600
    # The jti is how the token is revoked: stored on the access token row.
    assert AccessToken.objects.filter(jti=claims["jti"], application=web.client).exists()


def test_the_access_token_verifies_against_the_tenants_jwks(alice_client, api, web):
    code, verifier = get_code(alice_client, web)
    token = redeem(api, web, code, verifier).json()["access_token"]

    jwks = api.get("/.well-known/jwks.json")
    assert jwks.status_code == 200
    keyset = jwk.JWKSet.from_json(jwks.content)
    header = decode_segment(token.split(".")[0])
    key = keyset.get_key(header["kid"])
    assert key is not None, "the token's kid is not in the JWKS"
    assert not key.has_private

    parsed = jws.JWS()
    parsed.deserialize(token)
    parsed.verify(key, alg="RS256")  # raises on a bad signature
    assert json.loads(parsed.payload)["client_id"] == web.client_id

    tampered = token[:-4] + ("AAAA" if token[-4:] != "AAAA" else "BBBB")
    parsed = jws.JWS()
    parsed.deserialize(tampered)
    with pytest.raises(jws.InvalidJWSSignature):
        parsed.verify(key, alg="RS256")


# --- A code is used once --------------------------------------------------------------


def test_a_code_redeemed_twice_is_refused_and_revokes_what_the_first_redemption_issued(
    alice_client, api, web, tenant_a
):
    code, verifier = get_code(alice_client, web, scope="user_default offline_access")
    first = redeem(api, web, code, verifier)
    assert first.status_code == 200, first.content
    tokens = first.json()
    row = AuthorizationCode.objects.get(code=code)
    assert row.used_at is not None
    assert AccessToken.objects.filter(token_family=row.token_family).count() == 1

    second = redeem(api, web, code, verifier)
    assert_oauth_error(second, 400, "invalid_grant")

    assert users_me(api, tokens["access_token"]).status_code == 401
    refresh = api.post(
        "/oauth/token",
        {"grant_type": "refresh_token", "refresh_token": tokens["refresh_token"]},
        HTTP_AUTHORIZATION=basic(web),
    )
    assert_oauth_error(refresh, 400, "invalid_grant")
    assert not AccessToken.objects.filter(token_family=row.token_family).exists()
    assert AuditEvent.objects.filter(tenant=tenant_a, action="oauth_client.code_replayed").exists()


def test_a_code_redeemed_twice_stays_refused(alice_client, api, web):
    code, verifier = get_code(alice_client, web)
    assert redeem(api, web, code, verifier).status_code == 200
    assert_oauth_error(redeem(api, web, code, verifier), 400, "invalid_grant")
    assert_oauth_error(redeem(api, web, code, verifier), 400, "invalid_grant")
    assert AuthorizationCode.objects.get(code=code).used_at is not None


def test_an_expired_code_is_refused(alice_client, api, web):
    code, verifier = get_code(alice_client, web)
    AuthorizationCode.objects.filter(code=code).update(
        expires=timezone.now() - timedelta(seconds=1)
    )
    assert_oauth_error(redeem(api, web, code, verifier), 400, "invalid_grant")
    assert not AccessToken.objects.exists()


def test_an_unknown_code_is_refused(api, web):
    verifier = "a" * 43
    assert_oauth_error(redeem(api, web, "not-a-code", verifier), 400, "invalid_grant")


def test_a_missing_code_is_an_invalid_request(api, web):
    response = api.post(
        "/oauth/token",
        {
            "grant_type": "authorization_code",
            "redirect_uri": REDIRECT,
            "code_verifier": "a" * 43,
        },
        HTTP_AUTHORIZATION=basic(web),
    )
    assert_oauth_error(response, 400, "invalid_request")


# --- A code is bound to its client, redirect URL and tenant -------------------------


def test_another_client_of_the_tenant_cannot_redeem_the_code(alice_client, api, web, other_web):
    code, verifier = get_code(alice_client, web)
    assert_oauth_error(redeem(api, other_web, code, verifier), 400, "invalid_grant")
    assert not AccessToken.objects.exists()
    # The rightful client still can.
    assert redeem(api, web, code, verifier).status_code == 200


def test_a_public_client_cannot_redeem_a_confidential_clients_code(alice_client, api, web, spa):
    code, verifier = get_code(alice_client, web)
    response = api.post(
        "/oauth/token",
        token_body(code, verifier, client_id=spa.client_id),
    )
    assert_oauth_error(response, 400, "invalid_grant")
    assert not AccessToken.objects.exists()


def test_a_confidential_clients_code_needs_its_secret(alice_client, api, web):
    code, verifier = get_code(alice_client, web)
    response = api.post("/oauth/token", token_body(code, verifier, client_id=web.client_id))
    assert_oauth_error(response, 401, "invalid_client")
    assert not AccessToken.objects.exists()


def test_a_different_redirect_uri_is_refused(alice_client, api, web):
    code, verifier = get_code(alice_client, web)
    response = redeem(api, web, code, verifier, redirect_uri="http://localhost:8080/cb")
    body = assert_oauth_error(response, 400, "invalid_request")
    assert "redirect" in body["error_description"].lower()
    assert not AccessToken.objects.exists()


def test_a_redirect_uri_differing_only_in_case_or_slash_is_refused(alice_client, api, web):
    code, verifier = get_code(alice_client, web)
    for uri in (REDIRECT.upper().replace("HTTPS", "https"), REDIRECT + "/", REDIRECT + "?x=1"):
        response = redeem(api, web, code, verifier, redirect_uri=uri)
        assert response.status_code == 400, (uri, response.content)
    assert not AccessToken.objects.exists()


def test_a_missing_redirect_uri_is_refused(alice_client, api, web):
    code, verifier = get_code(alice_client, web)
    response = redeem(api, web, code, verifier, redirect_uri=None)
    assert_oauth_error(response, 400, "invalid_request")
    assert not AccessToken.objects.exists()


def test_a_code_presented_at_another_tenants_host_yields_no_token(
    alice_client, web, globex_web, tenant_a, tenant_b
):
    code, verifier = get_code(alice_client, web)
    globex = client_for(tenant_b)
    # Tenant A's client is no client at tenant B.
    assert_oauth_error(redeem(globex, web, code, verifier), 401, "invalid_client")
    # Nor does a client of tenant B get anywhere with it.
    assert_oauth_error(redeem(globex, globex_web, code, verifier), 400, "invalid_grant")
    assert not AccessToken.objects.exists()
    # Neither attempt consumed the code at its own tenant.
    assert AuthorizationCode.objects.get(code=code).used_at is None
    at_home = redeem(client_for(tenant_a), web, code, verifier)
    assert at_home.status_code == 200, at_home.content


# --- PKCE (RFC 7636, RFC 9700 §2.1.1) -------------------------------------------------


def test_a_missing_code_verifier_is_refused(alice_client, api, web):
    code, verifier = get_code(alice_client, web)
    response = redeem(api, web, code, None)
    body = assert_oauth_error(response, 400, "invalid_request")
    assert "verifier" in body["error_description"].lower()
    assert not AccessToken.objects.exists()


def test_a_wrong_code_verifier_is_refused(alice_client, api, web):
    code, verifier = get_code(alice_client, web)
    _other_code, other_verifier = get_code(alice_client, web)
    assert_oauth_error(redeem(api, web, code, other_verifier), 400, "invalid_grant")
    assert not AccessToken.objects.exists()


def test_the_challenge_itself_is_not_a_verifier(alice_client, api, web):
    code, _verifier = get_code(alice_client, web)
    challenge = AuthorizationCode.objects.get(code=code).code_challenge
    assert_oauth_error(redeem(api, web, code, challenge), 400, "invalid_grant")


@pytest.mark.parametrize(
    "verifier",
    [
        "a" * 42,
        "a" * 129,
        "a" * 5000,
        "a" * 42 + "!",
        "a" * 42 + "+",
        "a" * 42 + "/",
        "a" * 42 + " ",
        "a" * 42 + "=",
        "a" * 42 + "é",
        "",
    ],
    ids=[
        "42-chars",
        "129-chars",
        "5000-chars",
        "bang",
        "plus",
        "slash",
        "space",
        "equals",
        "non-ascii",
        "empty",
    ],
)
def test_a_malformed_code_verifier_is_an_invalid_request(alice_client, api, web, verifier):
    code, _verifier = get_code(alice_client, web)
    response = redeem(api, web, code, verifier)
    assert_oauth_error(response, 400, "invalid_request")
    assert not AccessToken.objects.exists()
    assert AuthorizationCode.objects.get(code=code).used_at is None


def test_verifiers_of_43_and_128_characters_are_accepted(alice_client, api, web):
    """The bounds of RFC 7636 §4.1, with every allowed character class."""
    for verifier in ("A-._~" + "z9" * 19, "abc~._-" + "Q" * 121):
        assert len(verifier) in (43, 128)
        challenge = (
            base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest())
            .rstrip(b"=")
            .decode()
        )
        location = authorize(alice_client, web, challenge)["Location"]
        code = query_of(location)["code"]
        response = redeem(api, web, code, verifier)
        assert response.status_code == 200, (len(verifier), response.content)


def test_a_verifier_for_a_code_issued_without_a_challenge_is_refused(alice_client, api, web):
    """PKCE downgrade (RFC 9700 §4.8): the challenge was stripped from the request."""
    code, verifier = get_code(alice_client, web)
    AuthorizationCode.objects.filter(code=code).update(code_challenge="", code_challenge_method="")
    assert_oauth_error(redeem(api, web, code, verifier), 400, "invalid_grant")
    assert not AccessToken.objects.exists()


def test_a_code_created_without_a_challenge_is_refused_with_or_without_a_verifier(
    api, web, tenant_a, alice
):
    row = AuthorizationCode.objects.create(
        tenant=tenant_a,
        application=web.client,
        user=alice,
        code="code-without-challenge",
        expires=timezone.now() + timedelta(minutes=1),
        redirect_uri=REDIRECT,
        scope="user_default",
        code_challenge="",
        code_challenge_method="",
        claims="{}",
    )
    assert_oauth_error(redeem(api, web, row.code, "b" * 43), 400, "invalid_grant")
    # Without a verifier: PKCE is required for every code.
    response = redeem(api, web, row.code, None)
    assert response.status_code == 400, response.content
    assert response.json()["error"] in {"invalid_request", "invalid_grant"}
    assert not AccessToken.objects.exists()


# --- The request's syntax -------------------------------------------------------------


def test_a_repeated_parameter_is_an_invalid_request(alice_client, api, web):
    code, verifier = get_code(alice_client, web)
    data = token_body(code, verifier)
    data["code"] = [code, code]
    response = api.post("/oauth/token", data, HTTP_AUTHORIZATION=basic(web))
    body = assert_oauth_error(response, 400, "invalid_request")
    assert "code" in body["error_description"]
    assert not AccessToken.objects.exists()
    # The code was not consumed.
    assert redeem(api, web, code, verifier).status_code == 200


def test_a_repeated_json_key_is_an_invalid_request(alice_client, api, web):
    code, verifier = get_code(alice_client, web)
    raw = json.dumps(token_body(code, verifier))[:-1] + f', "code": "{code}"}}'
    response = api.post(
        "/oauth/token", raw, content_type="application/json", HTTP_AUTHORIZATION=basic(web)
    )
    assert_oauth_error(response, 400, "invalid_request")
    assert not AccessToken.objects.exists()


@pytest.mark.parametrize("value", [123, None, True, ["x"], {"a": "b"}])
def test_a_non_string_json_value_is_an_invalid_request(alice_client, api, web, value):
    code, verifier = get_code(alice_client, web)
    body = token_body(code, verifier)
    body["code"] = value
    response = api.post(
        "/oauth/token",
        json.dumps(body),
        content_type="application/json",
        HTTP_AUTHORIZATION=basic(web),
    )
    assert_oauth_error(response, 400, "invalid_request")
    assert not AccessToken.objects.exists()


@pytest.mark.parametrize("raw", ['{"grant_type": "authorization_code"', "not json", "[]", '"x"'])
def test_a_malformed_json_body_is_an_invalid_request(api, web, raw):
    response = api.post(
        "/oauth/token", raw, content_type="application/json", HTTP_AUTHORIZATION=basic(web)
    )
    assert_oauth_error(response, 400, "invalid_request")


def test_a_nul_byte_in_a_parameter_is_an_invalid_request(alice_client, api, web):
    code, verifier = get_code(alice_client, web)
    response = redeem(api, web, code + "\x00", verifier)
    assert_oauth_error(response, 400, "invalid_request")


def test_a_missing_grant_type_is_an_invalid_request(alice_client, api, web):
    code, verifier = get_code(alice_client, web)
    data = token_body(code, verifier)
    del data["grant_type"]
    response = api.post("/oauth/token", data, HTTP_AUTHORIZATION=basic(web))
    body = assert_oauth_error(response, 400, "invalid_request")
    assert "grant_type" in body["error_description"]


@pytest.mark.parametrize(
    "grant_type",
    [
        "password",
        "implicit",
        "token",
        "urn:ietf:params:oauth:grant-type:device_code",
        "urn:ietf:params:oauth:grant-type:jwt-bearer",
        "something_else",
    ],
)
def test_grants_we_do_not_offer_are_unsupported(api, web, alice, grant_type):
    response = api.post(
        "/oauth/token",
        {
            "grant_type": grant_type,
            "username": "alice@acme.test",
            "password": "password",
            "scope": "user_default",
        },
        HTTP_AUTHORIZATION=basic(web),
    )
    assert_oauth_error(response, 400, "unsupported_grant_type")
    assert not AccessToken.objects.exists()


def test_the_token_endpoint_answers_get_with_405(api):
    response = api.get("/oauth/token")
    assert response.status_code == 405


def test_a_code_of_a_user_who_left_the_tenant_is_refused(alice_client, api, web, tenant_a, alice):
    code, verifier = get_code(alice_client, web)
    Membership.objects.filter(tenant=tenant_a, user=alice).delete()
    assert_oauth_error(redeem(api, web, code, verifier), 400, "invalid_grant")
    assert not AccessToken.objects.exists()


def test_a_code_of_a_deactivated_user_is_refused(alice_client, api, web, alice):
    code, verifier = get_code(alice_client, web)
    alice.is_active = False
    alice.save()
    assert_oauth_error(redeem(api, web, code, verifier), 400, "invalid_grant")
    assert not AccessToken.objects.exists()
