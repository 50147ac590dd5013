"""Log output: one JSON object per line, and query strings kept out of request lines.

A dozen lines of formatter instead of a library: it writes exactly the
fields named here and the plain values a caller passed in ``extra``, never
an object's ``repr`` (Django's ``repr`` of a request shows its query string,
which carries codes, ``state`` and ``login_hint``).
"""

import json
import logging
import re
from datetime import UTC, datetime

from tenants.telemetry import current_request_id

# Attributes every LogRecord has; anything else on a record came from ``extra``.
_RECORD_ATTRIBUTES = frozenset(logging.makeLogRecord({}).__dict__) | {"message", "asctime"}
_PLAIN = (str, int, float, bool, type(None))
_QUERY = re.compile(r"\?\S*")


class JsonFormatter(logging.Formatter):
    """``{"time", "level", "logger", "message", "request_id", ...extra}`` on one line."""

    def format(self, record: logging.LogRecord) -> str:
        data = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
            "request_id": _request_id(record),
        }
        for key, value in record.__dict__.items():
            if key not in _RECORD_ATTRIBUTES and isinstance(value, _PLAIN):
                data[key] = value
        if record.exc_info:
            data["exc_info"] = self.formatException(record.exc_info)
        return json.dumps(data, ensure_ascii=False)


def _request_id(record: logging.LogRecord) -> str | None:
    """Our own lines carry it; django.request's carry the request (they are written after
    the middleware has returned); any other line written during a request gets it here."""
    request = record.__dict__.get("request")
    return getattr(request, "request_id", None) or current_request_id.get()


class QueryStringFilter(logging.Filter):
    """Cuts the query string out of request lines logged by servers.

    For ``django.server`` (runserver: ``"GET /oauth/authorize?code=... HTTP/1.1"``)
    and ``gunicorn.error`` ("Error handling request /oauth/authorize?...").
    """

    def filter(self, record: logging.LogRecord) -> bool:
        if isinstance(record.args, tuple) and record.args:
            record.args = tuple(
                _QUERY.sub("", arg) if isinstance(arg, str) else arg for arg in record.args
            )
        elif not record.args and isinstance(record.msg, str):
            record.msg = _QUERY.sub("", record.msg)
        return True
