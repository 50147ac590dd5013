"""The example client application (examples/webapp/app.py) in Chromium, end to end.

The app runs as a subprocess on a free port and talks to the live server over
HTTP; the browser signs in as the seeded admin, allows the app on the consent
page and lands back at the app, which shows GET /api/v1/users/me.
"""

import re
from urllib.parse import urlsplit

import pytest
from playwright.sync_api import expect

from tenants.models import User
from tests.factories import create_oauth_client
from tests.interop.example_app import free_port, running_example_app

pytestmark = [
    pytest.mark.browser,
    pytest.mark.required_in_ci,
    pytest.mark.django_db(transaction=True),
]


@pytest.fixture(autouse=True)
def issuer_at_the_live_server(live_server, settings):
    """The issuer carries the live server's port, as under `make run`."""
    settings.PLATFORM_PORT = urlsplit(live_server.url).port


def test_the_example_app_signs_in_with_consent(acme, new_page, tenant_url):
    port = free_port()
    redirect_uri = f"http://127.0.0.1:{port}/callback"
    client, secret = create_oauth_client(
        acme,
        actor=User.objects.get(email="admin@acme.test"),
        name="Example web app",
        redirect_uris=[redirect_uri],
        allowed_scopes=["user_default"],
        consent_method="required",
    )
    with running_example_app(
        issuer=acme.base_url, client_id=client.client_id, client_secret=secret, port=port
    ) as app:
        page = new_page()
        page.goto(f"{app}/")
        expect(page.get_by_text("Not signed in")).to_be_visible()
        page.get_by_role("link", name="Sign in").click()

        login = re.escape(tenant_url(acme, "/login/?next=/oauth/authorize"))
        expect(page).to_have_url(re.compile(f"^{login}"))
        page.get_by_label("Email").fill("admin@acme.test")
        page.get_by_label("Password").fill("demo-password")
        page.get_by_role("button", name="Sign in").click()

        expect(page.get_by_role("heading", level=1)).to_have_text(
            "Example web app wants to use your account"
        )
        expect(page.get_by_text("user_default")).to_be_visible()
        page.get_by_role("button", name="Allow").click()

        expect(page).to_have_url(f"{app}/")
        expect(page.get_by_role("heading", level=1)).to_have_text("Signed in")
        users_me = page.locator("#users-me")
        expect(users_me).to_contain_text('"email": "admin@acme.test"')
        expect(users_me).to_contain_text('"name": "Acme"')
