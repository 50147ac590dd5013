"""Concurrent token requests against a real server: one winner, no half-issued tokens.

The token endpoint locks the code or refresh token row (``SELECT ... FOR
UPDATE``); only PostgreSQL gives real row locks and concurrent transactions,
so these tests run there only:

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/devtest pytest tests/oauth/test_concurrency.py
"""

import http.client
import json
import threading
from urllib.parse import urlencode, urlsplit

import pytest
from django.db import connection

from oauth_clients.models import AccessToken, AuthorizationCode, RefreshToken, RevokedToken
from tests.flows import Registered, basic, get_code, redeem
from tests.jwts import jti_of

pytestmark = [
    pytest.mark.skipif(
        connection.vendor != "postgresql",
        reason="needs PostgreSQL (row locks, concurrent transactions): "
        "set DATABASE_URL=postgres://postgres@127.0.0.1:5432/devtest",
    ),
    pytest.mark.required_in_ci,
    pytest.mark.django_db(transaction=True),
]

PARALLEL = 8
TIMEOUT = 30


def post_all_at_once(live_server, tenant, bodies: list[dict], headers: dict) -> list[tuple]:
    """POST each body to /oauth/token in its own thread, released together.

    Returns ``(status, parsed JSON or raw bytes)`` per request, in order.
    """
    port = urlsplit(live_server.url).port
    barrier = threading.Barrier(len(bodies))
    results: list = [None] * len(bodies)

    def worker(index: int, body: dict) -> None:
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=TIMEOUT)
        try:
            payload = urlencode(body)
            conn.connect()
            barrier.wait(timeout=TIMEOUT)
            conn.request(
                "POST",
                "/oauth/token",
                body=payload,
                headers={
                    "Host": f"{tenant.hostname}:{port}",
                    "Content-Type": "application/x-www-form-urlencoded",
                    **headers,
                },
            )
            response = conn.getresponse()
            raw = response.read()
            try:
                results[index] = (response.status, json.loads(raw))
            except ValueError:
                results[index] = (response.status, raw)
        except Exception as error:  # noqa: BLE001 - reported in the assertion below
            results[index] = ("exception", repr(error))
        finally:
            conn.close()

    threads = [threading.Thread(target=worker, args=(i, b)) for i, b in enumerate(bodies)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(TIMEOUT + 5)
    assert all(not thread.is_alive() for thread in threads), "a request hung"
    return results


def split(results) -> tuple[list, list]:
    ok = [body for status, body in results if status == 200]
    others = [(status, body) for status, body in results if status != 200]
    return ok, others


def test_parallel_redemptions_of_one_code_issue_exactly_one_token(
    live_server, alice_client, web: Registered
):
    tenant = web.client.tenant
    code, verifier = get_code(alice_client, web, scope="user_default offline_access")
    body = {
        "grant_type": "authorization_code",
        "code": code,
        "redirect_uri": web.redirect_uri,
        "code_verifier": verifier,
    }

    results = post_all_at_once(
        live_server, tenant, [body] * PARALLEL, {"Authorization": basic(web)}
    )

    ok, others = split(results)
    assert len(ok) == 1, results
    assert ok[0]["access_token"] and ok[0]["refresh_token"], ok
    assert len(others) == PARALLEL - 1
    for status, error in others:
        assert status == 400, (status, error)
        assert error["error"] == "invalid_grant", error

    # Exactly one access token was ever minted: the winner's. (The losers are
    # replays of a used code, which revoke what it issued, RFC 6749 §4.1.2:
    # its row may be gone, but then its jti is on the revocation list.)
    winner = jti_of(ok[0]["access_token"])
    minted = set(AccessToken.objects.values_list("jti", flat=True)) | set(
        RevokedToken.objects.values_list("jti", flat=True)
    )
    assert minted == {winner}
    assert AccessToken.objects.count() <= 1
    assert RefreshToken.objects.count() == 1
    assert AuthorizationCode.objects.get(code=code).used_at is not None


def test_parallel_refreshes_of_one_refresh_token_rotate_once(
    live_server, alice_client, api, web: Registered
):
    tenant = web.client.tenant
    code, verifier = get_code(alice_client, web, scope="user_default offline_access")
    issued = redeem(api, web, code, verifier)
    assert issued.status_code == 200, issued.content
    refresh_token = issued.json()["refresh_token"]
    body = {"grant_type": "refresh_token", "refresh_token": refresh_token}

    results = post_all_at_once(live_server, tenant, [body, body], {"Authorization": basic(web)})

    ok, others = split(results)
    assert len(ok) == 1, results
    assert ok[0].get("access_token"), ok
    assert ok[0].get("refresh_token"), ok
    assert ok[0]["refresh_token"] != refresh_token
    [(status, error)] = others
    assert status == 400, (status, error)
    assert error["error"] == "invalid_grant", error
    # No access token row without a signed token behind it, and one rotation only.
    assert RefreshToken.objects.filter(application=web.client).count() == 2
    assert AccessToken.objects.filter(jti__isnull=True).count() == 0


def test_parallel_refreshes_never_answer_200_without_tokens(
    live_server, alice_client, api, web: Registered
):
    """Many at once, to shake out a winner that returns an empty or reused token."""
    tenant = web.client.tenant
    code, verifier = get_code(alice_client, web, scope="user_default offline_access")
    refresh_token = redeem(api, web, code, verifier).json()["refresh_token"]
    body = {"grant_type": "refresh_token", "refresh_token": refresh_token}

    results = post_all_at_once(
        live_server, tenant, [body] * PARALLEL, {"Authorization": basic(web)}
    )

    ok, others = split(results)
    assert len(ok) == 1, results
    assert ok[0].get("access_token") and ok[0].get("refresh_token"), ok
    for status, error in others:
        assert status == 400, (status, error)
        assert error["error"] == "invalid_grant", error
