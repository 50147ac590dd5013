"""Database outage check: with traffic running, stop and restart PostgreSQL.

Requests during the outage must fail fast with 503 (never hang, never a 500
with a trace), and the server must recover by itself afterwards.

Run from the project root, as a user who may restart the cluster (CI is root):

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/NAME .venv/bin/python bench/db_outage.py

It migrates and seeds NAME, starts gunicorn (2 workers) on a free port,
polls two endpoints every 50 ms, stops PostgreSQL for a few seconds, starts
it again, and prints what each phase answered. Exit status 0 when the rules
above held.
"""

import os
import socket
import subprocess
import sys
import tempfile
import threading
import time
import urllib.error
import urllib.request
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PYTHON = sys.executable
OUTAGE_SECONDS = 5
CONNECT_TIMEOUT = 2


def pg_cluster(action: str) -> None:
    version = sorted(os.listdir("/etc/postgresql"))[-1]
    subprocess.run(
        ["pg_ctlcluster", "--skip-systemctl-redirect", version, "main", action], check=True
    )


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def fetch(port: int, host: str, path: str) -> tuple[int, float, bytes]:
    request = urllib.request.Request(f"http://127.0.0.1:{port}{path}", headers={"Host": host})
    started = time.monotonic()
    try:
        with urllib.request.urlopen(request, timeout=15) as response:  # noqa: S310 - loopback only
            return response.status, time.monotonic() - started, response.read()
    except urllib.error.HTTPError as error:
        return error.code, time.monotonic() - started, error.read()
    except OSError:
        return 0, time.monotonic() - started, b""


def main() -> int:
    if not os.environ.get("DATABASE_URL", "").startswith(("postgres://", "postgresql://")):
        print("DATABASE_URL must point at PostgreSQL.")
        return 2
    workdir = Path(tempfile.mkdtemp(prefix="db-outage-"))
    key = workdir / "signing-key.pem"
    env = {
        **os.environ,
        "DEBUG": "0",
        "SECRET_KEY": "db-outage-check-" + "x" * 40,
        "CLIENT_SECRET_DIGEST_KEY": "db-outage-check-digest-key",
        "SIGNING_KEY_FILE": str(key),
        "PLATFORM_SCHEME": "http",
        "SECURE_SSL_REDIRECT": "0",
        "DATABASE_CONNECT_TIMEOUT": str(CONNECT_TIMEOUT),
    }
    manage = [PYTHON, str(ROOT / "manage.py")]
    subprocess.run(
        [*manage, "generate_signing_key", str(key)], env={**env, "DEBUG": "1"}, check=True
    )
    subprocess.run([*manage, "migrate", "--noinput", "-v0"], env=env, check=True)
    subprocess.run([*manage, "collectstatic", "--noinput", "-v0"], env=env, check=True)
    subprocess.run([*manage, "seed_demo"], env=env, check=True, stdout=subprocess.DEVNULL)
    port = free_port()
    server = subprocess.Popen(
        [
            PYTHON,
            "-m",
            "gunicorn",
            "config.wsgi",
            "--bind",
            f"127.0.0.1:{port}",
            "--workers",
            "2",
            "--timeout",
            "30",
            "--log-level",
            "warning",
        ],
        cwd=ROOT,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    results: list[tuple[str, str, int, float, bytes]] = []
    phase = ["before"]
    stop = threading.Event()

    def poll():
        while not stop.is_set():
            for host, path in (("127.0.0.1", "/healthz"), ("acme.eu.localhost", "/login/")):
                status, seconds, body = fetch(port, host, path)
                results.append((phase[0], path, status, seconds, body))
            time.sleep(0.05)

    try:
        for _ in range(100):
            if fetch(port, "127.0.0.1", "/healthz")[0] == 200:
                break
            time.sleep(0.1)
        poller = threading.Thread(target=poll, daemon=True)
        poller.start()
        time.sleep(2)
        phase[0] = "outage"
        pg_cluster("stop")
        time.sleep(OUTAGE_SECONDS)
        phase[0] = "recovering"
        pg_cluster("start")
        time.sleep(4)
        phase[0] = "after"
        time.sleep(2)
        stop.set()
        poller.join(timeout=20)
    finally:
        stop.set()
        server.terminate()
        server.wait(timeout=10)
        subprocess.run(
            [
                "pg_ctlcluster",
                "--skip-systemctl-redirect",
                sorted(os.listdir("/etc/postgresql"))[-1],
                "main",
                "start",
            ],
            stderr=subprocess.DEVNULL,
        )

    failures = []
    for name in ("before", "outage", "recovering", "after"):
        rows = [r for r in results if r[0] == name]
        statuses = Counter(r[2] for r in rows)
        slowest = max((r[3] for r in rows), default=0.0)
        print(f"{name:>10}: {len(rows):4} requests  {dict(statuses)}  slowest {slowest:.2f} s")
    outage = [r for r in results if r[0] == "outage"]
    if any(r[2] not in (200, 503) for r in outage):
        failures.append("during the outage a request answered neither 200 nor 503")
    if not any(r[2] == 503 for r in outage):
        failures.append("no 503 during the outage")
    if any(b"Traceback" in r[4] for r in results):
        failures.append("a response carried a traceback")
    if max((r[3] for r in outage), default=0.0) > CONNECT_TIMEOUT + 3:
        failures.append("a request hung during the outage")
    after = [r for r in results if r[0] == "after"]
    if not after or any(r[2] != 200 for r in after):
        failures.append("the server did not recover by itself")
    for failure in failures:
        print("FAIL:", failure)
    print("db-outage check:", "failed" if failures else "passed")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
