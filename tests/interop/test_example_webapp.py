"""examples/webapp/app.py, run as a subprocess against the live server (no browser).

The browser version of the same flow is tests/browser/test_example_client.py.
"""

from urllib.parse import urlencode, urlsplit

import pytest
import requests

from oauth_clients.models import AuthorizationCode
from tests.factories import create_oauth_client
from tests.interop.conftest import query_of
from tests.interop.example_app import free_port, running_example_app

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def port():
    return free_port()


@pytest.fixture
def web_app(tenant_a, alice, port):
    client, secret = create_oauth_client(
        tenant_a,
        actor=alice,
        name="Example web app",
        redirect_uris=[f"http://127.0.0.1:{port}/callback"],
        consent_method="trusted",
    )
    return client, secret


def start_sign_in(app: str) -> tuple[requests.Session, str]:
    """The app's /login: returns the browser's session and the authorization URL."""
    browser = requests.Session()
    response = browser.get(f"{app}/login", allow_redirects=False, timeout=10)
    assert response.status_code == 302, response.text
    return browser, response.headers["Location"]


def test_a_web_client_signs_in_and_sees_users_me(issuer, web_app, port, sign_in_and_authorize):
    client, secret = web_app
    with running_example_app(
        issuer=issuer, client_id=client.client_id, client_secret=secret, port=port
    ) as app:
        browser, authorize_url = start_sign_in(app)
        assert authorize_url.startswith(f"{issuer}/oauth/authorize?")
        sent = query_of(authorize_url)
        assert sent["client_id"] == client.client_id
        assert sent["redirect_uri"] == f"{app}/callback"
        assert sent["code_challenge_method"] == "S256"
        assert sent["state"]

        callback = sign_in_and_authorize(authorize_url)
        back = browser.get(callback, allow_redirects=False, timeout=10)
        assert back.status_code == 302, back.text
        assert back.headers["Location"] == "/"

        home = browser.get(f"{app}/", timeout=10)
        assert home.status_code == 200
        assert "alice@acme.test" in home.text
        assert "Sign out" in home.text

        signed_out = browser.post(f"{app}/logout", timeout=10)
        assert "Not signed in" in signed_out.text


def test_a_native_public_client_on_a_loopback_port(
    tenant_a, alice, issuer, port, sign_in_and_authorize
):
    client, _ = create_oauth_client(
        tenant_a,
        actor=alice,
        name="Example native app",
        app_type="native",
        redirect_uris=["http://127.0.0.1/callback"],  # any port (RFC 8252 §7.3)
        consent_method="trusted",
    )
    with running_example_app(issuer=issuer, client_id=client.client_id, port=port) as app:
        browser, authorize_url = start_sign_in(app)
        callback = sign_in_and_authorize(authorize_url)
        home = browser.get(callback, timeout=10)
        assert home.status_code == 200, home.text
        assert "alice@acme.test" in home.text


def test_the_app_refuses_a_callback_from_another_issuer(
    issuer, web_app, port, sign_in_and_authorize
):
    client, secret = web_app
    with running_example_app(
        issuer=issuer, client_id=client.client_id, client_secret=secret, port=port
    ) as app:
        browser, authorize_url = start_sign_in(app)
        callback = sign_in_and_authorize(authorize_url)
        params = query_of(callback)
        params["iss"] = "http://globex.eu.localhost"
        forged = f"{app}/callback?{urlencode(params)}"
        response = browser.get(forged, timeout=10)
        assert response.status_code == 400
        assert "does not come from our issuer" in response.text
        assert AuthorizationCode.objects.get(code=params["code"]).used_at is None


def test_the_app_refuses_an_unknown_state(issuer, web_app, port, sign_in_and_authorize):
    client, secret = web_app
    with running_example_app(
        issuer=issuer, client_id=client.client_id, client_secret=secret, port=port
    ) as app:
        _victim, authorize_url = start_sign_in(app)
        callback = sign_in_and_authorize(authorize_url)
        # Someone else's browser (no session) is handed the callback: login CSRF.
        response = requests.get(callback, timeout=10)
        assert response.status_code == 400
        assert "Unknown or reused state" in response.text
        code = query_of(callback)["code"]
        assert AuthorizationCode.objects.get(code=code).used_at is None
        assert urlsplit(callback).path == "/callback"
