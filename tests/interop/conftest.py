"""Interop tests: real OAuth client libraries against the live server, over real HTTP.

The libraries talk to pytest-django's ``live_server`` on a tenant host such as
``acme.eu.localhost:<port>``. Only the sign-in is short-cut: a Django test
client signed in as the user opens the authorization URL the library built,
and the ``Location`` it gets back (the callback URL with ``code``, ``state``
and ``iss``) is handed to the library, as a browser would.

Qlik's own libraries run outside this process: ``qlik-sdk`` in its own venv
and ``@qlik/api`` in Node.js, each through a driver script that
``run_driver`` starts and talks to in JSON (``make test`` installs both).

The clients are the shared ones of tests/conftest.py (``web``, ``spa``,
``native``, ``m2m``), all trusted: there is no consent screen.
"""

import json
import shutil
import subprocess
import tempfile
import threading
import time
from pathlib import Path
from urllib.parse import urlsplit

import pytest
import requests

from tests.flows import client_for, query_of, resolve_localhost_names

ROOT = Path(__file__).resolve().parents[2]
# Made by `make test`: qlik-sdk's own virtual environment and @qlik/api's node_modules.
QLIK_SDK_PYTHON = ROOT / ".venv-qlik-sdk" / "bin" / "python"
QLIK_SDK_DRIVER = ROOT / "tests" / "interop" / "drivers" / "qlik_sdk_driver.py"
NODE_PROJECT = ROOT / "tests" / "interop" / "node"
DRIVER_TIMEOUT = 60  # seconds a driver may run (@qlik/api can wait forever)


@pytest.fixture(autouse=True)
def localhost_names_resolve(monkeypatch):
    """``*.localhost`` resolves to 127.0.0.1 here, as in browsers (tests/flows.py)."""
    resolve_localhost_names(monkeypatch)


@pytest.fixture
def issuer(live_server, settings, tenant_a) -> str:
    """Tenant A's issuer at the live server (``http://acme.eu.localhost:<port>``).

    PLATFORM_PORT is the live server's port, so discovery, ``iss`` and the
    tokens name the address the libraries actually use.
    """
    settings.PLATFORM_PORT = urlsplit(live_server.url).port
    return tenant_a.base_url


@pytest.fixture
def metadata(issuer) -> dict:
    """The tenant's discovery document, fetched over HTTP like a client would."""
    response = requests.get(f"{issuer}/.well-known/openid-configuration", timeout=10)
    assert response.status_code == 200, response.text
    document = response.json()
    assert document["issuer"] == issuer
    return document


@pytest.fixture
def sign_in_and_authorize(tenant_a, alice):
    """``sign_in_and_authorize(url)``: Alice, signed in, opens ``url``; returns the callback URL.

    ``url`` is the authorization URL a library built. The answer must be the
    redirect to the client carrying the code and ``iss`` (the clients here
    are trusted, so there is no consent screen).
    """
    browser = client_for(tenant_a, alice)

    def authorize(url: str) -> str:
        parts = urlsplit(url)
        assert parts.path == "/oauth/authorize", url
        response = browser.get(f"{parts.path}?{parts.query}", HTTP_HOST=parts.netloc)
        assert response.status_code == 302, response.content
        location = response["Location"]
        assert "code" in query_of(location), location
        return location

    return authorize


@pytest.fixture
def loopback_listener():
    """A native app's redirect receiver: an HTTP server on 127.0.0.1 at a random free port.

    Yields ``(redirect_uri, received)``; ``received`` collects the full URLs
    of the requests it gets (the authorization response).
    """
    from http.server import BaseHTTPRequestHandler, HTTPServer

    received: list[str] = []

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self):  # noqa: N802 - http.server's name
            received.append(f"http://127.0.0.1:{self.server.server_port}{self.path}")
            body = b"You can close this window."
            self.send_response(200)
            self.send_header("Content-Type", "text/plain")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args):
            pass

    server = HTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_port}/cb", received
    finally:
        server.shutdown()
        server.server_close()


@pytest.fixture(scope="session")
def qlik_sdk_command() -> list[str]:
    """How to start tests/interop/drivers/qlik_sdk_driver.py in qlik-sdk's own venv."""
    if not QLIK_SDK_PYTHON.exists():
        pytest.skip(
            "qlik-sdk's virtual environment (.venv-qlik-sdk) is missing: `make test` creates it"
        )
    return [str(QLIK_SDK_PYTHON), str(QLIK_SDK_DRIVER)]


@pytest.fixture(scope="session")
def qlik_api_command() -> list[str]:
    """How to start tests/interop/node/qlik_api_driver.mjs (Node.js, @qlik/api)."""
    node = shutil.which("node")
    if node is None or not (NODE_PROJECT / "node_modules" / "@qlik" / "api").is_dir():
        pytest.skip(
            "@qlik/api is not installed: `make test` installs it with `npm ci` in "
            "tests/interop/node when Node.js 20+ and npm are there (Debian: apt-get install "
            "nodejs npm)"
        )
    version = subprocess.run([node, "--version"], capture_output=True, text=True).stdout
    if int(version.lstrip("v").split(".")[0]) < 20:
        pytest.skip(f"@qlik/api needs Node.js 20 or newer; this is {version.strip()}")
    return [node, str(NODE_PROJECT / "qlik_api_driver.mjs")]


class DriverFailed(AssertionError):
    pass


def run_driver(command: list[str], args: dict, sign_in=None, timeout=DRIVER_TIMEOUT) -> dict:
    """Run a driver (tests/interop/drivers/qlik_sdk_driver.py, node/qlik_api_driver.mjs).

    ``args`` goes to it as the first line of its stdin. When it asks the user
    to sign in (``{"sign_in": url}``), ``sign_in(url)`` plays the browser and
    the callback URL goes back. Returns its last message: ``result`` and
    ``exchanges`` (the HTTP requests it made). A driver that reports an error,
    exits otherwise or takes longer than ``timeout`` seconds raises
    DriverFailed with everything it said.
    """
    with tempfile.TemporaryFile(mode="w+") as stderr:
        process = subprocess.Popen(
            command, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=stderr, text=True
        )
        started = time.monotonic()
        watchdog = threading.Timer(timeout, process.kill)
        watchdog.start()
        try:
            tell(process, args)
            message = {}
            for line in process.stdout:
                message = json.loads(line)
                if "sign_in" in message:
                    tell(process, {"callback": sign_in(message["sign_in"])})
            process.wait()
        finally:
            watchdog.cancel()
            if process.poll() is None:
                process.kill()
                process.wait()
        if process.returncode != 0 or "result" not in message:
            if time.monotonic() - started >= timeout:
                message["error"] = f"no answer within {timeout} s"
            stderr.seek(0)
            raise DriverFailed(
                f"{command[-1]} failed (exit status {process.returncode}): "
                f"{message.get('error', 'no result')}\n"
                f"exchanges: {json.dumps(message.get('exchanges'), indent=2)}\n"
                f"stderr:\n{stderr.read()}"
            )
        return message


def tell(process: subprocess.Popen, message: dict) -> None:
    process.stdin.write(json.dumps(message) + "\n")
    process.stdin.flush()
