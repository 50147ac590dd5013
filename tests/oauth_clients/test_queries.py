"""The list page and bulk delete cost the same number of SQL queries for 10 or 150 clients."""

from datetime import timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from oauth_clients.models import AccessToken, OAuthClient, RefreshToken
from tests.factories import create_oauth_client

pytestmark = pytest.mark.django_db


def make_clients(tenant, user, count):
    clients = []
    for i in range(count):
        client, _ = create_oauth_client(tenant, actor=user, name=f"Client {i:03}")
        access = AccessToken.objects.create(
            tenant=tenant,
            application=client,
            user=user,
            token=f"at-{client.pk}",
            expires=timezone.now() + timedelta(hours=1),
        )
        RefreshToken.objects.create(
            tenant=tenant,
            application=client,
            user=user,
            token=f"rt-{client.pk}",
            access_token=access,
        )
        clients.append(client)
    return clients


def count_queries(func) -> int:
    with CaptureQueriesContext(connection) as queries:
        func()
    return len(queries)


@pytest.mark.parametrize("htmx", [False, True])
def test_the_list_page_costs_the_same_for_10_and_150_clients(
    alice, alice_client, tenant_a, htmx, settings
):
    settings.OAUTH_CLIENT_LIMITS = {**settings.OAUTH_CLIENT_LIMITS, "clients": 1000}
    headers = {"HTTP_HX_REQUEST": "true", "HTTP_HX_TARGET": "clients-table"} if htmx else {}

    def load():
        response = alice_client.get("/console/integration/oauth/?sort=-created", **headers)
        assert response.status_code == 200

    make_clients(tenant_a, alice, 10)
    load()  # the first request of a process loads the tenant into its cache
    small = count_queries(load)
    make_clients(tenant_a, alice, 140)
    large = count_queries(load)
    assert small == large
    assert large <= 8


def test_bulk_delete_costs_the_same_for_10_and_150_clients(alice, alice_client, tenant_a, settings):
    settings.OAUTH_CLIENT_LIMITS = {**settings.OAUTH_CLIENT_LIMITS, "clients": 1000}

    def delete(clients):
        response = alice_client.post(
            "/console/integration/oauth/delete/",
            {"ids": [c.pk for c in clients], "confirm": "yes"},
        )
        assert response.status_code == 302

    few = make_clients(tenant_a, alice, 10)
    alice_client.get("/console/")  # the first request of a process loads the tenant
    small = count_queries(lambda: delete(few))
    many = make_clients(tenant_a, alice, 150)
    large = count_queries(lambda: delete(many))
    assert small == large
    assert not OAuthClient.objects.for_tenant(tenant_a).exists()
    assert not AccessToken.objects.filter(tenant=tenant_a).exists()
    assert not RefreshToken.objects.filter(tenant=tenant_a).exists()
