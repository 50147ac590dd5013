"""A member who leaves the tenant, or a user who is deactivated, loses API access at once."""

import pytest

from oauth_clients import revocation
from oauth_clients.models import RevokedToken
from oauth_clients.services import ClientData, update_client
from tenants.models import Membership
from tests.factories import MembershipFactory, create_oauth_client
from tests.flows import ME, Registered, basic, bearer, client_for, issue
from tests.jwts import craft_token, payload_of

pytestmark = pytest.mark.django_db


@pytest.fixture
def issued(alice_client, api, web):
    return issue(alice_client, api, web, scope="openid user_default offline_access")


def assert_refused(response):
    assert response.status_code == 401, response.content
    assert response.json()["error"] == "invalid_token"


def test_the_token_works_before(api, issued):
    assert api.get(ME, headers=bearer(issued["access_token"])).status_code == 200


def test_removing_the_membership_ends_the_token_at_once(
    revocation_clock, api, issued, alice, tenant_a
):
    token = issued["access_token"]
    assert api.get(ME, headers=bearer(token)).status_code == 200

    Membership.objects.get(user=alice, tenant=tenant_a).delete()

    assert_refused(api.get(ME, headers=bearer(token)))


def test_deactivating_the_user_ends_the_token_at_once(revocation_clock, api, issued, alice):
    token = issued["access_token"]
    assert api.get(ME, headers=bearer(token)).status_code == 200

    alice.is_active = False
    alice.save()

    assert_refused(api.get(ME, headers=bearer(token)))


def test_a_deactivation_by_queryset_update_counts_too(revocation_clock, api, issued, alice):
    token = issued["access_token"]
    assert api.get(ME, headers=bearer(token)).status_code == 200

    type(alice).objects.filter(pk=alice.pk).update(is_active=False)

    assert_refused(api.get(ME, headers=bearer(token)))


def test_removing_the_membership_ends_userinfo_at_once(
    revocation_clock, api, issued, alice, tenant_a
):
    token = issued["access_token"]
    assert api.get("/oauth/userinfo", headers=bearer(token)).status_code == 200

    Membership.objects.get(user=alice, tenant=tenant_a).delete()

    assert api.get("/oauth/userinfo", headers=bearer(token)).status_code == 401


def test_a_new_membership_does_not_revive_the_old_token(
    revocation_clock, api, issued, alice, tenant_a
):
    token = issued["access_token"]
    Membership.objects.get(user=alice, tenant=tenant_a).delete()

    MembershipFactory(user=alice, tenant=tenant_a, role=Membership.Role.ADMIN)

    # The new membership has a new subject: the old token speaks for nobody.
    assert_refused(api.get(ME, headers=bearer(token)))


def test_reactivating_the_user_does_not_revive_the_token(
    django_capture_on_commit_callbacks, api, issued, alice, tenant_a
):
    token = issued["access_token"]

    with django_capture_on_commit_callbacks(execute=True):
        alice.is_active = False
        alice.save()
    alice.is_active = True
    alice.save()
    revocation.revocations.refresh()

    assert RevokedToken.objects.filter(jti=payload_of(token)["jti"]).exists()
    assert_refused(api.get(ME, headers=bearer(token)))


def test_removing_the_membership_revokes_the_refresh_token(
    django_capture_on_commit_callbacks, api, web, issued, alice, tenant_a
):
    with django_capture_on_commit_callbacks(execute=True):
        Membership.objects.get(user=alice, tenant=tenant_a).delete()

    response = api.post(
        "/oauth/token",
        {"grant_type": "refresh_token", "refresh_token": issued["refresh_token"]},
        HTTP_AUTHORIZATION=basic(web),
    )

    assert response.status_code == 400
    assert response.json()["error"] == "invalid_grant"


def test_a_removed_member_cannot_refresh_even_before_the_revocation(
    api, web, issued, alice, tenant_a
):
    # No on_commit here: the refresh grant checks the membership itself.
    Membership.objects.get(user=alice, tenant=tenant_a).delete()

    response = api.post(
        "/oauth/token",
        {"grant_type": "refresh_token", "refresh_token": issued["refresh_token"]},
        HTTP_AUTHORIZATION=basic(web),
    )

    assert response.status_code == 400
    assert response.json()["error"] == "invalid_grant"


def test_removal_shows_in_introspection_within_a_second(
    django_capture_on_commit_callbacks, api, web, issued, alice, tenant_a
):
    token = issued["access_token"]

    with django_capture_on_commit_callbacks(execute=True):
        Membership.objects.get(user=alice, tenant=tenant_a).delete()
    revocation.revocations.refresh()

    response = api.post("/oauth/introspect", {"token": token}, HTTP_AUTHORIZATION=basic(web))
    assert response.status_code == 200
    assert response.json() == {"active": False}


def test_introspection_agrees_with_the_api_at_once(
    revocation_clock, api, web, issued, alice, tenant_a
):
    # Before the on-commit revocation reaches the list, the API already refuses the
    # token (membership check); introspection must not call it active meanwhile.
    token = issued["access_token"]
    Membership.objects.get(user=alice, tenant=tenant_a).delete()
    assert_refused(api.get(ME, headers=bearer(token)))

    response = api.post("/oauth/introspect", {"token": token}, HTTP_AUTHORIZATION=basic(web))

    assert response.status_code == 200
    assert response.json() == {"active": False}


def test_another_members_removal_leaves_the_token_alone(
    revocation_clock, api, issued, bob, tenant_a
):
    Membership.objects.get(user=bob, tenant=tenant_a).delete()

    assert api.get(ME, headers=bearer(issued["access_token"])).status_code == 200


def test_leaving_another_tenant_leaves_the_token_alone(
    django_capture_on_commit_callbacks, api, issued, alice, tenant_b
):
    elsewhere = MembershipFactory(user=alice, tenant=tenant_b)

    with django_capture_on_commit_callbacks(execute=True):
        elsewhere.delete()
    revocation.revocations.refresh()

    assert api.get(ME, headers=bearer(issued["access_token"])).status_code == 200


def test_the_same_user_at_another_tenant_is_another_subject(alice, tenant_a, tenant_b):
    MembershipFactory(user=alice, tenant=tenant_b)
    token_b = craft_token(tenant_b, alice)

    me_b = client_for(tenant_b).get(ME, headers=bearer(token_b)).json()

    assert me_b["tenantId"] == str(tenant_b.pk)
    assert me_b["id"] != str(Membership.objects.get(user=alice, tenant=tenant_a).subject)


def test_demoting_an_admin_revokes_their_tokens(
    django_capture_on_commit_callbacks, api, issued, alice, tenant_a
):
    token = issued["access_token"]
    membership = Membership.objects.get(user=alice, tenant=tenant_a)

    with django_capture_on_commit_callbacks(execute=True):
        membership.role = Membership.Role.MEMBER
        membership.save()
    revocation.revocations.refresh()

    assert_refused(api.get(ME, headers=bearer(token)))


def test_a_service_clients_token_ends_when_machine_to_machine_is_turned_off(
    revocation_clock, api, tenant_a, alice
):
    client, secret = create_oauth_client(
        tenant_a,
        actor=alice,
        name="Robot",
        machine_to_machine=True,
        allowed_scopes=["user_default"],
    )
    robot = Registered(client, secret)
    response = api.post(
        "/oauth/token",
        {"grant_type": "client_credentials", "scope": "user_default"},
        HTTP_AUTHORIZATION=basic(robot),
    )
    assert response.status_code == 200, response.content
    token = response.json()["access_token"]
    me = api.get(ME, headers=bearer(token))
    assert me.status_code == 200
    assert me.json()["type"] == "service"

    update_client(
        client,
        ClientData(
            name=client.name,
            redirect_uris=client.redirect_uri_list,
            allowed_scopes=client.allowed_scope_list,
            machine_to_machine=False,
        ),
        actor=alice,
    )

    assert_refused(api.get(ME, headers=bearer(token)))
