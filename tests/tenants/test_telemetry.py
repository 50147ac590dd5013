"""GET /metrics: Prometheus metrics behind METRICS_TOKEN, and the counters that move."""

import pytest
from django.test import Client, override_settings
from prometheus_client.parser import text_string_to_metric_families

from tests.broken_cache import BROKEN_CACHES
from tests.factories import PASSWORD
from tests.flows import Registered, client_credentials, client_for, users_me

TOKEN = "metrics-token-for-the-tests-0123456789"
AUTH = {"HTTP_AUTHORIZATION": f"Bearer {TOKEN}"}

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("metrics_token")]


@pytest.fixture
def metrics_token():
    with override_settings(METRICS_TOKEN=TOKEN):
        yield


def scrape(host: str = "127.0.0.1") -> dict:
    """{(name, frozenset(labels)): value} of every sample /metrics serves."""
    response = Client(HTTP_HOST=host).get("/metrics", **AUTH)
    assert response.status_code == 200, response.content
    samples = {}
    for family in text_string_to_metric_families(response.content.decode()):
        for sample in family.samples:
            samples[(sample.name, frozenset(sample.labels.items()))] = sample.value
    return samples


def value(samples: dict, name: str, **labels) -> float:
    return samples.get((name, frozenset(labels.items())), 0.0)


# --- Who may read it --------------------------------------------------------------------


@pytest.mark.parametrize("host", ["127.0.0.1", "localhost", "acme.eu.localhost", "eu.localhost"])
def test_it_answers_the_token_on_any_host(host, tenant_a):
    response = Client(HTTP_HOST=host).get("/metrics", **AUTH)
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/plain")
    assert "no-cache" in response["Cache-Control"]
    assert "http_request_duration_seconds" in response.content.decode()


@pytest.mark.parametrize(
    "authorization",
    [None, "Bearer wrong-token-0123456789", f"Bearer {TOKEN}x", TOKEN, f"Basic {TOKEN}"],
)
def test_it_refuses_a_missing_or_wrong_token(authorization):
    headers = {"HTTP_AUTHORIZATION": authorization} if authorization else {}
    response = Client(HTTP_HOST="127.0.0.1").get("/metrics", **headers)
    assert response.status_code == 401
    assert response["WWW-Authenticate"] == 'Bearer realm="metrics"'
    assert b"http_request" not in response.content


def test_without_a_configured_token_there_is_no_such_page():
    with override_settings(METRICS_TOKEN=""):
        response = Client(HTTP_HOST="127.0.0.1").get("/metrics", **AUTH)
    assert response.status_code == 404


def test_it_refuses_post():
    assert Client(HTTP_HOST="127.0.0.1").post("/metrics", **AUTH).status_code == 405


# --- What moves ---------------------------------------------------------------------------


def test_requests_are_counted_by_route_name_never_by_path_or_tenant(tenant_a, alice):
    before = scrape()
    client_for(tenant_a).get("/login/?next=/console/")
    client_for(tenant_a).get("/no-such-page")
    after = scrape()
    labels = {"route": "tenants:login", "method": "GET", "status": "2xx"}
    count = "http_request_duration_seconds_count"
    assert value(after, count, **labels) == value(before, count, **labels) + 1
    unmatched = {"route": "unmatched", "method": "GET", "status": "4xx"}
    assert value(after, count, **unmatched) == value(before, count, **unmatched) + 1
    label_values = {v for _name, labels in after for _key, v in labels}
    assert not [v for v in label_values if "acme" in v or "/" in v or "next" in v]


def test_an_unknown_method_is_one_label_value(tenant_a):
    before = scrape()
    client_for(tenant_a).generic("BREW", "/login/")
    after = scrape()
    labels = {"route": "tenants:login", "method": "other", "status": "4xx"}
    count = "http_request_duration_seconds_count"
    assert value(after, count, **labels) == value(before, count, **labels) + 1


def test_an_issued_token_is_counted_by_grant_type(tenant_a, m2m):
    before = scrape()
    assert client_credentials(client_for(tenant_a), m2m).status_code == 200
    after = scrape()
    name, labels = "oauth_tokens_issued_total", {"grant_type": "client_credentials"}
    assert value(after, name, **labels) == value(before, name, **labels) + 1


def test_a_refused_token_request_is_not_counted_as_issued(tenant_a, m2m):
    before = scrape()
    assert (
        client_credentials(client_for(tenant_a), Registered(m2m.client, "wrong")).status_code == 401
    )
    after = scrape()
    name, labels = "oauth_tokens_issued_total", {"grant_type": "client_credentials"}
    assert value(after, name, **labels) == value(before, name, **labels)


def test_a_failed_client_authentication_is_counted(tenant_a, m2m):
    before = scrape()
    assert (
        client_credentials(client_for(tenant_a), Registered(m2m.client, "wrong")).status_code == 401
    )
    after = scrape()
    name, labels = "auth_failures_total", {"kind": "client"}
    assert value(after, name, **labels) == value(before, name, **labels) + 1


def test_a_failed_sign_in_is_counted(tenant_a, alice):
    before = scrape()
    response = client_for(tenant_a).post(
        "/login/", {"username": alice.email, "password": "not-" + PASSWORD}
    )
    assert response.status_code == 200
    after = scrape()
    name, labels = "auth_failures_total", {"kind": "sign_in"}
    assert value(after, name, **labels) == value(before, name, **labels) + 1


def test_a_rate_limit_refusal_is_counted_by_limit_name(tenant_a, alice, settings):
    settings.RATE_LIMITS = {**settings.RATE_LIMITS, "sign_in_per_account_address": (2, 900)}
    http = client_for(tenant_a)
    wrong = {"username": alice.email, "password": "not-" + PASSWORD}
    before = scrape()
    for _ in range(2):
        assert http.post("/login/", wrong).status_code == 200
    assert http.post("/login/", wrong).status_code == 429
    after = scrape()
    name, labels = "rate_limited_total", {"limit": "sign_in_per_account_address"}
    assert value(after, name, **labels) == value(before, name, **labels) + 1


def test_cache_failures_are_counted(settings):
    from tenants import ratelimit

    before = scrape()
    settings.CACHES = BROKEN_CACHES
    ratelimit.reset_cache_guard()
    try:
        assert ratelimit.hit("authorize_post_per_user", "1") == 0  # nothing counted
    finally:
        ratelimit.reset_cache_guard()
    assert value(scrape(), "cache_failures_total") == value(before, "cache_failures_total") + 1


def test_the_revocation_list_age_is_seconds_since_it_was_read(tenant_a, m2m):
    token = client_credentials(client_for(tenant_a), m2m).json()["access_token"]
    assert users_me(client_for(tenant_a), token).status_code == 200
    age = value(scrape(), "oauth_revocation_list_age_seconds")
    assert 0 <= age < 5
