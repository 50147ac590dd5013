"""CORS for single-page apps: only origins of this tenant's live SPA clients."""

import pytest

from oauth_clients.services import ClientData, delete_clients, update_client
from tests.factories import RegionFactory, TenantFactory, create_oauth_client
from tests.flows import bearer, client_for, get_code, redeem
from tests.jwts import craft_token

pytestmark = pytest.mark.django_db

ORIGIN = "https://spa.example.com"
ELSEWHERE = "https://evil.example.com"


def preflight(http, path, origin=ORIGIN, method="POST", headers=None):
    extra = {"HTTP_ORIGIN": origin, "HTTP_ACCESS_CONTROL_REQUEST_METHOD": method}
    if headers:
        extra["HTTP_ACCESS_CONTROL_REQUEST_HEADERS"] = headers
    return http.options(path, **extra)


def header_list(value: str) -> set[str]:
    return {item.strip().lower() for item in value.split(",")}


def assert_no_cors(response):
    for name in (
        "Access-Control-Allow-Origin",
        "Access-Control-Allow-Credentials",
        "Access-Control-Allow-Methods",
        "Access-Control-Allow-Headers",
    ):
        assert name not in response, name


def test_a_registered_origin_may_preflight_the_token_endpoint(api, spa):
    response = preflight(api, "/oauth/token", headers="content-type")

    assert response.status_code == 204
    assert response["Access-Control-Allow-Origin"] == ORIGIN
    assert response["Access-Control-Allow-Credentials"] == "true"
    assert "post" in header_list(response["Access-Control-Allow-Methods"])
    assert "content-type" in header_list(response["Access-Control-Allow-Headers"])
    assert int(response["Access-Control-Max-Age"]) > 0
    assert "origin" in header_list(response["Vary"])


def test_a_registered_origin_may_preflight_revocation(api, spa):
    response = preflight(api, "/oauth/revoke")

    assert response.status_code == 204
    assert response["Access-Control-Allow-Origin"] == ORIGIN


@pytest.mark.parametrize(
    "origin",
    [
        ELSEWHERE,
        "https://spa.example.com.evil.example",
        "http://spa.example.com",
        "https://spa.example.com:444",
        "https://SPA.example.com.",
        "null",
        "*",
    ],
)
def test_an_unregistered_origin_gets_no_cors_headers(api, spa, origin):
    response = preflight(api, "/oauth/token", origin=origin)

    assert_no_cors(response)
    assert "origin" in header_list(response["Vary"])


def test_the_api_preflight_allows_the_bearer_headers(api, spa):
    response = preflight(
        api, "/api/v1/users/me", method="GET", headers="authorization, qlik-api-version"
    )

    assert response.status_code == 204
    assert response["Access-Control-Allow-Origin"] == ORIGIN
    allowed = header_list(response["Access-Control-Allow-Headers"])
    assert {"authorization", "content-type", "qlik-api-version"} <= allowed
    assert "GET" in response["Access-Control-Allow-Methods"]
    # Bearer tokens only: the APIs never invite credentialed (cookie) requests.
    assert "Access-Control-Allow-Credentials" not in response
    assert "origin" in header_list(response["Vary"])


def test_an_api_call_from_the_origin_carries_the_header(api, spa, tenant_a, alice):
    response = api.get(
        "/api/v1/users/me", HTTP_ORIGIN=ORIGIN, headers=bearer(craft_token(tenant_a, alice))
    )

    assert response.status_code == 200
    assert response["Access-Control-Allow-Origin"] == ORIGIN
    assert "origin" in header_list(response["Vary"])


def test_an_api_error_from_the_origin_is_readable_by_the_app(api, spa):
    # The SPA must be able to read the 401 to know it should sign in again.
    response = api.get("/api/v1/users/me", HTTP_ORIGIN=ORIGIN)

    assert response.status_code == 401
    assert response["Access-Control-Allow-Origin"] == ORIGIN


def test_the_token_request_from_the_origin_carries_the_header(alice_client, tenant_a, spa):
    code, verifier = get_code(alice_client, spa)
    browser = client_for(tenant_a, HTTP_ORIGIN=ORIGIN)

    response = browser.post(
        "/oauth/token",
        {
            "grant_type": "authorization_code",
            "code": code,
            "redirect_uri": spa.redirect_uri,
            "code_verifier": verifier,
            "client_id": spa.client_id,
        },
    )

    assert response.status_code == 200, response.content
    assert response.json()["access_token"]
    assert response["Access-Control-Allow-Origin"] == ORIGIN
    assert response["Access-Control-Allow-Credentials"] == "true"
    assert "origin" in header_list(response["Vary"])
    # Headers of the actual request: the preflight's are not repeated.
    assert "Access-Control-Allow-Methods" not in response


def test_a_token_error_from_the_origin_carries_the_header(api, spa):
    response = api.post("/oauth/token", {"grant_type": "nonsense"}, HTTP_ORIGIN=ORIGIN)

    assert response.status_code == 400
    assert response["Access-Control-Allow-Origin"] == ORIGIN


def test_a_token_request_from_another_origin_gets_no_header(api, spa):
    response = api.post("/oauth/token", {"grant_type": "nonsense"}, HTTP_ORIGIN=ELSEWHERE)

    assert response.status_code == 400
    assert_no_cors(response)
    assert "origin" in header_list(response["Vary"])


def test_the_authorization_endpoint_never_answers_cors(alice_client, spa):
    assert_no_cors(preflight(alice_client, "/oauth/authorize", method="GET"))
    response = alice_client.get(
        f"/oauth/authorize?client_id={spa.client_id}&response_type=code", HTTP_ORIGIN=ORIGIN
    )
    assert_no_cors(response)


@pytest.mark.parametrize("path", ["/", "/console/integration/oauth/", "/login/"])
def test_other_pages_never_answer_cors(alice_client, spa, path):
    assert_no_cors(alice_client.get(path, HTTP_ORIGIN=ORIGIN))
    assert_no_cors(preflight(alice_client, path, method="GET"))


def test_an_origin_of_tenant_b_does_not_open_tenant_a(api, tenant_b, carol, spa):
    create_oauth_client(
        tenant_b,
        actor=carol,
        name="Globex SPA",
        app_type="spa",
        redirect_uris=["https://globex-spa.example.com/cb"],
        allowed_origins=["https://globex-spa.example.com"],
    )

    at_a = preflight(api, "/oauth/token", origin="https://globex-spa.example.com")
    at_b = preflight(client_for(tenant_b), "/oauth/token", origin="https://globex-spa.example.com")
    a_origin_at_b = preflight(client_for(tenant_b), "/oauth/token", origin=ORIGIN)

    assert_no_cors(at_a)
    assert at_b["Access-Control-Allow-Origin"] == "https://globex-spa.example.com"
    assert_no_cors(a_origin_at_b)


def test_a_deleted_spa_clients_origin_is_no_longer_allowed(api, tenant_a, alice, spa):
    assert preflight(api, "/oauth/token")["Access-Control-Allow-Origin"] == ORIGIN

    delete_clients(tenant_a, [spa.client.pk], actor=alice)

    assert_no_cors(preflight(api, "/oauth/token"))
    assert_no_cors(preflight(api, "/api/v1/users/me", method="GET"))


def test_a_removed_origin_is_no_longer_allowed(api, tenant_a, alice, spa):
    client = spa.client
    update_client(
        client,
        ClientData(
            name=client.name,
            redirect_uris=client.redirect_uri_list,
            allowed_origins=["https://other-spa.example.com"],
            allowed_scopes=client.allowed_scope_list,
        ),
        actor=alice,
    )

    assert_no_cors(preflight(api, "/oauth/token"))
    allowed = preflight(api, "/oauth/token", origin="https://other-spa.example.com")
    assert allowed["Access-Control-Allow-Origin"] == "https://other-spa.example.com"


def test_the_origin_of_another_spa_of_the_tenant_stays_allowed(api, tenant_a, alice, spa):
    create_oauth_client(
        tenant_a,
        actor=alice,
        name="Second SPA",
        app_type="spa",
        redirect_uris=["https://spa.example.com/other-cb"],
        allowed_origins=[ORIGIN],
    )

    delete_clients(tenant_a, [spa.client.pk], actor=alice)

    assert preflight(api, "/oauth/token")["Access-Control-Allow-Origin"] == ORIGIN


def test_cors_is_never_a_wildcard(api, spa):
    for path in ("/oauth/token", "/oauth/revoke", "/api/v1/users/me"):
        assert preflight(api, path)["Access-Control-Allow-Origin"] != "*"


def test_an_options_request_without_a_preflight_method_is_no_preflight(api, spa):
    response = api.options("/oauth/token", HTTP_ORIGIN=ORIGIN)

    assert "Access-Control-Allow-Methods" not in response
    assert response["Access-Control-Allow-Origin"] == ORIGIN


# --- A published SPA approved at another tenant ---------------------------------------------


@pytest.fixture
def published_spa(spa, alice):
    from oauth_clients.services import publish_client

    publish_client(spa.client, actor=alice)
    return spa


def test_an_approved_published_spa_may_call_the_approving_tenants_token_endpoint(
    published_spa, tenant_b, carol
):
    from oauth_clients.services import approve_client_for_tenant

    approve_client_for_tenant(tenant_b, published_spa.client, actor=carol)
    response = preflight(client_for(tenant_b), "/oauth/token", headers="content-type")
    assert response.status_code == 204
    assert response["Access-Control-Allow-Origin"] == ORIGIN
    assert response["Access-Control-Allow-Credentials"] == "true"


def test_a_published_spa_not_approved_here_gets_no_cors(published_spa, tenant_b):
    assert_no_cors(preflight(client_for(tenant_b), "/oauth/token"))


def test_another_regions_tenant_gets_no_cors_for_a_published_spa(published_spa, db):
    initech = TenantFactory(slug="initech", region=RegionFactory(code="us"))
    assert_no_cors(preflight(client_for(initech), "/oauth/token"))


def test_a_registered_origin_may_preflight_userinfo(api, spa):
    response = preflight(api, "/oauth/userinfo", method="GET", headers="authorization")
    assert response.status_code == 204
    assert response["Access-Control-Allow-Origin"] == ORIGIN
    assert "authorization" in header_list(response["Access-Control-Allow-Headers"])
    assert "Access-Control-Allow-Credentials" not in response


def test_userinfo_answers_a_registered_origin_with_cors(alice_client, api, spa, alice):
    client = spa.client
    update_client(
        client,
        ClientData(
            name=client.name,
            redirect_uris=client.redirect_uri_list,
            allowed_origins=client.allowed_origin_list,
            allowed_scopes=["user_default", "openid"],
            consent_method="trusted",
        ),
        actor=alice,
    )
    code, verifier = get_code(alice_client, spa, scope="openid")
    token = redeem(api, spa, code, verifier).json()["access_token"]
    response = api.get("/oauth/userinfo", HTTP_ORIGIN=ORIGIN, HTTP_AUTHORIZATION=f"Bearer {token}")
    assert response.status_code == 200, response.content
    assert response["Access-Control-Allow-Origin"] == ORIGIN
