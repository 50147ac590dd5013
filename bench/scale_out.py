"""Scale-out check: two app instances behind no shared memory, only PostgreSQL and Redis.

Starts two gunicorn instances (2 workers each) on different ports against the
same PostgreSQL (DATABASE_URL) and Redis (CACHE_URL, default
redis://127.0.0.1:6379/15), with the same signing key file, then shows:

1. a code issued through instance A is redeemed through instance B;
2. the token works at both; revoked through B, it is refused by A within a second;
3. rate limits are shared: failed client authentications from one address at
   A count at B, where a wrong secret is then a 429 and the right one still works.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/NAME .venv/bin/python bench/scale_out.py

Exit status 0 when all three hold.
"""

import base64
import hashlib
import json
import os
import secrets
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from urllib.parse import parse_qs, urlencode, urlsplit

import requests

ROOT = Path(__file__).resolve().parent.parent
PYTHON = sys.executable
HOST = "acme.eu.localhost"
CREATE_CLIENT = """
import json, sys
from oauth_clients.services import ClientData, create_client
from tenants.models import Tenant, User
tenant = Tenant.objects.get(slug="acme")
admin = User.objects.get(email="admin@acme.test")
client, secret = create_client(
    tenant,
    ClientData(name="Scale-out check", redirect_uris=["https://app.example.com/cb"],
               allowed_scopes=["user_default"], consent_method="trusted"),
    app_type="web", actor=admin,
)
print(json.dumps({"client_id": client.client_id, "secret": secret}))
"""


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class Instance:
    def __init__(self, name: str, env: dict):
        self.name, self.port = name, free_port()
        self.process = subprocess.Popen(
            [
                PYTHON,
                "-m",
                "gunicorn",
                "config.wsgi",
                "--bind",
                f"127.0.0.1:{self.port}",
                "--workers",
                "2",
                "--log-level",
                "warning",
            ],
            cwd=ROOT,
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        self.http = requests.Session()

    def url(self, path: str) -> str:
        return f"http://127.0.0.1:{self.port}{path}"

    def get(self, path, **kwargs):
        return self.http.get(
            self.url(path),
            headers={"Host": HOST, **kwargs.pop("headers", {})},
            allow_redirects=False,
            timeout=10,
            **kwargs,
        )

    def post(self, path, **kwargs):
        return self.http.post(
            self.url(path),
            headers={"Host": HOST, **kwargs.pop("headers", {})},
            allow_redirects=False,
            timeout=10,
            **kwargs,
        )

    def wait_ready(self):
        for _ in range(100):
            try:
                if requests.get(self.url("/healthz"), timeout=1).status_code == 200:
                    return
            except (requests.ConnectionError, requests.Timeout):
                # Not listening yet, or listening while its workers still boot.
                pass
            time.sleep(0.1)
        raise RuntimeError(f"instance {self.name} did not start")

    def stop(self):
        self.process.terminate()
        self.process.wait(timeout=10)


def sign_in(instance: Instance) -> None:
    """Sign in through the real form (the session lives in PostgreSQL)."""
    page = instance.get("/login/")
    token = page.cookies.get("csrftoken") or instance.http.cookies.get("csrftoken")
    response = instance.post(
        "/login/",
        data={
            "username": "admin@acme.test",
            "password": "demo-password",
            "csrfmiddlewaretoken": token,
        },
        headers={"Referer": instance.url("/login/")},
    )
    if response.status_code != 302:
        raise RuntimeError(f"sign-in at {instance.name} answered {response.status_code}")


def main() -> int:
    if not os.environ.get("DATABASE_URL", "").startswith(("postgres://", "postgresql://")):
        print("DATABASE_URL must point at PostgreSQL.")
        return 2
    key = Path(tempfile.mkdtemp(prefix="scale-out-")) / "signing-key.pem"
    env = {
        **os.environ,
        "DEBUG": "0",
        "SECRET_KEY": "scale-out-check-" + "x" * 40,
        "CLIENT_SECRET_DIGEST_KEY": "scale-out-check-digest-key",
        "SIGNING_KEY_FILE": str(key),
        "CACHE_URL": os.environ.get("CACHE_URL", "redis://127.0.0.1:6379/15"),
        "PLATFORM_SCHEME": "http",
        "SECURE_SSL_REDIRECT": "0",
        "RATE_CLIENT_AUTH_PER_CLIENT_ADDRESS": "5",
    }
    manage = [PYTHON, str(ROOT / "manage.py")]
    subprocess.run(
        [*manage, "generate_signing_key", str(key)],
        env={**env, "DEBUG": "1"},
        check=True,
        stdout=subprocess.DEVNULL,
    )
    subprocess.run([*manage, "migrate", "--noinput", "-v0"], env=env, check=True)
    subprocess.run([*manage, "collectstatic", "--noinput", "-v0"], env=env, check=True)
    subprocess.run([*manage, "seed_demo"], env=env, check=True, stdout=subprocess.DEVNULL)
    created = subprocess.run(
        [*manage, "shell", "-c", CREATE_CLIENT], env=env, check=True, capture_output=True, text=True
    )
    client = json.loads(created.stdout.strip().splitlines()[-1])
    basic = (client["client_id"], client["secret"])

    a, b = Instance("A", env), Instance("B", env)
    failures = []
    try:
        a.wait_ready()
        b.wait_ready()

        # 1. A code issued through A, redeemed through B.
        sign_in(a)
        verifier = secrets.token_urlsafe(48)
        challenge = (
            base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest())
            .rstrip(b"=")
            .decode()
        )
        query = urlencode(
            {
                "response_type": "code",
                "client_id": client["client_id"],
                "redirect_uri": "https://app.example.com/cb",
                "scope": "user_default",
                "state": "s",
                "code_challenge": challenge,
                "code_challenge_method": "S256",
            }
        )
        answer = a.get(f"/oauth/authorize?{query}")
        code = parse_qs(urlsplit(answer.headers.get("Location", "")).query).get("code", [""])[0]
        token = b.post(
            "/oauth/token",
            auth=basic,
            data={
                "grant_type": "authorization_code",
                "code": code,
                "redirect_uri": "https://app.example.com/cb",
                "code_verifier": verifier,
            },
        )
        print(f"1. code from A redeemed at B: {token.status_code}")
        if token.status_code != 200:
            failures.append("a code issued through A could not be redeemed through B")
            return 1
        access = token.json()["access_token"]
        bearer = {"Authorization": f"Bearer {access}"}

        # 2. Valid at both; revoked through B, refused by A within a second.
        statuses = (
            a.get("/api/v1/users/me", headers=bearer).status_code,
            b.get("/api/v1/users/me", headers=bearer).status_code,
        )
        print(f"2. users/me before revocation at A, B: {statuses}")
        if statuses != (200, 200):
            failures.append("the token did not work at both instances")
        revoked_at = time.monotonic()
        b.post("/oauth/revoke", auth=basic, data={"token": access})
        refused_after = None
        while time.monotonic() - revoked_at < 3:
            if a.get("/api/v1/users/me", headers=bearer).status_code == 401:
                refused_after = time.monotonic() - revoked_at
                break
            time.sleep(0.05)
        print(
            f"   revoked through B; refused by A after "
            f"{'never' if refused_after is None else f'{refused_after:.2f} s'}"
        )
        if refused_after is None or refused_after > 1.2:
            failures.append("a token revoked through B was not refused by A within a second")

        # 3. Shared rate limits: failures at A count at B (the counters are
        # per client and address, and the new client starts at zero).
        grant = {"grant_type": "client_credentials"}
        wrong = (client["client_id"], "wrong-secret")
        for _ in range(5):
            a.post("/oauth/token", auth=wrong, data=grant)
        limited = b.post("/oauth/token", auth=wrong, data=grant).status_code
        right = b.post("/oauth/introspect", auth=basic, data={"token": "x"}).status_code
        print(f"3. after 5 failures at A, B answers a wrong secret {limited}, the right {right}")
        if limited != 429:
            failures.append("failed authentications at A did not count at B (is CACHE_URL Redis?)")
        if right != 200:
            failures.append("the right secret was refused after failures from the same address")
    finally:
        a.stop()
        b.stop()
    for failure in failures:
        print("FAIL:", failure)
    print("scale-out check:", "failed" if failures else "passed")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
