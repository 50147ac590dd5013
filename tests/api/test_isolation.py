"""Every call is scoped to the token's tenant: another tenant's client is a 404, left untouched."""

import pytest

from oauth_clients.services import approve_client_for_tenant, publish_client
from tests.api.conftest import BASE, BODIES, OPERATIONS, assert_errors, snapshot

pytestmark = pytest.mark.django_db

PER_CLIENT = [(method, template) for method, template in OPERATIONS if "{id}" in template]


@pytest.fixture
def carols(carols_client, tenant_b, carol):
    """Carol's Web client, with a second secret (so deleting one would not be its last)."""
    from oauth_clients.services import generate_secret

    generate_secret(carols_client.client, actor=carol)
    return carols_client


def call(api, method, template, client_id, hint):
    path = template.format(id=client_id, hint=hint)
    return api.call(method, path, BODIES.get((method, template)))


@pytest.mark.parametrize(
    ("method", "template"), PER_CLIENT, ids=[f"{m} {t}" for m, t in PER_CLIENT]
)
def test_another_tenants_client_is_404_and_untouched(
    alice_api, carols, tenant_a, tenant_b, method, template
):
    before = snapshot(tenant_a, tenant_b)
    response = call(alice_api, method, template, carols.client_id, carols.secret[-5:])
    assert_errors(response, 404, code="not_found")
    assert snapshot(tenant_a, tenant_b) == before


@pytest.mark.parametrize(
    ("method", "template"), PER_CLIENT, ids=[f"{m} {t}" for m, t in PER_CLIENT]
)
def test_a_published_client_of_another_tenant_is_404_too(
    alice_api, carols, carol, tenant_a, tenant_b, method, template
):
    publish_client(carols.client, actor=carol)
    before = snapshot(tenant_a, tenant_b)
    response = call(alice_api, method, template, carols.client_id, carols.secret[-5:])
    assert_errors(response, 404, code="not_found")
    assert snapshot(tenant_a, tenant_b) == before


OWNER_ONLY = [(m, t) for m, t in PER_CLIENT if "connection-configs" not in t]


@pytest.mark.parametrize(
    ("method", "template"), OWNER_ONLY, ids=[f"{m} {t}" for m, t in OWNER_ONLY]
)
def test_an_approved_external_client_is_still_only_its_owners_to_manage(
    alice_api, carols, carol, alice, tenant_a, tenant_b, method, template
):
    publish_client(carols.client, actor=carol)
    approve_client_for_tenant(tenant_a, carols.client, actor=alice)
    before = snapshot(tenant_a, tenant_b)
    response = call(alice_api, method, template, carols.client_id, carols.secret[-5:])
    assert_errors(response, 404, code="not_found")
    assert snapshot(tenant_a, tenant_b) == before


def test_the_hint_route_does_not_cross_clients_or_tenants(
    alice_api, web, carols, tenant_a, tenant_b
):
    before = snapshot(tenant_a, tenant_b)
    mine, theirs = web["clientSecretHint"], carols.secret[-5:]
    assert_errors(alice_api.delete(f"{BASE}/{web['clientId']}/client-secrets/{theirs}"), 404)
    assert_errors(alice_api.delete(f"{BASE}/{carols.client_id}/client-secrets/{mine}"), 404)
    assert snapshot(tenant_a, tenant_b) == before


def test_the_list_shows_only_this_tenants_clients(alice_api, carol_api, web, carols):
    mine = alice_api.get(BASE, totalResults="true").json()
    assert carols.client_id not in [c["clientId"] for c in mine["data"]]
    assert {c["tenantId"] for c in mine["data"]} == {web["tenantId"]}
    assert mine["totalResults"] == len(mine["data"]) == 2  # the tool client and "Web app"
    theirs = carol_api.get(BASE).json()
    assert web["clientId"] not in [c["clientId"] for c in theirs["data"]]
    assert carols.client_id in [c["clientId"] for c in theirs["data"]]


def test_filters_cannot_reach_another_tenant(alice_api, carols):
    for expression in (
        f'clientId eq "{carols.client_id}"',
        'clientName co "globex"',
        f'clientId sw "{carols.client_id[:8]}"',
    ):
        body = alice_api.get(BASE, filter=expression, totalResults="true").json()
        assert body["data"] == [] and body["totalResults"] == 0, expression


def test_created_clients_belong_to_the_tokens_tenant(alice_api, carol_api, tenant_a, tenant_b):
    assert alice_api.create(clientName="Acme made")["tenantId"] == str(tenant_a.pk)
    assert carol_api.create(clientName="Globex made")["tenantId"] == str(tenant_b.pk)
    assert [
        c["clientName"] for c in alice_api.get(BASE, filter='clientName co "made"').json()["data"]
    ] == ["Acme made"]


def test_the_same_request_from_the_owner_works(carol_api, carols):
    """The 404s above are about the tenant, not about the requests."""
    assert carol_api.get(f"{BASE}/{carols.client_id}").status_code == 200
    hint = carols.secret[-5:]
    assert carol_api.delete(f"{BASE}/{carols.client_id}/client-secrets/{hint}").status_code == 204
