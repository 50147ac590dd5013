"""No secret of a whole OAuth flow reaches a log line, at DEBUG on every logger.

The flow: authorize (state, login_hint, nonce, code_challenge) → a failed
and a good sign-in → code exchange → refresh → users/me → revoke → failed
client authentications (wrong secret; a client_assertion). Every value a
log must not hold is then searched for in every record, as written by the
JSON formatter and as text.
"""

import json
import logging
import secrets
from urllib.parse import urlencode

import pytest
from django.conf import settings

from tenants.logs import JsonFormatter
from tests.flows import (
    Registered,
    authorize_params,
    basic,
    client_for,
    pkce_pair,
    query_of,
    redeem,
    users_me,
)

# Loggers that write secrets at DEBUG by design (tokens, template contexts): settings
# keep them above DEBUG whatever LOG_LEVEL says, and that is what is tested here.
PINNED = ("oauthlib", "django.template")


def test_the_loggers_that_log_secrets_at_debug_are_pinned_above_it():
    for name in PINNED:
        level = logging.getLevelName(settings.LOGGING["loggers"][name]["level"])
        assert level > logging.DEBUG
        assert logging.getLogger(name).getEffectiveLevel() > logging.DEBUG


@pytest.fixture
def everything_logged(caplog):
    """Every other logger at DEBUG (SQL as production logs it: not at all, DEBUG being off)."""
    caplog.set_level(logging.DEBUG)
    for name in list(logging.root.manager.loggerDict):
        if not name.startswith(PINNED):
            caplog.set_level(logging.DEBUG, logger=name)
    return caplog


def run_the_flow(tenant, alice, web) -> list[str]:
    password, wrong_password = secrets.token_urlsafe(12), secrets.token_urlsafe(12)
    alice.set_password(password)
    alice.save()
    state, nonce = secrets.token_urlsafe(16), secrets.token_urlsafe(16)
    verifier, challenge = pkce_pair()
    browser, api = client_for(tenant), client_for(tenant)

    query = authorize_params(
        web,
        challenge,
        scope="openid user_default offline_access",
        state=state,
        nonce=nonce,
        login_hint=alice.email,
    )
    authorize_url = "/oauth/authorize?" + urlencode(query)
    to_login = browser.get(authorize_url)
    assert to_login.status_code == 302 and "/login/" in to_login["Location"]
    failed = browser.post("/login/", {"username": alice.email, "password": wrong_password})
    assert failed.status_code == 200
    signed_in = browser.post(
        "/login/", {"username": alice.email, "password": password, "next": authorize_url}
    )
    assert signed_in.status_code == 302, signed_in.content
    back = browser.get(signed_in["Location"])
    assert back.status_code == 302, back.content
    code = query_of(back["Location"])["code"]

    tokens = redeem(api, web, code, verifier).json()
    refreshed = api.post(
        "/oauth/token",
        {"grant_type": "refresh_token", "refresh_token": tokens["refresh_token"]},
        HTTP_AUTHORIZATION=basic(web),
    ).json()
    assert users_me(api, refreshed["access_token"]).status_code == 200
    revoked = api.post(
        "/oauth/revoke",
        {"token": refreshed["refresh_token"], "token_type_hint": "refresh_token"},
        HTTP_AUTHORIZATION=basic(web),
    )
    assert revoked.status_code == 200

    wrong_secret = secrets.token_urlsafe(32)
    wrong = Registered(web.client, wrong_secret)
    assert redeem(api, wrong, code, verifier).status_code == 401
    assertion = secrets.token_urlsafe(40)
    api.post(
        "/oauth/token",
        {
            "grant_type": "client_credentials",
            "client_id": web.client_id,
            "client_assertion_type": "urn:ietf:params:oauth:client-assertion-type:jwt-bearer",
            "client_assertion": assertion,
        },
    )
    return [
        password,
        wrong_password,
        state,
        nonce,
        alice.email,  # the login_hint
        verifier,
        challenge,
        code,
        web.secret,
        wrong_secret,
        assertion,
        basic(web).split()[1],
        basic(wrong).split()[1],
        tokens["access_token"],
        tokens["refresh_token"],
        tokens["id_token"],
        refreshed["access_token"],
        refreshed["refresh_token"],
    ]


def test_no_secret_of_the_flow_is_logged(everything_logged, tenant_a, alice, web):
    values = run_the_flow(tenant_a, alice, web)
    records = everything_logged.records
    names = {r.name for r in records}
    assert {"oauth_console.request", "oauth_console.security"} <= names, names
    formatter = JsonFormatter()
    for record in records:
        written = formatter.format(record)
        json.loads(written)
        for value in values:
            assert value not in written, f"{record.name} logged a secret: {written[:300]}"
    for value in values:
        assert value not in everything_logged.text


def test_django_logs_4xx_with_the_path_only(everything_logged, tenant_a):
    client_for(tenant_a).get("/oauth/no-such-endpoint?code=abc123&state=xyz789")
    [warning] = [r for r in everything_logged.records if r.name == "django.request"]
    assert warning.getMessage() == "Not Found: /oauth/no-such-endpoint"
    assert "abc123" not in JsonFormatter().format(warning)
