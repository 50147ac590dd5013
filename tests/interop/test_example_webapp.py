"""examples/webapp/app.py, run as a subprocess against the live server (no browser).

Single-tenant mode (ISSUER), then multi-tenant mode (REGION_AUTHORIZE_URL):
the region host's tenant picker, the tenant learnt from ``iss``, and the
checks that keep the client secret from going to any ``iss`` but a tenant's.
Some of those run against a stand-in server that records what it is sent.

The browser versions are tests/browser/test_example_client.py and
tests/browser/test_publishing.py.
"""

import base64
import html
import importlib.util
import json
import re
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import urlencode, urlsplit

import pytest
import requests

from oauth_clients.models import AccessToken, AuthorizationCode
from oauth_clients.services import approve_client_for_tenant, publish_client, set_consent_method
from tests.factories import create_oauth_client
from tests.flows import client_for, query_of
from tests.interop.example_app import free_port, running_example_app

pytestmark = [pytest.mark.required_in_ci, pytest.mark.django_db(transaction=True)]


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


# --- Multi-tenant mode: REGION_AUTHORIZE_URL, the tenant learnt from ``iss`` ---------

APP_PATH = Path(__file__).resolve().parents[2] / "examples" / "webapp" / "app.py"


def load_app_module():
    """examples/webapp/app.py as a module (it is a script, not a package)."""
    spec = importlib.util.spec_from_file_location("example_webapp_app", APP_PATH)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture
def region_authorize_url(live_server, settings, region_eu) -> str:
    """The eu region host's authorize endpoint at the live server (the tenant picker)."""
    settings.PLATFORM_PORT = urlsplit(live_server.url).port
    return f"http://{region_eu.hostname}:{settings.PLATFORM_PORT}/oauth/authorize"


@pytest.fixture
def published_app(tenant_a, alice, tenant_b, carol, port):
    """Acme's Web client, published to the eu region and approved (Trusted) by Globex."""
    client, secret = create_oauth_client(
        tenant_a,
        actor=alice,
        name="Multi-tenant web app",
        redirect_uris=[f"http://127.0.0.1:{port}/callback"],
        consent_method="trusted",
    )
    publish_client(client, actor=alice)
    config = approve_client_for_tenant(tenant_b, client, actor=carol)
    set_consent_method(config, "trusted", actor=carol)
    return client, secret


@pytest.fixture
def authorize_at_globex(tenant_b, carol):
    """``authorize_at_globex(url)``: Carol, signed in at Globex, opens ``url``; the callback URL."""
    browser = client_for(tenant_b, carol)

    def authorize(url: str) -> str:
        parts = urlsplit(url)
        assert parts.netloc.startswith(f"{tenant_b.hostname}:"), url
        response = browser.get(f"{parts.path}?{parts.query}", HTTP_HOST=parts.netloc)
        assert response.status_code == 302, response.content[:500]
        assert "code" in query_of(response["Location"]), response["Location"]
        return response["Location"]

    return authorize


def pick_tenant(picker_url: str, hostname: str) -> str:
    """The region host's picker, answered with ``hostname``; returns where it redirects."""
    browser = requests.Session()
    page = browser.get(picker_url, timeout=10)
    assert page.status_code == 200, page.text
    assert "Tenant hostname" in page.text
    token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page.text).group(1)
    answer = browser.post(
        picker_url,
        data={"csrfmiddlewaretoken": token, "hostname": hostname},
        allow_redirects=False,
        timeout=10,
    )
    assert answer.status_code == 302, answer.text
    return answer.headers["Location"]


def test_multi_tenant_mode_starts_at_the_region_and_learns_the_tenant_from_iss(
    region_authorize_url, published_app, port, tenant_b, authorize_at_globex
):
    client, secret = published_app
    with running_example_app(
        region_authorize_url=region_authorize_url,
        client_id=client.client_id,
        client_secret=secret,
        port=port,
    ) as app:
        home = requests.get(f"{app}/", timeout=10)
        assert "Not signed in" in home.text
        assert region_authorize_url in home.text

        browser, authorize_url = start_sign_in(app)
        assert authorize_url.startswith(f"{region_authorize_url}?")
        sent = query_of(authorize_url)
        assert sent["client_id"] == client.client_id
        assert sent["redirect_uri"] == f"{app}/callback"
        assert sent["code_challenge_method"] == "S256"

        at_globex = pick_tenant(authorize_url, "globex")
        assert at_globex == f"{tenant_b.base_url}/oauth/authorize?{urlsplit(authorize_url).query}"

        callback = authorize_at_globex(at_globex)
        assert query_of(callback)["iss"] == tenant_b.base_url
        back = browser.get(callback, allow_redirects=False, timeout=10)
        assert back.status_code == 302, back.text
        assert back.headers["Location"] == "/"

        signed_in = browser.get(f"{app}/", timeout=10)
        assert signed_in.status_code == 200
        me = users_me_shown(signed_in.text)
        assert me["email"] == "carol@globex.test"
        assert me["tenant"]["name"] == "Globex"
        assert f'<code id="issuer">{tenant_b.base_url}</code>' in signed_in.text
        token = AccessToken.objects.get(application=client)
        assert token.tenant == tenant_b

        # Sign-out revokes the token at the tenant that issued it.
        signed_out = browser.post(f"{app}/logout", timeout=10)
        assert "Not signed in" in signed_out.text
        assert not AccessToken.objects.filter(pk=token.pk).exists()


def users_me_shown(page: str) -> dict:
    """The JSON the app's home page shows."""
    shown = re.search(r'<pre id="users-me">(.*?)</pre>', page, re.DOTALL).group(1)
    return json.loads(html.unescape(shown))


class Recorder:
    """A stand-in server on 127.0.0.1: records every request, answers as told.

    ``answers[(method, path)]`` is ``(status, headers, body)`` or a callable
    of the Host header returning one; anything else gets a 404.
    """

    def __init__(self):
        self.requests: list[tuple[str, str, str, str | None]] = []
        self.answers: dict = {}
        recorder = self

        class Handler(BaseHTTPRequestHandler):
            def answer(self):
                length = int(self.headers.get("Content-Length") or 0)
                if length:
                    self.rfile.read(length)
                host = self.headers.get("Host", "")
                auth = self.headers.get("Authorization")
                recorder.requests.append((self.command, host, self.path, auth))
                answer = recorder.answers.get((self.command, urlsplit(self.path).path))
                if callable(answer):
                    answer = answer(host)
                status, headers, body = answer or (404, {}, b"")
                self.send_response(status)
                for name, value in headers.items():
                    self.send_header(name, value)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            do_GET = do_POST = answer  # noqa: N815 - http.server's names

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.port = self.server.server_port

    def discovery(self, **overrides):
        """Answer discovery as a tenant at this port would, with ``overrides``."""

        def answer(host):
            issuer = f"http://{host}"
            document = {
                "issuer": issuer,
                "authorization_endpoint": f"{issuer}/oauth/authorize",
                "token_endpoint": f"{issuer}/oauth/token",
                "revocation_endpoint": f"{issuer}/oauth/revoke",
                "code_challenge_methods_supported": ["S256"],
                **{key: value.format(issuer=issuer) for key, value in overrides.items()},
            }
            headers = {"Content-Type": "application/json"}
            return 200, headers, json.dumps(document).encode()

        self.answers[("GET", "/.well-known/openid-configuration")] = answer

    def posts(self):
        return [request for request in self.requests if request[0] == "POST"]


@pytest.fixture
def recorder():
    server = Recorder()
    thread = threading.Thread(target=server.server.serve_forever, daemon=True)
    thread.start()
    try:
        yield server
    finally:
        server.server.shutdown()
        server.server.server_close()


def test_an_iss_outside_the_platform_is_refused_and_nothing_is_sent_to_it(
    region_authorize_url, published_app, port, live_server, recorder, authorize_at_globex
):
    """Anyone can link to the callback with a real code and an ``iss`` of their own.

    The recorder stands ready as that ``iss``: were the app to believe it, it
    would fetch discovery there and post the code and its client secret.
    """
    recorder.discovery()
    client, secret = published_app
    live_port = urlsplit(live_server.url).port
    forged = [
        f"http://127.0.0.1:{recorder.port}",  # an address, not a tenant's name
        f"http://localhost:{recorder.port}",  # not under the platform's domain
        f"http://globex.eu.localhost:{recorder.port}",  # a platform name, another port
        f"https://globex.eu.localhost:{live_port}",  # another scheme
        f"http://globex.eu.localhost.attacker.test:{live_port}",
        f"http://attacker.test@globex.eu.localhost:{live_port}",
        f"http://globex.eu.localhost:{live_port}/elsewhere",
        None,  # no iss at all
    ]
    with running_example_app(
        region_authorize_url=region_authorize_url,
        client_id=client.client_id,
        client_secret=secret,
        port=port,
    ) as app:
        for iss in forged:
            browser, authorize_url = start_sign_in(app)
            at_globex = pick_tenant(authorize_url, "globex")
            params = query_of(authorize_at_globex(at_globex))
            if iss is None:
                del params["iss"]
            else:
                params["iss"] = iss
            response = browser.get(f"{app}/callback?{urlencode(params)}", timeout=10)
            assert response.status_code == 400, iss
            assert "does not come from a tenant of the platform" in response.text, iss
            assert AuthorizationCode.objects.get(code=params["code"]).used_at is None, iss
    assert recorder.requests == []


def fake_platform_callback(recorder, app: str, *, tenant: str = "globex") -> requests.Response:
    """A callback naming a tenant at the recorder, which plays the whole platform."""
    browser, authorize_url = start_sign_in(app)
    assert authorize_url.startswith(f"http://eu.localhost:{recorder.port}/oauth/authorize?")
    params = {
        "code": "a-code",
        "state": query_of(authorize_url)["state"],
        "iss": f"http://{tenant}.eu.localhost:{recorder.port}",
    }
    return browser.get(f"{app}/callback?{urlencode(params)}", timeout=10)


@pytest.fixture
def app_at_fake_platform(recorder, port):
    with running_example_app(
        region_authorize_url=f"http://eu.localhost:{recorder.port}/oauth/authorize",
        client_id="the-client",
        client_secret="the-secret",  # noqa: S106 - what must not leak
        port=port,
    ) as app:
        yield app


def test_the_tenants_discovery_must_name_iss_as_its_issuer(recorder, app_at_fake_platform):
    recorder.discovery(issuer="http://acme.eu.localhost:" + str(recorder.port))
    response = fake_platform_callback(recorder, app_at_fake_platform)
    assert response.status_code == 502
    assert "Discovery names the issuer" in response.text
    assert [(method, path) for method, _host, path, _auth in recorder.requests] == [
        ("GET", "/.well-known/openid-configuration")
    ]


@pytest.mark.parametrize(
    "overrides",
    [
        {"token_endpoint": "http://127.0.0.1:{port}/oauth/token"},
        # http://globex.eu.localhost:<port>@127.0.0.1:<port>/...: the host is 127.0.0.1.
        {"token_endpoint": "{issuer}@127.0.0.1:{port}/oauth/token"},
        {"revocation_endpoint": "http://acme.eu.localhost:{port}/oauth/revoke"},
    ],
    ids=["token-at-an-address", "token-behind-user-info", "revocation-at-another-tenant"],
)
def test_the_secret_goes_only_to_endpoints_on_the_issuers_origin(
    recorder, app_at_fake_platform, overrides
):
    recorder.discovery(
        **{key: value.replace("{port}", str(recorder.port)) for key, value in overrides.items()}
    )
    # Answered, so a request sent there would show.
    recorder.answers[("POST", "/oauth/token")] = (200, {}, b'{"access_token": "t"}')
    response = fake_platform_callback(recorder, app_at_fake_platform)
    assert response.status_code == 502
    assert "names a" in response.text and "elsewhere" in response.text
    assert recorder.posts() == []


def test_a_redirecting_token_endpoint_is_not_followed(recorder, app_at_fake_platform):
    """urllib would repeat the Authorization header (the secret) to the Location."""
    recorder.discovery()
    stolen = f"http://127.0.0.1:{recorder.port}/stolen"
    recorder.answers[("POST", "/oauth/token")] = (302, {"Location": stolen}, b"")
    response = fake_platform_callback(recorder, app_at_fake_platform)
    assert response.status_code == 502
    assert "answered 302" in response.text
    paths = [path for _method, _host, path, _auth in recorder.requests]
    assert paths == ["/.well-known/openid-configuration", "/oauth/token"]
    method, host, _path, auth = recorder.requests[1]
    assert (method, host) == ("POST", f"globex.eu.localhost:{recorder.port}")
    assert auth.startswith("Basic ")


def test_a_tenant_at_the_fake_platform_is_used_end_to_end(recorder, app_at_fake_platform):
    """The counterpart of the refusals above: a good tenant gets the code and the secret."""
    recorder.discovery()
    recorder.answers[("POST", "/oauth/token")] = (200, {}, b'{"access_token": "t"}')
    recorder.answers[("GET", "/api/v1/users/me")] = (200, {}, b'{"email": "x@globex.test"}')
    response = fake_platform_callback(recorder, app_at_fake_platform)
    assert response.status_code == 200, response.text
    assert "x@globex.test" in response.text
    host = f"globex.eu.localhost:{recorder.port}"
    assert [(method, seen, path) for method, seen, path, _auth in recorder.requests] == [
        ("GET", host, "/.well-known/openid-configuration"),
        ("POST", host, "/oauth/token"),
        ("GET", host, "/api/v1/users/me"),
    ]
    expected = base64.b64encode(b"the-client:the-secret").decode()
    assert recorder.requests[1][3] == f"Basic {expected}"
    assert recorder.requests[2][3] == "Bearer t"


@pytest.mark.parametrize(
    ("iss", "accepted"),
    [
        ("http://globex.eu.localhost:8000", True),
        ("http://acme.us.localhost:8000", True),  # the platform's domain: the server decides
        ("http://globex.eu.localhost:8001", False),
        ("http://globex.eu.localhost", False),
        ("https://globex.eu.localhost:8000", False),
        ("http://GLOBEX.eu.localhost:8000", False),
        ("http://globex.eu.localhost:8000/", False),
        ("http://globex.eu.localhost:8000?", False),
        ("http://globex.eu.localhost:08000", False),
        ("http://user@globex.eu.localhost:8000", False),
        ("http://localhost:8000", False),
        ("http://127.0.0.1:8000", False),
        ("http://globex.eu.localhost.example.com:8000", False),
        ("http://-globex.eu.localhost:8000", False),
        ("http://globex..localhost:8000", False),
        ("", False),
        (None, False),
    ],
)
def test_which_issuers_are_tenants_of_a_dev_platform(iss, accepted):
    platform = load_app_module().Platform.from_region_authorize_url(
        "http://eu.localhost:8000/oauth/authorize"
    )
    assert platform.issuer(iss) == (iss if accepted else None)


@pytest.mark.parametrize(
    ("iss", "accepted"),
    [
        ("https://globex.eu.example.com", True),
        ("http://globex.eu.example.com", False),  # http only for *.localhost
        ("https://globex.eu.example.com:8443", False),
        ("https://globex.eu.example.org", False),
        ("https://example.com", False),
        ("https://globex.eu.localhost", False),
    ],
)
def test_which_issuers_are_tenants_of_a_production_platform(iss, accepted):
    platform = load_app_module().Platform.from_region_authorize_url(
        "https://eu.example.com/oauth/authorize"
    )
    assert platform.issuer(iss) == (iss if accepted else None)


@pytest.mark.parametrize(
    "environ",
    [
        {"REGION_AUTHORIZE_URL": "http://eu.example.com/oauth/authorize"},  # http, not localhost
        {"REGION_AUTHORIZE_URL": "https://example/oauth/authorize"},  # no parent domain
        {"REGION_AUTHORIZE_URL": "https://10.0.0.1/oauth/authorize"},
        {"REGION_AUTHORIZE_URL": "https://eu.example.com/oauth/authorize?x=1"},
        {
            "REGION_AUTHORIZE_URL": "https://eu.example.com/oauth/authorize",
            "ISSUER": "https://acme.eu.example.com",
        },
        {},
    ],
)
def test_the_app_refuses_to_start_with_a_doubtful_configuration(environ):
    with pytest.raises(SystemExit):
        load_app_module().Settings({"CLIENT_ID": "c", **environ})


def test_multi_tenant_mode_serves_the_owner_tenant_too(
    region_authorize_url, published_app, port, tenant_a, sign_in_and_authorize
):
    client, secret = published_app
    with running_example_app(
        region_authorize_url=region_authorize_url,
        client_id=client.client_id,
        client_secret=secret,
        port=port,
    ) as app:
        browser, authorize_url = start_sign_in(app)
        at_acme = pick_tenant(authorize_url, "acme")
        assert at_acme.startswith(f"{tenant_a.base_url}/oauth/authorize?")
        callback = sign_in_and_authorize(at_acme)
        home = browser.get(callback, timeout=10)
        assert home.status_code == 200, home.text
        assert users_me_shown(home.text)["email"] == "alice@acme.test"
        assert f'<code id="issuer">{tenant_a.base_url}</code>' in home.text
