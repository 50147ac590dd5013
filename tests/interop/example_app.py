"""Runs examples/webapp/app.py in a subprocess, as a person would, for the tests."""

import os
import socket
import subprocess
import sys
import tempfile
import time
from contextlib import contextmanager
from pathlib import Path

APP = Path(__file__).resolve().parents[2] / "examples" / "webapp" / "app.py"


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@contextmanager
def running_example_app(
    *,
    client_id,
    issuer=None,
    region_authorize_url=None,
    client_secret=None,
    port=None,
    scope=None,
):
    """Start the example app on 127.0.0.1:<port>; yields its origin, e.g. http://127.0.0.1:5123.

    Single-tenant with ``issuer``, multi-tenant with ``region_authorize_url``
    (e.g. ``http://eu.localhost:<port>/oauth/authorize``). Its REDIRECT_URI is
    ``{origin}/callback``. Its output is shown if it fails to start.
    """
    port = port or free_port()
    origin = f"http://127.0.0.1:{port}"
    env = {
        "PATH": os.environ.get("PATH", ""),
        "CLIENT_ID": client_id,
        "REDIRECT_URI": f"{origin}/callback",
        "PYTHONUNBUFFERED": "1",
    }
    if issuer:
        env["ISSUER"] = issuer
    if region_authorize_url:
        env["REGION_AUTHORIZE_URL"] = region_authorize_url
    if client_secret:
        env["CLIENT_SECRET"] = client_secret
    if scope:
        env["SCOPE"] = scope
    with tempfile.TemporaryFile(mode="w+") as output:
        process = subprocess.Popen(
            [sys.executable, str(APP)], env=env, stdout=output, stderr=subprocess.STDOUT, text=True
        )
        try:
            wait_until_listening(process, port, output)
            yield origin
        finally:
            process.terminate()
            try:
                process.wait(timeout=5)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()


def wait_until_listening(process, port: int, output) -> None:
    deadline = time.monotonic() + 10
    while True:
        if process.poll() is not None:
            output.seek(0)
            raise RuntimeError(f"The example app exited: {output.read()}")
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
            return
        except OSError:
            if time.monotonic() > deadline:
                output.seek(0)
                raise RuntimeError(f"The example app did not start: {output.read()}") from None
            time.sleep(0.05)
