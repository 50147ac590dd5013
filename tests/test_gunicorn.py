"""config/gunicorn.conf.py: metrics summed over the workers, and no query strings in its logs."""

import json
import os
import runpy
import socket
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from types import SimpleNamespace

import pytest
import requests
from django.conf import settings
from prometheus_client.parser import text_string_to_metric_families

CONFIG = Path(settings.BASE_DIR) / "config" / "gunicorn.conf.py"
TOKEN = "metrics-token-for-the-gunicorn-test"
SECRETS = {"state": "st4te-v4lue", "login_hint": "hint@acme.test", "code": "c0de-v4lue"}


@pytest.fixture
def conf(tmp_path, monkeypatch):
    """The config file's namespace, with its metrics directory in tmp_path."""
    monkeypatch.setenv("PROMETHEUS_MULTIPROC_DIR", str(tmp_path))
    return runpy.run_path(str(CONFIG))


def test_gunicorns_access_log_is_off_and_would_carry_no_query_or_referer(conf):
    assert conf["accesslog"] is None
    for item in ("%(r)s", "%(q)s", "%(f)s", "%(u)s"):
        assert item not in conf["access_log_format"]
    assert "%(U)s" in conf["access_log_format"]


def test_the_metrics_directory_is_emptied_of_metrics_files_at_start(conf, tmp_path):
    (tmp_path / "counter_123.db").write_bytes(b"old")
    (tmp_path / "gauge_liveall_123.db").write_bytes(b"old")
    (tmp_path / "notes.db").write_text("not ours")
    conf["on_starting"](None)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["notes.db"]


def test_a_dead_workers_gauges_go_and_its_counters_stay(conf, tmp_path):
    (tmp_path / "counter_123.db").write_bytes(b"")
    (tmp_path / "gauge_liveall_123.db").write_bytes(b"")
    conf["child_exit"](None, SimpleNamespace(pid=123))
    assert sorted(p.name for p in tmp_path.iterdir()) == ["counter_123.db"]


# --- The real thing: two workers -------------------------------------------------------------


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture
def server(tmp_path):
    """gunicorn with the config and 2 workers; the access log on, to see what it would write."""
    metrics_dir = tmp_path / "metrics"
    metrics_dir.mkdir()
    (metrics_dir / "counter_999999.db").write_bytes(b"counts of an earlier run")
    port = free_port()
    env = {
        **os.environ,
        "DEBUG": "1",  # static files without collectstatic; nothing else here depends on it
        "DATABASE_URL": f"sqlite:///{tmp_path / 'db.sqlite3'}",  # /healthz needs no table
        "PROMETHEUS_MULTIPROC_DIR": str(metrics_dir),
        "METRICS_TOKEN": TOKEN,
        "LOG_LEVEL": "INFO",
        "LOG_FORMAT": "json",
    }
    env.pop("DJANGO_SETTINGS_MODULE", None)
    output = tmp_path / "gunicorn.log"
    with output.open("w") as log:
        process = subprocess.Popen(
            [
                *(sys.executable, "-m", "gunicorn", "-c", str(CONFIG), "config.wsgi"),
                *("--bind", f"127.0.0.1:{port}", "--workers", "2", "--access-logfile", "-"),
            ],
            cwd=settings.BASE_DIR,
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
    base = f"http://127.0.0.1:{port}"
    try:
        for _ in range(300):
            try:
                if requests.get(f"{base}/healthz", timeout=5).status_code == 200:
                    break
            except requests.ConnectionError:
                time.sleep(0.1)
        else:
            pytest.fail("gunicorn did not start: " + output.read_text()[-2000:])
        yield SimpleNamespace(base=base, metrics_dir=metrics_dir, output=output)
    finally:
        process.terminate()
        process.wait(timeout=30)


def scrape(base: str) -> dict:
    response = requests.get(
        f"{base}/metrics", headers={"Authorization": f"Bearer {TOKEN}"}, timeout=10
    )
    assert response.status_code == 200, response.text
    return {
        (s.name, frozenset(s.labels.items())): s.value
        for family in text_string_to_metric_families(response.text)
        for s in family.samples
    }


def test_two_workers_count_together_and_log_no_query_strings(server):
    with ThreadPoolExecutor(4) as pool:
        statuses = list(
            pool.map(
                lambda _: requests.get(f"{server.base}/healthz", timeout=10).status_code, range(40)
            )
        )
    assert statuses == [200] * 40
    authorize = requests.get(f"{server.base}/oauth/authorize", params=SECRETS, timeout=10)
    assert authorize.status_code == 404  # 127.0.0.1 is no tenant host

    healthz = frozenset({"route": "healthz", "method": "GET", "status": "2xx"}.items())
    counts = {
        scrape(server.base)[("http_request_duration_seconds_count", healthz)] for _ in range(8)
    }
    assert counts == {41.0}  # 40 + the start-up probe, whichever worker answers the scrape
    served_by = {p.name for p in server.metrics_dir.glob("histogram_*.db")}
    assert len(served_by) == 2, served_by  # both workers served requests
    assert not (server.metrics_dir / "counter_999999.db").exists()

    time.sleep(0.5)  # let the workers flush their lines
    output = server.output.read_text()
    lines = [json.loads(line) for line in output.splitlines() if line.startswith("{")]
    request_id = authorize.headers["X-Request-ID"]
    [line] = [x for x in lines if x.get("path") == "/oauth/authorize"]
    assert (line["status"], line["request_id"]) == (404, request_id)
    [warning] = [x for x in lines if x["logger"] == "django.request"]
    assert (warning["message"], warning["request_id"]) == (
        "Not Found: /oauth/authorize",
        request_id,
    )
    assert '"GET /oauth/authorize HTTP/1.1" 404' in output  # gunicorn's access line
    for value in SECRETS.values():
        assert value not in output
