"""The per-process caches keep every security property.

Clients (with their secrets and connections) and members are cached per
process (``oauth_clients.lookups``, ``tenants.members``). A change counts at
once in the process that made it — here the generations are read only once
an hour, so nothing but this process's own invalidation can make it count —
and within a second in every other process, whoever writes: a change made
without the app's signals (a set-based update, an operator's SQL) stands for
another process's, and counts once the clock has moved past the second.
"""

import base64

import pytest

from oauth_clients.models import ClientSecret, ConnectionConfig, OAuthClient
from oauth_clients.services import (
    ClientData,
    approve_client_for_tenant,
    delete_secret,
    generate_secret,
    publish_client,
    revoke_client_for_tenant,
    unpublish_client,
    update_client,
)
from tenants import generations
from tenants.models import Membership, User
from tests.factories import create_oauth_client
from tests.flows import client_for

pytestmark = pytest.mark.django_db

ME = "/api/v1/users/me"


@pytest.fixture
def clock(monkeypatch, settings):
    """Generations read at most once a second, on a clock the test moves."""
    settings.GENERATION_CHECK_SECONDS = 1.0
    now = [1000.0]
    monkeypatch.setattr(generations.time, "monotonic", lambda: now[0])
    generations.clear_all()
    return now


@pytest.fixture
def robot(tenant_a, alice):
    """A machine-to-machine client: its tokens come from client credentials."""
    client, secret = create_oauth_client(
        tenant_a,
        actor=alice,
        name="Robot",
        machine_to_machine=True,
        allowed_scopes=["user_default", "admin_classic"],
    )
    return client, secret


def token(tenant, client, secret, scope="user_default"):
    basic = base64.b64encode(f"{client.client_id}:{secret}".encode()).decode()
    return client_for(tenant).post(
        "/oauth/token",
        {"grant_type": "client_credentials", "scope": scope},
        HTTP_AUTHORIZATION=f"Basic {basic}",
    )


def me(tenant, access_token):
    return client_for(tenant).get(ME, HTTP_AUTHORIZATION=f"Bearer {access_token}")


def edit(client, alice, **changes):
    client.refresh_from_db()
    data = {
        "name": client.name,
        "redirect_uris": client.redirect_uri_list,
        "allowed_scopes": client.allowed_scope_list,
        "machine_to_machine": client.machine_to_machine,
        **changes,
    }
    update_client(client, ClientData(**data), actor=alice)


# --- Changes made in this process count at once -----------------------------------------------


@pytest.fixture
def this_process(settings):
    settings.GENERATION_CHECK_SECONDS = 3600
    generations.clear_all()


def test_a_deleted_secret_is_refused_at_once(this_process, robot, tenant_a, alice):
    client, secret = robot
    assert token(tenant_a, client, secret).status_code == 200
    delete_secret(ClientSecret.objects.get(client=client), actor=alice)
    assert token(tenant_a, client, secret).status_code == 401


def test_a_new_secret_works_at_once(this_process, robot, tenant_a, alice):
    client, secret = robot
    assert token(tenant_a, client, secret).status_code == 200
    _row, new = generate_secret(client, actor=alice)
    assert token(tenant_a, client, new).status_code == 200


def test_machine_to_machine_switched_off_counts_at_once(this_process, robot, tenant_a, alice):
    client, secret = robot
    issued = token(tenant_a, client, secret).json()["access_token"]
    assert me(tenant_a, issued).status_code == 200
    edit(client, alice, machine_to_machine=False)
    assert token(tenant_a, client, secret).json()["error"] == "unauthorized_client"
    assert me(tenant_a, issued).status_code == 401  # its service member is gone


def test_a_removed_scope_is_refused_at_once(this_process, robot, tenant_a, alice):
    client, secret = robot
    assert token(tenant_a, client, secret, "admin_classic").status_code == 200
    edit(client, alice, allowed_scopes=["user_default"])
    assert token(tenant_a, client, secret, "admin_classic").json()["error"] == "invalid_scope"


def test_a_removed_member_is_refused_at_once(this_process, robot, tenant_a, alice, bob):
    client, secret = robot
    issued = token(tenant_a, client, secret).json()["access_token"]
    assert me(tenant_a, issued).status_code == 200
    Membership.objects.get(user=client.service_user).delete()
    assert me(tenant_a, issued).status_code == 401


def test_a_deactivated_user_is_refused_at_once(this_process, robot, tenant_a):
    client, secret = robot
    issued = token(tenant_a, client, secret).json()["access_token"]
    assert me(tenant_a, issued).status_code == 200
    user = User.objects.get(pk=client.service_user_id)
    user.is_active = False
    user.save()
    assert me(tenant_a, issued).status_code == 401


@pytest.fixture
def shared(tenant_a, tenant_b, alice, carol):
    """Acme's Web client, published and approved at Globex."""
    client, secret = create_oauth_client(tenant_a, actor=alice, name="Shared")
    publish_client(client, actor=alice)
    approve_client_for_tenant(tenant_b, client, actor=carol)
    return client, secret


def introspect_at(tenant, client, secret):
    """Client authentication at ``tenant`` (introspection of nothing): 200 or 401."""
    basic = base64.b64encode(f"{client.client_id}:{secret}".encode()).decode()
    return client_for(tenant).post(
        "/oauth/introspect", {"token": "x"}, HTTP_AUTHORIZATION=f"Basic {basic}"
    )


def test_an_unpublished_client_is_unknown_elsewhere_at_once(this_process, shared, tenant_b, alice):
    client, secret = shared
    assert introspect_at(tenant_b, client, secret).status_code == 200
    unpublish_client(client, actor=alice)
    assert introspect_at(tenant_b, client, secret).status_code == 401


def test_a_withdrawn_approval_counts_at_once(this_process, shared, tenant_b, carol):
    client, secret = shared
    config = ConnectionConfig.objects.get(client=client, tenant=tenant_b)
    from oauth_clients import lookups

    assert lookups.connection(client, tenant_b) is not None  # cached
    revoke_client_for_tenant(config, actor=carol)
    assert lookups.connection(client, tenant_b) is None


# --- Changes made elsewhere count within a second ----------------------------------------------


def test_a_secret_deleted_elsewhere_is_refused_within_a_second(clock, robot, tenant_a):
    client, secret = robot
    assert token(tenant_a, client, secret).status_code == 200
    ClientSecret.objects.filter(client=client)._raw_delete("default")  # no signal
    clock[0] += 0.5
    assert token(tenant_a, client, secret).status_code == 200  # this process has not looked yet
    clock[0] += 0.6
    assert token(tenant_a, client, secret).status_code == 401


def test_machine_to_machine_switched_off_elsewhere_counts_within_a_second(clock, robot, tenant_a):
    client, secret = robot
    assert token(tenant_a, client, secret).status_code == 200
    OAuthClient.objects.filter(pk=client.pk).update(machine_to_machine=False)
    clock[0] += 1.1
    assert token(tenant_a, client, secret).json()["error"] == "unauthorized_client"


def test_a_member_removed_elsewhere_is_refused_within_a_second(clock, robot, tenant_a):
    client, secret = robot
    issued = token(tenant_a, client, secret).json()["access_token"]
    assert me(tenant_a, issued).status_code == 200
    Membership.objects.filter(user=client.service_user)._raw_delete("default")
    clock[0] += 1.1
    assert me(tenant_a, issued).status_code == 401


def test_a_user_deactivated_elsewhere_is_refused_within_a_second(clock, robot, tenant_a):
    client, secret = robot
    issued = token(tenant_a, client, secret).json()["access_token"]
    assert me(tenant_a, issued).status_code == 200
    User.objects.filter(pk=client.service_user_id).update(is_active=False)
    clock[0] += 1.1
    assert me(tenant_a, issued).status_code == 401


def test_a_sign_in_does_not_empty_the_members_cache(clock, robot, tenant_a, alice):
    from tenants import members

    client, secret = robot
    me(tenant_a, token(tenant_a, client, secret).json()["access_token"])
    cached = len(members.cache)
    assert cached
    client_for(tenant_a).post("/login/", {"username": alice.email, "password": "password"})
    clock[0] += 1.1
    members.subject_of(tenant_a, alice.pk)
    assert len(members.cache) >= cached
