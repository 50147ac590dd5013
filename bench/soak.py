"""Soak test: `make soak`, or from the project root

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/bench .venv/bin/python bench/soak.py \
        [--duration 60] [--connections 64] [--workers 2]

The benchmark's set-up (bench/run.py: database, seed data, gunicorn with
production settings and config/gunicorn.conf.py), then one long wrk run of
client-credentials token requests and ``GET /api/v1/users/me``, half and
half, at 64 connections for 60 s after a short warm-up. PASS/FAIL:

- no failed responses (non-2xx or socket errors);
- no worker's RSS grows more than 10 % from the end of the warm-up to the end;
- the server never holds more PostgreSQL connections than it has workers
  (``pg_stat_activity``, sampled twice a second; the server's connections are
  told apart by their application name);
- /metrics counted every request, summed over the workers.

Reports p50/p99 too, and writes bench/results/soak.json (the server's log:
bench/results/soak-gunicorn.log).
"""

import argparse
import json
import os
import secrets
import shutil
import subprocess
import sys
import tempfile
import threading
import urllib.request
from datetime import UTC, datetime
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import run as bench  # noqa: E402
import scenarios  # noqa: E402

RSS_GROWTH_LIMIT = 0.10
APP_NAME = "oauth-console-soak"  # libpq reads PGAPPNAME: marks the server's connections
SAMPLE_SECONDS = 0.5
ROUTES = ("oauth2_provider:token", "api-users-me")


def worker_rss_mb(master_pid: int) -> dict[int, float]:
    """RSS of each gunicorn worker, by pid (a restarted worker shows as a new pid)."""
    out = subprocess.run(
        ["ps", "-o", "pid=,rss=", "--ppid", str(master_pid)], capture_output=True, text=True
    ).stdout
    rows = (line.split() for line in out.splitlines() if line.strip())
    return {int(pid): round(int(rss) / 1024, 1) for pid, rss in rows}


class ConnectionSampler(threading.Thread):
    """Counts the server's PostgreSQL connections until stopped."""

    def __init__(self, database_url: str):
        super().__init__(daemon=True)
        self.database_url = database_url
        self.samples: list[int] = []
        self.stopped = threading.Event()

    def run(self) -> None:
        import psycopg

        with psycopg.connect(self.database_url, autocommit=True) as conn:
            while not self.stopped.is_set():
                row = conn.execute(
                    "SELECT count(*) FROM pg_stat_activity "
                    "WHERE datname = current_database() AND application_name = %s",
                    [APP_NAME],
                ).fetchone()
                self.samples.append(row[0])
                self.stopped.wait(SAMPLE_SECONDS)


def scrape(port: int, token: str) -> dict:
    """/metrics as {(name, frozenset(labels)): value}."""
    from prometheus_client.parser import text_string_to_metric_families

    request = urllib.request.Request(
        f"http://127.0.0.1:{port}/metrics",
        headers={"Host": "127.0.0.1", "Authorization": f"Bearer {token}"},
    )
    with urllib.request.urlopen(request, timeout=30) as response:  # noqa: S310 - loopback
        text = response.read().decode()
    return {
        (s.name, frozenset(s.labels.items())): s.value
        for family in text_string_to_metric_families(text)
        for s in family.samples
    }


def counted(samples: dict, name: str, **wanted) -> float:
    """The sum of ``name``'s samples whose labels include ``wanted``."""
    return sum(
        value
        for (sample, labels), value in samples.items()
        if sample == name and set(wanted.items()) <= labels
    )


def evaluate(row: dict, rss: dict, connections: list[int], workers: int, metrics: dict) -> list:
    targets = []

    def add(name, ok, detail):
        targets.append({"target": name, "result": "PASS" if ok else "FAIL", "detail": detail})

    errors = sum(row["socket_errors"].values())
    add(
        "no failed responses",
        row["failures"] == 0 and errors == 0 and row["requests"] > 0,
        f"{row['requests']} requests, {row['failures']} non-2xx, socket errors "
        f"{row['socket_errors'] or 0}, statuses {row['statuses']}",
    )
    before, after = rss["before"], rss["after"]
    growth = {pid: after[pid] / before[pid] - 1 for pid in before if pid in after}
    add(
        f"worker RSS growth <= {RSS_GROWTH_LIMIT:.0%}",
        len(growth) == workers == len(after)
        and all(g <= RSS_GROWTH_LIMIT for g in growth.values()),
        ", ".join(
            f"pid {pid}: {before[pid]} -> {after.get(pid, '(gone)')} MB ({growth[pid]:+.1%})"
            if pid in growth
            else f"pid {pid}: gone"
            for pid in before
        )
        + (f"; new workers {sorted(set(after) - set(before))}" if set(after) - set(before) else ""),
    )
    most = max(connections, default=0)
    add(
        f"PostgreSQL connections <= {workers} (one per worker)",
        0 < most <= workers,
        f"max {most} over {len(connections)} samples"
        + ("" if most else " (no sample saw the server's connections)"),
    )
    seen, sent = metrics["server_requests"], row["requests"]
    add(
        "/metrics counted every request across the workers",
        sent <= seen <= sent + metrics["connections"],
        f"server counted {seen:.0f}, wrk completed {sent} (wrk abandons up to one "
        f"in-flight request per connection when it stops); tokens issued "
        f"{metrics['tokens_issued']:.0f}",
    )
    return targets


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description="Soak test (bench/soak.py docstring).")
    parser.add_argument("--duration", type=float, default=60.0, help="measured seconds")
    parser.add_argument("--warmup", type=float, default=5.0, help="warm-up seconds")
    parser.add_argument("--connections", type=int, default=64)
    parser.add_argument("--threads", type=int, default=2, help="wrk threads")
    parser.add_argument("--workers", type=int, default=2, help="gunicorn workers")
    parser.add_argument("--scale", type=float, default=1.0, help="data set (bench --scale)")
    parser.add_argument("--skip-seed", action="store_true", help="create no data")
    return parser.parse_args()


def main() -> int:
    args = parse_args()
    if not shutil.which("wrk"):
        bench.log("wrk is not installed: apt-get install wrk (Debian/Ubuntu), brew install wrk")
        return 2
    base_url = bench.postgres_url()
    if base_url is None:
        return 2
    started_at = datetime.now(UTC).isoformat(timespec="seconds")
    database_url = bench.scaled_database_url(base_url, args.scale)
    bench.ensure_database(database_url)
    bench.RESULTS.mkdir(parents=True, exist_ok=True)
    port = bench.free_port()
    metrics_token = secrets.token_urlsafe(32)
    env = {
        **bench.server_env(database_url, port),
        # A soak runs what production runs: one JSON line per request.
        "LOG_LEVEL": "INFO",
        "METRICS_TOKEN": metrics_token,
    }
    bench.log(f"Database {bench.public_url(database_url)}, scale {args.scale:g}")
    workdir = Path(tempfile.mkdtemp(prefix="soak-"))
    layout_file, inputs_file = workdir / "layout.json", workdir / "inputs.json"
    layout, _seed_seconds = bench.prepare(env, args.scale, layout_file, args.skip_seed)

    bench.log(f"Starting gunicorn ({args.workers} workers) on 127.0.0.1:{port}")
    server_log = (bench.RESULTS / "soak-gunicorn.log").open("w")
    server = bench.start_gunicorn({**env, "PGAPPNAME": APP_NAME}, port, args.workers, server_log)
    wrk = bench.Wrk(args, port, workdir)
    sampler = ConnectionSampler(database_url)
    try:
        if not bench.wait_until_up(server, port, "bench/results/soak-gunicorn.log"):
            return 1
        bench.helper(env, "inputs", layout_file, port, inputs_file)
        inputs = json.loads(inputs_file.read_text())
        requests = scenarios.client_credentials(layout, port) + scenarios.users_me(
            layout, port, inputs
        )
        lua = wrk.script("soak", requests, "random", "2xx", "run")
        bench.log(
            f"Warm-up {args.warmup:g} s, then {args.duration:g} s at {args.connections} connections"
        )
        wrk.run(lua, args.warmup)
        rss_before = worker_rss_mb(server.pid)
        metrics_before = scrape(port, metrics_token)
        load_before = bench.loadavg()
        sampler.start()
        result = wrk.run(lua, args.duration)
        sampler.stopped.set()
        sampler.join()
        rss_after = worker_rss_mb(server.pid)
        metrics_after = scrape(port, metrics_token)
        load_after = bench.loadavg()
    finally:
        sampler.stopped.set()
        bench.stop_gunicorn(server, server_log)
        bench.discard_workdir(env, workdir, layout_file, inputs_file)

    row = bench.summarise("soak", [result], title="client credentials + users/me")

    def delta(name, **labels):
        return counted(metrics_after, name, **labels) - counted(metrics_before, name, **labels)

    metrics = {
        "server_requests": sum(
            delta("http_request_duration_seconds_count", route=route) for route in ROUTES
        ),
        "tokens_issued": delta("oauth_tokens_issued_total", grant_type="client_credentials"),
        "connections": args.connections,
    }
    rss = {"before": rss_before, "after": rss_after}
    report = {
        "started_at": started_at,
        "finished_at": datetime.now(UTC).isoformat(timespec="seconds"),
        "database": bench.public_url(database_url),
        "settings": {
            "duration": args.duration,
            "warmup": args.warmup,
            "connections": args.connections,
            "wrk_threads": args.threads,
            "workers": args.workers,
            "scale": args.scale,
        },
        "machine": {
            "cpus": os.cpu_count(),
            "loadavg_before": load_before,
            "loadavg_after": load_after,
        },
        "result": row,
        "memory_mb": {k: {str(pid): mb for pid, mb in v.items()} for k, v in rss.items()},
        "postgres_connections": {
            "max": max(sampler.samples, default=0),
            "samples": len(sampler.samples),
        },
        "metrics": metrics,
        "targets": evaluate(row, rss, sampler.samples, args.workers, metrics),
    }
    (bench.RESULTS / "soak.json").write_text(json.dumps(report, indent=1))

    bench.log("")
    bench.log(
        f"Soak: {row['requests']} requests in {row['seconds']} s ({row['rps']} req/s), "
        f"p50 {row['p50_ms']} ms, p99 {row['p99_ms']} ms, max {row['max_ms']} ms; "
        f"load average {load_before} -> {load_after}"
    )
    for t in report["targets"]:
        bench.log(f"{t['result']:<5} {t['target']}: {t['detail']}")
    bench.log(f"\nWrote {bench.RESULTS / 'soak.json'}")
    return 1 if any(t["result"] == "FAIL" for t in report["targets"]) else 0


if __name__ == "__main__":
    sys.exit(main())
