"""gunicorn's settings: ``gunicorn -c config/gunicorn.conf.py config.wsgi --workers 2 ...``.

Two things the app needs from the server that serves it:

- Prometheus metrics summed over all workers: prometheus_client's
  multiprocess mode, where each worker writes its counts to files in
  ``PROMETHEUS_MULTIPROC_DIR`` and ``/metrics`` adds them up. The directory
  is emptied when gunicorn starts (counts of an earlier run would be added
  to this one's); without the variable a private temporary directory is
  made, and removed on exit. One directory per gunicorn, never shared.
- No query strings in the logs: authorization codes, ``state`` and
  ``login_hint`` travel there. The app writes one JSON line per request
  (``tenants/request_log.py``), so gunicorn's own access log stays off; if
  it is turned on anyway (``--access-logfile -``) its format has neither the
  query string nor the Referer (which repeats one).
"""

import logging
import os
import re
import shutil
import tempfile
from pathlib import Path

# Before anything imports prometheus_client: it picks its storage on import,
# and the workers inherit this environment.
_made_metrics_dir = not os.environ.get("PROMETHEUS_MULTIPROC_DIR")
if _made_metrics_dir:
    os.environ["PROMETHEUS_MULTIPROC_DIR"] = tempfile.mkdtemp(prefix="oauth-console-metrics-")
METRICS_DIR = Path(os.environ["PROMETHEUS_MULTIPROC_DIR"])

# prometheus_client's files (counter_123.db, gauge_liveall_123.db, ...): nothing else is deleted.
_METRICS_FILE = re.compile(r"(counter|histogram|summary|gauge_[a-z]+)_\d+\.db")

accesslog = None
# %(U)s is the path without the query string; no %(r)s (request line), %(q)s or %(f)s (Referer).
access_log_format = '%(h)s %(t)s "%(m)s %(U)s %(H)s" %(s)s %(b)s %(M)sms'


def on_starting(server):
    METRICS_DIR.mkdir(parents=True, exist_ok=True)
    for stale in METRICS_DIR.iterdir():
        if _METRICS_FILE.fullmatch(stale.name):
            stale.unlink()


def post_worker_init(worker):
    from tenants.logs import QueryStringFilter

    # "Error handling request /oauth/authorize?code=...": gunicorn logs the full URI.
    logging.getLogger("gunicorn.error").addFilter(QueryStringFilter())


def child_exit(server, worker):
    from prometheus_client import multiprocess

    # Its counters stay (they are totals); its per-process gauges go.
    multiprocess.mark_process_dead(worker.pid)


def on_exit(server):
    if _made_metrics_dir:
        shutil.rmtree(METRICS_DIR, ignore_errors=True)
