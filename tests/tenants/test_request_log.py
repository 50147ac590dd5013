"""One JSON log line per request, and the request ID: accepted, echoed, shown on error pages."""

import json
import logging
import re
import sys
from unittest import mock

import pytest
from django.db import OperationalError, connection
from django.test import Client

from oauth_clients.oauth.views import TokenView
from tenants import telemetry
from tenants.logs import JsonFormatter, QueryStringFilter
from tests.factories import PASSWORD
from tests.flows import client_for

pytestmark = pytest.mark.django_db

GENERATED = re.compile(r"[0-9a-f]{32}")


@pytest.fixture
def request_lines(caplog):
    """The request log's records, formatted as production writes them."""
    caplog.set_level(logging.INFO, logger="oauth_console.request")
    formatter = JsonFormatter()

    def lines() -> list[dict]:
        return [
            json.loads(formatter.format(r))
            for r in caplog.records
            if r.name == "oauth_console.request"
        ]

    return lines


def security_lines(caplog) -> list[dict]:
    formatter = JsonFormatter()
    return [
        json.loads(formatter.format(r))
        for r in caplog.records
        if r.name == "oauth_console.security"
    ]


# --- The request line --------------------------------------------------------------------


def test_a_request_is_one_json_line_with_its_fields(request_lines, tenant_a):
    response = client_for(tenant_a).get("/login/?next=/console/&state=s3cr3t")
    [line] = request_lines()
    assert line["level"] == "INFO"
    assert line["logger"] == "oauth_console.request"
    assert line["method"] == "GET"
    assert line["path"] == "/login/"
    assert line["status"] == 200
    assert isinstance(line["duration_ms"], float)
    assert line["request_id"] == response["X-Request-ID"]
    assert line["tenant"] == "acme.eu.localhost"
    assert line["route"] == "tenants:login"
    assert line["time"].endswith("+00:00")
    assert "s3cr3t" not in json.dumps(line)


def test_djangos_warning_for_a_4xx_carries_the_request_id(caplog, tenant_a):
    caplog.set_level(logging.WARNING, logger="django.request")
    response = client_for(tenant_a).get("/no-such-page?code=abc123")
    [warning] = [r for r in caplog.records if r.name == "django.request"]
    line = json.loads(JsonFormatter().format(warning))
    assert line["message"] == "Not Found: /no-such-page"
    assert line["request_id"] == response["X-Request-ID"]


def test_a_request_without_a_tenant_logs_null(request_lines):
    Client(HTTP_HOST="127.0.0.1").get("/healthz")
    [line] = request_lines()
    assert line["tenant"] is None
    assert line["route"] == "healthz"


def test_an_unknown_host_is_logged_as_unmatched(request_lines, region_eu):
    response = Client(HTTP_HOST="nowhere.eu.localhost").get("/oauth/authorize?code=abc")
    assert response.status_code == 404
    [line] = request_lines()
    assert (line["path"], line["status"], line["route"]) == ("/oauth/authorize", 404, "unmatched")


def test_a_server_error_is_logged_at_error_level(request_lines, tenant_a):
    http = client_for(tenant_a, raise_request_exception=False)
    with mock.patch.object(TokenView, "create_token_response", side_effect=ValueError("boom")):
        http.post("/oauth/token", {"grant_type": "client_credentials"})
    line = request_lines()[-1]
    assert (line["status"], line["level"]) == (500, "ERROR")


def test_nothing_is_built_when_the_line_would_be_dropped(caplog, tenant_a):
    caplog.set_level(logging.WARNING, logger="oauth_console.request")
    with mock.patch("tenants.request_log.RequestLogMiddleware.log_request") as log_request:
        client_for(tenant_a).get("/login/")
    log_request.assert_not_called()


# --- Request IDs ---------------------------------------------------------------------------


def test_a_valid_request_id_is_kept_and_echoed(tenant_a, request_lines):
    response = client_for(tenant_a).get("/login/", HTTP_X_REQUEST_ID="lb-7f3a:42.x_y-z")
    assert response["X-Request-ID"] == "lb-7f3a:42.x_y-z"
    assert request_lines()[0]["request_id"] == "lb-7f3a:42.x_y-z"


@pytest.mark.parametrize(
    "offered", ["", "a" * 65, "has space", "<script>", "id\nforged", "tök", "a/b", "a;b"]
)
def test_an_invalid_request_id_is_replaced(tenant_a, offered):
    response = client_for(tenant_a).get("/login/", HTTP_X_REQUEST_ID=offered)
    assert GENERATED.fullmatch(response["X-Request-ID"])


def test_a_request_id_is_generated_for_every_request(tenant_a):
    http = client_for(tenant_a)
    first, second = http.get("/login/")["X-Request-ID"], http.get("/login/")["X-Request-ID"]
    assert GENERATED.fullmatch(first) and GENERATED.fullmatch(second)
    assert first != second


def test_log_lines_below_the_view_carry_the_request_id(caplog, tenant_a, alice):
    caplog.set_level(logging.INFO)
    response = client_for(tenant_a).post(
        "/login/", {"username": alice.email, "password": "not-" + PASSWORD}
    )
    [event] = security_lines(caplog)
    assert event["event"] == "sign_in_failed"
    assert event["request_id"] == response["X-Request-ID"]
    assert event["tenant"] == "acme.eu.localhost"
    assert alice.email not in json.dumps(event)
    assert telemetry.current_request_id.get() is None  # reset after the request


@pytest.mark.parametrize(
    "host,path", [("acme.eu.localhost", "/no-such-page"), ("nowhere.eu.localhost", "/")]
)
def test_the_404_pages_show_the_request_id(tenant_a, host, path):
    response = Client(HTTP_HOST=host).get(path, HTTP_X_REQUEST_ID="support-me-404")
    assert response.status_code == 404
    assert 'class="mono">support-me-404</span>' in response.content.decode()


def test_the_sign_in_429_page_shows_the_request_id(tenant_a, alice, settings):
    settings.RATE_LIMITS = {**settings.RATE_LIMITS, "sign_in_per_account_address": (1, 900)}
    http = client_for(tenant_a)
    wrong = {"username": alice.email, "password": "nope"}
    http.post("/login/", wrong)
    response = http.post("/login/", wrong, HTTP_X_REQUEST_ID="support-me-429")
    assert response.status_code == 429
    assert "support-me-429" in response.content.decode()


class Outage:
    def __call__(self, execute, sql, params, many, context):
        raise OperationalError("could not connect to server")


def test_the_503_json_body_and_page_carry_the_request_id(tenant_a, alice):
    http = client_for(tenant_a, alice, raise_request_exception=False)
    with connection.execute_wrapper(Outage()):
        api = http.post("/oauth/token", {"grant_type": "x"}, HTTP_X_REQUEST_ID="outage-1")
        page = http.get("/console/", HTTP_X_REQUEST_ID="outage-2")
    assert api.status_code == 503
    assert api.json()["request_id"] == "outage-1"
    assert api["X-Request-ID"] == "outage-1"
    assert page.status_code == 503
    assert "<code>outage-2</code>" in page.content.decode()


def test_the_500_json_body_and_page_carry_the_request_id(tenant_a, alice):
    http = client_for(tenant_a, alice, raise_request_exception=False)
    with mock.patch.object(TokenView, "create_token_response", side_effect=ValueError("boom")):
        api = http.post("/oauth/token", {"grant_type": "x"}, HTTP_X_REQUEST_ID="broken-1")
    with mock.patch("tenants.views.render", side_effect=ValueError("boom")):
        page = http.get("/console/", HTTP_X_REQUEST_ID="broken-2")
    assert api.status_code == 500
    assert api.json()["request_id"] == "broken-1"
    assert page.status_code == 500
    assert "<code>broken-2</code>" in page.content.decode()


# --- The formatter and the filter ------------------------------------------------------------


def record(msg, *args, **extra) -> logging.LogRecord:
    item = logging.LogRecord("x", logging.WARNING, __file__, 1, msg, args, None)
    item.__dict__.update(extra)
    return item


def test_the_formatter_writes_plain_extra_values_and_never_an_objects_repr(rf):
    request = rf.get("/oauth/authorize?code=abc&state=xyz")
    line = json.loads(JsonFormatter().format(record("Not Found: %s", "/x", request=request)))
    assert line["message"] == "Not Found: /x"
    assert "request" not in line
    assert "abc" not in json.dumps(line)


def test_the_formatter_adds_the_traceback():
    try:
        raise ValueError("boom")
    except ValueError:
        item = record("failed")
        item.exc_info = sys.exc_info()
    line = json.loads(JsonFormatter().format(item))
    assert "ValueError: boom" in line["exc_info"]


@pytest.mark.parametrize(
    "msg,args,expected",
    [
        (
            '"%s" %s %s',
            ("GET /oauth/authorize?code=abc&state=x HTTP/1.1", "302", "0"),
            '"GET /oauth/authorize HTTP/1.1" 302 0',
        ),
        (
            "Error handling request %s",
            ("/oauth/token?code=abc",),
            "Error handling request /oauth/token",
        ),
        ("Invalid request GET /a?login_hint=b", (), "Invalid request GET /a"),
    ],
)
def test_the_query_string_filter_cuts_queries_out_of_request_lines(msg, args, expected):
    item = record(msg, *args)
    assert QueryStringFilter().filter(item)
    assert item.getMessage() == expected


def test_runservers_request_lines_lose_their_query_string(caplog):
    caplog.set_level(logging.INFO, logger="django.server")
    line = "GET /oauth/authorize?state=xyz&login_hint=a@b.test HTTP/1.1"
    logging.getLogger("django.server").info('"%s" %s %s', line, "302", "0")
    [item] = [r for r in caplog.records if r.name == "django.server"]
    assert item.getMessage() == '"GET /oauth/authorize HTTP/1.1" 302 0'
