"""Who may reach each console URL: admins of the owner tenant only.

Every URL under Integration → OAuth, with every method it answers:
anonymous → sign-in, member → 403, another tenant's client → 404 (and
nothing changes), unsupported method → 405, and POST needs a CSRF token.
"""

import pytest
from django.urls import reverse

from oauth_clients.models import ClientSecret, OAuthClient
from tenants.models import AuditEvent
from tests.factories import create_oauth_client
from tests.flows import client_for

pytestmark = pytest.mark.django_db

# URL name, methods it accepts
PER_CLIENT = [
    ("oauth_clients:edit", {"GET", "POST"}),
    ("oauth_clients:secrets", {"GET"}),
    ("oauth_clients:secret_generate", {"POST"}),
    ("oauth_clients:secret_delete", {"GET", "POST"}),
    ("oauth_clients:configuration", {"GET"}),
    ("oauth_clients:publish", {"GET", "POST"}),
    ("oauth_clients:delete", {"GET"}),
    ("oauth_clients:activity", {"GET"}),
]
TENANT_WIDE = [
    ("oauth_clients:list", {"GET"}),
    ("oauth_clients:create", {"GET", "POST"}),
    ("oauth_clients:bulk_delete", {"POST"}),
]
ALL_METHODS = {"GET", "POST", "PUT", "DELETE", "PATCH"}


def url_for(name, client):
    kwargs = {}
    if name not in dict(TENANT_WIDE):
        kwargs["client_id"] = client.client_id
    if name == "oauth_clients:secret_delete":
        kwargs["hint"] = client.secrets.first().hint
    return reverse(name, kwargs=kwargs)


def call(http, method, url):
    return getattr(http, method.lower())(url)


@pytest.fixture
def acme_client(tenant_a, alice):
    return create_oauth_client(tenant_a, actor=alice)[0]


@pytest.fixture
def globex_client(tenant_b, carol):
    return create_oauth_client(tenant_b, actor=carol)[0]


def state():
    return (
        list(OAuthClient.objects.order_by("pk").values()),
        list(ClientSecret.objects.order_by("pk").values()),
        AuditEvent.objects.count(),
    )


@pytest.mark.parametrize("name,methods", PER_CLIENT + TENANT_WIDE)
def test_anonymous_is_sent_to_sign_in(anon_client, acme_client, name, methods):
    url = url_for(name, acme_client)
    for method in methods:
        response = call(anon_client, method, url)
        assert response.status_code == 302, method
        assert response["Location"].startswith("/login/?next=")


@pytest.mark.parametrize("name,methods", PER_CLIENT + TENANT_WIDE)
def test_a_member_who_is_not_admin_gets_403_and_changes_nothing(
    bob_client, acme_client, name, methods
):
    before = state()
    url = url_for(name, acme_client)
    for method in methods:
        assert call(bob_client, method, url).status_code == 403, method
    assert state() == before


@pytest.mark.parametrize("name,methods", PER_CLIENT)
def test_another_tenants_client_is_404_and_nothing_changes(
    alice_client, globex_client, name, methods
):
    before = state()
    url = url_for(name, globex_client)
    for method in methods:
        assert call(alice_client, method, url).status_code == 404, method
    assert state() == before


@pytest.mark.parametrize("name,methods", PER_CLIENT)
def test_a_deleted_client_is_404(alice_client, acme_client, alice, tenant_a, name, methods):
    url = url_for(name, acme_client)
    from oauth_clients.services import delete_clients

    delete_clients(tenant_a, [acme_client.pk], actor=alice)
    for method in methods:
        assert call(alice_client, method, url).status_code == 404, method


@pytest.mark.parametrize("name,methods", PER_CLIENT + TENANT_WIDE)
def test_other_methods_are_405(alice_client, acme_client, name, methods):
    url = url_for(name, acme_client)
    for method in sorted(ALL_METHODS - methods):
        assert call(alice_client, method, url).status_code == 405, method


@pytest.mark.parametrize(
    "name,methods", [(n, m) for n, m in PER_CLIENT + TENANT_WIDE if "POST" in m]
)
def test_post_without_csrf_token_is_refused(alice, tenant_a, acme_client, name, methods):
    http = client_for(tenant_a, alice, enforce_csrf_checks=True)
    before = state()
    assert http.post(url_for(name, acme_client), {"confirm": "yes"}).status_code == 403
    assert state() == before


def test_a_secret_of_another_client_is_404(alice_client, tenant_a, alice, acme_client):
    other, _ = create_oauth_client(tenant_a, actor=alice, name="Other")
    hint = other.secrets.first().hint
    url = reverse("oauth_clients:secret_delete", args=[acme_client.client_id, hint])
    if acme_client.secrets.filter(hint=hint).exists():
        pytest.skip("hint collision between two random secrets (1 in a million)")
    assert alice_client.post(url).status_code == 404
    assert other.secrets.filter(hint=hint).exists()
