"""The authorization endpoint (RFC 6749 §4.1.1, RFC 9700, RFC 9207, OpenID Connect prompt).

Every redirect back to the client carries ``iss`` (the tenant's base URL),
errors included; a request whose client or redirect URL cannot be trusted
gets an error page and never a redirect (RFC 6749 §4.1.2.1).
"""

import base64
import json
import time
from datetime import timedelta
from urllib.parse import parse_qs, urlsplit

import pytest
from django.utils import timezone

from oauth_clients.models import AuthorizationCode
from oauth_clients.services import delete_clients
from tenants import sessions
from tests.factories import PASSWORD, create_oauth_client
from tests.flows import (
    AUTHORIZE,
    REDIRECT,
    Registered,
    assert_error_page,
    authorize,
    authorize_params,
    authorize_url,
    client_for,
    client_redirect,
    error_redirect,
    get_code,
    login_redirect,
    pkce_pair,
    redeem,
    required_client,
    sign_in,
)

pytestmark = pytest.mark.django_db


# --- Helpers -----------------------------------------------------------------------------


def sign_in_at(http, email: str, next_url: str):
    return http.post("/login/", {"username": email, "password": PASSWORD, "next": next_url})


def granted_code(code: str) -> AuthorizationCode:
    return AuthorizationCode.objects.get(code=code)


# --- A valid request ---------------------------------------------------------------------


class TestValidRequest:
    def test_a_signed_in_user_is_sent_back_with_code_state_and_iss(
        self, alice_client, web, tenant_a
    ):
        _verifier, challenge = pkce_pair()
        params = client_redirect(authorize(alice_client, web, challenge), tenant_a)
        assert params["code"]
        assert params["state"] == "xyz"
        assert "error" not in params

    def test_state_is_echoed_exactly(self, alice_client, web, tenant_a):
        state = "a b&c=d/é?#%"
        _verifier, challenge = pkce_pair()
        params = client_redirect(authorize(alice_client, web, challenge, state=state), tenant_a)
        assert params["state"] == state

    def test_without_state_none_is_returned(self, alice_client, web, tenant_a):
        _verifier, challenge = pkce_pair()
        params = client_redirect(authorize(alice_client, web, challenge, state=None), tenant_a)
        assert params["code"]
        assert "state" not in params

    def test_the_code_row_records_tenant_user_client_redirect_and_challenge(
        self, alice_client, web, tenant_a, alice
    ):
        _verifier, challenge = pkce_pair()
        params = client_redirect(authorize(alice_client, web, challenge), tenant_a)
        grant = granted_code(params["code"])
        assert grant.tenant == tenant_a
        assert grant.user == alice
        assert grant.application == web.client
        assert grant.redirect_uri == REDIRECT
        assert grant.code_challenge == challenge
        assert grant.code_challenge_method == "S256"
        assert grant.scope == "user_default"

    def test_the_response_is_not_cached(self, alice_client, web):
        _verifier, challenge = pkce_pair()
        response = authorize(alice_client, web, challenge)
        assert "no-cache" in response["Cache-Control"] or "no-store" in response["Cache-Control"]


# --- Sign-in and prompt --------------------------------------------------------------------


class TestSignIn:
    def test_an_anonymous_user_is_sent_to_sign_in_with_the_authorize_url_as_next(
        self, anon_client, web
    ):
        _verifier, challenge = pkce_pair()
        url = authorize_url(web, challenge)
        response = anon_client.get(url)
        assert login_redirect(response) == url
        assert AuthorizationCode.objects.count() == 0

    @pytest.mark.parametrize(
        "override",
        [
            {"client_id": "0" * 32},
            {"client_id": None},
            {"redirect_uri": "https://evil.example.com/callback"},
        ],
        ids=["unknown client", "no client", "unregistered redirect URL"],
    )
    def test_a_broken_link_is_an_error_page_before_any_sign_in(self, anon_client, web, override):
        # RFC 6749 §4.1.2.1: inform the user at once, not after they signed in.
        _verifier, challenge = pkce_pair()
        assert_error_page(anon_client.get(authorize_url(web, challenge, **override)), no_codes=True)

    def test_other_errors_go_back_to_the_client_before_any_sign_in(
        self, anon_client, web, tenant_a
    ):
        _verifier, challenge = pkce_pair()
        response = anon_client.get(authorize_url(web, challenge, scope="admin_classic"))
        params = error_redirect(response, tenant_a)
        assert params["error"] == "invalid_scope"

    def test_after_signing_in_the_flow_continues_to_the_client(
        self, anon_client, web, tenant_a, alice
    ):
        verifier, challenge = pkce_pair()
        url = authorize_url(web, challenge)
        next_url = login_redirect(anon_client.get(url))

        signed_in = sign_in_at(anon_client, "alice@acme.test", next_url)
        assert signed_in.status_code == 302
        assert signed_in["Location"] == url

        params = client_redirect(anon_client.get(signed_in["Location"]), tenant_a)
        assert params["state"] == "xyz"
        assert granted_code(params["code"]).user == alice
        token = redeem(client_for(tenant_a), web, params["code"], verifier)
        assert token.status_code == 200, token.content

    def test_a_session_of_another_tenant_does_not_count(self, carol, tenant_a, tenant_b, web):
        # Carol's session cookie was made at tenant B; tenant A sees an anonymous user.
        http = client_for(tenant_b, carol)
        http.defaults["HTTP_HOST"] = tenant_a.hostname
        _verifier, challenge = pkce_pair()
        url = authorize_url(web, challenge)
        assert login_redirect(http.get(url)) == url


def reauth_redirect_next(response) -> str:
    """Assert a redirect to the sign-in page in its re-authentication mode; its ``next``."""
    next_url = login_redirect(response)
    assert parse_qs(urlsplit(response["Location"]).query)["reauth"] == ["1"]
    return next_url


class TestPromptLogin:
    def test_it_asks_for_the_password_again_without_ending_the_session(self, alice_client, web):
        _verifier, challenge = pkce_pair()
        response = alice_client.get(authorize_url(web, challenge, prompt="login"))

        next_url = reauth_redirect_next(response)
        # A link cannot sign anyone out: the session is intact until a sign-in succeeds.
        assert "_auth_user_id" in alice_client.session
        assert alice_client.get("/console/").status_code == 200
        assert AuthorizationCode.objects.count() == 0
        next_parts = urlsplit(next_url)
        assert next_parts.path == AUTHORIZE
        next_query = parse_qs(next_parts.query)
        assert "prompt" not in next_query
        expected = {k: [v] for k, v in authorize_params(web, challenge).items()}
        assert next_query == expected

    def test_the_sign_in_page_asks_the_signed_in_user_again(self, alice_client, web):
        _verifier, challenge = pkce_pair()
        response = alice_client.get(authorize_url(web, challenge, prompt="login"))
        page = alice_client.get(response["Location"])
        assert page.status_code == 200
        html = page.content.decode()
        assert "Confirm it is you" in html
        assert 'name="reauth" value="1"' in html
        assert 'value="alice@acme.test"' in html

    def test_after_signing_in_again_the_client_gets_a_code(
        self, alice_client, alice, web, tenant_a
    ):
        _verifier, challenge = pkce_pair()
        next_url = reauth_redirect_next(
            alice_client.get(authorize_url(web, challenge, prompt="login"))
        )
        sign_in(alice_client, alice, tenant_a, seconds_ago=600)
        signed_in = alice_client.post(
            "/login/",
            {"username": "alice@acme.test", "password": PASSWORD, "next": next_url, "reauth": "1"},
        )
        assert signed_in.status_code == 302
        assert signed_in["Location"] == next_url
        # Same account: the session goes on, with the new time of authentication.
        assert alice_client.get("/console/").status_code == 200
        assert time.time() - alice_client.session[sessions.AUTH_TIME_KEY] < 5
        params = client_redirect(alice_client.get(next_url), tenant_a)
        assert params["code"]
        assert params["state"] == "xyz"

    def test_a_failed_sign_in_as_another_account_keeps_the_session(
        self, alice_client, bob, web, tenant_a
    ):
        _verifier, challenge = pkce_pair()
        next_url = reauth_redirect_next(
            alice_client.get(authorize_url(web, challenge, prompt="login"))
        )
        failed = alice_client.post(
            "/login/",
            {"username": "bob@acme.test", "password": "wrong", "next": next_url, "reauth": "1"},
        )
        assert failed.status_code == 200
        assert alice_client.get("/console/").status_code == 200

    def test_signing_in_as_another_account_replaces_the_session(
        self, alice_client, bob, web, tenant_a
    ):
        _verifier, challenge = pkce_pair()
        next_url = reauth_redirect_next(
            alice_client.get(authorize_url(web, challenge, prompt="login"))
        )
        signed_in = alice_client.post(
            "/login/",
            {"username": "bob@acme.test", "password": PASSWORD, "next": next_url, "reauth": "1"},
        )
        assert signed_in.status_code == 302
        assert alice_client.get("/console/").status_code == 403  # bob is a member
        params = client_redirect(alice_client.get(next_url), tenant_a)
        code = AuthorizationCode.objects.get(code=params["code"])
        assert code.user == bob

    def test_other_prompt_values_are_kept_in_next(self, alice_client, web):
        _verifier, challenge = pkce_pair()
        next_url = reauth_redirect_next(
            alice_client.get(authorize_url(web, challenge, prompt="login consent"))
        )
        assert parse_qs(urlsplit(next_url).query)["prompt"] == ["consent"]

    def test_an_anonymous_user_with_prompt_login_signs_in_once(self, anon_client, web, tenant_a):
        _verifier, challenge = pkce_pair()
        next_url = login_redirect(anon_client.get(authorize_url(web, challenge, prompt="login")))
        assert "prompt" not in parse_qs(urlsplit(next_url).query)
        signed_in = sign_in_at(anon_client, "alice@acme.test", next_url)
        assert client_redirect(anon_client.get(signed_in["Location"]), tenant_a)["code"]

    def test_with_an_unknown_client_the_session_is_kept_and_an_error_page_shown(
        self, alice_client, web
    ):
        # A bare link must not sign the user out: the request is checked first.
        _verifier, challenge = pkce_pair()
        response = alice_client.get(
            authorize_url(web, challenge, client_id="0" * 32, prompt="login")
        )
        assert_error_page(response, no_codes=True)
        assert "_auth_user_id" in alice_client.session


class TestMaxAge:
    """``max_age`` (OpenID Connect Core §3.1.2.1): a sign-in older than it signs in again."""

    def test_an_older_sign_in_asks_for_the_password_again(self, alice, tenant_a, web):
        http = client_for(tenant_a)
        sign_in(http, alice, tenant_a, seconds_ago=3)
        _verifier, challenge = pkce_pair()
        response = http.get(authorize_url(web, challenge, max_age="1"))
        next_url = reauth_redirect_next(response)
        assert "max_age" not in parse_qs(urlsplit(next_url).query)
        assert AuthorizationCode.objects.count() == 0
        assert http.get("/console/").status_code == 200  # still signed in

    def test_a_recent_sign_in_gets_a_code_with_its_time(self, alice, tenant_a, web):
        http = client_for(tenant_a)
        sign_in(http, alice, tenant_a, seconds_ago=3)
        signed_in_at = http.session[sessions.AUTH_TIME_KEY]
        _verifier, challenge = pkce_pair()
        params = client_redirect(http.get(authorize_url(web, challenge, max_age="600")), tenant_a)
        code = AuthorizationCode.objects.get(code=params["code"])
        assert int(code.auth_time.timestamp()) == signed_in_at

    def test_the_id_token_carries_this_sessions_auth_time_not_last_login(
        self, alice, tenant_a, web
    ):
        alice.last_login = timezone.now() - timedelta(days=3)
        alice.save(update_fields=["last_login"])
        http = client_for(tenant_a)
        sign_in(http, alice, tenant_a, seconds_ago=30)
        signed_in_at = http.session[sessions.AUTH_TIME_KEY]
        alice.last_login = timezone.now()  # another browser signed in since
        alice.save(update_fields=["last_login"])
        verifier, challenge = pkce_pair()
        params = client_redirect(
            http.get(authorize_url(web, challenge, scope="openid", max_age="600")), tenant_a
        )
        body = redeem(client_for(tenant_a), web, params["code"], verifier).json()
        payload = body["id_token"].split(".")[1]
        claims = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
        assert claims["auth_time"] == signed_in_at

    @pytest.mark.parametrize("value", ["abc", "-1", "1.5", "１", "9" * 40])
    def test_a_malformed_max_age_is_invalid_request(self, alice_client, tenant_a, web, value):
        _verifier, challenge = pkce_pair()
        response = alice_client.get(authorize_url(web, challenge, max_age=value))
        params = error_redirect(response, tenant_a)
        assert params["error"] == "invalid_request"

    def test_signing_in_from_anonymous_satisfies_max_age(self, anon_client, tenant_a, web):
        _verifier, challenge = pkce_pair()
        next_url = login_redirect(anon_client.get(authorize_url(web, challenge, max_age="0")))
        assert "max_age" not in parse_qs(urlsplit(next_url).query)
        signed_in = sign_in_at(anon_client, "alice@acme.test", next_url)
        assert client_redirect(anon_client.get(signed_in["Location"]), tenant_a)["code"]


class TestPromptNone:
    def test_without_a_session_the_client_gets_login_required_with_state_and_iss(
        self, anon_client, web, tenant_a
    ):
        _verifier, challenge = pkce_pair()
        params = error_redirect(authorize(anon_client, web, challenge, prompt="none"), tenant_a)
        assert params["error"] == "login_required"
        assert params["state"] == "xyz"
        assert AuthorizationCode.objects.count() == 0

    def test_without_a_session_an_unknown_client_gets_an_error_page(self, anon_client, web):
        _verifier, challenge = pkce_pair()
        response = authorize(anon_client, web, challenge, prompt="none", client_id="f" * 32)
        assert_error_page(response, no_codes=True)

    def test_without_a_session_a_missing_client_id_gets_an_error_page(self, anon_client, web):
        _verifier, challenge = pkce_pair()
        response = authorize(anon_client, web, challenge, prompt="none", client_id=None)
        assert_error_page(response, no_codes=True)

    def test_without_a_session_an_unregistered_redirect_url_gets_an_error_page(
        self, anon_client, web
    ):
        _verifier, challenge = pkce_pair()
        evil = web.at("https://evil.test/callback")
        assert_error_page(authorize(anon_client, evil, challenge, prompt="none"), no_codes=True)

    def test_with_a_session_and_a_trusted_client_the_code_comes_silently(
        self, alice_client, web, tenant_a
    ):
        _verifier, challenge = pkce_pair()
        params = client_redirect(authorize(alice_client, web, challenge, prompt="none"), tenant_a)
        assert params["code"]
        assert params["state"] == "xyz"

    def test_when_consent_would_be_needed_the_client_gets_consent_required(
        self, alice_client, tenant_a, alice
    ):
        client, secret = create_oauth_client(tenant_a, actor=alice, consent_method="required")
        registered = Registered(client, secret)
        _verifier, challenge = pkce_pair()
        params = error_redirect(
            authorize(alice_client, registered, challenge, prompt="none"), tenant_a
        )
        assert params["error"] == "consent_required"
        assert params["state"] == "xyz"
        assert AuthorizationCode.objects.count() == 0


# --- Redirect URL matching -----------------------------------------------------------------


LOOKALIKES = [
    "https://app.example.com/callbackx",
    "https://app.example.com/callback/",
    "https://app.example.com/callback?x=1",
    "https://app.example.com/callback?",
    "https://app.example.com/callback#f",
    "https://app.example.com/Callback",
    "https://app.example.com/CALLBACK",
    "https://APP.example.com/callback",
    "https://app.Example.com/callback",
    "https://app.example.com@evil.test/callback",
    "https://app.example.com.evil.test/callback",
    "http://app.example.com/callback",
    "https://app.example.com./callback",
    "https://app.example.com:443/callback",
    "https://app.example.com/%63allback",
    "https://app.example.com/callback%2F",
    "https://app.example.com/callback%20",
    "https://app%2Eexample.com/callback",
    "https://app.example.com/callback/../callback",
    "https://app.example.com//callback",
    "//app.example.com/callback",
    "/callback",
    "https://evil.test/callback",
]


class TestRedirectUrl:
    def test_the_registered_url_works(self, alice_client, web, tenant_a):
        _verifier, challenge = pkce_pair()
        assert client_redirect(authorize(alice_client, web, challenge), tenant_a)["code"]

    def test_the_second_registered_url_works_too(self, alice_client, web, tenant_a):
        _verifier, challenge = pkce_pair()
        loopback = web.at("http://localhost:8080/cb")
        params = client_redirect(
            authorize(alice_client, loopback, challenge), tenant_a, "http://localhost:8080/cb"
        )
        assert params["code"]

    @pytest.mark.parametrize("redirect_uri", LOOKALIKES)
    def test_a_lookalike_gets_an_error_page_and_no_redirect(self, alice_client, web, redirect_uri):
        _verifier, challenge = pkce_pair()
        response = authorize(alice_client, web.at(redirect_uri), challenge)
        assert_error_page(response, no_codes=True)

    @pytest.mark.parametrize("redirect_uri", ["https://app.example.com@evil.test/callback"])
    def test_a_lookalike_gets_an_error_page_with_prompt_none_too(
        self, anon_client, web, redirect_uri
    ):
        _verifier, challenge = pkce_pair()
        response = authorize(anon_client, web.at(redirect_uri), challenge, prompt="none")
        assert_error_page(response, no_codes=True)

    def test_a_missing_redirect_url_is_refused_when_several_are_registered(self, alice_client, web):
        # RFC 6749 §3.1.2.3: with several registered URLs the request must name one.
        _verifier, challenge = pkce_pair()
        response = authorize(alice_client, web.at(None), challenge)
        assert_error_page(response, no_codes=True)

    def test_the_code_is_bound_to_the_redirect_url_of_the_request(self, alice_client, api, web):
        code, verifier = get_code(alice_client, web)
        other = web.at("http://localhost:8080/cb")
        response = redeem(api, other, code, verifier)
        assert response.status_code == 400, response.content
        # RFC 6749 §5.2 names invalid_grant; oauthlib answers invalid_request.
        assert response.json()["error"] in {"invalid_grant", "invalid_request"}
        assert "access_token" not in response.json()


class TestLoopbackRedirectUrl:
    """A registered http://localhost URL matches on any port (RFC 8252 §7.3), nothing else."""

    @pytest.mark.parametrize(
        "redirect_uri",
        ["http://localhost:9999/cb", "http://localhost:1/cb", "http://localhost:65535/cb"],
    )
    def test_only_the_port_may_vary(self, alice_client, api, web, tenant_a, redirect_uri):
        registered = web.at(redirect_uri)
        verifier, challenge = pkce_pair()
        params = client_redirect(
            authorize(alice_client, registered, challenge), tenant_a, redirect_uri
        )
        assert params["state"] == "xyz"
        assert granted_code(params["code"]).redirect_uri == redirect_uri
        token = redeem(api, registered, params["code"], verifier)
        assert token.status_code == 200, token.content

    @pytest.mark.parametrize(
        "redirect_uri",
        [
            "http://127.0.0.2:8080/cb",
            "http://127.0.0.1:8080/cb",
            "http://localhost.evil.test/cb",
            "http://localhost.evil.test:8080/cb",
            "http://localhost:80@evil.test/cb",
            "http://localhost:8080@evil.test/cb",
            "http://localhost@evil.test:8080/cb",
            "http://evil.test@localhost:8080/cb",
            "http://localhost:9999/other",
            "http://localhost:9999/cb/",
            "http://localhost:9999/cbx",
            "http://localhost:9999/cb?x=1",
            "http://localhost:9999/cb#f",
            "http://LOCALHOST:9999/cb",
            "https://localhost:8080/cb",
            "https://localhost:9999/cb",
        ],
    )
    def test_anything_else_gets_an_error_page(self, alice_client, web, redirect_uri):
        _verifier, challenge = pkce_pair()
        response = authorize(alice_client, web.at(redirect_uri), challenge)
        assert_error_page(response, no_codes=True)

    @pytest.mark.parametrize(
        "redirect_uri",
        ["http://localhost:80@evil.test/cb", "http://localhost:8080@evil.test/cb"],
    )
    def test_the_clients_own_matcher_refuses_userinfo_lookalikes(self, web, redirect_uri):
        # The endpoint refuses these only because oauthlib's URI syntax check
        # happens to; the client's matching rule must not accept them either.
        assert not web.client.redirect_uri_allowed(redirect_uri)


# --- The client ------------------------------------------------------------------------------


class TestClient:
    def test_an_unknown_client_id_gets_an_error_page(self, alice_client, web):
        _verifier, challenge = pkce_pair()
        assert_error_page(
            authorize(alice_client, web, challenge, client_id="0" * 32), no_codes=True
        )

    def test_a_malformed_client_id_gets_an_error_page(self, alice_client, web):
        _verifier, challenge = pkce_pair()
        assert_error_page(
            authorize(alice_client, web, challenge, client_id="x' OR '1'='1"), no_codes=True
        )

    def test_a_missing_client_id_gets_an_error_page(self, alice_client, web):
        _verifier, challenge = pkce_pair()
        assert_error_page(authorize(alice_client, web, challenge, client_id=None), no_codes=True)

    def test_another_tenants_client_gets_an_error_page(self, alice_client, web, tenant_b, carol):
        # Same redirect URL as ``web``: only the tenant differs.
        other, secret = create_oauth_client(tenant_b, actor=carol, consent_method="trusted")
        _verifier, challenge = pkce_pair()
        assert_error_page(
            authorize(alice_client, Registered(other, secret), challenge), no_codes=True
        )

    def test_a_deleted_client_gets_an_error_page(self, alice_client, web, tenant_a, alice):
        delete_clients(tenant_a, [web.client.pk], actor=alice)
        _verifier, challenge = pkce_pair()
        assert_error_page(authorize(alice_client, web, challenge), no_codes=True)

    def test_a_spa_client_gets_a_code_at_its_own_url(self, alice_client, spa, tenant_a):
        _verifier, challenge = pkce_pair()
        params = client_redirect(
            authorize(alice_client, spa, challenge), tenant_a, "https://spa.example.com/cb"
        )
        assert params["code"]


# --- response_type -------------------------------------------------------------------------


class TestResponseType:
    @pytest.mark.parametrize("response_type", ["token", "id_token", None, "", "CODE", "xyz"])
    def test_anything_but_code_is_an_error_for_the_client(
        self, alice_client, web, tenant_a, response_type
    ):
        _verifier, challenge = pkce_pair()
        response = authorize(alice_client, web, challenge, response_type=response_type)
        params = error_redirect(response, tenant_a)
        assert params["error"] in {"unsupported_response_type", "invalid_request"}
        assert params["state"] == "xyz"
        assert AuthorizationCode.objects.count() == 0

    @pytest.mark.parametrize(
        "response_type", ["code token", "code id_token", "code id_token token"]
    )
    def test_hybrid_response_types_are_refused(self, alice_client, web, tenant_a, response_type):
        _verifier, challenge = pkce_pair()
        response = authorize(
            alice_client, web, challenge, response_type=response_type, scope="openid", nonce="n"
        )
        params = error_redirect(response, tenant_a)
        assert params["error"] in {
            "unsupported_response_type",
            "unauthorized_client",
            "invalid_request",
        }
        assert params["state"] == "xyz"
        assert AuthorizationCode.objects.count() == 0

    def test_an_unknown_client_with_a_bad_response_type_still_gets_no_redirect(
        self, alice_client, web
    ):
        _verifier, challenge = pkce_pair()
        response = authorize(
            alice_client, web, challenge, response_type="token", client_id="0" * 32
        )
        assert_error_page(response, no_codes=True)


# --- PKCE ------------------------------------------------------------------------------------


class TestPkce:
    def test_a_missing_code_challenge_is_invalid_request(self, alice_client, web, tenant_a):
        params = error_redirect(authorize(alice_client, web, None), tenant_a)
        assert params["error"] == "invalid_request"
        assert params["state"] == "xyz"
        assert AuthorizationCode.objects.count() == 0

    def test_the_plain_method_is_refused(self, alice_client, web, tenant_a):
        verifier, _challenge = pkce_pair()
        response = authorize(alice_client, web, verifier, code_challenge_method="plain")
        params = error_redirect(response, tenant_a)
        assert params["error"] == "invalid_request"
        assert params["state"] == "xyz"
        assert AuthorizationCode.objects.count() == 0

    def test_a_missing_method_is_refused(self, alice_client, web, tenant_a):
        _verifier, challenge = pkce_pair()
        response = authorize(alice_client, web, challenge, code_challenge_method=None)
        params = error_redirect(response, tenant_a)
        assert params["error"] == "invalid_request"
        assert AuthorizationCode.objects.count() == 0

    @pytest.mark.parametrize("method", ["s256", "S512", "SHA256", ""])
    def test_an_unknown_method_is_refused(self, alice_client, web, tenant_a, method):
        _verifier, challenge = pkce_pair()
        response = authorize(alice_client, web, challenge, code_challenge_method=method)
        params = error_redirect(response, tenant_a)
        assert params["error"] == "invalid_request"
        assert AuthorizationCode.objects.count() == 0

    @pytest.mark.parametrize(
        "challenge",
        [
            "a" * 42,  # too short
            "a" * 129,  # too long
            "a" * 42 + "+",  # not in the unreserved set
            "a" * 42 + "/",
            "a" * 42 + "=",
            "a" * 42 + " ",
            "a" * 42 + "%",
            "a" * 42 + "é",
            "",
        ],
    )
    def test_a_malformed_challenge_is_refused(self, alice_client, web, tenant_a, challenge):
        response = authorize(alice_client, web, challenge)
        params = error_redirect(response, tenant_a)
        assert params["error"] == "invalid_request"
        assert params["state"] == "xyz"
        assert AuthorizationCode.objects.count() == 0

    @pytest.mark.parametrize("challenge", ["a" * 43, "a" * 128, "AZaz09-._~" * 5])
    def test_a_challenge_of_43_to_128_unreserved_characters_is_accepted(
        self, alice_client, web, tenant_a, challenge
    ):
        params = client_redirect(authorize(alice_client, web, challenge), tenant_a)
        assert granted_code(params["code"]).code_challenge == challenge


# --- Scopes ----------------------------------------------------------------------------------


class TestScope:
    @pytest.mark.parametrize(
        "scope", ["admin_classic", "user_default admin_classic", "nonsense", "USER_DEFAULT"]
    )
    def test_a_scope_outside_the_clients_allowed_scopes_is_invalid_scope(
        self, alice_client, web, tenant_a, scope
    ):
        _verifier, challenge = pkce_pair()
        params = error_redirect(authorize(alice_client, web, challenge, scope=scope), tenant_a)
        assert params["error"] == "invalid_scope"
        assert params["state"] == "xyz"
        assert AuthorizationCode.objects.count() == 0

    @pytest.mark.parametrize("scope", [None, "", " "])
    def test_no_scope_means_the_allowed_scopes_except_offline_access(
        self, alice_client, web, tenant_a, scope
    ):
        _verifier, challenge = pkce_pair()
        params = client_redirect(authorize(alice_client, web, challenge, scope=scope), tenant_a)
        granted = set(granted_code(params["code"]).scope.split())
        assert granted == {"user_default", "openid", "profile", "email"}

    def test_the_requested_scopes_are_what_the_code_carries(self, alice_client, web, tenant_a):
        _verifier, challenge = pkce_pair()
        response = authorize(alice_client, web, challenge, scope="user_default offline_access")
        params = client_redirect(response, tenant_a)
        assert set(granted_code(params["code"]).scope.split()) == {
            "user_default",
            "offline_access",
        }


# --- approval_prompt -------------------------------------------------------------------------


class TestApprovalPrompt:
    """DOT's client-controlled ``approval_prompt`` never decides whether to ask."""

    @pytest.mark.parametrize("value", ["auto", "force"])
    def test_a_trusted_client_gets_its_code_without_a_page(
        self, alice_client, web, tenant_a, value
    ):
        _verifier, challenge = pkce_pair()
        response = authorize(alice_client, web, challenge, approval_prompt=value)
        assert client_redirect(response, tenant_a)["code"]

    @pytest.mark.parametrize("value", ["auto", "force"])
    def test_without_consent_the_page_is_shown(self, alice_client, tenant_a, alice, value):
        registered = required_client(tenant_a, alice)
        _verifier, challenge = pkce_pair()
        response = authorize(alice_client, registered, challenge, approval_prompt=value)
        assert response.status_code == 200
        assert "Location" not in response
        assert AuthorizationCode.objects.count() == 0

    @pytest.mark.parametrize("value", ["auto", "force"])
    def test_with_consent_recorded_the_code_comes_straight_away(
        self, alice_client, tenant_a, alice, value
    ):
        from consent.services import record_consent

        registered = required_client(tenant_a, alice)
        record_consent(tenant_a, alice, registered.client, ["user_default"])
        _verifier, challenge = pkce_pair()
        response = authorize(alice_client, registered, challenge, approval_prompt=value)
        assert client_redirect(response, tenant_a)["code"]

    def test_a_live_token_without_recorded_consent_does_not_skip_the_page(
        self, alice_client, api, tenant_a, alice
    ):
        # DOT's "auto" would skip the page for a user holding a live token.
        from consent.models import ConsentGrant
        from consent.services import record_consent

        registered = required_client(tenant_a, alice)
        record_consent(tenant_a, alice, registered.client, ["user_default"])
        code, verifier = get_code(alice_client, registered)
        assert redeem(api, registered, code, verifier).status_code == 200
        ConsentGrant.objects.all().delete()

        _verifier, challenge = pkce_pair()
        response = authorize(alice_client, registered, challenge, approval_prompt="auto")
        assert response.status_code == 200
        assert "Location" not in response


# --- Tenant binding --------------------------------------------------------------------------


class TestTenantBinding:
    def test_the_code_row_belongs_to_the_tenant_of_the_host(self, alice_client, web, tenant_a):
        code, _verifier = get_code(alice_client, web)
        assert granted_code(code).tenant == tenant_a

    def test_tenant_a_client_on_tenant_b_host_gets_an_error_page(self, carol_client, web):
        _verifier, challenge = pkce_pair()
        assert_error_page(authorize(carol_client, web, challenge), no_codes=True)

    def test_tenant_a_client_on_tenant_b_host_with_prompt_none_gets_an_error_page(
        self, tenant_b, web
    ):
        _verifier, challenge = pkce_pair()
        assert_error_page(
            authorize(client_for(tenant_b), web, challenge, prompt="none"), no_codes=True
        )

    def test_a_code_from_tenant_a_is_not_redeemed_at_tenant_b(
        self, alice_client, web, tenant_b, carol
    ):
        code, verifier = get_code(alice_client, web)
        response = redeem(client_for(tenant_b), web, code, verifier)
        assert response.status_code in {400, 401}, response.content
        assert response.json()["error"] in {"invalid_client", "invalid_grant"}
        assert "access_token" not in response.json()
