"""Client authentication at the token endpoint (RFC 6749 §2.3, §3.2.1, §5.2)."""

import base64
from datetime import timedelta

import pytest
from django.utils import timezone

from oauth_clients.models import AccessToken, AuthorizationCode, ClientSecret
from oauth_clients.services import delete_secret, generate_secret
from tenants.models import AuditEvent
from tests.factories import create_oauth_client
from tests.flows import assert_oauth_error, basic, get_code, token_request

pytestmark = pytest.mark.django_db


def assert_not_consumed(code: str) -> None:
    assert AuthorizationCode.objects.get(code=code).used_at is None
    assert not AccessToken.objects.exists()


# --- The two methods ----------------------------------------------------------------------


def test_client_secret_basic_works(alice_client, api, web):
    code, verifier = get_code(alice_client, web)
    response = token_request(api, code, verifier, authorization=basic(web))
    assert response.status_code == 200, response.content


def test_client_secret_post_works(alice_client, api, web):
    code, verifier = get_code(alice_client, web)
    response = token_request(api, code, verifier, client_id=web.client_id, client_secret=web.secret)
    assert response.status_code == 200, response.content


def test_basic_with_a_matching_client_id_in_the_body_works(alice_client, api, web):
    code, verifier = get_code(alice_client, web)
    response = token_request(api, code, verifier, client_id=web.client_id, authorization=basic(web))
    assert response.status_code == 200, response.content


def test_using_both_methods_at_once_is_an_invalid_request(alice_client, api, web):
    code, verifier = get_code(alice_client, web)
    response = token_request(
        api,
        code,
        verifier,
        client_id=web.client_id,
        client_secret=web.secret,
        authorization=basic(web),
    )
    assert_oauth_error(response, 400, "invalid_request")
    assert_not_consumed(code)


# --- Wrong credentials -------------------------------------------------------------------


def test_a_wrong_secret_over_basic_is_refused_with_a_basic_challenge(alice_client, api, web):
    code, verifier = get_code(alice_client, web)
    response = token_request(api, code, verifier, authorization=basic(web, secret="wrong"))
    assert_oauth_error(response, 401, "invalid_client")
    assert response["WWW-Authenticate"].startswith("Basic")
    assert_not_consumed(code)


def test_a_wrong_secret_in_the_body_is_refused(alice_client, api, web):
    code, verifier = get_code(alice_client, web)
    response = token_request(api, code, verifier, client_id=web.client_id, client_secret="wrong")
    assert_oauth_error(response, 401, "invalid_client")
    assert not response.get("WWW-Authenticate", "").startswith("Basic")
    assert_not_consumed(code)


def test_an_empty_secret_is_refused(alice_client, api, web):
    code, verifier = get_code(alice_client, web)
    response = token_request(api, code, verifier, client_id=web.client_id, client_secret="")
    assert_oauth_error(response, 401, "invalid_client")
    response = token_request(api, code, verifier, authorization=basic(web, secret=""))
    assert_oauth_error(response, 401, "invalid_client")
    assert_not_consumed(code)


@pytest.mark.parametrize(
    "authorization",
    [
        "Basic",
        "Basic ",
        "Basic !!!not-base64!!!",
        "Basic " + base64.b64encode(b"no-colon").decode(),
    ],
    ids=["no-credentials", "empty", "not-base64", "no-colon"],
)
def test_a_malformed_basic_header_is_refused(alice_client, api, web, authorization):
    code, verifier = get_code(alice_client, web)
    response = token_request(api, code, verifier, authorization=authorization)
    assert response.status_code in (400, 401), response.content
    assert response.json()["error"] in {"invalid_client", "invalid_request"}
    assert_not_consumed(code)


def test_an_unknown_client_is_refused(alice_client, api, web):
    code, verifier = get_code(alice_client, web)
    response = token_request(api, code, verifier, authorization=basic(web, client_id="0" * 32))
    assert_oauth_error(response, 401, "invalid_client")
    response = token_request(api, code, verifier, client_id="0" * 32, client_secret=web.secret)
    assert_oauth_error(response, 401, "invalid_client")
    response = token_request(api, code, verifier, client_id="0" * 32)
    assert_oauth_error(response, 401, "invalid_client")
    assert_not_consumed(code)


def test_another_clients_secret_is_refused(alice_client, api, web, other_web):
    code, verifier = get_code(alice_client, web)
    response = token_request(api, code, verifier, authorization=basic(web, secret=other_web.secret))
    assert_oauth_error(response, 401, "invalid_client")
    response = token_request(
        api, code, verifier, client_id=web.client_id, client_secret=other_web.secret
    )
    assert_oauth_error(response, 401, "invalid_client")
    assert_not_consumed(code)


def test_basic_credentials_of_another_client_than_the_body_names_are_refused(
    alice_client, api, web, other_web
):
    code, verifier = get_code(alice_client, web)
    response = token_request(
        api, code, verifier, client_id=web.client_id, authorization=basic(other_web)
    )
    assert_oauth_error(response, 401, "invalid_client")
    assert_not_consumed(code)


def test_a_confidential_client_sending_no_secret_is_refused(alice_client, api, web):
    code, verifier = get_code(alice_client, web)
    response = token_request(api, code, verifier, client_id=web.client_id)
    assert_oauth_error(response, 401, "invalid_client")
    response = token_request(api, code, verifier)
    assert_oauth_error(response, 401, "invalid_client")
    assert_not_consumed(code)


def test_a_public_client_sending_a_secret_is_refused(alice_client, api, spa):
    code, verifier = get_code(alice_client, spa)
    redirect_uri = spa.redirect_uri
    for kwargs in (
        {"client_id": spa.client_id, "client_secret": "anything"},
        {"authorization": basic(spa, secret="anything")},
        {"client_id": spa.client_id, "client_secret": ""},
    ):
        response = token_request(api, code, verifier, redirect_uri=redirect_uri, **kwargs)
        assert_oauth_error(response, 401, "invalid_client")
    assert_not_consumed(code)
    # With its client_id alone (and PKCE) it is fine.
    response = token_request(
        api, code, verifier, redirect_uri=redirect_uri, client_id=spa.client_id
    )
    assert response.status_code == 200, response.content


# --- Secrets' life cycle ----------------------------------------------------------------


def test_a_deleted_secret_stops_working_at_once(alice_client, api, web, alice):
    code, verifier = get_code(alice_client, web)
    assert token_request(api, code, verifier, authorization=basic(web)).status_code == 200

    delete_secret(ClientSecret.objects.get(client=web.client), actor=alice)

    code, verifier = get_code(alice_client, web)
    response = token_request(api, code, verifier, authorization=basic(web))
    assert_oauth_error(response, 401, "invalid_client")
    assert response["WWW-Authenticate"].startswith("Basic")
    assert AuthorizationCode.objects.get(code=code).used_at is None


def test_an_expired_secret_is_refused(alice_client, api, web):
    ClientSecret.objects.filter(client=web.client).update(
        expires_at=timezone.now() - timedelta(seconds=1)
    )
    code, verifier = get_code(alice_client, web)
    response = token_request(api, code, verifier, authorization=basic(web))
    assert_oauth_error(response, 401, "invalid_client")
    assert_not_consumed(code)


def test_a_secret_not_yet_expired_works(alice_client, api, web):
    ClientSecret.objects.filter(client=web.client).update(
        expires_at=timezone.now() + timedelta(minutes=5)
    )
    code, verifier = get_code(alice_client, web)
    assert token_request(api, code, verifier, authorization=basic(web)).status_code == 200


def test_any_current_secret_works_during_a_rotation(alice_client, api, web, alice):
    _secret, second = generate_secret(web.client, expires_in_days=30, actor=alice)
    _secret, third = generate_secret(web.client, actor=alice)
    for secret in (web.secret, second, third):
        code, verifier = get_code(alice_client, web)
        response = token_request(api, code, verifier, authorization=basic(web, secret=secret))
        assert response.status_code == 200, response.content
        code, verifier = get_code(alice_client, web)
        response = token_request(api, code, verifier, client_id=web.client_id, client_secret=secret)
        assert response.status_code == 200, response.content

    # Retiring the first secret leaves the others working.
    first = ClientSecret.objects.filter(client=web.client).order_by("created_at", "id").first()
    delete_secret(first, actor=alice)
    code, verifier = get_code(alice_client, web)
    assert_oauth_error(
        token_request(api, code, verifier, authorization=basic(web)), 401, "invalid_client"
    )
    response = token_request(api, code, verifier, authorization=basic(web, secret=second))
    assert response.status_code == 200, response.content


def test_a_successful_authentication_records_when_the_secret_was_last_used(
    alice_client, api, web, alice
):
    _secret, other = generate_secret(web.client, actor=alice)
    assert not ClientSecret.objects.filter(last_used_at__isnull=False).exists()
    before = timezone.now()
    code, verifier = get_code(alice_client, web)
    assert token_request(api, code, verifier, authorization=basic(web)).status_code == 200

    used = ClientSecret.objects.get(client=web.client, last_used_at__isnull=False)
    assert used.matches(web.secret)
    assert before <= used.last_used_at <= timezone.now()
    # The other secret was not used.
    assert ClientSecret.objects.filter(client=web.client, last_used_at__isnull=True).count() == 1


def test_a_failed_authentication_does_not_touch_last_used(alice_client, api, web):
    code, verifier = get_code(alice_client, web)
    token_request(api, code, verifier, authorization=basic(web, secret="wrong"))
    assert not ClientSecret.objects.filter(last_used_at__isnull=False).exists()


# --- Audit ---------------------------------------------------------------------------


def test_a_burst_of_failures_writes_one_audit_event(api, web, tenant_a):
    for _ in range(12):
        response = api.post(
            "/oauth/token",
            {"grant_type": "client_credentials"},
            HTTP_AUTHORIZATION=basic(web, secret="wrong"),
        )
        assert_oauth_error(response, 401, "invalid_client")

    [event] = AuditEvent.objects.filter(action="oauth_client.authentication_failures")
    assert event.tenant == tenant_a
    assert event.actor is None
    assert event.target_id == str(web.client.pk)
    assert event.data["failures"] == 10


def test_fewer_failures_than_a_burst_write_no_audit_event(api, web):
    for _ in range(9):
        api.post(
            "/oauth/token",
            {"grant_type": "client_credentials"},
            HTTP_AUTHORIZATION=basic(web, secret="wrong"),
        )
    assert not AuditEvent.objects.filter(action="oauth_client.authentication_failures").exists()


def test_failures_are_counted_per_client(api, web, other_web):
    for registered in (web, other_web) * 5:
        api.post(
            "/oauth/token",
            {"grant_type": "client_credentials"},
            HTTP_AUTHORIZATION=basic(registered, secret="wrong"),
        )
    assert not AuditEvent.objects.filter(action="oauth_client.authentication_failures").exists()


# --- The scheme name (RFC 9110 §11.1: case-insensitive) ------------------------------------


@pytest.mark.parametrize("scheme", ["Basic", "basic", "BASIC"])
@pytest.mark.parametrize("path", ["/oauth/token", "/oauth/revoke", "/oauth/introspect"])
def test_the_basic_scheme_name_is_case_insensitive(api, tenant_a, alice, path, scheme):
    client, secret = create_oauth_client(
        tenant_a, actor=alice, name="Service", machine_to_machine=True
    )
    raw = base64.b64encode(f"{client.client_id}:{secret}".encode()).decode()
    data = {"grant_type": "client_credentials"} if path == "/oauth/token" else {"token": "x"}
    response = api.post(path, data, HTTP_AUTHORIZATION=f"{scheme} {raw}")
    assert response.status_code == 200, response.content
    wrong = base64.b64encode(f"{client.client_id}:wrong".encode()).decode()
    response = api.post(path, data, HTTP_AUTHORIZATION=f"{scheme} {wrong}")
    assert_oauth_error(response, 401, "invalid_client")
    assert response["WWW-Authenticate"].startswith("Basic")
