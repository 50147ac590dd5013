"""Qlik's Python SDK (PyPI ``qlik-sdk``) against the live server.

qlik-sdk 0.17.0 (the latest release) pins ``requests==2.27.1`` (and so
``urllib3<1.27``), ``PyJWT==2.4.0`` and ``websocket-client==1.3.2``; next to
the server it would downgrade what the server runs with. So it lives in its
own virtual environment, ``.venv-qlik-sdk`` (``make test`` makes it from
``tests/interop/drivers/qlik_sdk_requirements.txt``), and these tests run
``tests/interop/drivers/qlik_sdk_driver.py`` there. The driver uses the SDK
and reports what it saw; the browser step (sign-in) happens here.

What the SDK does, as these tests show: ``Auth.generate_authorization_url``
always sends PKCE S256; ``Auth.authorize`` posts a JSON body to
``/oauth/token`` (with HTTP Basic when a client secret is configured);
``Qlik.users.get_me()`` calls ``/api/v1/users/me``. Without a client secret
(public clients) the SDK's REST client sends no bearer token, so a public
client's access token is used through ``AuthType.APIKey``.
"""

import json
import time

import pytest
import requests

from tests.flows import basic, query_of
from tests.interop.conftest import run_driver

pytestmark = [pytest.mark.required_in_ci, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def sdk_sign_in(sign_in_and_authorize, issuer):
    """The browser step for the SDK: checks its authorization URL, returns the callback URL."""

    def sign_in(url: str) -> str:
        assert query_of(url)["code_challenge_method"] == "S256"
        callback = sign_in_and_authorize(url)
        assert query_of(callback)["iss"] == issuer
        return callback

    return sign_in


def token_requests(exchanges: list[dict]) -> list[dict]:
    return [e for e in exchanges if e["url"].endswith("/oauth/token")]


def test_web_client_code_flow_refresh_and_users_me(issuer, web, qlik_sdk_command, sdk_sign_in):
    ran = run_driver(
        qlik_sdk_command,
        {
            "scenario": "sign_in_refresh_and_users_me",
            "host": issuer,
            "client_id": web.client_id,
            "client_secret": web.secret,
            "redirect_url": web.redirect_uri,
            "scope": ["user_default", "offline_access"],
        },
        sdk_sign_in,
    )
    result = ran["result"]
    assert result["token"]["token_type"] == "Bearer"
    assert result["refresh_token_kept"]
    assert result["me"]["email"] == "alice@acme.test"
    assert result["me"]["tenantId"] == str(web.client.tenant_id)
    assert result["refreshed_access_token"] != result["access_token"]
    assert result["me_after_refresh"]["email"] == "alice@acme.test"

    code_exchange, refresh = token_requests(ran["exchanges"])
    assert code_exchange["headers"]["content-type"] == "application/json"
    assert code_exchange["headers"]["authorization"] == basic(web)
    assert json.loads(code_exchange["body"])["grant_type"] == "authorization_code"
    assert json.loads(refresh["body"])["grant_type"] == "refresh_token"


def test_deauthorize_revokes_the_access_token(issuer, web, qlik_sdk_command, sdk_sign_in):
    """``Auth.deauthorize`` posts the token to /oauth/revoke with itself as the bearer.

    The SDK sends ``Authorization: Bearer <the access token>`` and
    ``{"token": ..., "token_type_hint": "access_token"}`` as JSON, no client
    credentials. The server promises that Qlik's own client libraries work
    against it, so the SDK's sign-out must revoke the token.
    """
    ran = run_driver(
        qlik_sdk_command,
        {
            "scenario": "sign_in_then_deauthorize",
            "host": issuer,
            "client_id": web.client_id,
            "client_secret": web.secret,
            "redirect_url": web.redirect_uri,
            "scope": ["user_default"],
        },
        sdk_sign_in,
    )
    access_token = ran["result"]["access_token"]
    (revoke,) = [e for e in ran["exchanges"] if e["url"].endswith("/oauth/revoke")]
    assert revoke["headers"]["authorization"] == f"Bearer {access_token}"
    assert json.loads(revoke["body"]) == {"token": access_token, "token_type_hint": "access_token"}
    assert revoke["status"] == 200, revoke["response"]

    deadline = time.monotonic() + 3
    while True:
        me = requests.get(
            f"{issuer}/api/v1/users/me",
            headers={"Authorization": f"Bearer {access_token}"},
            timeout=10,
        )
        if me.status_code != 200 or time.monotonic() > deadline:
            break
        time.sleep(0.1)
    assert me.status_code == 401


def test_client_credentials(issuer, m2m, qlik_sdk_command):
    ran = run_driver(
        qlik_sdk_command,
        {
            "scenario": "client_credentials",
            "host": issuer,
            "client_id": m2m.client_id,
            "client_secret": m2m.secret,
        },
    )
    result = ran["result"]
    assert result["token"]["token_type"] == "Bearer"
    assert result["me"]["type"] == "service"
    assert result["me"]["clientId"] == m2m.client_id
    # No callback URL: the SDK asks for client_credentials.
    (token_request,) = token_requests(ran["exchanges"])
    assert json.loads(token_request["body"])["grant_type"] == "client_credentials"
    assert token_request["headers"]["authorization"] == basic(m2m)


def test_native_public_client_then_api_key_mode(
    issuer, native, loopback_listener, qlik_sdk_command, sdk_sign_in
):
    redirect_uri, _received = loopback_listener
    ran = run_driver(
        qlik_sdk_command,
        {
            "scenario": "public_client_then_api_key",
            "host": issuer,
            "client_id": native.client_id,
            "redirect_url": redirect_uri,
        },
        sdk_sign_in,
    )
    assert ran["result"]["me"]["email"] == "alice@acme.test"
    (code_exchange,) = token_requests(ran["exchanges"])
    assert "authorization" not in code_exchange["headers"]
    assert json.loads(code_exchange["body"])["client_id"] == native.client_id


def test_spa_public_client_then_api_key_mode(issuer, spa, qlik_sdk_command, sdk_sign_in):
    ran = run_driver(
        qlik_sdk_command,
        {
            "scenario": "public_client_then_api_key",
            "host": issuer,
            "client_id": spa.client_id,
            "redirect_url": spa.redirect_uri,
        },
        sdk_sign_in,
    )
    assert ran["result"]["me"]["email"] == "alice@acme.test"
