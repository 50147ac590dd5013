"""Rate limits (tenants/ratelimit.py): failures are counted, good traffic never waits.

- Failed sign-ins → 429 with Retry-After; while locked out even the right
  password gets the same 429 (no guessing oracle). A browser that signed in
  to the account before is counted on its own (OWASP device cookies), so a
  stranger's guesses never lock the account's owner out.
- Failed client authentications per client and address and per address →
  a wrong secret gets 429 JSON with Retry-After at /oauth/token,
  /oauth/revoke and /oauth/introspect; the right secret always works.
- Consent and approval answers per user → 429.

The limits are lowered with the ``settings`` fixture; the cache is cleared
around every test (tests/conftest.py).
"""

import time
from urllib.parse import urlencode

import pytest
from django.conf import settings as django_settings
from django.core.cache import cache
from django.urls import reverse

from consent.models import ConsentGrant
from oauth_clients.models import AccessToken, AuthorizationCode, ConnectionConfig
from oauth_clients.services import publish_client
from tests.factories import MembershipFactory, UserFactory, create_oauth_client
from tests.flows import (
    REDIRECT,
    Registered,
    authorize_params,
    basic,
    client_for,
    get_code,
    pkce_pair,
)

pytestmark = pytest.mark.django_db

LOGIN_URL = reverse("tenants:login")
CLIENT_AUTH_ENDPOINTS = ["/oauth/token", "/oauth/revoke", "/oauth/introspect"]


@pytest.fixture
def limits(settings):
    """``limits(name=(attempts, seconds), ...)``: lower some RATE_LIMITS for this test."""

    def set_(**changes):
        settings.RATE_LIMITS = {**django_settings.RATE_LIMITS, **changes}

    return set_


def retry_after(response) -> int:
    assert "Retry-After" in response, dict(response.headers)
    seconds = int(response["Retry-After"])
    assert seconds > 0
    return seconds


# --- Sign-in ------------------------------------------------------------------------------------
#
# Passwords can be guessed, so failed sign-ins are throttled; but a stranger
# must not be able to lock an account's owner out. OWASP's device cookies
# (tenants/sign_in_limits.py): a browser that has signed in to an account
# before carries a signed cookie for it, and its attempts count against that
# cookie alone. Untrusted browsers (no valid cookie for the account) count
# per account and address, per address, and per account for untrusted
# browsers, the one limit a stranger can exhaust.

DEVICE_COOKIE_PREFIX = "signin_device_"
ALICE_HOME = "192.0.2.10"
ALICE_OFFICE = "192.0.2.20"


def sign_in(http, email: str, password: str, address: str = "10.0.0.1"):
    return http.post(LOGIN_URL, {"username": email, "password": password}, REMOTE_ADDR=address)


def signed_in(http) -> bool:
    return "_auth_user_id" in http.session


def device_cookies(http) -> dict:
    return {name: m for name, m in http.cookies.items() if name.startswith(DEVICE_COOKIE_PREFIX)}


def sign_out(http) -> None:
    """End the session but keep the browser's other cookies, as /logout/ does."""
    http.cookies.pop(django_settings.SESSION_COOKIE_NAME, None)


def trusted_browser(tenant, email: str = "alice@acme.test", address: str = ALICE_HOME):
    """A browser that has signed in to ``email`` before (and signed out since)."""
    http = client_for(tenant)
    response = sign_in(http, email, "password", address)
    assert response.status_code == 302, response.status_code
    assert len(device_cookies(http)) == 1, list(http.cookies)
    sign_out(http)
    return http


def stranger_guesses(tenant, email: str = "alice@acme.test", tries: int = 25) -> None:
    """Wrong passwords for ``email`` from untrusted browsers at several addresses."""
    for index in range(tries):
        sign_in(client_for(tenant), email, f"guess-{index}", f"203.0.113.{index % 5}")


def assert_refused(response):
    assert response.status_code == 200, response.status_code
    assert "Invalid email or password." in response.content.decode()


def assert_locked_out(response, seconds: int):
    assert response.status_code == 429
    assert retry_after(response) == seconds
    html = response.content.decode()
    assert "Too many failed sign-ins" in html
    assert "Invalid email or password." not in html


class TestSignInPerAccountAndAddress:
    @pytest.fixture(autouse=True)
    def _limits(self, limits):
        limits(
            sign_in_per_account_address=(3, 900),
            sign_in_untrusted_per_account=(1000, 900),
            sign_in_per_address=(1000, 900),
        )

    def test_failures_past_the_limit_get_429_with_retry_after(self, tenant_a, alice):
        http = client_for(tenant_a)
        for _ in range(3):
            assert_refused(sign_in(http, "alice@acme.test", "wrong"))
        assert_locked_out(sign_in(http, "alice@acme.test", "wrong"), 900)

    def test_the_right_password_is_refused_alike_during_the_lockout(self, tenant_a, alice):
        http = client_for(tenant_a)
        for _ in range(3):
            sign_in(http, "alice@acme.test", "wrong")
        wrong = sign_in(http, "alice@acme.test", "wrong-again")
        right = sign_in(http, "alice@acme.test", "password")
        assert_locked_out(wrong, 900)
        assert_locked_out(right, 900)
        assert not signed_in(http)
        assert not device_cookies(http)
        assert dict(right.headers).keys() == dict(wrong.headers).keys()
        assert right["Retry-After"] == wrong["Retry-After"]

    def test_another_address_is_counted_apart(self, tenant_a, alice):
        for _ in range(3):
            sign_in(client_for(tenant_a), "alice@acme.test", "wrong", "10.0.0.1")
        fresh = client_for(tenant_a)
        assert sign_in(fresh, "alice@acme.test", "password", "10.0.0.2").status_code == 302
        assert signed_in(fresh)

    def test_spelling_variants_of_the_email_count_as_one_account(self, tenant_a, alice):
        http = client_for(tenant_a)
        for variant in ("ALICE@acme.test", " alice@ACME.TEST", "Alice@Acme.Test "):
            assert_refused(sign_in(http, variant, "wrong"))
        assert_locked_out(sign_in(http, "alice@acme.test", "password"), 900)

    def test_other_accounts_are_not_locked_out(self, tenant_a, alice, bob):
        http = client_for(tenant_a)
        for _ in range(3):
            sign_in(http, "alice@acme.test", "wrong")
        response = sign_in(http, "bob@acme.test", "password")
        assert response.status_code == 302
        assert signed_in(http)

    def test_the_lockout_ends_with_the_window(self, tenant_a, alice, limits):
        limits(sign_in_per_account_address=(2, 1))
        http = client_for(tenant_a)
        for _ in range(2):
            sign_in(http, "alice@acme.test", "wrong")
        assert sign_in(http, "alice@acme.test", "password").status_code == 429
        time.sleep(1.2)
        assert sign_in(http, "alice@acme.test", "password").status_code == 302
        assert signed_in(http)


class TestSignInUntrustedPerAccount:
    @pytest.fixture(autouse=True)
    def _limits(self, limits):
        limits(
            sign_in_per_account_address=(1000, 900),
            sign_in_untrusted_per_account=(3, 900),
            sign_in_per_address=(1000, 900),
        )

    def test_failures_from_many_addresses_throttle_untrusted_browsers(self, tenant_a, alice):
        """Without a device cookie, from a new address, the per-account limit applies."""
        stranger_guesses(tenant_a, tries=3)
        fresh = client_for(tenant_a)
        assert_locked_out(sign_in(fresh, "alice@acme.test", "password", ALICE_OFFICE), 900)
        assert not signed_in(fresh)

    def test_other_accounts_are_not_throttled(self, tenant_a, alice, bob):
        stranger_guesses(tenant_a, tries=3)
        fresh = client_for(tenant_a)
        assert sign_in(fresh, "bob@acme.test", "password", ALICE_OFFICE).status_code == 302


class TestSignInPerAddress:
    @pytest.fixture(autouse=True)
    def _limits(self, limits):
        limits(
            sign_in_per_account_address=(1000, 900),
            sign_in_untrusted_per_account=(1000, 900),
            sign_in_per_address=(4, 600),
        )

    def test_failures_for_many_accounts_from_one_address_get_429(self, tenant_a, alice):
        http = client_for(tenant_a)
        for index in range(4):
            assert_refused(sign_in(http, f"guess{index}@acme.test", "wrong", "10.0.0.7"))
        assert_locked_out(sign_in(http, "guess9@acme.test", "wrong", "10.0.0.7"), 600)
        locked = sign_in(http, "alice@acme.test", "password", "10.0.0.7")
        assert_locked_out(locked, 600)
        assert not signed_in(http)

    def test_other_addresses_are_not_locked_out(self, tenant_a, alice):
        http = client_for(tenant_a)
        for index in range(4):
            sign_in(http, f"guess{index}@acme.test", "wrong", "10.0.0.7")
        response = sign_in(http, "alice@acme.test", "password", "10.0.0.8")
        assert response.status_code == 302
        assert signed_in(http)

    def test_a_trusted_browser_behind_that_address_still_signs_in(self, tenant_a, alice):
        alices = trusted_browser(tenant_a, address="10.0.0.7")
        for index in range(10):
            sign_in(client_for(tenant_a), f"guess{index}@acme.test", "wrong", "10.0.0.7")
        assert sign_in(alices, "alice@acme.test", "password", "10.0.0.7").status_code == 302
        assert signed_in(alices)


class TestDeviceCookies:
    @pytest.fixture(autouse=True)
    def _limits(self, limits):
        limits(
            sign_in_per_account_address=(3, 900),
            sign_in_untrusted_per_account=(5, 900),
            sign_in_per_address=(5, 900),
            sign_in_per_device=(2, 900),
        )

    def test_a_successful_sign_in_issues_a_signed_device_cookie(self, tenant_a, alice):
        http = client_for(tenant_a)
        response = sign_in(http, "alice@acme.test", "password")
        [(name, cookie)] = device_cookies(http).items()
        assert response.cookies[name].value == cookie.value
        assert cookie["httponly"]
        assert cookie["samesite"] == "Lax"
        assert cookie["path"] == LOGIN_URL
        assert int(cookie["max-age"]) >= 30 * 24 * 3600
        assert not cookie["domain"]  # host-only: this tenant's host alone
        assert "alice" not in cookie.value and "alice" not in name
        assert ":" in cookie.value  # Django's signature

    def test_the_device_cookie_is_secure_under_https(self, tenant_a, alice, settings):
        settings.SESSION_COOKIE_SECURE = True
        http = client_for(tenant_a)
        sign_in(http, "alice@acme.test", "password")
        [cookie] = device_cookies(http).values()
        assert cookie["secure"]

    def test_a_strangers_failures_do_not_stop_alices_browser(self, tenant_a, alice):
        alices = trusted_browser(tenant_a)
        stranger_guesses(tenant_a)
        # Untrusted browsers of alice's account are throttled ...
        assert_locked_out(
            sign_in(client_for(tenant_a), "alice@acme.test", "password", ALICE_HOME), 900
        )
        # ... but not her own browser, at home or behind the stranger's address.
        assert sign_in(alices, "alice@acme.test", "password", ALICE_HOME).status_code == 302
        assert signed_in(alices)
        sign_out(alices)
        assert sign_in(alices, "alice@acme.test", "password", "203.0.113.1").status_code == 302
        assert signed_in(alices)

    def test_failures_with_a_device_cookie_lock_out_that_cookie_only(self, tenant_a, alice):
        stolen = trusted_browser(tenant_a)
        alices = trusted_browser(tenant_a)
        for _ in range(2):
            assert_refused(sign_in(stolen, "alice@acme.test", "wrong", "203.0.113.1"))
        assert_locked_out(sign_in(stolen, "alice@acme.test", "password", "203.0.113.1"), 900)
        # Alice's other browser, and untrusted browsers, are not affected.
        assert sign_in(alices, "alice@acme.test", "password", ALICE_HOME).status_code == 302
        fresh = client_for(tenant_a)
        assert sign_in(fresh, "alice@acme.test", "password", ALICE_OFFICE).status_code == 302

    def test_a_device_cookie_is_for_its_own_account_only(self, tenant_a, alice, bob):
        """Bob's browser is a stranger to alice's account."""
        bobs = trusted_browser(tenant_a, "bob@acme.test", "203.0.113.1")
        for index in range(5):
            sign_in(bobs, "alice@acme.test", f"guess-{index}", f"203.0.113.{index}")
        assert_locked_out(sign_in(bobs, "alice@acme.test", "password", ALICE_HOME), 900)
        assert sign_in(bobs, "bob@acme.test", "password", "203.0.113.1").status_code == 302

    def test_a_tampered_device_cookie_is_untrusted(self, tenant_a, alice):
        alices = trusted_browser(tenant_a)
        [(name, cookie)] = device_cookies(alices).items()
        value, _colon, signature = cookie.value.rpartition(":")
        alices.cookies[name] = f"{value}:{signature[::-1]}"
        stranger_guesses(tenant_a, tries=5)
        assert_locked_out(sign_in(alices, "alice@acme.test", "password", ALICE_HOME), 900)

    def test_a_device_cookie_from_another_tenant_is_untrusted(self, tenant_a, tenant_b, alice):
        """Device cookies are host-only; one carried to another tenant's host is not valid there."""
        MembershipFactory(user=alice, tenant=tenant_b)
        elsewhere = trusted_browser(tenant_b)
        at_acme = client_for(tenant_a)
        for name, cookie in device_cookies(elsewhere).items():
            at_acme.cookies[name] = cookie.value
        stranger_guesses(tenant_a, tries=5)
        assert_locked_out(sign_in(at_acme, "alice@acme.test", "password", ALICE_HOME), 900)


def test_successful_sign_ins_are_never_counted(tenant_a, alice, limits):
    limits(
        sign_in_per_account_address=(2, 900),
        sign_in_untrusted_per_account=(2, 900),
        sign_in_per_address=(2, 900),
    )
    for _ in range(25):
        http = client_for(tenant_a)
        response = sign_in(http, "alice@acme.test", "password")
        assert response.status_code == 302
        assert signed_in(http)


def test_a_success_between_failures_does_not_hide_them(tenant_a, alice, limits):
    """Failures still count after a success: a success is not a reset an attacker can buy."""
    limits(
        sign_in_per_account_address=(3, 900),
        sign_in_untrusted_per_account=(1000, 900),
        sign_in_per_address=(1000, 900),
    )
    MembershipFactory(user=UserFactory(email="mallory@acme.test"), tenant=tenant_a)
    http = client_for(tenant_a)
    for _ in range(3):
        sign_in(http, "alice@acme.test", "wrong")
        sign_in(client_for(tenant_a), "mallory@acme.test", "password")
    assert sign_in(http, "alice@acme.test", "password").status_code == 429


# --- Client authentication --------------------------------------------------------------------
#
# A client ID is public (it is in every authorization URL), so a stranger can
# always send failures under it. They are counted per address and per client
# and address, never per client alone, and a correct credential is accepted
# whatever the counts: only the sender of wrong credentials is slowed.

STRANGER = "203.0.113.9"
CLIENT_HOST = "198.51.100.20"
# Well past every limit, the lowered ones and the defaults alike.
STRANGERS_TRIES = 25


@pytest.fixture
def other(tenant_a, alice) -> Registered:
    client, secret = create_oauth_client(
        tenant_a, actor=alice, name="Other app", machine_to_machine=True
    )
    return Registered(client, secret)


def wrong_secret(registered: Registered) -> Registered:
    return Registered(registered.client, "0" * 72)


def authenticate(api, path: str, credentials, address: str = "10.0.0.1"):
    """One request at ``path`` authenticating with HTTP Basic as ``credentials``:
    a ``Registered`` client or a ``(client_id, secret)`` pair."""
    if isinstance(credentials, Registered):
        authorization = basic(credentials)
    else:
        client_id, secret = credentials
        authorization = basic(client_id=client_id, secret=secret)
    data = {
        "/oauth/token": {"grant_type": "client_credentials"},
        "/oauth/revoke": {"token": "not-a-token"},
        "/oauth/introspect": {"token": "not-a-token"},
    }[path]
    return api.post(path, data, HTTP_AUTHORIZATION=authorization, REMOTE_ADDR=address)


def assert_too_many(response) -> dict:
    assert response.status_code == 429, response.content[:300]
    assert response["Content-Type"].startswith("application/json")
    assert response["Cache-Control"] == "no-store"
    retry_after(response)
    body = response.json()
    assert body["error"] == "too_many_requests"
    assert body["error_description"]
    assert body["errors"][0]["code"] == "too_many_requests"
    assert body["errors"][0]["status"] == "429"
    assert "access_token" not in body and "active" not in body
    return body


@pytest.mark.parametrize("path", CLIENT_AUTH_ENDPOINTS)
class TestClientAuthPerClientAndAddress:
    @pytest.fixture(autouse=True)
    def _limits(self, limits):
        limits(client_auth_per_client_address=(3, 300), client_auth_per_address=(1000, 300))

    def test_wrong_secrets_past_the_limit_get_429_json(self, api, m2m, path):
        for _ in range(3):
            assert authenticate(api, path, wrong_secret(m2m), STRANGER).status_code == 401
        assert_too_many(authenticate(api, path, wrong_secret(m2m), STRANGER))
        assert_too_many(authenticate(api, path, wrong_secret(m2m), STRANGER))

    def test_a_strangers_failures_do_not_stop_the_right_secret_elsewhere(self, api, m2m, path):
        for _ in range(STRANGERS_TRIES):
            authenticate(api, path, wrong_secret(m2m), STRANGER)
        assert authenticate(api, path, m2m, CLIENT_HOST).status_code == 200

    def test_nor_at_the_strangers_own_address(self, api, m2m, path):
        """A client behind the stranger's address (a shared NAT) keeps working."""
        for _ in range(STRANGERS_TRIES):
            authenticate(api, path, wrong_secret(m2m), STRANGER)
        assert authenticate(api, path, m2m, STRANGER).status_code == 200
        # ... and the stranger is still refused with 429.
        assert_too_many(authenticate(api, path, wrong_secret(m2m), STRANGER))

    def test_the_right_secret_issues_tokens_past_the_limit(self, api, m2m, path):
        for _ in range(STRANGERS_TRIES):
            authenticate(api, "/oauth/token", wrong_secret(m2m), STRANGER)
        response = authenticate(api, "/oauth/token", m2m, STRANGER)
        assert response.status_code == 200, response.content
        assert AccessToken.objects.filter(application=m2m.client).count() == 1

    def test_wrong_secrets_from_another_address_are_counted_apart(self, api, m2m, path):
        for _ in range(STRANGERS_TRIES):
            authenticate(api, path, wrong_secret(m2m), STRANGER)
        assert authenticate(api, path, wrong_secret(m2m), CLIENT_HOST).status_code == 401

    def test_failures_earned_at_another_endpoint_count_here(self, api, m2m, path):
        for _ in range(3):
            authenticate(api, "/oauth/introspect", wrong_secret(m2m), STRANGER)
        assert_too_many(authenticate(api, path, wrong_secret(m2m), STRANGER))

    def test_client_secret_post_is_counted_alike(self, api, m2m, path):
        data = {"grant_type": "client_credentials", "token": "x", "client_id": m2m.client_id}
        for _ in range(3):
            api.post(path, {**data, "client_secret": "0" * 72}, REMOTE_ADDR=STRANGER)
        assert_too_many(api.post(path, {**data, "client_secret": "1" * 72}, REMOTE_ADDR=STRANGER))
        right = api.post(path, {**data, "client_secret": m2m.secret}, REMOTE_ADDR=STRANGER)
        assert right.status_code == 200, right.content

    def test_other_clients_are_not_limited(self, api, m2m, other, path):
        for _ in range(3):
            authenticate(api, path, wrong_secret(m2m), STRANGER)
        assert authenticate(api, path, wrong_secret(other), STRANGER).status_code == 401
        assert authenticate(api, path, other, STRANGER).status_code == 200


@pytest.mark.parametrize("path", CLIENT_AUTH_ENDPOINTS)
class TestClientAuthPerAddress:
    @pytest.fixture(autouse=True)
    def _limits(self, limits):
        limits(client_auth_per_client_address=(1000, 300), client_auth_per_address=(4, 300))

    def test_failures_for_many_clients_from_one_address_get_429(self, api, m2m, path):
        for index in range(4):
            unknown = (f"unknown{index}", "x")
            assert authenticate(api, path, unknown, STRANGER).status_code == 401
        assert_too_many(authenticate(api, path, ("unknown9", "x"), STRANGER))
        assert_too_many(authenticate(api, path, wrong_secret(m2m), STRANGER))

    def test_a_right_secret_from_that_address_still_works(self, api, m2m, path):
        for index in range(STRANGERS_TRIES):
            authenticate(api, path, (f"unknown{index}", "x"), STRANGER)
        assert authenticate(api, path, m2m, STRANGER).status_code == 200

    def test_other_addresses_are_not_limited(self, api, m2m, path):
        for _ in range(4):
            authenticate(api, path, wrong_secret(m2m), STRANGER)
        assert authenticate(api, path, wrong_secret(m2m), CLIENT_HOST).status_code == 401
        assert authenticate(api, path, m2m, CLIENT_HOST).status_code == 200


def test_a_well_behaved_client_is_never_slowed(api, m2m, limits):
    limits(client_auth_per_client_address=(3, 300), client_auth_per_address=(3, 300))
    tokens = []
    for _ in range(100):
        response = authenticate(api, "/oauth/token", m2m)
        assert response.status_code == 200, response.content
        tokens.append(response.json()["access_token"])
    for token in tokens[:20]:
        introspected = api.post(
            "/oauth/introspect", {"token": token}, HTTP_AUTHORIZATION=basic(m2m)
        )
        assert introspected.status_code == 200
        assert introspected.json()["active"] is True
    for token in tokens[:20]:
        revoked = api.post("/oauth/revoke", {"token": token}, HTTP_AUTHORIZATION=basic(m2m))
        assert revoked.status_code == 200


def test_code_redemption_and_refresh_go_on_past_the_limit(
    api, alice_client, tenant_a, alice, limits
):
    """The defect as reported: after a stranger's failures, codes and refreshes still work."""
    limits(client_auth_per_client_address=(3, 300), client_auth_per_address=(3, 300))
    client, secret = create_oauth_client(
        tenant_a,
        actor=alice,
        name="Web app",
        redirect_uris=[REDIRECT],
        allowed_scopes=["user_default", "offline_access"],
        consent_method="trusted",
    )
    web = Registered(client, secret, REDIRECT)
    for _ in range(STRANGERS_TRIES):
        authenticate(api, "/oauth/token", wrong_secret(web), STRANGER)
    code, verifier = get_code(alice_client, web, scope="user_default offline_access")
    exchange = {
        "grant_type": "authorization_code",
        "code": code,
        "redirect_uri": REDIRECT,
        "code_verifier": verifier,
    }
    wrong = api.post(
        "/oauth/token",
        exchange,
        HTTP_AUTHORIZATION=basic(wrong_secret(web)),
        REMOTE_ADDR=STRANGER,
    )
    assert_too_many(wrong)
    assert AuthorizationCode.objects.get(code=code).used_at is None
    tokens = api.post("/oauth/token", exchange, HTTP_AUTHORIZATION=basic(web), REMOTE_ADDR=STRANGER)
    assert tokens.status_code == 200, tokens.content
    refreshed = api.post(
        "/oauth/token",
        {"grant_type": "refresh_token", "refresh_token": tokens.json()["refresh_token"]},
        HTTP_AUTHORIZATION=basic(web),
        REMOTE_ADDR=STRANGER,
    )
    assert refreshed.status_code == 200, refreshed.content


@pytest.mark.parametrize("path", CLIENT_AUTH_ENDPOINTS)
def test_a_correct_credential_reads_no_counter(api, m2m, path, monkeypatch):
    """The token endpoint is a hot path: a correct credential costs no cache round trip."""
    calls = []
    for name in ("get", "get_many", "add", "incr", "set"):
        real = getattr(cache, name)
        monkeypatch.setattr(
            cache,
            name,
            lambda *args, _real=real, _name=name, **kw: calls.append(_name) or _real(*args, **kw),
        )
    assert authenticate(api, path, m2m).status_code == 200
    assert calls == []


def test_a_client_id_hidden_in_an_odd_basic_header_is_counted_alike(api, m2m, limits):
    """The count keys on the client_id the validator authenticates (URL-decoded)."""
    limits(client_auth_per_client_address=(3, 300), client_auth_per_address=(1000, 300))
    for _ in range(3):
        authenticate(api, "/oauth/introspect", wrong_secret(m2m))
    encoded = "".join(f"%{ord(ch):02X}" for ch in m2m.client_id)
    assert_too_many(authenticate(api, "/oauth/introspect", (encoded, "0" * 72)))
    assert authenticate(api, "/oauth/introspect", (encoded, m2m.secret)).status_code == 200


# --- Consent and approval answers -----------------------------------------------------------------


@pytest.fixture
def asks(tenant_a, alice):
    client, _secret = create_oauth_client(
        tenant_a,
        actor=alice,
        name="Asks first",
        redirect_uris=[REDIRECT],
        consent_method="required",
    )
    return client


def answer(http, client, allow: bool = True):
    _verifier, challenge = pkce_pair()
    data = authorize_params(Registered(client, None), challenge)
    if allow:
        data["allow"] = "Authorize"
    return http.post("/oauth/authorize", data)


class TestConsentAnswers:
    @pytest.fixture(autouse=True)
    def _limits(self, limits):
        limits(authorize_post_per_user=(3, 60))

    def test_answers_past_the_limit_get_429(self, alice_client, asks):
        for allow in (True, False, True):
            response = answer(alice_client, asks, allow)
            assert response.status_code == 302
        codes = AuthorizationCode.objects.count()
        response = answer(alice_client, asks)
        assert response.status_code == 429
        assert retry_after(response) == 60
        assert "Location" not in response
        assert "Too many requests" in response.content.decode()
        assert AuthorizationCode.objects.count() == codes

    def test_showing_the_consent_page_is_not_counted(self, alice_client, asks):
        for _ in range(10):
            _verifier, challenge = pkce_pair()
            page = alice_client.get(
                "/oauth/authorize?" + urlencode(authorize_params(Registered(asks, None), challenge))
            )
            assert page.status_code == 200
        assert answer(alice_client, asks).status_code == 302

    def test_other_users_are_not_limited(self, alice_client, bob_client, asks):
        for _ in range(3):
            answer(alice_client, asks)
        assert answer(alice_client, asks).status_code == 429
        assert answer(bob_client, asks).status_code == 302

    def test_tenant_approval_answers_count_too(
        self, tenant_a, tenant_b, alice, alice_client, carol
    ):
        shared, _secret = create_oauth_client(
            tenant_b, actor=carol, name="Globex app", redirect_uris=[REDIRECT]
        )
        publish_client(shared, actor=carol)
        for _ in range(3):
            _verifier, challenge = pkce_pair()
            response = alice_client.post(
                "/oauth/authorize",
                {
                    **authorize_params(Registered(shared, None), challenge),
                    "tenant_approval": "deny",
                },
            )
            assert response.status_code == 302
        _verifier, challenge = pkce_pair()
        response = alice_client.post(
            "/oauth/authorize",
            {**authorize_params(Registered(shared, None), challenge), "tenant_approval": "approve"},
        )
        assert response.status_code == 429
        assert retry_after(response) == 60
        assert not ConnectionConfig.objects.filter(client=shared, tenant=tenant_a).exists()
        assert not ConsentGrant.objects.filter(client=shared).exists()


# --- Behind a proxy: the sender, not the proxy, is counted ---------------------------------------

PROXY = "10.9.9.9"


def sign_in_via_proxy(http, email: str, password: str, forwarded_for: str):
    return http.post(
        LOGIN_URL,
        {"username": email, "password": password},
        REMOTE_ADDR=PROXY,
        HTTP_X_FORWARDED_FOR=forwarded_for,
    )


class TestBehindAProxy:
    @pytest.fixture(autouse=True)
    def _limits(self, limits, settings):
        settings.FORWARDED_FOR_PROXIES = 1
        limits(
            sign_in_per_address=(3, 900),
            sign_in_per_account_address=(1000, 900),
            sign_in_untrusted_per_account=(1000, 900),
        )

    def test_one_senders_failures_do_not_throttle_everybody_behind_the_proxy(
        self, tenant_a, alice, bob
    ):
        for _ in range(3):
            sign_in_via_proxy(client_for(tenant_a), "bob@acme.test", "wrong", "203.0.113.7")
        assert_locked_out(
            sign_in_via_proxy(client_for(tenant_a), "bob@acme.test", "wrong", "203.0.113.7"), 900
        )
        other = client_for(tenant_a)
        response = sign_in_via_proxy(other, "alice@acme.test", "password", "198.51.100.4")
        assert response.status_code == 302
        assert signed_in(other)

    def test_addresses_the_sender_claims_left_of_the_proxy_are_not_trusted(self, tenant_a, alice):
        # A sender cannot pick its own counter by prepending addresses.
        for n in range(3):
            spoofed = f"192.0.2.{n}, 203.0.113.7"
            sign_in_via_proxy(client_for(tenant_a), "alice@acme.test", "wrong", spoofed)
        assert_locked_out(
            sign_in_via_proxy(
                client_for(tenant_a), "alice@acme.test", "wrong", "192.0.2.99, 203.0.113.7"
            ),
            900,
        )


@pytest.mark.parametrize(
    ("proxies", "forwarded_for", "expected"),
    [
        (0, "203.0.113.7", PROXY),
        (1, "203.0.113.7", "203.0.113.7"),
        (1, "192.0.2.1, 203.0.113.7", "203.0.113.7"),
        (2, "192.0.2.1, 203.0.113.7, 10.0.0.5", "203.0.113.7"),
        (2, "203.0.113.7", PROXY),
        (1, "", PROXY),
    ],
)
def test_the_counted_address(rf, settings, proxies, forwarded_for, expected):
    from tenants.ratelimit import client_address

    settings.FORWARDED_FOR_PROXIES = proxies
    request = rf.get("/", REMOTE_ADDR=PROXY, HTTP_X_FORWARDED_FOR=forwarded_for)
    assert client_address(request) == expected


def test_client_authentication_behind_a_proxy_counts_the_sender(api, m2m, limits, settings):
    settings.FORWARDED_FOR_PROXIES = 1
    limits(client_auth_per_client_address=(3, 300), client_auth_per_address=(1000, 300))

    def wrong_secret_from(sender):
        return api.post(
            "/oauth/token",
            {"grant_type": "client_credentials"},
            HTTP_AUTHORIZATION=basic(wrong_secret(m2m)),
            REMOTE_ADDR=PROXY,
            HTTP_X_FORWARDED_FOR=sender,
        )

    for _ in range(3):
        assert wrong_secret_from(STRANGER).status_code == 401
    assert_too_many(wrong_secret_from(STRANGER))
    # The same proxy, another sender: its wrong secret is just a 401.
    assert wrong_secret_from(CLIENT_HOST).status_code == 401
