"""Authorization codes and PKCE, attacked over HTTP (RFC 6749 §4.1.2-4.1.3, RFC 7636, RFC 9700).

A code is redeemed once, within its lifetime, by the client it was issued
to, with the redirect URL of its request and the PKCE verifier of its S256
challenge. A second redemption is refused and revokes what the first one
issued. A refused redemption leaves the code unused and issues nothing.
"""

from datetime import timedelta

import pytest
from django.utils import timezone

from oauth_clients.models import AccessToken, AuthorizationCode, RefreshToken
from tenants.models import AuditEvent
from tests.flows import (
    LOOPBACK_REDIRECT,
    NATIVE_REDIRECT,
    OFFLINE,
    REDIRECT,
    assert_invalid_token,
    assert_oauth_error,
    authorize,
    challenge_of,
    client_redirect,
    get_code,
    introspect,
    pkce_pair,
    redeem,
    refresh,
    users_me,
)

pytestmark = pytest.mark.django_db(transaction=True)


def assert_unused(code: str) -> None:
    row = AuthorizationCode.objects.get(code=code)
    assert row.used_at is None, "a refused redemption consumed the code"
    assert not AccessToken.objects.filter(token_family=row.token_family).exists()


# --- Once -------------------------------------------------------------------------------------


def test_a_code_gives_its_client_one_token(alice_browser, acme, web):
    code, verifier = get_code(alice_browser, web)
    response = redeem(acme, web, code, verifier)
    assert response.status_code == 200, response.text
    assert response.headers["Cache-Control"] == "no-store"
    assert users_me(acme, response.json()["access_token"]).status_code == 200
    assert AuthorizationCode.objects.get(code=code).used_at is not None


def test_a_replayed_code_is_refused_and_the_first_tokens_are_revoked(
    alice_browser, acme, web, tenant_a
):
    code, verifier = get_code(alice_browser, web, scope=OFFLINE)
    first = redeem(acme, web, code, verifier)
    assert first.status_code == 200, first.text
    tokens = first.json()
    assert users_me(acme, tokens["access_token"]).status_code == 200
    family = AuthorizationCode.objects.get(code=code).token_family

    assert_oauth_error(redeem(acme, web, code, verifier), 400, "invalid_grant")

    assert_invalid_token(users_me(acme, tokens["access_token"]))
    assert introspect(acme, web, tokens["access_token"]).json() == {"active": False}
    assert introspect(acme, web, tokens["refresh_token"]).json() == {"active": False}
    assert_oauth_error(refresh(acme, web, tokens["refresh_token"]), 400, "invalid_grant")
    assert not AccessToken.objects.filter(token_family=family).exists()
    assert not RefreshToken.objects.filter(token_family=family, revoked__isnull=True).exists()
    assert AuditEvent.objects.filter(tenant=tenant_a, action="oauth_client.code_replayed").exists()
    # And it stays refused.
    assert_oauth_error(redeem(acme, web, code, verifier), 400, "invalid_grant")
    assert not AccessToken.objects.exists()


def test_a_replayed_code_of_a_public_client_is_refused_and_revokes_too(alice_browser, acme, spa):
    code, verifier = get_code(alice_browser, spa, scope=OFFLINE)
    first = redeem(acme, spa, code, verifier)
    assert first.status_code == 200, first.text
    assert_oauth_error(redeem(acme, spa, code, verifier), 400, "invalid_grant")
    assert_invalid_token(users_me(acme, first.json()["access_token"]))
    assert_oauth_error(refresh(acme, spa, first.json()["refresh_token"]), 400, "invalid_grant")


# --- Expiry -------------------------------------------------------------------------------------


def test_an_expired_code_is_refused(alice_browser, acme, web):
    code, verifier = get_code(alice_browser, web)
    # Codes live a minute at most (AUTHORIZATION_CODE_EXPIRE_SECONDS); age this one past it.
    assert AuthorizationCode.objects.get(code=code).expires <= timezone.now() + timedelta(
        seconds=61
    )
    AuthorizationCode.objects.filter(code=code).update(
        expires=timezone.now() - timedelta(seconds=1)
    )
    assert_oauth_error(redeem(acme, web, code, verifier), 400, "invalid_grant")
    assert_unused(code)


def test_an_unknown_code_is_refused(acme, web):
    for code in ["not-a-code", "", "x" * 300, "' OR 1=1 --"]:
        response = redeem(acme, web, code, "a" * 43)
        assert response.status_code == 400, (code, response.text)
        assert response.json()["error"] in {"invalid_grant", "invalid_request"}, code
    assert not AccessToken.objects.exists()


# --- Bound to the client -------------------------------------------------------------------------


def test_a_code_is_bound_to_its_client(alice_browser, acme, web, other_web, spa, globex_web):
    code, verifier = get_code(alice_browser, web)
    # Another confidential client of the tenant, with its own valid secret.
    assert_oauth_error(redeem(acme, other_web, code, verifier), 400, "invalid_grant")
    # A public client of the tenant (PKCE alone).
    assert_oauth_error(redeem(acme, spa.at(REDIRECT), code, verifier), 400, "invalid_grant")
    # Another tenant's client is no client here.
    assert_oauth_error(redeem(acme, globex_web, code, verifier), 401, "invalid_client")
    assert_unused(code)
    # The rightful client still can.
    assert redeem(acme, web, code, verifier).status_code == 200


def test_a_confidential_clients_code_needs_its_secret(alice_browser, acme, web):
    code, verifier = get_code(alice_browser, web)
    response = acme.post(
        "/oauth/token",
        {
            "grant_type": "authorization_code",
            "client_id": web.client_id,
            "code": code,
            "redirect_uri": REDIRECT,
            "code_verifier": verifier,
        },
    )
    assert_oauth_error(response, 401, "invalid_client")
    assert_unused(code)


# --- Bound to the redirect URL ------------------------------------------------------------------


def test_a_code_is_bound_to_the_redirect_url_of_its_request(alice_browser, acme, web):
    code, verifier = get_code(alice_browser, web)
    others = [
        LOOPBACK_REDIRECT,  # registered too, but not the one of this request
        REDIRECT + "/",
        REDIRECT + "?",
        REDIRECT + "?x=1",
        REDIRECT.replace("callback", "Callback"),
        REDIRECT.replace("app.", "APP."),
        REDIRECT + "#",
        "https://evil.test/callback",
    ]
    for uri in others:
        assert_oauth_error(redeem(acme, web.at(uri), code, verifier), 400, "invalid_request")
    # Without one at all (it was in the authorization request).
    body = assert_oauth_error(redeem(acme, web.at(None), code, verifier), 400, "invalid_request")
    assert "redirect" in body["error_description"].lower()
    assert_unused(code)
    assert redeem(acme, web, code, verifier).status_code == 200


def test_a_loopback_code_is_bound_to_its_port(alice_browser, acme, native, tenant_a):
    verifier, challenge = pkce_pair()
    at_port = native.at("http://127.0.0.1:54321/cb")
    params = client_redirect(
        authorize(alice_browser, at_port, challenge), tenant_a, at_port.redirect_uri
    )
    code = params["code"]
    for uri in [NATIVE_REDIRECT, "http://127.0.0.1:54322/cb", "http://localhost:54321/cb"]:
        assert_oauth_error(redeem(acme, native.at(uri), code, verifier), 400, "invalid_request")
    assert_unused(code)
    assert redeem(acme, at_port, code, verifier).status_code == 200


# --- PKCE at the token endpoint ------------------------------------------------------------------


def test_a_missing_verifier_is_refused(alice_browser, acme, web, spa):
    for registered in (web, spa):
        code, _verifier = get_code(alice_browser, registered)
        body = assert_oauth_error(redeem(acme, registered, code, None), 400, "invalid_request")
        assert "verifier" in body["error_description"].lower()
        assert_unused(code)


def test_a_wrong_verifier_is_refused(alice_browser, acme, web, spa):
    for registered in (web, spa):
        code, verifier = get_code(alice_browser, registered)
        challenge = AuthorizationCode.objects.get(code=code).code_challenge
        wrong = [
            pkce_pair()[0],  # another well-formed verifier
            challenge,  # the challenge itself (as if the method were plain)
            verifier[:-1] + ("A" if verifier[-1] != "A" else "B"),  # one character off
            verifier.upper() if verifier.upper() != verifier else verifier.lower(),
        ]
        for candidate in wrong:
            assert_oauth_error(redeem(acme, registered, code, candidate), 400, "invalid_grant")
        assert_unused(code)
        assert redeem(acme, registered, code, verifier).status_code == 200


MALFORMED_VERIFIERS = {
    "42 characters": "a" * 42,
    "129 characters": "a" * 129,
    "5000 characters": "a" * 5000,
    "empty": "",
    "bang": "a" * 42 + "!",
    "plus": "a" * 42 + "+",
    "slash": "a" * 42 + "/",
    "space": "a" * 42 + " ",
    "equals padding": "a" * 42 + "=",
    "percent": "a" * 42 + "%",
    "non-ascii": "a" * 42 + "é",
    "newline": "a" * 42 + "\n",
}


def test_a_malformed_verifier_is_an_invalid_request(alice_browser, acme, web):
    code, verifier = get_code(alice_browser, web)
    problems = {}
    for name, candidate in MALFORMED_VERIFIERS.items():
        response = redeem(acme, web, code, candidate)
        if response.status_code != 400 or response.json().get("error") != "invalid_request":
            problems[name] = (response.status_code, response.text[:200])
    assert problems == {}, problems
    assert_unused(code)
    assert redeem(acme, web, code, verifier).status_code == 200


def test_verifiers_of_43_and_128_characters_of_every_allowed_class_work(
    alice_browser, acme, web, tenant_a
):
    for verifier in ("A-._~" + "z9" * 19, "abc~._-" + "Q" * 121):
        params = client_redirect(authorize(alice_browser, web, challenge_of(verifier)), tenant_a)
        response = redeem(acme, web, params["code"], verifier)
        assert response.status_code == 200, (len(verifier), response.text)


# --- PKCE at the authorization endpoint: S256 only ----------------------------------------------


def test_the_plain_method_is_refused(alice_browser, web, tenant_a):
    verifier, _challenge = pkce_pair()
    for method in ["plain", "PLAIN"]:
        response = authorize(alice_browser, web, verifier, code_challenge_method=method)
        params = client_redirect(response, tenant_a)
        assert params.get("error") == "invalid_request", params
        assert "code" not in params and params["state"] == "xyz"
    assert AuthorizationCode.objects.count() == 0


def test_a_missing_or_unknown_method_or_challenge_is_refused(alice_browser, web, tenant_a):
    _verifier, challenge = pkce_pair()
    cases = [
        {"code_challenge_method": None},  # oauthlib would fill in "plain"
        {"code_challenge_method": ""},
        {"code_challenge_method": "s256"},
        {"code_challenge_method": "S512"},
        {"code_challenge_method": "SHA256"},
        {"code_challenge": None},
        {"code_challenge": None, "code_challenge_method": None},
    ]
    for extra in cases:
        params = client_redirect(authorize(alice_browser, web, challenge, **extra), tenant_a)
        assert params.get("error") == "invalid_request", (extra, params)
        assert "code" not in params and params["state"] == "xyz"
    assert AuthorizationCode.objects.count() == 0


def test_a_malformed_challenge_is_refused(alice_browser, web, tenant_a):
    for challenge in ["a" * 42, "a" * 129, "a" * 42 + "+", "a" * 42 + "/", "a" * 42 + "=", ""]:
        params = client_redirect(authorize(alice_browser, web, challenge), tenant_a)
        assert params.get("error") == "invalid_request", (challenge, params)
    assert AuthorizationCode.objects.count() == 0


# --- Downgrade (RFC 9700 §4.8) ----------------------------------------------------------------


def test_a_verifier_for_a_code_without_a_challenge_is_refused(alice_browser, acme, web):
    # The attacker's code was issued without a challenge (simulated: it was
    # stripped from the row); a verifier must not make it redeemable.
    code, verifier = get_code(alice_browser, web)
    AuthorizationCode.objects.filter(code=code).update(code_challenge="", code_challenge_method="")
    assert_oauth_error(redeem(acme, web, code, verifier), 400, "invalid_grant")
    response = redeem(acme, web, code, None)
    assert response.status_code == 400
    assert response.json()["error"] in {"invalid_request", "invalid_grant"}
    assert_unused(code)


def test_the_code_comes_back_in_the_query_whatever_response_mode_asks(alice_browser, web, tenant_a):
    """Discovery offers response_mode "query" only; a request for another mode must not
    move the code into the fragment (or a form), where the client would not read it and
    scripts on the redirect page could (the "response mode switching" attack)."""
    problems = {}
    for mode in ["fragment", "form_post", "web_message", "query.jwt"]:
        _verifier, challenge = pkce_pair()
        response = authorize(alice_browser, web, challenge, response_mode=mode)
        location = response.headers.get("Location", "")
        if response.status_code != 302 or "#" in location or not location.startswith(REDIRECT):
            problems[mode] = (response.status_code, location[:120])
        else:
            params = client_redirect(response, tenant_a)
            assert "code" in params or params.get("error"), params
    assert problems == {}, problems
