"""Hostile client data in Chromium: escaped everywhere, and the CSP never trips on our own assets.

A client whose name, description and redirect URLs carry script payloads is
shown on the list, in the htmx dialogs (edit, configuration, activity,
secrets), on their no-JavaScript pages and on the consent screen. Nothing
runs (``window.pwned`` stays undefined), nothing is injected into the DOM,
and the browser reports no Content-Security-Policy violation: our own
scripts, styles and htmx work under the policy.
"""

from urllib.parse import urlencode

import pytest
from django.urls import reverse
from playwright.sync_api import expect

from oauth_clients.models import OAuthClient
from tenants.models import User
from tests.factories import create_oauth_client

pytestmark = [
    pytest.mark.browser,
    pytest.mark.required_in_ci,
    pytest.mark.django_db(transaction=True),
]

OAUTH_PATH = "/console/integration/oauth/"
NAME = '<img src=x onerror="window.pwned=1">'
DESCRIPTION = '</textarea><script>window.pwned=1</script>"><svg/onload=window.pwned=1>'
# Valid redirect URLs (https, a host, no spaces, no fragment) that break out of quotes.
ENCODED_URL = "https://app.example.com/cb?x=%22%3E%3Cscript%3Ewindow.pwned=1%3C/script%3E"
RAW_URL = "https://app.example.com/cb?x=\"><svg/onload=window.pwned=1>&y='-(window.pwned=1)-'"
CHALLENGE = "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM"

# Collects every CSP violation the page reports (init scripts are not subject to the CSP).
WATCH_CSP = """
window.__csp = [];
document.addEventListener("securitypolicyviolation", (event) => {
  window.__csp.push(`${event.violatedDirective} ${event.blockedURI} ${event.sourceFile}`);
});
"""

INJECTED = """() => ({
  pwned: typeof window.pwned,
  handlers: document.querySelectorAll("[onerror], [onload], [onclick]").length,
  images: document.querySelectorAll('img[src="x"]').length,
  svgs: document.querySelectorAll("svg[onload]").length,
  inlineScripts: Array.from(document.scripts).filter((s) => !s.src).length,
  csp: window.__csp || [],
})"""


@pytest.fixture
def hostile(acme) -> OAuthClient:
    admin = User.objects.get(email="admin@acme.test")
    client, _secret = create_oauth_client(
        acme,
        actor=admin,
        name=NAME,
        description=DESCRIPTION,
        # The raw-quote URL cannot be registered (only URI characters are allowed);
        # it is still thrown at the authorization endpoint and the form below.
        redirect_uris=[ENCODED_URL],
        consent_method="required",
    )
    return client


class Watched:
    """A page whose console messages and errors are kept, checked after every step."""

    def __init__(self, page):
        self.page = page
        self.console: list[str] = []
        self.errors: list[str] = []
        self.dialogs: list[str] = []
        page.add_init_script(WATCH_CSP)
        page.on("console", lambda message: self.console.append(message.text))
        page.on("pageerror", lambda error: self.errors.append(str(error)))
        page.on("dialog", self._dialog)

    def _dialog(self, dialog):
        self.dialogs.append(dialog.message)
        dialog.dismiss()

    def assert_clean(self, where: str):
        state = self.page.evaluate(INJECTED)
        assert state["pwned"] == "undefined", where
        assert state["handlers"] == 0, where
        assert state["images"] == 0, where
        assert state["svgs"] == 0, where
        assert state["inlineScripts"] == 0, where
        assert state["csp"] == [], (where, state["csp"])
        csp_messages = [m for m in self.console if "Content Security Policy" in m]
        assert csp_messages == [], (where, csp_messages)
        assert self.errors == [], (where, self.errors)
        assert self.dialogs == [], (where, self.dialogs)


@pytest.fixture
def console(acme, hostile, new_page, tenant_url) -> Watched:
    """Acme's admin, signed in on the OAuth client list, the page watched from the start."""
    watched = Watched(new_page())
    page = watched.page
    page.goto(tenant_url(acme, OAUTH_PATH))
    watched.assert_clean("sign-in page")
    page.get_by_label("Email").fill("admin@acme.test")
    page.get_by_label("Password").fill("demo-password")
    page.get_by_role("button", name="Sign in").click()
    expect(page).to_have_url(tenant_url(acme, OAUTH_PATH))
    return watched


def open_menu_item(page, item: str):
    page.get_by_label(f"Actions for {NAME}", exact=True).click()
    page.get_by_role("link", name=item, exact=True).click()
    dialog = page.locator("dialog")
    expect(dialog).to_be_visible()
    return dialog


def close(page):
    page.keyboard.press("Escape")
    expect(page.locator("dialog")).to_have_count(0)


def test_the_list_shows_the_hostile_name_as_text(console):
    page = console.page
    row = page.locator("#clients-table tbody tr", has_text=NAME)
    expect(row).to_have_count(1)
    expect(row.locator(".client-name")).to_have_text(NAME)
    console.assert_clean("client list")


def test_the_htmx_dialogs_open_and_show_the_payloads_as_text(console, hostile):
    page = console.page

    dialog = open_menu_item(page, "Edit")
    expect(dialog.get_by_role("heading", name=f"Edit: {NAME}")).to_be_visible()
    expect(dialog.get_by_role("textbox", name="Name", exact=True)).to_have_value(NAME)
    expect(dialog.get_by_role("textbox", name="Description")).to_have_value(DESCRIPTION)
    listed = dialog.get_by_role("list", name="Redirect URLs").locator(".mono")
    expect(listed).to_have_text([ENCODED_URL])
    console.assert_clean("edit dialog")
    close(page)

    dialog = open_menu_item(page, "View OAuth configuration")
    expect(dialog.locator("#config-json")).to_contain_text(ENCODED_URL)
    expect(dialog.locator("#config-python")).to_contain_text(f'redirect_uri="{ENCODED_URL}"')
    console.assert_clean("configuration dialog")
    close(page)

    dialog = open_menu_item(page, "Activity")
    expect(dialog.get_by_role("heading", name=f"Activity: {NAME}")).to_be_visible()
    expect(dialog.locator("tbody tr")).not_to_have_count(0)
    console.assert_clean("activity dialog")
    close(page)

    dialog = open_menu_item(page, "Manage secrets")
    expect(dialog.get_by_role("heading", name=f"Manage secrets: {NAME}")).to_be_visible()
    console.assert_clean("secrets dialog")
    close(page)

    dialog = open_menu_item(page, "Delete")
    expect(dialog).to_contain_text(NAME)
    console.assert_clean("delete dialog")
    close(page)


def test_saving_the_hostile_client_shows_the_message_as_text(console, hostile):
    page = console.page
    dialog = open_menu_item(page, "Edit")
    dialog.get_by_role("button", name="Save", exact=True).click()
    expect(page.locator("dialog")).to_have_count(0)
    expect(page.locator("#messages")).to_contain_text(f"Saved {NAME}.")
    expect(page.locator("#clients-table tbody tr", has_text=NAME)).to_have_count(1)
    page.wait_for_load_state("networkidle")  # the list has reloaded itself (clients-changed)
    console.assert_clean("after saving")

    dialog = open_menu_item(page, "Activity")
    expect(dialog.locator("tbody tr")).to_have_count(3)  # created, secret generated, updated
    console.assert_clean("activity after saving")


@pytest.mark.parametrize("view", ["edit", "configuration", "activity", "secrets", "delete"])
def test_the_dialog_pages_without_htmx_are_clean(console, acme, hostile, tenant_url, view):
    page = console.page
    page.goto(tenant_url(acme, reverse(f"oauth_clients:{view}", args=[hostile.client_id])))
    expect(page.locator("dialog")).to_be_visible()
    expect(page.locator("dialog")).to_contain_text(NAME)
    console.assert_clean(f"{view} page")


def authorize_url(client: OAuthClient, redirect_uri: str) -> str:
    return "/oauth/authorize?" + urlencode(
        {
            "response_type": "code",
            "client_id": client.client_id,
            "redirect_uri": redirect_uri,
            "scope": "user_default",
            "state": '"><script>window.pwned=1</script>',
            "code_challenge": CHALLENGE,
            "code_challenge_method": "S256",
        }
    )


def test_the_consent_screen_shows_the_payloads_as_text(console, acme, hostile, tenant_url):
    page = console.page
    page.goto(tenant_url(acme, authorize_url(hostile, ENCODED_URL)))
    expect(page.get_by_role("heading", level=1)).to_have_text(f"{NAME} wants to use your account")
    expect(page.locator("main")).to_contain_text(DESCRIPTION)
    expect(page.locator("input[name=redirect_uri]")).to_have_value(ENCODED_URL)
    expect(page.locator("input[name=state]")).to_have_value('"><script>window.pwned=1</script>')
    console.assert_clean("consent screen")


def test_the_authorization_error_page_for_a_raw_payload_url_is_clean(
    console, acme, hostile, tenant_url
):
    """An unregistered raw-quote URL gets the error page, which must be as clean."""
    page = console.page
    page.goto(tenant_url(acme, authorize_url(hostile, RAW_URL)))
    expect(page.get_by_role("heading", level=1)).to_be_visible()
    console.assert_clean("authorization error page")


def test_creating_a_client_through_htmx_trips_no_csp(console):
    """htmx under the CSP: no injected indicator styles, no eval; the dialog flow works."""
    page = console.page
    page.locator(".page-header").get_by_role("link", name="Create new").click()
    dialog = page.locator("dialog")
    expect(dialog.get_by_role("heading", name="Create new")).to_be_visible()
    dialog.get_by_role("textbox", name="Name", exact=True).fill("<b>Bold</b> app")
    # The raw payload is refused with a field error, shown as text ...
    dialog.get_by_role("textbox", name="Redirect URL", exact=True).fill(RAW_URL)
    dialog.get_by_role("group", name="Redirect URLs").get_by_role(
        "button", name="Add", exact=True
    ).click()
    expect(dialog.locator("#id_new_redirect_uri-errors")).to_contain_text("characters of a URI")
    console.assert_clean("refused redirect URL")
    # ... and the encoded one is accepted.
    dialog.get_by_role("textbox", name="Redirect URL", exact=True).fill(ENCODED_URL)
    dialog.get_by_role("group", name="Redirect URLs").get_by_role(
        "button", name="Add", exact=True
    ).click()
    expect(dialog.get_by_role("list", name="Redirect URLs").locator(".mono")).to_have_text(
        [ENCODED_URL]
    )
    dialog.get_by_role("button", name="Create", exact=True).click()
    expect(dialog.get_by_role("heading", name="OAuth client created")).to_be_visible()
    expect(dialog.locator("strong", has_text="<b>Bold</b> app")).to_be_visible()
    console.assert_clean("created dialog")
    assert OAuthClient.objects.get(name="<b>Bold</b> app").redirect_uri_list == [ENCODED_URL]
