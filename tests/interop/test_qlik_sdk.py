"""Qlik's Python SDK (PyPI ``qlik-sdk``) against the live server.

Not in the ``test`` extra, so these tests skip in the standard environment:
qlik-sdk 0.17.0 (the latest release) pins ``requests==2.27.1``,
``urllib3<1.27`` (through it), ``PyJWT==2.4.0`` and ``websocket-client==1.3.2``.
Installing it next to the server would downgrade ``requests`` and
``urllib3``, which the server itself depends on (through
django-oauth-toolkit), so the suite would no longer test the dependencies
production runs with. To run them, use a separate virtual environment:

    python3 -m venv /tmp/qlik-venv
    /tmp/qlik-venv/bin/pip install -e '.[test]' qlik-sdk
    /tmp/qlik-venv/bin/python -m pytest -q tests/interop/test_qlik_sdk.py

What the SDK does, as these tests show: ``Auth.generate_authorization_url``
always sends PKCE S256; ``Auth.authorize`` posts a JSON body to
``/oauth/token`` (with HTTP Basic when a client secret is configured);
``Qlik.users.get_me()`` calls ``/api/v1/users/me``. Without a client secret
(public clients) the SDK's REST client sends no bearer token, so a public
client's access token is used through ``AuthType.APIKey``.
"""

import time

import pytest
import requests

from tests.interop.conftest import query_of

qlik_sdk = pytest.importorskip(
    "qlik_sdk",
    reason=(
        "qlik-sdk is not installed: its latest release (0.17.0) pins requests==2.27.1 "
        "(and so urllib3<1.27), which would downgrade the server's own dependencies, so it "
        "is not in the test extra; run it in a separate venv (see this module's docstring)"
    ),
)

pytestmark = pytest.mark.django_db(transaction=True)


def sdk(issuer, **config):
    from qlik_sdk import AuthType, Config, Qlik

    return Qlik(Config(host=issuer, auth_type=AuthType.OAuth2, **config))


def api_key_client(issuer, access_token):
    from qlik_sdk import AuthType, Config, Qlik

    return Qlik(Config(host=issuer, auth_type=AuthType.APIKey, api_key=access_token))


def authorize(qlik, sign_in_and_authorize, issuer) -> dict:
    url = qlik.auth.generate_authorization_url()
    sent = query_of(url)
    assert sent["code_challenge_method"] == "S256"
    callback = sign_in_and_authorize(url)
    assert query_of(callback)["iss"] == issuer
    return qlik.auth.authorize(callback)


def test_web_client_code_flow_refresh_and_users_me(issuer, web, sign_in_and_authorize):
    qlik = sdk(
        issuer,
        client_id=web.client_id,
        client_secret=web.secret,
        redirect_url=web.redirect_uri,
        scope=["user_default", "offline_access"],
    )
    token = authorize(qlik, sign_in_and_authorize, issuer)
    assert token["token_type"] == "Bearer"
    assert qlik.config.refresh_token

    me = qlik.users.get_me()
    assert me.email == "alice@acme.test"
    assert me.tenantId == str(web.client.tenant_id)

    first_access_token = qlik.config.api_key
    qlik.auth.refresh_token()
    assert qlik.config.api_key != first_access_token
    assert qlik.users.get_me().email == "alice@acme.test"


def test_deauthorize_revokes_the_access_token(issuer, web, sign_in_and_authorize):
    """``Auth.deauthorize`` posts the token to /oauth/revoke with itself as the bearer.

    The SDK sends ``Authorization: Bearer <the access token>`` and
    ``{"token": ..., "token_type_hint": "access_token"}`` as JSON, no client
    credentials. The server promises that Qlik's own client libraries work
    against it, so the SDK's sign-out must revoke the token.
    """
    qlik = sdk(
        issuer,
        client_id=web.client_id,
        client_secret=web.secret,
        redirect_url=web.redirect_uri,
        scope=["user_default"],
    )
    authorize(qlik, sign_in_and_authorize, issuer)
    access_token = qlik.config.api_key
    qlik.auth.deauthorize()

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


def test_client_credentials(issuer, machine):
    qlik = sdk(issuer, client_id=machine.client_id, client_secret=machine.secret)
    token = qlik.auth.authorize()  # no callback URL: the SDK asks for client_credentials
    assert token["token_type"] == "Bearer"
    me = qlik.users.get_me()
    assert me.type == "service"
    assert me.clientId == machine.client_id


def test_native_public_client_then_api_key_mode(
    issuer, native, sign_in_and_authorize, loopback_listener
):
    redirect_uri, _received = loopback_listener
    qlik = sdk(issuer, client_id=native.client_id, redirect_url=redirect_uri)
    token = authorize(qlik, sign_in_and_authorize, issuer)
    me = api_key_client(issuer, token["access_token"]).users.get_me()
    assert me.email == "alice@acme.test"


def test_spa_public_client_then_api_key_mode(issuer, spa, sign_in_and_authorize):
    qlik = sdk(issuer, client_id=spa.client_id, redirect_url=spa.redirect_uri)
    token = authorize(qlik, sign_in_and_authorize, issuer)
    me = api_key_client(issuer, token["access_token"]).users.get_me()
    assert me.email == "alice@acme.test"
