"""A cache outage degrades rate limiting, never authentication.

Rate-limit counters are the only thing kept in the cache (sessions, codes,
tokens and the revocation list live in the database), so with the cache down:
sign-in, the token endpoint, consent and approval answers all work, a wrong
secret is still a plain 401, and /healthz says ``"cache": "unavailable"``
with 200. Counting fails open (tests/tenants/test_ratelimit.py).

The last test starts the app as a real process (gunicorn) with CACHE_URL
pointing at a local listener that accepts connections and never answers (a
cache host that drops packets) and checks that every answer comes quickly.
"""

import json
import os
import socket
import subprocess
import sys
import threading
import time
from contextlib import contextmanager
from pathlib import Path
from urllib.parse import urlencode

import pytest
import requests
from django.conf import settings
from django.test import Client

from consent.models import ConsentGrant
from oauth_clients.models import ConnectionConfig
from oauth_clients.services import publish_client
from tests.broken_cache import BROKEN_CACHES, BrokenCache
from tests.factories import create_oauth_client
from tests.flows import (
    REDIRECT,
    Registered,
    authorize_params,
    basic,
    client_for,
    get_code,
    pkce_pair,
    redeem,
)

pytestmark = pytest.mark.django_db

LOGIN = "/login/"


@pytest.fixture(autouse=True)
def cache_down(settings):
    settings.CACHES = BROKEN_CACHES
    BrokenCache.calls = 0


def test_sign_in_works(tenant_a, alice):
    http = client_for(tenant_a)
    response = http.post(LOGIN, {"username": "alice@acme.test", "password": "password"})
    assert response.status_code == 302
    assert "_auth_user_id" in http.session


def test_a_wrong_password_is_refused_as_usual(tenant_a, alice):
    response = client_for(tenant_a).post(LOGIN, {"username": "alice@acme.test", "password": "x"})
    assert response.status_code == 200
    assert "Invalid email or password." in response.content.decode()


def test_client_credentials_work(tenant_a, m2m):
    response = client_for(tenant_a).post(
        "/oauth/token", {"grant_type": "client_credentials"}, HTTP_AUTHORIZATION=basic(m2m)
    )
    assert response.status_code == 200, response.content
    assert response.json()["access_token"]


def test_the_code_exchange_works(tenant_a, alice_client, web):
    code, verifier = get_code(alice_client, web)
    response = redeem(client_for(tenant_a), web, code, verifier)
    assert response.status_code == 200, response.content
    assert response.json()["access_token"]


@pytest.mark.parametrize("path", ["/oauth/token", "/oauth/revoke", "/oauth/introspect"])
def test_a_wrong_secret_is_still_a_401(tenant_a, m2m, path):
    wrong = basic(m2m, secret="wrong")
    data = {"grant_type": "client_credentials", "token": "x"}
    for _ in range(30):
        response = client_for(tenant_a).post(path, data, HTTP_AUTHORIZATION=wrong)
        assert response.status_code == 401, response.content
        assert response.json()["error"] == "invalid_client"


def test_a_consent_answer_works(tenant_a, alice, alice_client):
    asks, _secret = create_oauth_client(
        tenant_a, actor=alice, name="Asks first", redirect_uris=[REDIRECT]
    )
    _verifier, challenge = pkce_pair()
    query = authorize_params(Registered(asks, _secret), challenge)
    assert alice_client.get("/oauth/authorize?" + urlencode(query)).status_code == 200
    response = alice_client.post("/oauth/authorize", {**query, "allow": "Authorize"})
    assert response.status_code == 302
    assert "code=" in response["Location"]
    assert ConsentGrant.objects.filter(client=asks, user=alice).exists()


def test_an_approval_answer_works(tenant_a, tenant_b, alice, alice_client, carol):
    shared, _secret = create_oauth_client(
        tenant_b, actor=carol, name="Globex app", redirect_uris=[REDIRECT]
    )
    publish_client(shared, actor=carol)
    _verifier, challenge = pkce_pair()
    query = authorize_params(Registered(shared, _secret), challenge)
    response = alice_client.post("/oauth/authorize", {**query, "tenant_approval": "approve"})
    assert response.status_code in (200, 302), response.status_code
    assert ConnectionConfig.objects.get(client=shared, tenant=tenant_a).approved_at is not None


def test_healthz_reports_the_cache_unavailable_with_200():
    response = Client(HTTP_HOST="127.0.0.1").get("/healthz")
    assert response.status_code == 200
    assert response.json() == {"status": "ok", "database": "ok", "cache": "unavailable"}


# --- A real process with a cache host that never answers --------------------------------------


@contextmanager
def silent_listener():
    """A TCP port that accepts connections and never answers: a blackholed Redis."""
    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen(64)
    accepted = []
    stop = threading.Event()

    def accept():
        server.settimeout(0.2)
        while not stop.is_set():
            try:
                accepted.append(server.accept()[0])
            except TimeoutError:
                continue
            except OSError:
                return

    thread = threading.Thread(target=accept, daemon=True)
    thread.start()
    try:
        yield server.getsockname()[1], accepted
    finally:
        stop.set()
        thread.join(timeout=2)
        for connection in accepted:
            connection.close()
        server.close()


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


PREPARE = """
import json
from django.core.management import call_command
from oauth_clients.services import ClientData, create_client
from tenants.models import Tenant, User
call_command("migrate", verbosity=0)
call_command("seed_demo", stdout=open("/dev/null", "w"))
client, secret = create_client(
    Tenant.objects.get(slug="acme"),
    ClientData(name="Outage check", redirect_uris=["https://app.example.com/cb"],
               allowed_scopes=["user_default"], machine_to_machine=True),
    app_type="web", actor=User.objects.get(email="admin@acme.test"),
)
print(json.dumps({"client_id": client.client_id, "secret": secret}))
"""


@contextmanager
def app_process(tmp_path: Path, cache_url: str):
    """gunicorn (1 sync worker, the test settings) on its own SQLite database."""
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "tests.settings",
        "DATABASE_URL": f"sqlite:///{tmp_path / 'db.sqlite3'}",
        "CACHE_URL": cache_url,
        # Retried every second here, so each round below meets the timeout once.
        "CACHE_RETRY_SECONDS": "1",
    }
    prepared = subprocess.run(
        [sys.executable, "manage.py", "shell", "-c", PREPARE],
        cwd=settings.BASE_DIR,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert prepared.returncode == 0, prepared.stderr[-2000:]
    client = json.loads(prepared.stdout.strip().splitlines()[-1])
    port = free_port()
    process = subprocess.Popen(
        [sys.executable, "-m", "gunicorn", "config.wsgi", "--bind", f"127.0.0.1:{port}"]
        + ["--workers", "1", "--log-level", "warning"],
        cwd=settings.BASE_DIR,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        base = f"http://127.0.0.1:{port}"
        for _ in range(100):
            try:
                requests.get(f"{base}/healthz", timeout=5)
                break
            except requests.ConnectionError:
                time.sleep(0.1)
        yield base, client
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def timed(call):
    start = time.monotonic()
    response = call()
    return response, time.monotonic() - start


def test_a_cache_host_that_never_answers_costs_milliseconds(tmp_path):
    with (
        silent_listener() as (cache_port, connections),
        app_process(tmp_path, f"redis://127.0.0.1:{cache_port}/0") as (base, client),
    ):
        host = {"Host": "acme.eu.localhost"}
        http = requests.Session()
        durations = {}

        def sign_in():
            page = http.get(f"{base}{LOGIN}", headers=host, timeout=5)
            return http.post(
                f"{base}{LOGIN}",
                data={
                    "username": "admin@acme.test",
                    "password": "demo-password",
                    "csrfmiddlewaretoken": http.cookies.get("csrftoken")
                    or page.cookies.get("csrftoken"),
                },
                headers=host,
                allow_redirects=False,
                timeout=5,
            )

        def token(secret: str):
            return requests.post(
                f"{base}/oauth/token",
                data={"grant_type": "client_credentials"},
                auth=(client["client_id"], secret),
                headers=host,
                timeout=5,
            )

        def healthz():
            return requests.get(f"{base}/healthz", timeout=5)

        # The first request to meet the cache pays its timeout (CACHE_TIMEOUT_MS);
        # later ones skip the cache until CACHE_RETRY_SECONDS have passed.
        first, durations["first sign-in"] = timed(sign_in)
        assert first.status_code == 302, first.status_code
        for round_ in range(3):
            time.sleep(1.1)
            http.cookies.clear()
            response, durations[f"sign-in {round_}"] = timed(sign_in)
            assert response.status_code == 302, response.status_code
            response, durations[f"token {round_}"] = timed(lambda: token(client["secret"]))
            assert response.status_code == 200, response.text
            response, durations[f"wrong secret {round_}"] = timed(lambda: token("wrong"))
            assert response.status_code == 401, response.text
            response, durations[f"healthz {round_}"] = timed(healthz)
            assert response.status_code == 200
            assert response.json()["cache"] == "unavailable"
        print({name: round(seconds, 3) for name, seconds in durations.items()})
        slow = {name: round(s, 2) for name, s in durations.items() if s >= 1.5}
        assert slow == {}, durations
        assert len(connections) >= 3  # the app did try the cache, once a round
