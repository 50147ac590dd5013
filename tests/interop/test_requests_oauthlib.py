"""requests-oauthlib (OAuth2Session, BackendApplicationClient) against the live server."""

import time

import pytest
import requests
from oauthlib.oauth2 import (
    BackendApplicationClient,
    InvalidClientError,
    InvalidGrantError,
    UnauthorizedClientError,
)
from requests.auth import HTTPBasicAuth
from requests_oauthlib import OAuth2Session

from tests.flows import SPA_ORIGIN, query_of

pytestmark = [pytest.mark.required_in_ci, pytest.mark.django_db(transaction=True)]


@pytest.fixture(autouse=True)
def plain_http_allowed(monkeypatch):
    """oauthlib's client side refuses http:// URLs unless told; the live server speaks http."""
    monkeypatch.setenv("OAUTHLIB_INSECURE_TRANSPORT", "1")


def start(session: OAuth2Session, metadata: dict, sign_in_and_authorize, issuer: str):
    """The library builds the authorization URL; the signed-in user follows it."""
    url, state = session.authorization_url(metadata["authorization_endpoint"])
    sent = query_of(url)
    assert sent["code_challenge_method"] == "S256"
    assert len(sent["code_challenge"]) == 43
    callback = sign_in_and_authorize(url)
    received = query_of(callback)
    assert received["state"] == state
    assert received["iss"] == issuer  # RFC 9207, checked by the app: the library ignores it
    return callback


def users_me(session: OAuth2Session, issuer: str) -> dict:
    response = session.get(f"{issuer}/api/v1/users/me", timeout=10)
    assert response.status_code == 200, response.text
    return response.json()


def test_web_client_code_flow_refresh_and_api(metadata, issuer, web, sign_in_and_authorize):
    session = OAuth2Session(
        web.client_id,
        redirect_uri=web.redirect_uri,
        scope=["user_default", "offline_access"],
        pkce="S256",
    )
    callback = start(session, metadata, sign_in_and_authorize, issuer)

    # client_secret_basic: requests-oauthlib's default when given a secret.
    token = session.fetch_token(
        metadata["token_endpoint"], authorization_response=callback, client_secret=web.secret
    )
    assert token["token_type"] == "Bearer"
    assert set(token["scope"]) == {"user_default", "offline_access"}
    assert token["refresh_token"]
    assert users_me(session, issuer)["email"] == "alice@acme.test"

    first_refresh_token = token["refresh_token"]
    refreshed = session.refresh_token(
        metadata["token_endpoint"], auth=HTTPBasicAuth(web.client_id, web.secret)
    )
    assert refreshed["access_token"] != token["access_token"]
    assert refreshed["refresh_token"] != first_refresh_token  # rotated
    assert users_me(session, issuer)["email"] == "alice@acme.test"

    # The rotated-out refresh token is refused (and revokes its family).
    with pytest.raises(InvalidGrantError):
        session.refresh_token(
            metadata["token_endpoint"],
            refresh_token=first_refresh_token,
            auth=HTTPBasicAuth(web.client_id, web.secret),
        )


def test_web_client_automatic_refresh_with_client_secret_post(
    metadata, issuer, web, sign_in_and_authorize
):
    updates = []
    session = OAuth2Session(
        web.client_id,
        redirect_uri=web.redirect_uri,
        scope=["user_default", "offline_access"],
        pkce="S256",
        auto_refresh_url=metadata["token_endpoint"],
        # Sent in the body on refresh: client_secret_post.
        auto_refresh_kwargs={"client_id": web.client_id, "client_secret": web.secret},
        token_updater=updates.append,
    )
    callback = start(session, metadata, sign_in_and_authorize, issuer)
    token = session.fetch_token(
        metadata["token_endpoint"],
        authorization_response=callback,
        client_secret=web.secret,
        include_client_id=True,  # client_secret_post for the code too
    )
    # Pretend the access token has expired: the next API call refreshes first.
    session.token = {**token, "expires_at": time.time() - 30}
    assert users_me(session, issuer)["email"] == "alice@acme.test"
    assert len(updates) == 1
    assert updates[0]["access_token"] != token["access_token"]


def test_no_refresh_token_without_offline_access(metadata, issuer, web, sign_in_and_authorize):
    session = OAuth2Session(
        web.client_id, redirect_uri=web.redirect_uri, scope=["user_default"], pkce="S256"
    )
    callback = start(session, metadata, sign_in_and_authorize, issuer)
    token = session.fetch_token(
        metadata["token_endpoint"], authorization_response=callback, client_secret=web.secret
    )
    assert "refresh_token" not in token
    assert users_me(session, issuer)["email"] == "alice@acme.test"


def test_a_wrong_secret_is_invalid_client(metadata, issuer, web, sign_in_and_authorize):
    session = OAuth2Session(
        web.client_id, redirect_uri=web.redirect_uri, scope=["user_default"], pkce="S256"
    )
    callback = start(session, metadata, sign_in_and_authorize, issuer)
    with pytest.raises(InvalidClientError):
        session.fetch_token(
            metadata["token_endpoint"], authorization_response=callback, client_secret="wrong"
        )


def test_spa_public_client_with_origin(metadata, issuer, spa, sign_in_and_authorize):
    session = OAuth2Session(
        spa.client_id,
        redirect_uri=spa.redirect_uri,
        scope=["user_default", "offline_access"],
        pkce="S256",
    )
    session.headers["Origin"] = SPA_ORIGIN  # what a browser adds to the SPA's fetch()
    token_responses = []

    def keep(response):
        token_responses.append(response)
        return response

    session.register_compliance_hook("access_token_response", keep)
    session.register_compliance_hook("refresh_token_response", keep)

    callback = start(session, metadata, sign_in_and_authorize, issuer)
    # A public client: client_id in the body, no secret (token_endpoint_auth_method none).
    token = session.fetch_token(
        metadata["token_endpoint"], authorization_response=callback, include_client_id=True
    )
    assert token["refresh_token"]
    me = session.get(f"{issuer}/api/v1/users/me", timeout=10)
    assert me.status_code == 200, me.text
    assert me.json()["email"] == "alice@acme.test"
    assert me.headers["Access-Control-Allow-Origin"] == SPA_ORIGIN

    session.refresh_token(metadata["token_endpoint"], client_id=spa.client_id)
    assert users_me(session, issuer)["email"] == "alice@acme.test"

    assert [r.status_code for r in token_responses] == [200, 200]
    for response in token_responses:
        assert response.headers["Access-Control-Allow-Origin"] == SPA_ORIGIN
        assert response.headers["Access-Control-Allow-Credentials"] == "true"
        assert response.headers["Cache-Control"] == "no-store"


def test_native_public_client_on_a_loopback_port(
    metadata, issuer, native, sign_in_and_authorize, loopback_listener
):
    redirect_uri, received = loopback_listener  # http://127.0.0.1:<random port>/cb
    session = OAuth2Session(
        native.client_id, redirect_uri=redirect_uri, scope=["user_default"], pkce="S256"
    )
    callback = start(session, metadata, sign_in_and_authorize, issuer)
    assert callback.startswith(f"{redirect_uri}?")
    # The browser follows the redirect to the app's loopback listener.
    assert requests.get(callback, timeout=10).status_code == 200
    assert received == [callback]

    token = session.fetch_token(
        metadata["token_endpoint"], authorization_response=received[0], include_client_id=True
    )
    assert "refresh_token" not in token
    assert users_me(session, issuer)["email"] == "alice@acme.test"


def test_client_credentials_with_backend_application_client(metadata, issuer, m2m):
    session = OAuth2Session(client=BackendApplicationClient(client_id=m2m.client_id))
    token = session.fetch_token(
        metadata["token_endpoint"], client_id=m2m.client_id, client_secret=m2m.secret
    )
    assert token["token_type"] == "Bearer"
    assert "refresh_token" not in token
    me = users_me(session, issuer)
    assert me["type"] == "service"
    assert me["clientId"] == m2m.client_id
    assert "email" not in me


def test_client_credentials_are_refused_without_machine_to_machine(metadata, web):
    session = OAuth2Session(client=BackendApplicationClient(client_id=web.client_id))
    with pytest.raises(UnauthorizedClientError):
        session.fetch_token(
            metadata["token_endpoint"], client_id=web.client_id, client_secret=web.secret
        )
