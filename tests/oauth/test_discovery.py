"""Discovery (RFC 8414, OpenID Connect Discovery), the JWKS, userinfo and ID tokens."""

import json

import pytest
from django.conf import settings
from django.test import Client
from jwcrypto import jwk, jwt

from oauth_clients.keys import kid
from tests.flows import bearer, client_for, get_code, issue, redeem
from tests.jwts import craft_token, header_of, payload_of, subject_of

pytestmark = pytest.mark.django_db

METADATA_PATHS = ["/.well-known/openid-configuration", "/.well-known/oauth-authorization-server"]
PRIVATE_PARTS = {"d", "p", "q", "dp", "dq", "qi", "oth", "k"}


@pytest.mark.parametrize("path", METADATA_PATHS)
def test_the_issuer_is_the_tenants_base_url(api, tenant_a, path):
    response = api.get(path)

    assert response.status_code == 200
    assert response["Content-Type"] == "application/json"
    assert response.json()["issuer"] == tenant_a.base_url == "http://acme.eu.localhost"


@pytest.mark.parametrize("path", METADATA_PATHS)
def test_the_issuer_follows_the_platform_settings(settings, api, tenant_a, path):
    settings.PLATFORM_SCHEME = "https"
    settings.PLATFORM_PORT = 8443

    body = api.get(path).json()

    assert body["issuer"] == tenant_a.base_url == "https://acme.eu.localhost:8443"
    assert body["token_endpoint"] == "https://acme.eu.localhost:8443/oauth/token"
    assert body["jwks_uri"] == "https://acme.eu.localhost:8443/.well-known/jwks.json"


@pytest.mark.parametrize("path", METADATA_PATHS)
def test_the_issuer_never_comes_from_the_host_header(tenant_a, path):
    response = Client(HTTP_HOST="ACME.EU.LOCALHOST:9999").get(path)

    assert response.status_code == 200
    body = response.json()
    assert body["issuer"] == "http://acme.eu.localhost"
    assert "9999" not in json.dumps(body)
    assert "ACME" not in json.dumps(body)


@pytest.mark.parametrize("path", METADATA_PATHS)
def test_x_forwarded_host_and_proto_are_ignored(api, tenant_a, path):
    body = api.get(
        path,
        HTTP_X_FORWARDED_HOST="evil.example.com",
        HTTP_X_FORWARDED_PROTO="https",
        HTTP_X_FORWARDED_PORT="444",
    ).json()

    assert body["issuer"] == "http://acme.eu.localhost"
    assert "evil" not in json.dumps(body)


@pytest.mark.parametrize("path", METADATA_PATHS)
def test_it_lists_the_endpoints_and_what_they_support(api, path):
    body = api.get(path).json()
    issuer = body["issuer"]

    assert body["authorization_endpoint"] == f"{issuer}/oauth/authorize"
    assert body["token_endpoint"] == f"{issuer}/oauth/token"
    assert body["revocation_endpoint"] == f"{issuer}/oauth/revoke"
    assert body["introspection_endpoint"] == f"{issuer}/oauth/introspect"
    assert body["userinfo_endpoint"] == f"{issuer}/oauth/userinfo"
    assert body["jwks_uri"] == f"{issuer}/.well-known/jwks.json"
    assert body["code_challenge_methods_supported"] == ["S256"]
    assert body["response_types_supported"] == ["code"]
    assert set(body["grant_types_supported"]) == {
        "authorization_code",
        "refresh_token",
        "client_credentials",
    }
    assert "password" not in body["grant_types_supported"]
    assert "implicit" not in body["grant_types_supported"]
    assert body["authorization_response_iss_parameter_supported"] is True
    assert body["id_token_signing_alg_values_supported"] == ["RS256"]
    assert set(body["scopes_supported"]) >= {"openid", "user_default", "offline_access"}
    assert "none" not in body["introspection_endpoint_auth_methods_supported"]


def test_both_documents_are_the_same(api):
    assert api.get(METADATA_PATHS[0]).json() == api.get(METADATA_PATHS[1]).json()


@pytest.mark.parametrize("path", METADATA_PATHS)
def test_the_listed_endpoints_exist(api, path):
    body = api.get(path).json()
    issuer = body["issuer"]

    for key in ("token_endpoint", "revocation_endpoint", "introspection_endpoint"):
        assert api.post(body[key][len(issuer) :]).status_code != 404, key
    assert api.get(body["jwks_uri"][len(issuer) :]).status_code == 200
    assert api.get(body["userinfo_endpoint"][len(issuer) :]).status_code == 401


def test_each_tenant_has_its_own_issuer(api, tenant_a, tenant_b):
    a = api.get(METADATA_PATHS[0]).json()
    b = client_for(tenant_b).get(METADATA_PATHS[0]).json()

    assert a["issuer"] == "http://acme.eu.localhost"
    assert b["issuer"] == "http://globex.eu.localhost"
    assert b["token_endpoint"] == "http://globex.eu.localhost/oauth/token"


def test_an_unknown_tenant_has_no_metadata(tenant_a):
    assert Client(HTTP_HOST="nobody.eu.localhost").get(METADATA_PATHS[0]).status_code == 404


def test_metadata_is_get_only(api):
    assert api.post(METADATA_PATHS[0]).status_code == 405


# --- JWKS ---------------------------------------------------------------------------
def test_the_jwks_lists_the_public_signing_key(api):
    response = api.get("/.well-known/jwks.json")

    assert response.status_code == 200
    keys = response.json()["keys"]
    assert len(keys) == 1
    key = keys[0]
    assert key["kty"] == "RSA"
    assert key["alg"] == "RS256"
    assert key["use"] == "sig"
    assert key["n"] and key["e"]
    assert not PRIVATE_PARTS & set(key)
    assert key["kid"] == kid(settings.SIGNING_KEY_PEM)
    # The kid is the RFC 7638 thumbprint of the public key itself.
    assert key["kid"] == jwk.JWK(**key).thumbprint()


def test_the_jwks_kid_is_the_one_in_access_tokens(api, tenant_a, alice):
    published = {key["kid"] for key in api.get("/.well-known/jwks.json").json()["keys"]}

    assert header_of(craft_token(tenant_a, alice))["kid"] in published


def test_no_key_in_the_jwks_is_private(settings, api):
    from oauth_clients.keys import generate_private_key_pem

    old = settings.SIGNING_KEY_PEM
    new = generate_private_key_pem()
    settings.OAUTH2_PROVIDER = {
        **settings.OAUTH2_PROVIDER,
        "OIDC_RSA_PRIVATE_KEY": new,
        "OIDC_RSA_PRIVATE_KEYS_INACTIVE": [old],
    }

    keys = api.get("/.well-known/jwks.json").json()["keys"]

    assert [key["kid"] for key in keys] == [kid(new), kid(old)]
    for key in keys:
        assert not PRIVATE_PARTS & set(key)
        assert not jwk.JWK(**key).has_private


# --- userinfo ------------------------------------------------------------------------
def test_userinfo_returns_the_access_tokens_subject(alice_client, api, web, tenant_a, alice):
    token = issue(alice_client, api, web, scope="openid profile email")["access_token"]

    response = api.get("/oauth/userinfo", headers=bearer(token))

    assert response.status_code == 200, response.content
    body = response.json()
    assert body["sub"] == payload_of(token)["sub"] == subject_of(alice, tenant_a)
    assert body["email"] == "alice@acme.test"
    assert body["name"] == "Alice"


def test_userinfo_gives_only_the_claims_of_the_granted_scopes(alice_client, api, web):
    token = issue(alice_client, api, web, scope="openid")["access_token"]

    body = api.get("/oauth/userinfo", headers=bearer(token)).json()

    assert body == {"sub": payload_of(token)["sub"]}


def test_userinfo_accepts_post(alice_client, api, web):
    token = issue(alice_client, api, web, scope="openid")["access_token"]

    assert api.post("/oauth/userinfo", headers=bearer(token)).status_code == 200


def test_userinfo_without_a_token_is_401(api):
    response = api.get("/oauth/userinfo")

    assert response.status_code == 401
    assert response["WWW-Authenticate"].startswith("Bearer")


def test_userinfo_with_a_bad_token_is_401(api):
    response = api.get("/oauth/userinfo", HTTP_AUTHORIZATION="Bearer nonsense")

    assert response.status_code == 401
    assert "invalid_token" in response["WWW-Authenticate"]


def test_userinfo_without_openid_is_insufficient_scope(alice_client, api, web):
    # OpenID Connect Core §5.3.3 answers errors per RFC 6750 §3.1: a valid token
    # lacking the scope is 403 insufficient_scope, not an invalid token.
    token = issue(alice_client, api, web, scope="user_default")["access_token"]

    response = api.get("/oauth/userinfo", headers=bearer(token))

    assert "sub" not in response.content.decode()
    assert response.status_code == 403
    assert 'error="insufficient_scope"' in response["WWW-Authenticate"]


def test_userinfo_errors_are_json(api):
    response = api.get("/oauth/userinfo", HTTP_AUTHORIZATION="Bearer nonsense")

    assert json.loads(response.content)["error"] == "invalid_token"
    assert response["Content-Type"] == "application/json"


def test_userinfo_refuses_a_token_of_another_tenant(alice_client, api, web, tenant_b, carol):
    token = issue(alice_client, api, web, scope="openid")["access_token"]

    assert client_for(tenant_b).get("/oauth/userinfo", headers=bearer(token)).status_code == 401


def test_userinfo_does_not_take_the_token_from_the_query_string(alice_client, api, web):
    # RFC 9700 §4.3.2 (COMPLIANT_BCP_RFC9700_ACCESS_TOKEN_TRANSPORT): never in the URI.
    token = issue(alice_client, api, web, scope="openid")["access_token"]

    response = api.get(f"/oauth/userinfo?access_token={token}")

    assert response.status_code == 401
    assert "sub" not in response.content.decode()


def test_the_session_cookie_does_not_open_userinfo(alice_client):
    assert alice_client.get("/oauth/userinfo").status_code == 401


# --- ID tokens ----------------------------------------------------------------------
def test_the_id_token_is_signed_for_the_client_by_the_tenant(alice_client, api, web, tenant_a):
    body = issue(alice_client, api, web, scope="openid profile email")
    id_token = body["id_token"]

    jwks = jwk.JWKSet.from_json(api.get("/.well-known/jwks.json").content)
    verified = jwt.JWT(jwt=id_token, key=jwks, algs=["RS256"])
    claims = json.loads(verified.claims)

    assert header_of(id_token)["alg"] == "RS256"
    assert header_of(id_token)["kid"] == kid(settings.SIGNING_KEY_PEM)
    assert claims["iss"] == tenant_a.base_url
    assert claims["aud"] == web.client_id
    assert claims["sub"] == payload_of(body["access_token"])["sub"]
    assert claims["sub"] == subject_of(web.client.created_by, tenant_a)
    assert claims["email"] == "alice@acme.test"
    assert claims["name"] == "Alice"
    assert claims["exp"] > claims["iat"]


def test_the_id_token_carries_the_nonce(alice_client, api, web):
    code, verifier = get_code(alice_client, web, scope="openid", nonce="n-0S6_WzA2Mj")
    id_token = redeem(api, web, code, verifier).json()["id_token"]

    assert payload_of(id_token)["nonce"] == "n-0S6_WzA2Mj"


def test_there_is_no_id_token_without_openid(alice_client, api, web):
    body = issue(alice_client, api, web, scope="user_default")

    assert "id_token" not in body


def test_the_id_token_issuer_follows_the_platform_settings(settings, alice_client, api, web):
    settings.PLATFORM_SCHEME = "https"
    settings.PLATFORM_PORT = 8443

    body = issue(alice_client, api, web, scope="openid")

    assert payload_of(body["id_token"])["iss"] == "https://acme.eu.localhost:8443"
    assert payload_of(body["access_token"])["iss"] == "https://acme.eu.localhost:8443"
