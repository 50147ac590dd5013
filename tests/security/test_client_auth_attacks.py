"""Client authentication at the token, introspection and revocation endpoints, over HTTP.

A confidential client authenticates with one of its current secrets, by
HTTP Basic or in the body, never both (RFC 6749 §2.3); a public client
never sends a secret. Anything else is 401 ``invalid_client`` (400
``invalid_request`` for two methods at once), and the code presented with
it stays unused: nothing is issued.
"""

import base64
import re
from datetime import timedelta

import pytest
from django.utils import timezone

from oauth_clients.models import AccessToken, AuthorizationCode, ClientSecret
from tests.flows import (
    INTROSPECT,
    REDIRECT,
    REVOKE,
    TOKEN,
    assert_oauth_error,
    basic,
    get_code,
    issue,
    make_client,
    token_request,
    users_me,
)

pytestmark = pytest.mark.django_db(transaction=True)

CONSOLE = "/console/integration/oauth"


def assert_refused(response, code, *, basic_challenge: bool | None = None) -> None:
    assert_oauth_error(response, 401, "invalid_client")
    if basic_challenge is True:
        assert response.headers["WWW-Authenticate"].startswith("Basic")
    if basic_challenge is False:
        assert not response.headers.get("WWW-Authenticate", "").startswith("Basic")
    assert AuthorizationCode.objects.get(code=code).used_at is None
    assert not AccessToken.objects.exists()


# --- The counterpart -----------------------------------------------------------------------------


def test_the_right_secret_works_by_basic_or_in_the_body(alice_browser, acme, web):
    code, verifier = get_code(alice_browser, web)
    response = token_request(acme, code, verifier, authorization=basic(web))
    assert response.status_code == 200, response.text
    code, verifier = get_code(alice_browser, web)
    response = token_request(
        acme, code, verifier, client_id=web.client_id, client_secret=web.secret
    )
    assert response.status_code == 200, response.text


# --- Wrong, deleted, expired, another client's secret --------------------------------------------


def test_a_wrong_secret_is_refused(alice_browser, acme, web):
    code, verifier = get_code(alice_browser, web)
    wrong = [
        "wrong",
        "",
        web.secret[:-1],
        web.secret + "0",
        web.secret.upper(),
        f" {web.secret}",
        web.secret[-5:],  # the hint the console shows
    ]
    for secret in wrong:
        response = token_request(acme, code, verifier, authorization=basic(web, secret=secret))
        assert_refused(response, code, basic_challenge=True)
        response = token_request(
            acme, code, verifier, client_id=web.client_id, client_secret=secret
        )
        assert_refused(response, code, basic_challenge=False)
    assert token_request(acme, code, verifier, authorization=basic(web)).status_code == 200


def test_a_secret_deleted_in_the_console_stops_working_at_once(alice_browser, acme, web):
    # Rotation through the console: generate a new secret, then delete the old one.
    page = alice_browser.post_form(f"{CONSOLE}/{web.client_id}/secrets/new/", {})
    assert page.status_code == 200, page.status_code
    new_secret = re.search(r'id="new-client-secret" class="mono" value="([0-9a-f]+)"', page.text)
    assert new_secret, "no new secret shown"
    new_secret = new_secret.group(1)
    old_hint = web.secret[-5:]
    deleted = alice_browser.post_form(f"{CONSOLE}/{web.client_id}/secrets/{old_hint}/delete/", {})
    assert deleted.status_code == 302, deleted.status_code
    assert not ClientSecret.objects.filter(client=web.client, hint=old_hint).exists()

    code, verifier = get_code(alice_browser, web)
    old = token_request(acme, code, verifier, authorization=basic(web))
    assert_refused(old, code, basic_challenge=True)
    old = token_request(acme, code, verifier, client_id=web.client_id, client_secret=web.secret)
    assert_refused(old, code)
    new = token_request(acme, code, verifier, authorization=basic(web, secret=new_secret))
    assert new.status_code == 200, new.text


def test_an_expired_secret_is_refused(alice_browser, acme, web):
    ClientSecret.objects.filter(client=web.client).update(
        expires_at=timezone.now() - timedelta(seconds=1)
    )
    code, verifier = get_code(alice_browser, web)
    assert_refused(token_request(acme, code, verifier, authorization=basic(web)), code)
    assert_refused(
        token_request(acme, code, verifier, client_id=web.client_id, client_secret=web.secret),
        code,
    )
    # Introspection and revocation refuse it too.
    assert_oauth_error(
        acme.post(INTROSPECT, {"token": "x"}, headers={"Authorization": basic(web)}),
        401,
        "invalid_client",
    )
    assert_oauth_error(
        acme.post(REVOKE, {"token": "x"}, headers={"Authorization": basic(web)}),
        401,
        "invalid_client",
    )


def test_another_clients_secret_is_refused(alice_browser, acme, web, other_web, globex_web):
    code, verifier = get_code(alice_browser, web)
    for secret in (other_web.secret, globex_web.secret):
        response = token_request(acme, code, verifier, authorization=basic(web, secret=secret))
        assert_refused(response, code, basic_challenge=True)
        response = token_request(
            acme, code, verifier, client_id=web.client_id, client_secret=secret
        )
        assert_refused(response, code)


def test_basic_credentials_of_another_client_than_the_body_names_are_refused(
    alice_browser, acme, web, other_web
):
    code, verifier = get_code(alice_browser, web)
    # Valid credentials of other_web, with the body naming web (the code's client) ...
    response = token_request(
        acme,
        code,
        verifier,
        authorization=basic(other_web),
        client_id=web.client_id,
    )
    assert_refused(response, code)
    # ... and valid credentials of web with the body naming other_web.
    response = token_request(
        acme,
        code,
        verifier,
        authorization=basic(web),
        client_id=other_web.client_id,
    )
    assert_refused(response, code)


# --- Methods -------------------------------------------------------------------------------------


def test_two_methods_at_once_are_an_invalid_request(alice_browser, acme, web):
    code, verifier = get_code(alice_browser, web)
    for body_secret in (web.secret, "wrong"):
        response = token_request(
            acme,
            code,
            verifier,
            authorization=basic(web),
            client_id=web.client_id,
            client_secret=body_secret,
        )
        assert_oauth_error(response, 400, "invalid_request")
    assert AuthorizationCode.objects.get(code=code).used_at is None
    assert not AccessToken.objects.exists()
    for endpoint in (INTROSPECT, REVOKE):
        response = acme.post(
            endpoint,
            {"token": "x", "client_id": web.client_id, "client_secret": web.secret},
            headers={"Authorization": basic(web)},
        )
        assert_oauth_error(response, 400, "invalid_request")


def test_a_public_client_sending_a_secret_is_refused(alice_browser, acme, spa):
    code, verifier = get_code(alice_browser, spa)
    spa_request = {"redirect_uri": spa.redirect_uri}
    attempts = [
        token_request(
            acme, code, verifier, client_id=spa.client_id, client_secret="x", **spa_request
        ),
        token_request(
            acme, code, verifier, client_id=spa.client_id, client_secret="", **spa_request
        ),
        token_request(acme, code, verifier, authorization=basic(spa, secret="x"), **spa_request),
        token_request(acme, code, verifier, authorization=basic(spa, secret=""), **spa_request),
    ]
    for response in attempts:
        assert_refused(response, code)
    ok = token_request(acme, code, verifier, client_id=spa.client_id, **spa_request)
    assert ok.status_code == 200, ok.text


def test_a_confidential_client_sending_no_secret_is_refused(alice_browser, acme, web):
    code, verifier = get_code(alice_browser, web)
    attempts = [
        token_request(acme, code, verifier, client_id=web.client_id),
        token_request(acme, code, verifier, client_id=web.client_id, client_secret=""),
        token_request(acme, code, verifier, authorization=basic(web, secret="")),
        token_request(acme, code, verifier),  # no client at all
    ]
    for response in attempts:
        assert_refused(response, code)


def test_an_unknown_client_is_refused(alice_browser, acme, web):
    code, verifier = get_code(alice_browser, web)
    for client_id in ("0" * 32, "", "x' OR '1'='1"):
        assert_refused(
            token_request(acme, code, verifier, authorization=basic(web, client_id=client_id)), code
        )
        assert_refused(
            token_request(acme, code, verifier, client_id=client_id, client_secret=web.secret),
            code,
        )


MALFORMED_AUTHORIZATION = [
    "Basic",
    "Basic ",
    "Basic !!!not-base64!!!",
    "Basic " + base64.b64encode(b"no-colon-here").decode(),
    "Basic " + base64.b64encode(b"\xff\xfe:\xff").decode(),
    "Basic " + base64.b64encode(b":").decode(),
    "Digest username=x",
]


def test_a_malformed_authorization_header_is_refused(alice_browser, acme, web):
    code, verifier = get_code(alice_browser, web)
    problems = {}
    for authorization in MALFORMED_AUTHORIZATION:
        response = token_request(acme, code, verifier, authorization=authorization)
        if response.status_code not in {400, 401} or response.json().get("error") not in {
            "invalid_client",
            "invalid_request",
        }:
            problems[authorization] = (response.status_code, response.text[:200])
    assert problems == {}, problems
    assert AuthorizationCode.objects.get(code=code).used_at is None
    assert not AccessToken.objects.exists()


def test_credentials_in_the_query_string_are_refused(alice_browser, acme, web):
    # RFC 6749 §2.3.1: client credentials never go in the request URI.
    code, verifier = get_code(alice_browser, web)
    response = acme.post(
        f"{TOKEN}?client_id={web.client_id}&client_secret={web.secret}",
        {
            "grant_type": "authorization_code",
            "code": code,
            "redirect_uri": REDIRECT,
            "code_verifier": verifier,
        },
    )
    assert response.status_code in {400, 401}, response.text
    assert response.json()["error"] in {"invalid_request", "invalid_client"}
    assert AuthorizationCode.objects.get(code=code).used_at is None
    assert not AccessToken.objects.exists()


# --- Client credentials, introspection, revocation -----------------------------------------------


def test_client_credentials_need_the_right_secret(acme, tenant_a, alice, web):
    machine = make_client(tenant_a, alice, name="Service", machine_to_machine=True)
    grant = {"grant_type": "client_credentials", "scope": "user_default"}
    for headers, extra in [
        ({"Authorization": basic(machine, secret="wrong")}, {}),
        ({"Authorization": basic(machine, secret=web.secret)}, {}),
        ({}, {"client_id": machine.client_id}),
        ({}, {"client_id": machine.client_id, "client_secret": ""}),
    ]:
        assert_oauth_error(
            acme.post(TOKEN, {**grant, **extra}, headers=headers), 401, "invalid_client"
        )
    assert not AccessToken.objects.exists()
    ok = acme.post(TOKEN, grant, headers={"Authorization": basic(machine)})
    assert ok.status_code == 200, ok.text


def test_introspection_and_revocation_refuse_a_wrong_secret_and_change_nothing(
    alice_browser, acme, web, other_web
):
    tokens = issue(alice_browser, acme, web, scope="user_default")
    access = tokens["access_token"]
    for headers, data in [
        ({"Authorization": basic(web, secret="wrong")}, {}),
        ({"Authorization": basic(web, secret=other_web.secret)}, {}),
        ({}, {"client_id": web.client_id}),
        ({}, {"client_id": web.client_id, "client_secret": "wrong"}),
    ]:
        response = acme.post(INTROSPECT, {**data, "token": access}, headers=headers)
        body = assert_oauth_error(response, 401, "invalid_client")
        assert "active" not in body
        response = acme.post(REVOKE, {**data, "token": access}, headers=headers)
        assert_oauth_error(response, 401, "invalid_client")
    assert users_me(acme, access).status_code == 200
    assert AccessToken.objects.count() == 1
