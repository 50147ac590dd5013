"""A published client in Chromium: one app, a tenant it learns from ``iss``.

Acme publishes a Web client; examples/webapp/app.py runs in multi-tenant mode
(REGION_AUTHORIZE_URL) as a subprocess. The browser starts at the app, which
sends it to the eu region host; the region host asks for the tenant, the
user answers "globex" and signs in there. Globex has not approved the client
yet: its admin approves it, then consents, and the app, having learnt the
tenant from ``iss``, shows GET /api/v1/users/me from Globex. A plain member
of Globex is turned away with access_denied instead.
"""

import re
from urllib.parse import urlsplit

import pytest
from django.core.management import call_command
from playwright.sync_api import expect

from oauth_clients.models import ConnectionConfig
from oauth_clients.services import publish_client
from tenants.models import Region, Tenant, User
from tests.factories import create_oauth_client
from tests.interop.example_app import free_port, running_example_app

pytestmark = [
    pytest.mark.browser,
    pytest.mark.required_in_ci,
    pytest.mark.django_db(transaction=True),
]

APP_NAME = "Example multi-tenant app"
OAUTH_PATH = "/console/integration/oauth/"


@pytest.fixture
def platform(live_server, settings):
    """The demo data, with absolute URLs (``iss`` included) at the live server's port."""
    call_command("seed_demo")
    settings.PLATFORM_PORT = urlsplit(live_server.url).port
    return {
        "acme": Tenant.objects.get(slug="acme"),
        "globex": Tenant.objects.get(slug="globex"),
        "region_authorize_url": (
            f"http://{Region.objects.get(code='eu').hostname}:{settings.PLATFORM_PORT}"
            "/oauth/authorize"
        ),
    }


@pytest.fixture
def app(platform):
    """The example app in multi-tenant mode, with Acme's published client; yields its origin."""
    port = free_port()
    acme_admin = User.objects.get(email="admin@acme.test")
    client, secret = create_oauth_client(
        platform["acme"],
        actor=acme_admin,
        name=APP_NAME,
        redirect_uris=[f"http://127.0.0.1:{port}/callback"],
        allowed_scopes=["user_default"],
        consent_method="required",
    )
    publish_client(client, actor=acme_admin)
    with running_example_app(
        region_authorize_url=platform["region_authorize_url"],
        client_id=client.client_id,
        client_secret=secret,
        port=port,
    ) as origin:
        yield origin


def sign_in_at_globex_through_the_region(page, app, platform, tenant_url, email):
    """From the app's home page to the signed-in user's next page at Globex."""
    page.goto(f"{app}/")
    expect(page.get_by_text("Not signed in")).to_be_visible()
    page.get_by_role("link", name="Sign in").click()

    region = re.escape(f"{platform['region_authorize_url']}?")
    expect(page).to_have_url(re.compile(f"^{region}"))
    expect(page.get_by_role("heading", level=1)).to_have_text(f"Sign in to {APP_NAME}")
    page.get_by_label("Tenant hostname").fill("globex")
    page.get_by_role("button", name="Continue").click()

    login = re.escape(tenant_url(platform["globex"], "/login/?next=/oauth/authorize"))
    expect(page).to_have_url(re.compile(f"^{login}"))
    page.get_by_label("Email").fill(email)
    page.get_by_label("Password").fill("demo-password")
    page.get_by_role("button", name="Sign in").click()


def test_a_globex_admin_approves_acmes_published_client_and_signs_in_through_it(
    app, platform, new_page, tenant_url
):
    globex = platform["globex"]
    page = new_page()
    sign_in_at_globex_through_the_region(page, app, platform, tenant_url, "admin@globex.test")

    expect(page.get_by_role("heading", level=1)).to_have_text(f"Approve {APP_NAME}?")
    expect(page.get_by_text("published by another tenant, Acme")).to_be_visible()
    page.get_by_role("button", name="Approve for Globex").click()

    expect(page.get_by_role("heading", level=1)).to_have_text(
        f"{APP_NAME} wants to use your account"
    )
    page.get_by_role("button", name="Allow").click()

    expect(page).to_have_url(f"{app}/")
    expect(page.get_by_role("heading", level=1)).to_have_text("Signed in")
    expect(page.locator("#issuer")).to_have_text(globex.base_url)
    users_me = page.locator("#users-me")
    expect(users_me).to_contain_text('"email": "admin@globex.test"')
    expect(users_me).to_contain_text('"name": "Globex"')

    # The same browser is still signed in at Globex: its console lists the client.
    page.goto(tenant_url(globex, OAUTH_PATH))
    externals = page.locator("#external-clients")
    expect(externals.get_by_role("heading", name="External clients")).to_be_visible()
    row = externals.locator("tbody tr", has_text=APP_NAME)
    expect(row).to_have_count(1)
    expect(row.locator(".badge", has_text="External")).to_be_visible()
    expect(row.locator("td").nth(2)).to_contain_text("Acme")
    expect(row.locator("td").nth(2)).to_contain_text(platform["acme"].hostname)
    expect(row).to_contain_text("Gus Admin")  # who approved it
    expect(page.get_by_label(f"Actions for {APP_NAME}", exact=True)).to_be_visible()


def test_a_globex_member_cannot_approve_and_the_app_shows_access_denied(
    app, platform, new_page, tenant_url
):
    page = new_page()
    sign_in_at_globex_through_the_region(page, app, platform, tenant_url, "user@globex.test")

    expect(page).to_have_url(re.compile(f"^{re.escape(app)}/callback\\?"))
    expect(page.get_by_role("heading", level=1)).to_have_text("Sign-in failed")
    expect(page.locator("#error")).to_have_text("access_denied")
    expect(page.locator("#error-description")).to_contain_text("A tenant admin must approve")
    assert not ConnectionConfig.objects.filter(tenant=platform["globex"]).exists()
