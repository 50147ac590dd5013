"""Access and refresh tokens, attacked over HTTP: reuse, theft by another client or
tenant, and forged or tampered JWTs.

A rotated refresh token presented again revokes its whole family (RFC 9700
§4.14.2). A refresh token, a revocation and an introspection work only for
the client the token was issued to, at the tenant that issued it; anything
else changes nothing and reveals nothing (RFC 7009 §2.1, RFC 7662 §2.2).
Access tokens are RS256 JWTs that only the platform's key makes valid, for
one tenant, until they expire.
"""

import json
import time

import pytest
from django.conf import settings
from jwcrypto import jwk, jws

from oauth_clients.keys import generate_private_key_pem, kid, signing_key
from oauth_clients.models import AccessToken, RefreshToken
from tenants.models import AuditEvent, Membership
from tests.factories import MembershipFactory
from tests.flows import (
    INTROSPECT,
    ME,
    OFFLINE,
    REVOKE,
    TOKEN,
    USERINFO,
    assert_invalid_token,
    assert_oauth_error,
    basic,
    introspect,
    issue,
    refresh,
    revoke,
    users_me,
)
from tests.jwts import b64url, decode_segment, encode_segment
from tests.security.conftest import assert_unchanged, db_state

pytestmark = pytest.mark.django_db(transaction=True)


def family_of(refresh_token_row_filter) -> str:
    return RefreshToken.objects.filter(**refresh_token_row_filter).values_list(
        "token_family", flat=True
    )[0]


def live_in_family(family) -> tuple[int, int]:
    """(access tokens, unrevoked refresh tokens) of a token family."""
    return (
        AccessToken.objects.filter(token_family=family).count(),
        RefreshToken.objects.filter(token_family=family, revoked__isnull=True).count(),
    )


# --- Refresh token reuse -------------------------------------------------------------------------


def test_reusing_a_rotated_refresh_token_revokes_the_whole_family(
    alice_browser, acme, web, tenant_a
):
    first = issue(alice_browser, acme, web, scope=OFFLINE)
    family = AccessToken.objects.get().token_family
    rotated = refresh(acme, web, first["refresh_token"])
    assert rotated.status_code == 200, rotated.text
    second = rotated.json()
    assert second["refresh_token"] != first["refresh_token"]
    assert users_me(acme, second["access_token"]).status_code == 200

    # The old refresh token again (the thief's, or the client's after a theft).
    assert_oauth_error(refresh(acme, web, first["refresh_token"]), 400, "invalid_grant")

    assert_oauth_error(refresh(acme, web, second["refresh_token"]), 400, "invalid_grant")
    assert_invalid_token(users_me(acme, second["access_token"]))
    assert_invalid_token(users_me(acme, first["access_token"]))
    assert introspect(acme, web, second["refresh_token"]).json() == {"active": False}
    assert introspect(acme, web, second["access_token"]).json() == {"active": False}
    assert live_in_family(family) == (0, 0)
    assert AuditEvent.objects.filter(
        tenant=tenant_a, action="oauth_client.refresh_family_revoked"
    ).exists()


def test_reuse_revokes_that_family_only(alice_browser, acme, web):
    stolen = issue(alice_browser, acme, web, scope=OFFLINE)
    other = issue(alice_browser, acme, web, scope=OFFLINE)
    assert refresh(acme, web, stolen["refresh_token"]).status_code == 200
    assert_oauth_error(refresh(acme, web, stolen["refresh_token"]), 400, "invalid_grant")
    assert users_me(acme, other["access_token"]).status_code == 200
    assert refresh(acme, web, other["refresh_token"]).status_code == 200


def test_a_public_clients_reused_refresh_token_revokes_its_family(alice_browser, acme, spa):
    first = issue(alice_browser, acme, spa, scope=OFFLINE)
    second = refresh(acme, spa, first["refresh_token"]).json()
    assert_oauth_error(refresh(acme, spa, first["refresh_token"]), 400, "invalid_grant")
    assert_oauth_error(refresh(acme, spa, second["refresh_token"]), 400, "invalid_grant")
    assert_invalid_token(users_me(acme, second["access_token"]))


# --- A refresh token belongs to its client -------------------------------------------------------


def test_a_refresh_token_is_refused_with_another_clients_credentials(
    alice_browser, acme, web, other_web, spa, globex_web
):
    tokens = issue(alice_browser, acme, web, scope=OFFLINE)
    before = db_state()
    # Another confidential client of the tenant, authenticating correctly.
    assert_oauth_error(refresh(acme, other_web, tokens["refresh_token"]), 400, "invalid_grant")
    # A public client of the tenant naming itself.
    response = refresh(acme, spa, tokens["refresh_token"])
    assert response.status_code in {400, 401}, response.text
    assert "access_token" not in response.json()
    # Another tenant's client is no client here.
    assert_oauth_error(refresh(acme, globex_web, tokens["refresh_token"]), 401, "invalid_client")
    # No client credentials: the token's own (confidential) client must authenticate.
    response = acme.post(
        TOKEN, {"grant_type": "refresh_token", "refresh_token": tokens["refresh_token"]}
    )
    assert_oauth_error(response, 401, "invalid_client")
    # Nothing was issued, rotated or revoked: the rightful client still refreshes.
    assert_unchanged(before)
    assert users_me(acme, tokens["access_token"]).status_code == 200
    assert refresh(acme, web, tokens["refresh_token"]).status_code == 200


# --- Revocation ----------------------------------------------------------------------------------


def test_revocation_by_another_client_has_no_effect(
    alice_browser, acme, globex, web, other_web, spa, globex_web
):
    tokens = issue(alice_browser, acme, web, scope=OFFLINE)
    before = db_state()
    for token in (tokens["access_token"], tokens["refresh_token"]):
        for hint in ("access_token", "refresh_token"):
            # Other clients of the tenant: a 200 (RFC 7009 §2.2), and nothing happens.
            for registered in (other_web, spa):
                response = revoke(acme, registered, token, token_type_hint=hint)
                assert response.status_code == 200, response.text
            # Another tenant's client, at its own host: the same.
            assert revoke(globex, globex_web, token, token_type_hint=hint).status_code == 200
            # Another tenant's client at this host is no client.
            assert_oauth_error(revoke(acme, globex_web, token), 401, "invalid_client")
    assert_unchanged(before)
    assert users_me(acme, tokens["access_token"]).status_code == 200
    assert introspect(acme, web, tokens["refresh_token"]).json()["active"] is True
    assert refresh(acme, web, tokens["refresh_token"]).status_code == 200


def test_a_bearer_token_revokes_itself_only(alice_browser, bob_browser, acme, web):
    alices = issue(alice_browser, acme, web, scope="user_default")
    bobs = issue(bob_browser, acme, web, scope="user_default")
    before = db_state()
    # Alice's token as the bearer, Bob's in the body: no client credentials, no effect.
    response = acme.post(
        REVOKE,
        {"token": bobs["access_token"]},
        headers={"Authorization": f"Bearer {alices['access_token']}"},
    )
    assert response.status_code in {400, 401}, response.text
    assert_unchanged(before)
    assert users_me(acme, bobs["access_token"]).status_code == 200
    assert users_me(acme, alices["access_token"]).status_code == 200
    # Her own token in both places ends it.
    response = acme.post(
        REVOKE,
        {"token": alices["access_token"]},
        headers={"Authorization": f"Bearer {alices['access_token']}"},
    )
    assert response.status_code == 200
    assert_invalid_token(users_me(acme, alices["access_token"]))
    assert users_me(acme, bobs["access_token"]).status_code == 200


# --- Introspection -------------------------------------------------------------------------------


def test_introspection_tells_only_the_tokens_own_client_at_its_own_tenant(
    alice_browser, acme, globex, web, other_web, globex_web
):
    tokens = issue(alice_browser, acme, web, scope=OFFLINE)
    for token in (tokens["access_token"], tokens["refresh_token"]):
        assert introspect(acme, web, token).json()["active"] is True
        # Another client of the same tenant.
        assert introspect(acme, other_web, token).json() == {"active": False}
        # Another tenant's client at its own host.
        response = introspect(globex, globex_web, token)
        assert response.status_code == 200
        assert response.json() == {"active": False}
        # Another tenant's client at this host is no client: it learns nothing.
        body = assert_oauth_error(introspect(acme, globex_web, token), 401, "invalid_client")
        assert "active" not in body
        # The token's own client at another tenant's host is no client there either.
        assert_oauth_error(introspect(globex, web, token), 401, "invalid_client")


# --- A token of tenant A at tenant B -------------------------------------------------------------


def test_a_token_of_one_tenant_is_refused_by_another_tenants_api(
    alice_browser, acme, globex, web, tenant_b, alice
):
    # Alice is a member at globex too: only the tenant of the token differs.
    MembershipFactory(user=alice, tenant=tenant_b, role=Membership.Role.ADMIN)
    tokens = issue(alice_browser, acme, web, scope="user_default openid")
    access = tokens["access_token"]
    before = db_state()
    assert_invalid_token(users_me(globex, access))
    assert_invalid_token(globex.get(USERINFO, headers={"Authorization": f"Bearer {access}"}))
    # It cannot revoke itself at globex either (it is no token there).
    response = globex.post(REVOKE, {"token": access}, headers={"Authorization": f"Bearer {access}"})
    assert response.status_code in {400, 401}
    assert_unchanged(before)
    assert users_me(acme, access).status_code == 200
    assert acme.get(USERINFO, headers={"Authorization": f"Bearer {access}"}).status_code == 200


# --- Forged and tampered JWTs --------------------------------------------------------------------


def parts_of(token: str) -> tuple[dict, dict, str]:
    header, payload, signature = token.split(".")
    return decode_segment(header), decode_segment(payload), signature


def rs256(claims: dict, pem: str, **header) -> str:
    """Like ``tests.jwts.sign``, but a None header value stays in the header (as null)."""
    protected = {"alg": "RS256", "typ": "at+jwt", "kid": kid(pem), **header}
    token = jws.JWS(json.dumps(claims, separators=(",", ":")))
    token.add_signature(signing_key(pem), alg="RS256", protected=protected)
    return token.serialize(compact=True)


def forgeries(token: str, *, tenant_b, bob_subject: str) -> dict[str, str]:
    """Tokens an attacker could make from one real ``token``."""
    header, claims, signature = parts_of(token)
    header_b64, claims_b64, _signature = token.split(".")
    elsewhere = {"tenant_id": str(tenant_b.pk), "iss": tenant_b.base_url, "aud": tenant_b.base_url}
    ours = settings.SIGNING_KEY_PEM
    theirs = generate_private_key_pem()
    now = int(time.time())
    public_pem = signing_key(ours).export_to_pem()
    hmac_key = jwk.JWK(kty="oct", k=b64url(public_pem))
    hs256 = jws.JWS(json.dumps(claims, separators=(",", ":")))
    hs256.add_signature(
        hmac_key, alg="HS256", protected={"alg": "HS256", "typ": "at+jwt", "kid": header["kid"]}
    )

    def resigned_payload(**changes) -> str:
        """The original header and signature over a changed payload."""
        return f"{encode_segment(header)}.{encode_segment({**claims, **changes})}.{signature}"

    return {
        "payload: another subject": resigned_payload(sub=bob_subject),
        "payload: wider scope": resigned_payload(scope="user_default admin_classic"),
        "payload: later expiry": resigned_payload(exp=now + 10 * 365 * 86400),
        "payload: another tenant": resigned_payload(**elsewhere),
        "signature: cut": token.rsplit(".", 1)[0] + ".",
        "signature: flipped": token[:-4] + ("AAAA" if token[-4:] != "AAAA" else "BBBB"),
        "alg none": f"{encode_segment({**header, 'alg': 'none'})}.{encode_segment(claims)}.",
        "alg None": f"{encode_segment({**header, 'alg': 'None'})}.{encode_segment(claims)}.",
        "alg none, no kid": (
            f"{encode_segment({'alg': 'none', 'typ': 'at+jwt'})}.{encode_segment(claims)}."
        ),
        "HS256 keyed with the public key": hs256.serialize(compact=True),
        "another key, our kid": rs256(claims, theirs, kid=header["kid"]),
        "another key, its own kid": rs256(claims, theirs),
        "another key in a jwk header": rs256(
            claims, theirs, kid=None, jwk=json.loads(signing_key(theirs).export_public())
        ),
        "expired (our key)": rs256({**claims, "iat": now - 7200, "exp": now - 3600}, ours),
        "expired a second ago (our key)": rs256({**claims, "exp": now - 1}, ours),
        "no exp (our key)": rs256({k: v for k, v in claims.items() if k != "exp"}, ours),
        "typ JWT (our key)": rs256(claims, ours, typ="JWT"),
        "another tenant's claims (our key)": rs256(
            {
                **claims,
                "tenant_id": str(tenant_b.pk),
                "iss": tenant_b.base_url,
                "aud": tenant_b.base_url,
            },
            ours,
        ),
        "another tenant's id only (our key)": rs256(
            {**claims, "tenant_id": str(tenant_b.pk)}, ours
        ),
        "json serialization": json.dumps(
            {
                "payload": token.split(".")[1],
                "protected": token.split(".")[0],
                "signature": signature,
            }
        ),
        "two tokens glued": token + "." + token,
        "token with trailing text": token + " x",
    }


def test_a_genuine_token_re_signed_with_our_key_still_works(alice_browser, acme, web):
    # The counterpart of the forgeries: the harness signs like the server.
    token = issue(alice_browser, acme, web, scope="user_default")["access_token"]
    header, claims, _signature = parts_of(token)
    resigned = rs256({**claims, "jti": claims["jti"] + "x"}, settings.SIGNING_KEY_PEM)
    assert users_me(acme, resigned).status_code == 200


def test_forged_and_tampered_tokens_are_refused_by_api_userinfo_and_introspection(
    alice_browser, acme, web, tenant_a, tenant_b, bob
):
    token = issue(alice_browser, acme, web, scope="user_default openid")["access_token"]
    bob_subject = str(Membership.objects.get(user=bob, tenant=tenant_a).subject)
    before = db_state()
    problems = {}
    for name, forged in forgeries(token, tenant_b=tenant_b, bob_subject=bob_subject).items():
        auth = {"Authorization": f"Bearer {forged}"}
        me = acme.get(ME, headers=auth)
        examined = introspect(acme, web, forged)
        if me.status_code != 401 or me.json().get("error") != "invalid_token":
            problems[f"{name}: /api/v1/users/me"] = (me.status_code, me.text[:120])
        if name.startswith(("payload", "alg none", "another key, our kid", "expired (")):
            info = acme.get(USERINFO, headers=auth)
            if info.status_code != 401:
                problems[f"{name}: userinfo"] = (info.status_code, info.text[:120])
        if examined.status_code != 200 or examined.json() != {"active": False}:
            problems[f"{name}: introspection"] = (examined.status_code, examined.text[:120])
    assert problems == {}, problems
    assert_unchanged(before)
    # The genuine token was untouched by all this.
    assert users_me(acme, token).json()["email"] == "alice@acme.test"


def test_an_id_token_is_no_access_token(alice_browser, acme, web):
    tokens = issue(alice_browser, acme, web, scope="user_default openid")
    assert tokens.get("id_token")
    assert_invalid_token(users_me(acme, tokens["id_token"]))
    assert introspect(acme, web, tokens["id_token"]).json() == {"active": False}


def test_a_refresh_token_is_no_access_token_and_an_access_token_no_refresh_token(
    alice_browser, acme, web
):
    tokens = issue(alice_browser, acme, web, scope=OFFLINE)
    assert_invalid_token(users_me(acme, tokens["refresh_token"]))
    assert_oauth_error(refresh(acme, web, tokens["access_token"]), 400, "invalid_grant")


def test_an_access_token_is_not_taken_from_the_query_or_the_body(alice_browser, acme, web):
    access = issue(alice_browser, acme, web, scope="user_default")["access_token"]
    assert acme.get(f"{ME}?access_token={access}").status_code == 401
    assert acme.post(USERINFO, {"access_token": access}).status_code == 401
    assert acme.get(ME, headers={"Authorization": f"Basic {access}"}).status_code == 401


def test_a_revoked_access_token_is_refused_at_once(alice_browser, acme, web):
    access = issue(alice_browser, acme, web, scope="user_default")["access_token"]
    assert users_me(acme, access).status_code == 200
    assert revoke(acme, web, access).status_code == 200
    assert_invalid_token(users_me(acme, access))
    assert introspect(acme, web, access).json() == {"active": False}
    assert acme.post(
        INTROSPECT, {"token": access}, headers={"Authorization": basic(web)}
    ).json() == {"active": False}
