"""Failing well: database outages, unexpected errors, housekeeping and concurrent writes.

- handler500 (tenants.views.server_error): a database outage is a 503 the
  client may retry (JSON with ``temporarily_unavailable`` on API and token
  paths, HTML elsewhere, ``Retry-After`` on both); any other error is a 500;
  neither shows a traceback.
- ``purge_expired`` removes expired codes, tokens and revocation entries,
  keeps live ones, and can run again.
- PostgreSQL only: parallel secret generations never pass the per-client
  limit; parallel bulk deletes of the same clients both succeed.
"""

import hashlib
import http.client
import json
import re
import threading
from datetime import timedelta
from io import StringIO
from unittest import mock
from urllib.parse import urlencode, urlsplit

import pytest
from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.management import call_command
from django.db import (
    IntegrityError,
    InterfaceError,
    OperationalError,
    ProgrammingError,
    connection,
)
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from oauth_clients import services
from oauth_clients.models import (
    AccessToken,
    AuthorizationCode,
    ClientSecret,
    IDToken,
    OAuthClient,
    RefreshToken,
    RevokedToken,
)
from tenants.models import AuditEvent, Tenant, User
from tests.factories import create_oauth_client
from tests.flows import REDIRECT, basic, client_for, get_code, redeem, sign_in
from tests.jwts import jti_of

LIST_URL = reverse("oauth_clients:list")
CONSOLE_URL = reverse("tenants:console")


# --- handler500: 503 on a database outage, 500 otherwise -----------------------------------------


class Outage:
    """``connection.execute_wrapper``: queries (matching ``table``, if given) raise ``error``."""

    def __init__(self, error=OperationalError, table: str | None = None):
        self.error = error
        self.table = table
        self.blocked = 0

    def __call__(self, execute, sql, params, many, context):
        if self.table is None or self.table in sql:
            self.blocked += 1
            raise self.error("could not connect to server: Connection refused")
        return execute(sql, params, many, context)


@pytest.fixture
def outage():
    """``with outage(): ...``: the database is unreachable inside the block."""

    def start(error=OperationalError, table=None):
        wrapper = Outage(error, table)
        return connection.execute_wrapper(wrapper)

    return start


@pytest.fixture
def token(tenant_a, m2m) -> str:
    response = client_for(tenant_a).post(
        "/oauth/token", {"grant_type": "client_credentials"}, HTTP_AUTHORIZATION=basic(m2m)
    )
    assert response.status_code == 200
    return response.json()["access_token"]


def no_raise(tenant, user=None) -> Client:
    return client_for(tenant, user, raise_request_exception=False)


def assert_unavailable_page(response):
    assert response.status_code == 503
    assert response["Content-Type"].startswith("text/html")
    assert response["Retry-After"] == "5"
    html = response.content.decode()
    assert "Temporarily unavailable" in html
    for leak in ("Traceback", "OperationalError", "could not connect", 'File "'):
        assert leak not in html


def assert_unavailable_json(response):
    assert response.status_code == 503
    assert response["Content-Type"].startswith("application/json")
    assert response["Retry-After"] == "5"
    body = response.json()
    assert body["error"] == "temporarily_unavailable"
    assert body["error_description"]
    text = response.content.decode()
    assert "Traceback" not in text and "could not connect" not in text


@pytest.mark.django_db
class TestDatabaseOutage:
    @pytest.mark.parametrize("path", [CONSOLE_URL, LIST_URL, "/", "/login/", "/account/apps/"])
    def test_a_page_is_a_503_without_a_traceback(self, tenant_a, alice, outage, path):
        http = no_raise(tenant_a, alice)
        with outage():
            response = http.get(path)
        assert_unavailable_page(response)

    def test_the_503_page_keeps_the_security_headers(self, tenant_a, alice, outage):
        http = no_raise(tenant_a, alice)
        with outage():
            response = http.get(CONSOLE_URL)
        assert response.status_code == 503
        # The CSP middleware sits above the tenant lookup; X-Frame-Options (further
        # down the stack) may be missing here, frame-ancestors covers framing.
        assert "frame-ancestors 'none'" in response["Content-Security-Policy"]
        assert response["X-Content-Type-Options"] == "nosniff"

    def test_a_console_post_is_a_503(self, tenant_a, alice, outage):
        http = no_raise(tenant_a, alice)
        with outage():
            response = http.post(reverse("oauth_clients:create"), {"name": "x"})
        assert_unavailable_page(response)

    def test_the_users_me_api_is_a_json_503(self, tenant_a, token, outage):
        http = no_raise(tenant_a)
        with outage():
            response = http.get("/api/v1/users/me", HTTP_AUTHORIZATION=f"Bearer {token}")
        assert_unavailable_json(response)

    @pytest.mark.parametrize("path", ["/oauth/token", "/oauth/revoke", "/oauth/introspect"])
    def test_the_token_endpoints_are_a_json_503(self, tenant_a, m2m, outage, path):
        http = no_raise(tenant_a)
        with outage():
            response = http.post(
                path,
                {"grant_type": "client_credentials", "token": "x"},
                HTTP_AUTHORIZATION=basic(m2m),
            )
        assert_unavailable_json(response)

    def test_an_outage_after_the_tenant_is_found_is_a_503_too(self, tenant_a, alice, outage):
        http = no_raise(tenant_a, alice)
        with outage(table="oauth_clients_oauthclient"):
            response = http.get(LIST_URL)
        assert_unavailable_page(response)

    def test_an_outage_at_the_token_endpoints_client_lookup_is_a_json_503(
        self, tenant_a, m2m, outage
    ):
        http = no_raise(tenant_a)
        with outage(table="oauth_clients_clientsecret"):
            response = http.post(
                "/oauth/token",
                {"grant_type": "client_credentials"},
                HTTP_AUTHORIZATION=basic(m2m),
            )
        assert_unavailable_json(response)

    def test_a_lost_connection_is_a_503_too(self, tenant_a, m2m, outage):
        http = no_raise(tenant_a)
        with outage(error=InterfaceError):
            response = http.post(
                "/oauth/token", {"grant_type": "client_credentials"}, HTTP_AUTHORIZATION=basic(m2m)
            )
        assert_unavailable_json(response)

    def test_the_region_host_is_a_503_too(self, tenant_a, outage):
        http = no_raise(tenant_a)
        with outage():
            response = http.get("/oauth/authorize?client_id=x", HTTP_HOST=tenant_a.region.hostname)
        assert_unavailable_page(response)

    def test_healthz_reports_the_database_unavailable(self, tenant_a, outage):
        http = no_raise(tenant_a)
        with outage():
            response = http.get("/healthz", HTTP_HOST="127.0.0.1")
        assert response.status_code == 503
        assert response.json() == {
            "status": "unavailable",
            "database": "unavailable",
            "cache": "ok",
        }

    def test_service_resumes_when_the_database_is_back(self, tenant_a, alice, m2m, outage):
        http = no_raise(tenant_a, alice)
        with outage():
            assert http.get(CONSOLE_URL).status_code == 503
        assert http.get(CONSOLE_URL).status_code == 200
        response = http.post(
            "/oauth/token", {"grant_type": "client_credentials"}, HTTP_AUTHORIZATION=basic(m2m)
        )
        assert response.status_code == 200


def assert_server_error_page(response):
    assert response.status_code == 500
    assert response["Content-Type"].startswith("text/html")
    assert "Retry-After" not in response
    html = response.content.decode()
    assert "Server error" in html
    assert "Temporarily unavailable" not in html
    assert "Traceback" not in html and "boom" not in html


def assert_server_error_json(response):
    assert response.status_code == 500
    assert response["Content-Type"].startswith("application/json")
    assert "Retry-After" not in response
    assert response.json()["error"] == "server_error"
    assert "Traceback" not in response.content.decode()
    assert "boom" not in response.content.decode()


@pytest.mark.django_db
class TestOtherErrors:
    def test_a_bug_in_a_console_view_is_a_500_page(self, tenant_a, alice):
        http = no_raise(tenant_a, alice)
        with mock.patch("tenants.views.render", side_effect=ValueError("boom")):
            response = http.get(CONSOLE_URL)
        assert_server_error_page(response)

    def test_a_bug_at_the_token_endpoint_is_a_json_500(self, tenant_a, m2m):
        http = no_raise(tenant_a)
        with mock.patch("oauth_clients.oauth.views.parse_body", side_effect=ValueError("boom")):
            response = http.post("/oauth/token", {"grant_type": "client_credentials"})
        assert_server_error_json(response)

    def test_a_bug_in_the_api_is_a_json_500(self, tenant_a, token):
        http = no_raise(tenant_a)
        with mock.patch(
            "oauth_clients.oauth.bearer.authenticate_bearer", side_effect=KeyError("boom")
        ):
            response = http.get("/api/v1/users/me", HTTP_AUTHORIZATION=f"Bearer {token}")
        assert_server_error_json(response)

    @pytest.mark.parametrize("error", [ProgrammingError, IntegrityError])
    def test_a_database_error_that_is_not_an_outage_is_a_500(self, tenant_a, alice, error):
        http = no_raise(tenant_a, alice)
        with connection.execute_wrapper(Outage(error, table="oauth_clients_oauthclient")):
            response = http.get(LIST_URL)
        assert_server_error_page(response)


# --- purge_expired ------------------------------------------------------------------------------


def purge() -> str:
    out = StringIO()
    call_command("purge_expired", stdout=out)
    return out.getvalue()


def issue_refreshable(http, api, web) -> RefreshToken:
    """A code redeemed for an access and a refresh token; the row, its plaintext attached."""
    code, verifier = get_code(http, web, scope="user_default offline_access")
    response = redeem(api, web, code, verifier)
    assert response.status_code == 200, response.content
    plaintext = response.json()["refresh_token"]
    row = RefreshToken.objects.get(token_checksum=hashlib.sha256(plaintext.encode()).hexdigest())
    row.plaintext = plaintext
    return row


def client_credentials_token(api, m2m) -> AccessToken:
    response = api.post(
        "/oauth/token", {"grant_type": "client_credentials"}, HTTP_AUTHORIZATION=basic(m2m)
    )
    assert response.status_code == 200
    return AccessToken.objects.get(jti=jti_of(response.json()["access_token"]))


def refresh_lifetime() -> timedelta:
    return timedelta(seconds=settings.OAUTH2_PROVIDER["REFRESH_TOKEN_EXPIRE_SECONDS"])


@pytest.mark.django_db
class TestPurgeExpired:
    @pytest.fixture
    def rows(self, tenant_a, alice, web, m2m):
        """Live and expired rows of every kind purge_expired looks at."""
        now = timezone.now()
        http, api = client_for(tenant_a, alice), client_for(tenant_a)
        long_ago = now - refresh_lifetime() - timedelta(days=1)

        live_code, _v = get_code(http, web)
        expired_code, _v = get_code(http, web)
        AuthorizationCode.objects.filter(code=expired_code).update(
            expires=now - timedelta(seconds=1)
        )
        used_code, verifier = get_code(http, web)
        assert redeem(api, web, used_code, verifier).status_code == 200
        AuthorizationCode.objects.filter(code=used_code).update(expires=now - timedelta(hours=1))

        live_access = client_credentials_token(api, m2m)
        expired_access = client_credentials_token(api, m2m)
        AccessToken.objects.filter(pk=expired_access.pk).update(expires=now - timedelta(hours=1))

        # A live refresh token keeps its (expired) access token: it is still the family's.
        live_refresh = issue_refreshable(http, api, web)
        AccessToken.objects.filter(pk=live_refresh.access_token_id).update(
            expires=now - timedelta(minutes=5)
        )
        # Unused for longer than the refresh lifetime: both go.
        idle_refresh = issue_refreshable(http, api, web)
        AccessToken.objects.filter(pk=idle_refresh.access_token_id).update(expires=long_ago)
        # Revoked (rotated) recently: kept, so a replay is still recognised.
        recently_revoked = issue_refreshable(http, api, web)
        RefreshToken.objects.filter(pk=recently_revoked.pk).update(revoked=now - timedelta(days=1))
        # Revoked longer ago than the refresh lifetime: goes.
        long_revoked = issue_refreshable(http, api, web)
        RefreshToken.objects.filter(pk=long_revoked.pk).update(revoked=long_ago)

        RevokedToken.objects.create(jti="expired-jti", expires_at=now - timedelta(seconds=1))
        RevokedToken.objects.create(jti="live-jti", expires_at=now + timedelta(hours=1))
        return {
            "live_code": live_code,
            "expired_code": expired_code,
            "used_code": used_code,
            "live_access": live_access,
            "expired_access": expired_access,
            "live_refresh": live_refresh,
            "idle_refresh": idle_refresh,
            "recently_revoked": recently_revoked,
            "long_revoked": long_revoked,
        }

    def test_it_removes_expired_rows_and_keeps_live_ones(self, rows):
        output = purge()
        codes = set(AuthorizationCode.objects.values_list("code", flat=True))
        assert rows["live_code"] in codes
        assert rows["expired_code"] not in codes
        assert rows["used_code"] not in codes

        access = set(AccessToken.objects.values_list("pk", flat=True))
        assert rows["live_access"].pk in access
        assert rows["expired_access"].pk not in access
        assert rows["live_refresh"].access_token_id in access
        assert rows["idle_refresh"].access_token_id not in access

        refresh = set(RefreshToken.objects.values_list("pk", flat=True))
        assert rows["live_refresh"].pk in refresh
        assert rows["recently_revoked"].pk in refresh
        assert rows["idle_refresh"].pk not in refresh
        assert rows["long_revoked"].pk not in refresh

        revoked = set(RevokedToken.objects.values_list("jti", flat=True))
        assert "live-jti" in revoked
        assert "expired-jti" not in revoked
        assert "1 revocation entries" in output

    def test_expired_tokens_it_deletes_are_not_put_on_the_revocation_list(self, rows):
        purge()
        assert set(RevokedToken.objects.values_list("jti", flat=True)) == {"live-jti"}

    def test_deleting_a_live_token_afterwards_still_revokes_its_jwt(self, rows):
        purge()
        live = AccessToken.objects.get(pk=rows["live_access"].pk)
        live.delete()
        assert RevokedToken.objects.filter(jti=live.jti).exists()

    def test_a_failing_sweep_still_reconnects_the_revocation_signal(self, rows):
        with (
            mock.patch(
                "oauth_clients.management.commands.purge_expired.clear_expired",
                side_effect=OperationalError("gone"),
            ),
            pytest.raises(OperationalError),
        ):
            purge()
        live = AccessToken.objects.get(pk=rows["live_access"].pk)
        live.delete()
        assert RevokedToken.objects.filter(jti=live.jti).exists()

    def test_it_can_run_twice(self, rows):
        purge()
        state = {
            model.__name__: sorted(model.objects.values_list("pk", flat=True))
            for model in (AuthorizationCode, AccessToken, RefreshToken, IDToken, RevokedToken)
        }
        output = purge()
        assert "0 revocation entries" in output
        assert state == {
            model.__name__: sorted(model.objects.values_list("pk", flat=True))
            for model in (AuthorizationCode, AccessToken, RefreshToken, IDToken, RevokedToken)
        }

    def test_the_kept_tokens_still_work(self, rows, tenant_a, web, alice):
        purge()
        api = client_for(tenant_a)
        refreshed = api.post(
            "/oauth/token",
            {"grant_type": "refresh_token", "refresh_token": rows["live_refresh"].plaintext},
            HTTP_AUTHORIZATION=basic(web),
        )
        assert refreshed.status_code == 200, refreshed.content
        gone = api.post(
            "/oauth/token",
            {"grant_type": "refresh_token", "refresh_token": rows["idle_refresh"].plaintext},
            HTTP_AUTHORIZATION=basic(web),
        )
        assert gone.status_code == 400
        assert gone.json()["error"] == "invalid_grant"
        code = api.post(
            "/oauth/token",
            {
                "grant_type": "authorization_code",
                "code": rows["expired_code"],
                "redirect_uri": REDIRECT,
                "code_verifier": "v" * 43,
            },
            HTTP_AUTHORIZATION=basic(web),
        )
        assert code.status_code == 400
        assert code.json()["error"] == "invalid_grant"

    def test_it_runs_on_an_empty_database(self, db):
        assert "0 revocation entries" in purge()


# --- Concurrency (PostgreSQL) ------------------------------------------------------------------

postgres_only = pytest.mark.skipif(
    connection.vendor != "postgresql",
    reason="needs PostgreSQL (row locks, concurrent transactions): "
    "set DATABASE_URL=postgres://postgres@127.0.0.1:5432/devtest",
)
PARALLEL = 10
TIMEOUT = 30


def run_together(count: int, work) -> list:
    """Run ``work(index)`` in ``count`` threads released together; each gets its own
    database connection (closed after). Returns results or exceptions, in order."""
    barrier = threading.Barrier(count)
    results: list = [None] * count

    def worker(index: int) -> None:
        try:
            barrier.wait(timeout=TIMEOUT)
            results[index] = work(index)
        except Exception as error:  # noqa: BLE001 - the caller asserts on it
            results[index] = error
        finally:
            connection.close()

    threads = [threading.Thread(target=worker, args=(i,)) for i in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(TIMEOUT + 5)
    assert all(not thread.is_alive() for thread in threads), "a worker hung"
    return results


def near_the_limit(tenant, actor, free: int) -> OAuthClient:
    """A Web client with ``free`` secrets left before the limit."""
    client, _secret = create_oauth_client(tenant, actor=actor, name="Busy app")
    limit = settings.OAUTH_CLIENT_LIMITS["secrets"]
    for _ in range(limit - free - 1):
        services.generate_secret(client, actor=actor)
    assert client.secrets.count() == limit - free
    return client


@postgres_only
@pytest.mark.required_in_ci
@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("free", [1, 3])
def test_parallel_secret_generations_never_pass_the_limit(tenant_a, alice, free):
    client = near_the_limit(tenant_a, alice, free)

    def generate(_index):
        fresh = OAuthClient.objects.get(pk=client.pk)
        actor = User.objects.get(pk=alice.pk)
        return services.generate_secret(fresh, actor=actor)

    results = run_together(PARALLEL, generate)
    made = [r for r in results if isinstance(r, tuple)]
    refused = [r for r in results if isinstance(r, ValidationError)]
    assert len(made) == free, results
    assert len(refused) == PARALLEL - free, results
    limit = settings.OAUTH_CLIENT_LIMITS["secrets"]
    assert ClientSecret.objects.filter(client=client).count() == limit
    hints = list(ClientSecret.objects.filter(client=client).values_list("hint", flat=True))
    assert len(set(hints)) == len(hints)
    generated = AuditEvent.objects.filter(action="oauth_client.secret_generated").count()
    assert generated == limit


class ConsoleSession:
    """A signed-in console session spoken to over HTTP, as a browser with htmx does."""

    def __init__(self, live_server, tenant: Tenant, user):
        self.port = urlsplit(live_server.url).port
        self.host = f"{tenant.hostname}:{self.port}"
        client = Client(HTTP_HOST=tenant.hostname)
        sign_in(client, user, tenant)
        self.cookies = {
            settings.SESSION_COOKIE_NAME: client.cookies[settings.SESSION_COOKIE_NAME].value
        }
        status, _headers, html = self.request("GET", LIST_URL)
        assert status == 200, html[:300]
        match = re.search(r"<body[^>]*\shx-headers='([^']*)'", html)
        self.csrf_token = json.loads(match.group(1))["X-CSRFToken"]

    def request(self, method: str, path: str, data: dict | None = None):
        conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=TIMEOUT)
        headers = {
            "Host": self.host,
            "Cookie": "; ".join(f"{k}={v}" for k, v in self.cookies.items()),
        }
        body = None
        if data is not None:
            body = urlencode(data, doseq=True)
            headers.update(
                {
                    "Content-Type": "application/x-www-form-urlencoded",
                    "X-CSRFToken": self.csrf_token,
                    "HX-Request": "true",
                }
            )
        try:
            conn.request(method, path, body=body, headers=headers)
            response = conn.getresponse()
            html = response.read().decode()
            for name, value in response.getheaders():
                if name.lower() == "set-cookie":
                    key, _, rest = value.partition("=")
                    self.cookies[key] = rest.split(";", 1)[0]
            return response.status, dict(response.getheaders()), html
        finally:
            conn.close()


@postgres_only
@pytest.mark.required_in_ci
@pytest.mark.django_db(transaction=True)
def test_parallel_console_secret_generations_never_pass_the_limit(live_server, tenant_a, alice):
    client = near_the_limit(tenant_a, alice, free=1)
    browser = ConsoleSession(live_server, tenant_a, alice)
    url = reverse("oauth_clients:secret_generate", args=[client.client_id])

    results = run_together(
        PARALLEL, lambda _i: browser.request("POST", url, {"expires_in_days": ""})
    )

    assert all(isinstance(r, tuple) for r in results), results
    statuses = [status for status, _headers, _html in results]
    assert statuses == [200] * PARALLEL, statuses
    shown = [html for _s, _h, html in results if 'id="new-client-secret"' in html]
    assert len(shown) == 1
    refused = [html for _s, _h, html in results if "at most" in html]
    assert len(refused) == PARALLEL - 1
    assert (
        ClientSecret.objects.filter(client=client).count()
        == settings.OAUTH_CLIENT_LIMITS["secrets"]
    )


@postgres_only
@pytest.mark.required_in_ci
@pytest.mark.django_db(transaction=True)
def test_parallel_bulk_deletes_of_the_same_clients_both_succeed(live_server, tenant_a, alice, m2m):
    web_client, web_secret = create_oauth_client(tenant_a, actor=alice, name="Web app")
    doomed = [m2m.client, web_client]
    api = client_for(tenant_a)
    for _ in range(3):
        api.post(
            "/oauth/token", {"grant_type": "client_credentials"}, HTTP_AUTHORIZATION=basic(m2m)
        )
    jtis = set(AccessToken.objects.values_list("jti", flat=True))
    assert len(jtis) == 3
    keeper, _secret = create_oauth_client(tenant_a, actor=alice, name="Keeper")
    first, second = (
        ConsoleSession(live_server, tenant_a, alice),
        ConsoleSession(live_server, tenant_a, alice),
    )
    data = {"ids": [c.pk for c in doomed], "confirm": "yes"}
    url = reverse("oauth_clients:bulk_delete")

    results = run_together(2, lambda i: (first, second)[i].request("POST", url, data))

    assert all(isinstance(r, tuple) for r in results), results
    assert [status for status, _h, _html in results] == [200, 200], results
    for client in doomed:
        client.refresh_from_db()
        assert client.is_deleted
        assert not ClientSecret.objects.filter(client=client).exists()
    assert not AccessToken.objects.filter(application__in=doomed).exists()
    assert set(RevokedToken.objects.values_list("jti", flat=True)) == jtis
    assert AuditEvent.objects.filter(action="oauth_client.deleted").count() == 1
    assert OAuthClient.objects.for_tenant(tenant_a).get() == keeper
    assert ClientSecret.objects.filter(client=keeper).count() == 1
    assert web_secret
