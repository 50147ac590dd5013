"""Per-process caches invalidated through the database: the host → tenant cache.

A change counts at once in the process that made it, and within a second
(``GENERATION_CHECK_SECONDS``) in every other, whoever wrote it: the
database triggers bump the generation for a queryset update or raw SQL too.
"""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from tenants import generations
from tenants.middleware import host_cache
from tenants.models import Generation, Tenant
from tests.flows import client_for

pytestmark = pytest.mark.django_db


def generation(kind: str) -> int:
    return Generation.objects.get(name=kind).value


@pytest.fixture
def clock(monkeypatch, settings):
    """Another process's view: generations read at most once a second, on a clock we move."""
    settings.GENERATION_CHECK_SECONDS = 1.0
    now = [1000.0]
    monkeypatch.setattr(generations.time, "monotonic", lambda: now[0])
    generations.clear_all()
    return now


def test_a_change_by_any_writer_bumps_the_generation(tenant_a):
    before = generation("tenants")
    Tenant.objects.filter(pk=tenant_a.pk).update(name="Renamed")  # no signal
    with connection.cursor() as cursor:
        cursor.execute("UPDATE tenants_region SET name = 'Elsewhere'")
    assert generation("tenants") == before + 2


def test_a_cached_tenant_is_served_without_a_query(anon_client, tenant_a):
    assert anon_client.get("/login/").status_code == 200
    with CaptureQueriesContext(connection) as queries:
        assert anon_client.get("/login/").status_code == 200
    assert not [q for q in queries if "tenants_tenant" in q["sql"]]


def test_another_processes_deactivation_counts_within_a_second(tenant_a, clock):
    http = client_for(tenant_a)
    assert http.get("/login/").status_code == 200
    # Another process deactivates the tenant (no signal reaches this one).
    Tenant.objects.filter(pk=tenant_a.pk).update(is_active=False)
    clock[0] += 0.5
    assert http.get("/login/").status_code == 200  # still within the second
    clock[0] += 0.6
    assert http.get("/login/").status_code == 404


def test_this_processes_change_counts_at_once(tenant_a, clock):
    http = client_for(tenant_a)
    assert http.get("/login/").status_code == 200
    tenant_a.is_active = False
    tenant_a.save()
    assert http.get("/login/").status_code == 404


def test_a_renamed_tenant_never_answers_for_its_old_host(tenant_a, clock, region_eu):
    old = client_for(tenant_a)
    assert old.get("/login/").status_code == 200
    Tenant.objects.filter(pk=tenant_a.pk).update(slug="acme-new")
    clock[0] += 1.1
    assert old.get("/login/").status_code == 404
    renamed = Tenant.objects.get(pk=tenant_a.pk)
    assert client_for(renamed).get("/login/").status_code == 200


def test_unknown_hosts_are_cached_and_the_cache_is_bounded(db, settings, region_eu):
    settings.TENANT_CACHE_SIZE = 3
    for n in range(10):
        response = client_for(Tenant(slug=f"nobody{n}", region=region_eu)).get("/login/")
        assert response.status_code == 404
    assert len(host_cache) == 3
