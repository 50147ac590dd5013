"""``POST /oauth/token`` with ``grant_type=client_credentials`` (RFC 6749 §4.4)."""

import pytest

from oauth_clients.models import AccessToken, RefreshToken
from oauth_clients.services import ClientData, delete_clients, update_client
from tenants.models import Membership
from tests.factories import create_oauth_client
from tests.flows import Registered, assert_oauth_error, client_credentials, client_for, users_me
from tests.jwts import payload_of

pytestmark = pytest.mark.django_db


def test_a_machine_to_machine_client_gets_a_token_for_its_service_identity(api, m2m, tenant_a):
    response = client_credentials(api, m2m)
    assert response.status_code == 200, response.content
    assert response["Cache-Control"] == "no-store"
    body = response.json()
    assert set(body) == {"access_token", "token_type", "expires_in", "scope"}
    assert body["token_type"] == "Bearer"
    assert body["scope"] == "user_default"

    me = users_me(api, body["access_token"])
    assert me.status_code == 200, me.content
    data = me.json()
    assert data["type"] == "service"
    assert data["clientId"] == m2m.client_id
    assert "email" not in data
    assert data["tenantId"] == str(tenant_a.pk)

    claims = payload_of(body["access_token"])
    service = Membership.objects.get(tenant=tenant_a, user=m2m.client.service_user)
    assert claims["sub"] == str(service.subject) == data["subject"]
    assert claims["client_id"] == m2m.client_id
    assert claims["aud"] == claims["iss"] == tenant_a.base_url


def test_client_credentials_work_with_client_secret_post(api, m2m):
    response = api.post(
        "/oauth/token",
        {
            "grant_type": "client_credentials",
            "client_id": m2m.client_id,
            "client_secret": m2m.secret,
        },
    )
    assert response.status_code == 200, response.content


def test_client_credentials_never_issue_a_refresh_token(api, m2m):
    response = client_credentials(api, m2m, scope="user_default offline_access")
    assert response.status_code == 200, response.content
    assert "refresh_token" not in response.json()
    assert not RefreshToken.objects.filter(application=m2m.client).exists()


def test_a_scope_the_client_is_not_allowed_is_refused(api, m2m):
    response = client_credentials(api, m2m, scope="user_default admin_classic")
    assert_oauth_error(response, 400, "invalid_scope")
    assert not AccessToken.objects.exists()


def test_a_web_client_without_machine_to_machine_is_an_unauthorized_client(api, web):
    response = client_credentials(api, web)
    assert_oauth_error(response, 400, "unauthorized_client")
    assert not AccessToken.objects.exists()


def test_a_machine_to_machine_client_must_authenticate(api, m2m):
    wrong = Registered(m2m.client, "wrong-secret")
    assert_oauth_error(client_credentials(api, wrong), 401, "invalid_client")
    response = api.post(
        "/oauth/token", {"grant_type": "client_credentials", "client_id": m2m.client_id}
    )
    assert_oauth_error(response, 401, "invalid_client")
    assert not AccessToken.objects.exists()


def test_a_single_page_app_cannot_use_client_credentials(api, spa):
    response = api.post(
        "/oauth/token", {"grant_type": "client_credentials", "client_id": spa.client_id}
    )
    assert_oauth_error(response, 401, "invalid_client")
    assert not AccessToken.objects.exists()


def test_a_single_page_app_cannot_be_made_machine_to_machine(tenant_a, alice, api):
    client, secret = create_oauth_client(
        tenant_a, actor=alice, app_type="spa", name="SPA", machine_to_machine=False
    )
    client.machine_to_machine = True
    client.save()
    client.refresh_from_db()
    assert client.machine_to_machine is False
    assert secret is None


def test_turning_machine_to_machine_off_ends_existing_tokens(api, m2m, alice):
    token = client_credentials(api, m2m).json()["access_token"]
    assert users_me(api, token).status_code == 200

    update_client(
        m2m.client,
        ClientData(
            name=m2m.client.name,
            redirect_uris=m2m.client.redirect_uri_list,
            allowed_scopes=m2m.client.allowed_scope_list,
            machine_to_machine=False,
        ),
        actor=alice,
    )

    me = users_me(api, token)
    assert me.status_code == 401, me.content
    assert me.json()["error"] == "invalid_token"
    assert_oauth_error(client_credentials(api, m2m), 400, "unauthorized_client")


def test_turning_machine_to_machine_back_on_does_not_revive_old_tokens_wrongly(api, m2m, alice):
    """The identity comes back with a new membership, so old tokens (old subject) stay dead."""
    old = client_credentials(api, m2m).json()["access_token"]
    data = {
        "name": m2m.client.name,
        "redirect_uris": m2m.client.redirect_uri_list,
        "allowed_scopes": m2m.client.allowed_scope_list,
    }
    update_client(m2m.client, ClientData(**data, machine_to_machine=False), actor=alice)
    update_client(m2m.client, ClientData(**data, machine_to_machine=True), actor=alice)

    assert users_me(api, old).status_code == 401
    new = client_credentials(api, m2m)
    assert new.status_code == 200, new.content
    assert users_me(api, new.json()["access_token"]).status_code == 200


def test_a_deleted_machine_to_machine_client_gets_no_token_and_its_tokens_end(
    api, m2m, tenant_a, alice
):
    token = client_credentials(api, m2m).json()["access_token"]
    delete_clients(tenant_a, [m2m.client.pk], actor=alice)
    assert users_me(api, token).status_code == 401
    assert_oauth_error(client_credentials(api, m2m), 401, "invalid_client")


def test_client_credentials_at_another_tenants_host_are_refused(m2m, tenant_b):
    response = client_credentials(client_for(tenant_b), m2m)
    assert_oauth_error(response, 401, "invalid_client")
    assert not AccessToken.objects.exists()
