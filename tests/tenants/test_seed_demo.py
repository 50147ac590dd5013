import pytest
from django.core.management import call_command

from tenants.models import Membership, Region, Tenant, User


def snapshot():
    return {
        "regions": sorted(Region.objects.values_list("code", "name")),
        "tenants": sorted(Tenant.objects.values_list("slug", "region__code", "name", "is_active")),
        "users": sorted(User.objects.values_list("email", "password", "name")),
        "memberships": sorted(
            Membership.objects.values_list("user__email", "tenant__slug", "role")
        ),
    }


@pytest.mark.django_db
def test_it_creates_the_documented_demo_data():
    call_command("seed_demo", stdout=None)
    data = snapshot()
    assert data["regions"] == [("eu", "Europe"), ("us", "United States")]
    assert [(t[0], t[1]) for t in data["tenants"]] == [
        ("acme", "eu"),
        ("globex", "eu"),
        ("initech", "us"),
    ]
    assert data["memberships"] == [
        ("admin@acme.test", "acme", "admin"),
        ("admin@globex.test", "globex", "admin"),
        ("admin@initech.test", "initech", "admin"),
        ("user@acme.test", "acme", "member"),
        ("user@globex.test", "globex", "member"),
    ]
    assert User.objects.get(email="admin@acme.test").check_password("demo-password")


@pytest.mark.django_db
def test_a_second_run_changes_nothing(capsys):
    call_command("seed_demo")
    before = snapshot()
    call_command("seed_demo")
    assert snapshot() == before
    assert "nothing changed" in capsys.readouterr().out
