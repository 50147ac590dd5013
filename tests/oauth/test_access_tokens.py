"""Access tokens are RS256 JWTs (RFC 9068) that only our keys, for this tenant, make valid."""

import hashlib
import hmac
import json
import time
from datetime import timedelta

import pytest
from cryptography.hazmat.primitives import serialization
from django.conf import settings
from django.utils import timezone
from jwcrypto import jws

from oauth_clients.keys import generate_private_key_pem, kid, signing_key
from oauth_clients.models import AccessToken
from oauth_clients.oauth.tokens import verify_access_token
from tests.flows import ME, bearer, issue
from tests.jwts import b64url, claims_for, craft_token, header_of, payload_of, subject_of

pytestmark = pytest.mark.django_db


# --- The token the endpoint issues -----------------------------------------------------
def test_it_issues_an_rs256_at_jwt_with_the_documented_claims(alice_client, api, web, tenant_a):
    body = issue(alice_client, api, web, scope="user_default")
    token = body["access_token"]

    header = header_of(token)
    assert header == {"alg": "RS256", "typ": "at+jwt", "kid": kid(settings.SIGNING_KEY_PEM)}
    claims = payload_of(token)
    assert set(claims) == {
        "iss",
        "aud",
        "sub",
        "exp",
        "iat",
        "jti",
        "client_id",
        "scope",
        "tenant_id",
    }
    assert claims["iss"] == tenant_a.base_url
    assert claims["aud"] == tenant_a.base_url
    assert claims["tenant_id"] == str(tenant_a.pk)
    assert claims["client_id"] == web.client_id
    assert claims["scope"] == "user_default"
    assert claims["sub"] == subject_of(web.client.created_by, tenant_a)
    # The subject is the membership's opaque id, never the user's email or pk.
    assert "alice" not in claims["sub"]
    assert claims["jti"] == AccessToken.objects.get(tenant=tenant_a).jti


def test_its_lifetime_is_access_token_expire_seconds(alice_client, api, web):
    assert settings.OAUTH2_PROVIDER["ACCESS_TOKEN_EXPIRE_SECONDS"] == 3600
    before = timezone.now()
    body = issue(alice_client, api, web, scope="user_default")

    assert body["expires_in"] == 3600
    claims = payload_of(body["access_token"])
    assert claims["exp"] - claims["iat"] == 3600
    assert abs(claims["iat"] - int(before.timestamp())) <= 5
    row = AccessToken.objects.get(jti=claims["jti"])
    assert abs(row.expires - (before + timedelta(seconds=3600))) < timedelta(seconds=5)


def test_a_token_issued_by_the_endpoint_verifies(alice_client, api, web, tenant_a, alice):
    token = issue(alice_client, api, web, scope="user_default")["access_token"]
    claims = payload_of(token)

    verified = verify_access_token(token, tenant_a)

    assert verified is not None
    assert verified.subject == claims["sub"] == subject_of(alice, tenant_a)
    assert verified.client_id == web.client_id
    assert verified.scopes == frozenset({"user_default"})


def test_a_crafted_token_with_our_key_verifies(api, tenant_a, alice):
    # The baseline for the negative cases below: only the named difference makes them fail.
    token = craft_token(tenant_a, alice)

    assert verify_access_token(token, tenant_a) is not None
    assert api.get(ME, headers=bearer(token)).status_code == 200


# --- Tampering and forgeries -------------------------------------------------------------
def test_a_changed_payload_with_the_same_signature_is_refused(
    alice_client, api, web, tenant_a, bob
):
    token = issue(alice_client, api, web, scope="user_default")["access_token"]
    header, _payload, signature = token.split(".")
    claims = payload_of(token)
    claims["sub"] = subject_of(bob, tenant_a)
    claims["scope"] = "user_default admin_classic"
    forged = ".".join([header, b64url(json.dumps(claims).encode()), signature])

    assert verify_access_token(forged, tenant_a) is None
    response = api.get(ME, headers=bearer(forged))
    assert response.status_code == 401
    assert response.json()["error"] == "invalid_token"


def test_a_changed_signature_is_refused(alice_client, api, web, tenant_a):
    token = issue(alice_client, api, web, scope="user_default")["access_token"]
    header, payload, signature = token.split(".")
    flipped = ("A" if signature[10] != "A" else "B").join([signature[:10], signature[11:]])

    assert verify_access_token(".".join([header, payload, flipped]), tenant_a) is None
    assert api.get(ME, headers=bearer(".".join([header, payload, ""]))).status_code == 401


def test_an_alg_none_token_is_refused(api, tenant_a, alice):
    header = {"alg": "none", "typ": "at+jwt", "kid": kid(settings.SIGNING_KEY_PEM)}
    claims = claims_for(tenant_a, subject_of(alice, tenant_a))
    unsigned = f"{b64url(json.dumps(header).encode())}.{b64url(json.dumps(claims).encode())}."

    assert verify_access_token(unsigned, tenant_a) is None
    response = api.get(ME, headers=bearer(unsigned))
    assert response.status_code == 401
    assert 'error="invalid_token"' in response["WWW-Authenticate"]


def test_an_hs256_token_keyed_with_our_public_key_is_refused(api, tenant_a, alice):
    # The classic algorithm confusion: HMAC with the published public key as the secret.
    public_pem = (
        serialization.load_pem_private_key(settings.SIGNING_KEY_PEM.encode(), password=None)
        .public_key()
        .public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
    )
    header = {"alg": "HS256", "typ": "at+jwt", "kid": kid(settings.SIGNING_KEY_PEM)}
    claims = claims_for(tenant_a, subject_of(alice, tenant_a))
    signing_input = f"{b64url(json.dumps(header).encode())}.{b64url(json.dumps(claims).encode())}"
    mac = hmac.new(public_pem, signing_input.encode(), hashlib.sha256).digest()
    token = f"{signing_input}.{b64url(mac)}"

    assert verify_access_token(token, tenant_a) is None
    assert api.get(ME, headers=bearer(token)).status_code == 401


def test_a_token_signed_with_another_rsa_key_is_refused(api, tenant_a, alice):
    other = generate_private_key_pem()

    assert verify_access_token(craft_token(tenant_a, alice, pem=other), tenant_a) is None
    # Even when it claims the kid of our key.
    spoofed = craft_token(tenant_a, alice, pem=other, header={"kid": kid(settings.SIGNING_KEY_PEM)})
    assert verify_access_token(spoofed, tenant_a) is None
    assert api.get(ME, headers=bearer(spoofed)).status_code == 401


def test_a_token_without_a_kid_is_refused(tenant_a, alice):
    assert verify_access_token(craft_token(tenant_a, alice, header={"kid": None}), tenant_a) is None


@pytest.mark.parametrize("typ", ["JWT", "at+JWT+x", "id_token", None])
def test_a_token_with_another_typ_is_refused(api, tenant_a, alice, typ):
    token = craft_token(tenant_a, alice, header={"typ": typ})

    assert verify_access_token(token, tenant_a) is None
    assert api.get(ME, headers=bearer(token)).status_code == 401


def test_an_id_token_is_not_an_access_token(alice_client, api, web, tenant_a):
    # Signed with the same key, but typ JWT and aud = client_id.
    body = issue(alice_client, api, web, scope="openid user_default")

    assert verify_access_token(body["id_token"], tenant_a) is None
    assert api.get(ME, headers=bearer(body["id_token"])).status_code == 401


def test_a_json_serialized_jws_is_refused(api, tenant_a, alice):
    # RFC 7519 §7.1 / RFC 9068: a JWT is the compact serialization; a JSON JWS is no bearer token.
    claims = claims_for(tenant_a, subject_of(alice, tenant_a))
    pem = settings.SIGNING_KEY_PEM
    token = jws.JWS(json.dumps(claims))
    token.add_signature(
        signing_key(pem), alg="RS256", protected={"alg": "RS256", "typ": "at+jwt", "kid": kid(pem)}
    )
    json_token = token.serialize(compact=False)

    assert verify_access_token(json_token, tenant_a) is None
    assert api.get(ME, headers=bearer(json_token)).status_code == 401


def test_typ_must_be_in_the_signed_header(tenant_a, alice):
    # Anything else we sign without typ at+jwt (ID tokens carry no typ) must not become
    # an access token by an unsigned, unprotected "typ" of the JWS JSON serialization.
    claims = claims_for(tenant_a, subject_of(alice, tenant_a))
    pem = settings.SIGNING_KEY_PEM
    token = jws.JWS(json.dumps(claims))
    token.add_signature(
        signing_key(pem),
        alg="RS256",
        protected={"alg": "RS256", "kid": kid(pem)},
        header={"typ": "at+jwt"},
    )

    assert verify_access_token(token.serialize(compact=False), tenant_a) is None


# --- Claims checked ----------------------------------------------------------------------
@pytest.mark.parametrize(
    "claim,value",
    [
        ("iss", "http://globex.eu.localhost"),
        ("iss", "http://acme.eu.localhost/"),
        ("aud", "http://globex.eu.localhost"),
        ("aud", "crafted-client"),
        ("tenant_id", "999999"),
        ("iss", None),
        ("aud", None),
        ("tenant_id", None),
        ("exp", None),
        ("jti", None),
        ("sub", None),
        ("exp", "soon"),
    ],
)
def test_a_token_with_a_wrong_or_missing_claim_is_refused(api, tenant_a, alice, claim, value):
    token = craft_token(tenant_a, alice, **{claim: value})

    assert verify_access_token(token, tenant_a) is None
    response = api.get(ME, headers=bearer(token))
    assert response.status_code == 401
    assert response.json()["error"] == "invalid_token"


def test_a_token_with_the_other_tenants_id_is_refused(api, tenant_a, tenant_b, alice):
    token = craft_token(tenant_a, alice, tenant_id=str(tenant_b.pk))

    assert verify_access_token(token, tenant_a) is None
    assert verify_access_token(token, tenant_b) is None


def test_a_token_of_tenant_b_is_refused_at_tenant_a(tenant_a, tenant_b, alice, carol):
    token_b = craft_token(tenant_b, carol)

    assert verify_access_token(token_b, tenant_b) is not None
    assert verify_access_token(token_b, tenant_a) is None


def test_an_expired_token_is_refused(api, tenant_a, alice):
    now = int(time.time())
    token = craft_token(tenant_a, alice, iat=now - 3700, exp=now - 100)

    assert verify_access_token(token, tenant_a) is None
    assert api.get(ME, headers=bearer(token)).status_code == 401


def test_a_token_is_refused_from_the_second_it_expires(monkeypatch, tenant_a, alice):
    from oauth_clients.oauth import tokens

    now = int(time.time())
    token = craft_token(tenant_a, alice, iat=now, exp=now + 10)

    monkeypatch.setattr(tokens.time, "time", lambda: now + 9.5)
    assert verify_access_token(token, tenant_a) is not None
    monkeypatch.setattr(tokens.time, "time", lambda: now + 10)
    assert verify_access_token(token, tenant_a) is None


def test_the_scope_claim_decides_the_scopes(tenant_a, alice):
    token = craft_token(tenant_a, alice, scope="openid  user_default")

    assert verify_access_token(token, tenant_a).scopes == frozenset({"openid", "user_default"})


@pytest.mark.parametrize("garbage", ["", "x", "a.b.c", "a.b", "....", "ey.ey.ey", "é.é.é"])
def test_garbage_is_no_token(tenant_a, garbage):
    assert verify_access_token(garbage, tenant_a) is None


# --- Key rotation ----------------------------------------------------------------------
def rotate_to(settings, new_pem: str, previous: list[str]) -> None:
    """What settings.py makes of SIGNING_KEY_FILE and PREVIOUS_SIGNING_KEY_FILES."""
    settings.SIGNING_KEY_PEM = new_pem
    settings.PREVIOUS_SIGNING_KEY_PEMS = previous
    settings.OAUTH2_PROVIDER = {
        **settings.OAUTH2_PROVIDER,
        "OIDC_RSA_PRIVATE_KEY": new_pem,
        "OIDC_RSA_PRIVATE_KEYS_INACTIVE": previous,
    }


def test_a_token_signed_with_a_previous_key_still_verifies(
    settings, alice_client, api, web, tenant_a
):
    old = settings.SIGNING_KEY_PEM
    old_token = issue(alice_client, api, web, scope="user_default")["access_token"]
    new = generate_private_key_pem()

    rotate_to(settings, new, [old])

    assert header_of(old_token)["kid"] == kid(old)
    assert verify_access_token(old_token, tenant_a) is not None
    assert api.get(ME, headers=bearer(old_token)).status_code == 200
    # New tokens are signed with the new key, and verify too.
    new_token = issue(alice_client, api, web, scope="user_default")["access_token"]
    assert header_of(new_token)["kid"] == kid(new)
    assert api.get(ME, headers=bearer(new_token)).status_code == 200
    # The JWKS lists both keys, the current one first.
    kids = [key["kid"] for key in api.get("/.well-known/jwks.json").json()["keys"]]
    assert kids == [kid(new), kid(old)]


def test_a_token_of_a_retired_key_no_longer_verifies(settings, api, tenant_a, alice):
    old = settings.SIGNING_KEY_PEM
    old_token = craft_token(tenant_a, alice)

    rotate_to(settings, generate_private_key_pem(), [])

    assert verify_access_token(old_token, tenant_a) is None
    assert api.get(ME, headers=bearer(old_token)).status_code == 401
    kids = [key["kid"] for key in api.get("/.well-known/jwks.json").json()["keys"]]
    assert kid(old) not in kids
