"""Who may call the management API: bearer tokens with admin_classic of a tenant admin, now."""

import pytest

from oauth_clients.models import AuthorizationCode, OAuthClient
from tenants.models import AuditEvent, Membership
from tests.api.conftest import (
    BASE,
    BODIES,
    OPERATIONS,
    REDIRECT,
    Api,
    assert_errors,
    client_credentials_token,
    snapshot,
    token_for,
)
from tests.factories import create_oauth_client
from tests.flows import Registered, authorize, client_for, get_code, pkce_pair, query_of, redeem

pytestmark = pytest.mark.django_db


def all_operations(api: Api, client_id: str, hint: str):
    """Call every operation once; yields (method, path, response)."""
    for method, template in OPERATIONS:
        path = template.format(id=client_id, hint=hint)
        yield method, path, api.call(method, path, BODIES.get((method, template)))


@pytest.fixture
def target(tenant_a, alice):
    """A client of tenant A for the per-client operations."""
    client, secret = create_oauth_client(tenant_a, actor=alice, name="Target")
    return Registered(client, secret)


@pytest.fixture
def signin_client(tenant_a, alice):
    """A Web client that may ask for admin_classic, trusted (no consent page)."""
    client, secret = create_oauth_client(
        tenant_a,
        actor=alice,
        name="Admin tool",
        redirect_uris=[REDIRECT],
        allowed_scopes=["admin_classic", "user_default"],
        consent_method="trusted",
    )
    return Registered(client, secret)


@pytest.fixture
def robot(tenant_a, alice):
    """A machine-to-machine Web client allowed admin_classic: its service identity is an admin."""
    client, secret = create_oauth_client(
        tenant_a,
        actor=alice,
        name="Provisioning robot",
        machine_to_machine=True,
        allowed_scopes=["admin_classic", "user_default"],
    )
    return Registered(client, secret)


def robot_token(tenant, robot, scope="admin_classic") -> str:
    response = client_credentials_token(tenant, robot.client, robot.secret, scope=scope)
    assert response.status_code == 200, response.content
    return response.json()["access_token"]


# --- Without a usable token: 401 ----------------------------------------------------------------


class TestNoToken:
    def test_every_operation_needs_a_token(self, tenant_a, target, alice):
        before = snapshot(tenant_a)
        anonymous = Api(tenant_a, None)
        for method, path, response in all_operations(anonymous, target.client_id, "abcde"):
            errors = assert_errors(response, 401, code="invalid_token")
            assert response["WWW-Authenticate"].startswith("Bearer"), (method, path)
            assert errors[0]["detail"], (method, path)
        assert snapshot(tenant_a) == before

    @pytest.mark.parametrize(
        "header",
        [
            "Bearer",
            "Bearer ",
            "Bearer not-a-jwt",
            "Bearer a.b.c",
            "Basic YWxpY2U6cGFzc3dvcmQ=",
            "Token abc",
        ],
    )
    def test_a_malformed_or_foreign_scheme_token_is_401(self, tenant_a, header):
        response = client_for(tenant_a).get(BASE, HTTP_AUTHORIZATION=header)
        assert_errors(response, 401, code="invalid_token")
        assert response["WWW-Authenticate"].startswith('Bearer realm="api"')

    def test_a_tampered_token_is_401(self, tenant_a, alice, tool_client):
        token = token_for(tenant_a, alice, tool_client)
        header, payload, signature = token.split(".")
        tampered = f"{header}.{payload}.{signature[:-4]}AAAA"
        assert_errors(Api(tenant_a, tampered).get(BASE), 401, code="invalid_token")

    def test_the_console_session_does_not_authenticate(self, tenant_a, alice):
        response = client_for(tenant_a, alice).get(BASE)
        assert_errors(response, 401, code="invalid_token")

    def test_the_session_cookie_cannot_stand_in_for_a_token_on_writes(self, tenant_a, alice):
        http = client_for(tenant_a, alice, raise_request_exception=False)
        response = http.post(BASE, BODIES[("POST", BASE)], content_type="application/json")
        assert_errors(response, 401)
        assert not OAuthClient.objects.filter(name="New").exists()


class TestAnotherTenantsToken:
    def test_a_token_of_another_tenant_is_401_on_every_operation(self, tenant_a, tenant_b, carol):
        carols_tool, _ = create_oauth_client(
            tenant_b, actor=carol, allowed_scopes=["admin_classic"]
        )
        alices_client, _ = create_oauth_client(tenant_a, name="Acme app")
        before = snapshot(tenant_a, tenant_b)
        # Carol's token, valid at Globex, sent to Acme's host.
        intruder = Api(tenant_a, token_for(tenant_b, carol, carols_tool))
        for _method, _path, response in all_operations(intruder, alices_client.client_id, "x"):
            assert_errors(response, 401, code="invalid_token")
        assert snapshot(tenant_a, tenant_b) == before

    def test_an_admin_token_is_only_good_at_its_own_tenant(self, tenant_a, tenant_b, alice_api):
        assert alice_api.get(BASE).status_code == 200
        elsewhere = Api(tenant_b, alice_api.headers["HTTP_AUTHORIZATION"].split()[1])
        assert_errors(elsewhere.get(BASE), 401, code="invalid_token")


# --- With a token that may not manage clients: 403 ----------------------------------------------


class TestMember:
    def test_a_members_token_is_403_on_every_operation(self, tenant_a, bob_api, target):
        before = snapshot(tenant_a)
        hint = target.secret[-5:]
        for method, path, response in all_operations(bob_api, target.client_id, hint):
            errors = assert_errors(response, 403)
            assert "admin" in errors[0]["detail"].lower(), (method, path, errors)
        assert snapshot(tenant_a) == before

    def test_a_member_cannot_obtain_admin_classic_at_authorize(self, tenant_a, bob, signin_client):
        http = client_for(tenant_a, bob)
        _verifier, challenge = pkce_pair()
        response = authorize(http, signin_client, challenge, scope="admin_classic")
        assert response.status_code == 302, response.content
        params = query_of(response["Location"])
        assert response["Location"].startswith(REDIRECT)
        assert params["error"] == "invalid_scope"
        assert "code" not in params
        assert not AuthorizationCode.objects.exists()

    def test_a_member_cannot_obtain_admin_classic_among_other_scopes(
        self, tenant_a, bob, signin_client
    ):
        http = client_for(tenant_a, bob)
        _verifier, challenge = pkce_pair()
        response = authorize(http, signin_client, challenge, scope="user_default admin_classic")
        assert query_of(response["Location"])["error"] == "invalid_scope"
        assert not AuthorizationCode.objects.exists()

    def test_a_member_still_gets_other_scopes(self, tenant_a, bob, signin_client):
        http = client_for(tenant_a, bob)
        code, verifier = get_code(http, signin_client, scope="user_default")
        token = redeem(client_for(tenant_a), signin_client, code, verifier).json()
        assert token["scope"] == "user_default"
        response = Api(tenant_a, token["access_token"]).get(BASE)
        assert_errors(response, 403, code="insufficient_scope")


class TestScope:
    @pytest.mark.parametrize("scopes", [("user_default",), (), ("openid", "profile")])
    def test_a_token_without_admin_classic_is_403_insufficient_scope(
        self, tenant_a, alice, tool_client, target, scopes
    ):
        api = Api(tenant_a, token_for(tenant_a, alice, tool_client, scopes=scopes))
        before = snapshot(tenant_a)
        for _method, _path, response in all_operations(api, target.client_id, "abcde"):
            assert_errors(response, 403, code="insufficient_scope")
            challenge = response["WWW-Authenticate"]
            assert 'error="insufficient_scope"' in challenge
            assert 'scope="admin_classic"' in challenge
        assert snapshot(tenant_a) == before


# --- Real tokens from the token endpoint ----------------------------------------------------------


class TestRealTokens:
    def test_an_admins_authorization_code_token_works(self, tenant_a, alice, signin_client):
        code, verifier = get_code(client_for(tenant_a, alice), signin_client, scope="admin_classic")
        response = redeem(client_for(tenant_a), signin_client, code, verifier)
        assert response.status_code == 200, response.content
        token = response.json()["access_token"]
        listing = Api(tenant_a, token).get(BASE)
        assert listing.status_code == 200, listing.content
        assert signin_client.client_id in [c["clientId"] for c in listing.json()["data"]]

    def test_a_machine_to_machine_clients_own_token_works(self, tenant_a, robot):
        api = Api(tenant_a, robot_token(tenant_a, robot))
        listing = api.get(BASE)
        assert listing.status_code == 200, listing.content
        assert robot.client_id in [c["clientId"] for c in listing.json()["data"]]
        created = api.create(clientName="Made by the robot")
        assert api.client(created["clientId"])["clientName"] == "Made by the robot"

    def test_the_robot_is_recorded_as_the_actor(self, tenant_a, robot):
        api = Api(tenant_a, robot_token(tenant_a, robot))
        created = api.create(clientName="Made by the robot")
        event = AuditEvent.objects.get(
            action="oauth_client.created", target_label=created["clientName"]
        )
        robot.client.refresh_from_db()
        assert event.actor == robot.client.service_user

    def test_a_machine_to_machine_token_without_admin_classic_is_403(self, tenant_a, robot):
        api = Api(tenant_a, robot_token(tenant_a, robot, scope="user_default"))
        assert_errors(api.get(BASE), 403, code="insufficient_scope")

    def test_the_robots_token_ends_when_it_stops_being_machine_to_machine(
        self, tenant_a, robot, alice_api
    ):
        api = Api(tenant_a, robot_token(tenant_a, robot))
        assert api.get(BASE).status_code == 200
        response = alice_api.patch(
            f"{BASE}/{robot.client_id}",
            [{"op": "replace", "path": "/allowedGrantTypes", "value": ["authorization_code"]}],
        )
        assert response.status_code == 204, response.content
        assert_errors(api.get(BASE), 401)

    def test_the_robots_token_ends_when_it_is_deleted(self, tenant_a, robot, alice_api):
        api = Api(tenant_a, robot_token(tenant_a, robot))
        assert alice_api.delete(f"{BASE}/{robot.client_id}").status_code == 204
        assert_errors(api.get(BASE), 401)

    def test_a_token_ends_with_the_client_it_was_issued_through(
        self, tenant_a, alice, signin_client, alice_api
    ):
        code, verifier = get_code(client_for(tenant_a, alice), signin_client, scope="admin_classic")
        token = redeem(client_for(tenant_a), signin_client, code, verifier).json()["access_token"]
        api = Api(tenant_a, token)
        assert api.get(BASE).status_code == 200
        assert alice_api.delete(f"{BASE}/{signin_client.client_id}").status_code == 204
        assert_errors(api.get(BASE), 401)


# --- The subject's role is checked at the time of the call ------------------------------------


class TestRoleNow:
    def test_a_demoted_admins_token_is_403(self, tenant_a, alice, alice_api):
        assert alice_api.get(BASE).status_code == 200
        Membership.objects.filter(tenant=tenant_a, user=alice).update(role=Membership.Role.MEMBER)
        before = snapshot(tenant_a)
        assert_errors(alice_api.get(BASE), 403)
        assert_errors(alice_api.post(BASE, BODIES[("POST", BASE)]), 403)
        assert snapshot(tenant_a) == before

    def test_a_promoted_members_token_works(self, tenant_a, bob, bob_api):
        assert_errors(bob_api.get(BASE), 403)
        Membership.objects.filter(tenant=tenant_a, user=bob).update(role=Membership.Role.ADMIN)
        assert bob_api.get(BASE).status_code == 200

    def test_a_removed_admins_token_is_401(self, tenant_a, alice, alice_api):
        Membership.objects.filter(tenant=tenant_a, user=alice).delete()
        assert_errors(alice_api.get(BASE), 401, code="invalid_token")

    def test_a_deactivated_admins_token_is_401(self, alice, alice_api):
        alice.is_active = False
        alice.save()
        assert_errors(alice_api.get(BASE), 401, code="invalid_token")
