"""Authlib's requests client (authlib.integrations.requests_client) against the live server.

Covers each token endpoint authentication method the server advertises
(client_secret_basic, client_secret_post, none), ID tokens checked with the
JWKS the way Authlib's own OpenID integrations do, introspection and
revocation, and Authlib's validation of the discovery document.
"""

import time

import pytest
import requests
from authlib.common.security import generate_token
from authlib.integrations.requests_client import OAuth2Session
from authlib.oidc.core import CodeIDToken
from authlib.oidc.discovery import OpenIDProviderMetadata
from joserfc import jwt
from joserfc.jwk import KeySet
from joserfc.jws import JWSRegistry

from tests.flows import SPA_ORIGIN, query_of

pytestmark = [pytest.mark.required_in_ci, pytest.mark.django_db(transaction=True)]


def start(session: OAuth2Session, metadata: dict, sign_in_and_authorize, issuer: str, **extra):
    """Build the authorization URL (PKCE S256), let the signed-in user follow it.

    Returns ``(callback_url, state, code_verifier)``.
    """
    code_verifier = generate_token(48)
    url, state = session.create_authorization_url(
        metadata["authorization_endpoint"], code_verifier=code_verifier, **extra
    )
    assert query_of(url)["code_challenge_method"] == "S256"
    callback = sign_in_and_authorize(url)
    received = query_of(callback)
    assert received["state"] == state
    assert received["iss"] == issuer  # RFC 9207: the application's check
    return callback, state, code_verifier


def parse_id_token(token: dict, metadata: dict, client_id: str, nonce: str) -> CodeIDToken:
    """What Authlib's OpenID mixin (``parse_id_token``) does: JWKS, RS256, claims, at_hash."""
    jwks = requests.get(metadata["jwks_uri"], timeout=10).json()
    decoded = jwt.decode(
        token["id_token"],
        KeySet.import_key_set(jwks),
        registry=JWSRegistry(algorithms=metadata["id_token_signing_alg_values_supported"]),
    )
    claims = CodeIDToken(
        decoded.claims,
        decoded.header,
        {"iss": {"values": [metadata["issuer"]]}},
        {"nonce": nonce, "client_id": client_id, "access_token": token["access_token"]},
    )
    claims.validate(leeway=30)
    return claims


def users_me(session: OAuth2Session, issuer: str) -> requests.Response:
    return session.get(f"{issuer}/api/v1/users/me", timeout=10)


def test_authlib_accepts_the_discovery_document(metadata, monkeypatch):
    monkeypatch.setenv("AUTHLIB_INSECURE_TRANSPORT", "1")  # the live server speaks http
    OpenIDProviderMetadata(metadata).validate()
    assert "S256" in metadata["code_challenge_methods_supported"]
    assert metadata["authorization_response_iss_parameter_supported"] is True


def test_web_client_secret_basic_with_openid(metadata, issuer, web, sign_in_and_authorize):
    session = OAuth2Session(
        web.client_id,
        web.secret,
        token_endpoint_auth_method="client_secret_basic",
        scope="openid profile email user_default",
        redirect_uri=web.redirect_uri,
        code_challenge_method="S256",
    )
    nonce = generate_token(20)
    callback, state, verifier = start(session, metadata, sign_in_and_authorize, issuer, nonce=nonce)
    token = session.fetch_token(
        metadata["token_endpoint"],
        authorization_response=callback,
        state=state,
        code_verifier=verifier,
    )
    assert token["token_type"] == "Bearer"
    assert "refresh_token" not in token

    claims = parse_id_token(token, metadata, web.client_id, nonce)
    me = users_me(session, issuer)
    assert me.status_code == 200, me.text
    assert claims["sub"] == me.json()["subject"]
    assert claims["iss"] == issuer
    assert claims["aud"] == web.client_id

    userinfo = session.get(metadata["userinfo_endpoint"], timeout=10)
    assert userinfo.status_code == 200, userinfo.text
    assert userinfo.json()["sub"] == claims["sub"]
    assert userinfo.json()["email"] == "alice@acme.test"


def test_web_client_secret_post_refresh_introspect_revoke(
    metadata, issuer, web, sign_in_and_authorize
):
    session = OAuth2Session(
        web.client_id,
        web.secret,
        token_endpoint_auth_method="client_secret_post",
        revocation_endpoint_auth_method="client_secret_post",
        scope="user_default offline_access",
        redirect_uri=web.redirect_uri,
        code_challenge_method="S256",
    )
    callback, state, verifier = start(session, metadata, sign_in_and_authorize, issuer)
    token = session.fetch_token(
        metadata["token_endpoint"],
        authorization_response=callback,
        state=state,
        code_verifier=verifier,
    )
    assert token["refresh_token"]
    assert users_me(session, issuer).json()["email"] == "alice@acme.test"

    refreshed = session.refresh_token(metadata["token_endpoint"])
    assert refreshed["access_token"] != token["access_token"]
    assert refreshed["refresh_token"] != token["refresh_token"]
    access_token = refreshed["access_token"]

    introspected = session.introspect_token(metadata["introspection_endpoint"], token=access_token)
    assert introspected.status_code == 200, introspected.text
    assert introspected.json()["active"] is True
    assert introspected.json()["client_id"] == web.client_id

    revoked = session.revoke_token(
        metadata["revocation_endpoint"], token=access_token, token_type_hint="access_token"
    )
    assert revoked.status_code == 200, revoked.text
    # A revocation reaches every process's revocation list within a second.
    deadline = time.monotonic() + 3
    while users_me(session, issuer).status_code == 200 and time.monotonic() < deadline:
        time.sleep(0.1)
    gone = users_me(session, issuer)
    assert gone.status_code == 401, gone.text
    assert gone.json()["error"] == "invalid_token"
    assert session.introspect_token(
        metadata["introspection_endpoint"], token=access_token
    ).json() == {"active": False}


def test_spa_public_client_auth_method_none(metadata, issuer, spa, sign_in_and_authorize):
    session = OAuth2Session(
        spa.client_id,
        token_endpoint_auth_method="none",
        scope="user_default offline_access",
        redirect_uri=spa.redirect_uri,
        code_challenge_method="S256",
    )
    session.headers["Origin"] = SPA_ORIGIN
    responses = []

    def keep(response):
        responses.append(response)
        return response

    session.register_compliance_hook("access_token_response", keep)
    callback, state, verifier = start(session, metadata, sign_in_and_authorize, issuer)
    token = session.fetch_token(
        metadata["token_endpoint"],
        authorization_response=callback,
        state=state,
        code_verifier=verifier,
    )
    assert responses[0].headers["Access-Control-Allow-Origin"] == SPA_ORIGIN
    me = users_me(session, issuer)
    assert me.status_code == 200, me.text
    assert me.json()["email"] == "alice@acme.test"

    session.refresh_token(metadata["token_endpoint"])
    assert session.token["access_token"] != token["access_token"]
    assert users_me(session, issuer).json()["email"] == "alice@acme.test"


def test_native_public_client_with_openid_on_a_loopback_port(
    metadata, issuer, native, sign_in_and_authorize, loopback_listener
):
    redirect_uri, received = loopback_listener
    session = OAuth2Session(
        native.client_id,
        token_endpoint_auth_method="none",
        scope="openid email user_default",
        redirect_uri=redirect_uri,
        code_challenge_method="S256",
    )
    nonce = generate_token(20)
    callback, state, verifier = start(session, metadata, sign_in_and_authorize, issuer, nonce=nonce)
    assert requests.get(callback, timeout=10).status_code == 200  # the browser hands it over
    token = session.fetch_token(
        metadata["token_endpoint"],
        authorization_response=received[0],
        state=state,
        code_verifier=verifier,
    )
    claims = parse_id_token(token, metadata, native.client_id, nonce)
    assert claims["email"] == "alice@acme.test"
    assert users_me(session, issuer).json()["email"] == "alice@acme.test"


def test_the_code_verifier_is_checked(metadata, issuer, web, sign_in_and_authorize):
    from authlib.integrations.base_client import OAuthError

    session = OAuth2Session(
        web.client_id,
        web.secret,
        scope="user_default",
        redirect_uri=web.redirect_uri,
        code_challenge_method="S256",
    )
    callback, state, _verifier = start(session, metadata, sign_in_and_authorize, issuer)
    with pytest.raises(OAuthError) as raised:
        session.fetch_token(
            metadata["token_endpoint"],
            authorization_response=callback,
            state=state,
            code_verifier=generate_token(48),
        )
    assert raised.value.error == "invalid_grant"


def test_client_credentials(metadata, issuer, m2m):
    session = OAuth2Session(m2m.client_id, m2m.secret, scope="user_default")
    token = session.fetch_token(metadata["token_endpoint"], grant_type="client_credentials")
    assert token["token_type"] == "Bearer"
    me = users_me(session, issuer)
    assert me.status_code == 200, me.text
    assert me.json()["type"] == "service"
