"""Integration → OAuth in the browser: create, edit, rotate secrets, configure, delete.

Each test seeds the demo data and signs in as Acme's admin in a fresh browser
context. Clients a test needs beforehand come from the ``create_oauth_client``
helper (made as the console makes them); the create flow itself runs in the UI.
"""

import json
import re

import pytest
from playwright.sync_api import expect

from oauth_clients.models import ClientSecret, OAuthClient, secret_digest
from tenants.models import User
from tests.factories import create_oauth_client

pytestmark = [
    pytest.mark.browser,
    pytest.mark.required_in_ci,
    pytest.mark.django_db(transaction=True),
]

OAUTH_PATH = "/console/integration/oauth/"


@pytest.fixture
def make_client(acme):
    """``make_client(name)``: a Web client of Acme's, made as the console makes it."""

    def make(name: str) -> OAuthClient:
        admin = User.objects.get(email="admin@acme.test")
        client, _secret = create_oauth_client(acme, actor=admin, name=name)
        return client

    return make


def sign_in(page, *, email_label="Email", password_label="Password", button="Sign in"):
    page.get_by_label(email_label).fill("admin@acme.test")
    page.get_by_label(password_label).fill("demo-password")
    page.get_by_role("button", name=button).click()


@pytest.fixture
def open_console(acme, new_page, tenant_url):
    """``open_console(locale=...)``: a signed-in page on the OAuth client list."""

    def open_(locale: str = "en-US", **labels):
        page = new_page(locale=locale)
        page.goto(tenant_url(acme, OAUTH_PATH))
        sign_in(page, **labels)
        expect(page).to_have_url(tenant_url(acme, OAUTH_PATH))
        return page

    return open_


def client_row(page, name: str):
    return page.locator("#clients-table tbody tr", has_text=name)


def open_menu_item(page, client_name: str, item: str):
    page.get_by_label(f"Actions for {client_name}", exact=True).click()
    page.get_by_role("link", name=item, exact=True).click()
    dialog = page.locator("dialog")
    expect(dialog).to_be_visible()
    return dialog


def test_a_web_client_is_created_with_checked_redirect_urls_and_shown_its_credentials_once(
    open_console, acme
):
    page = open_console()
    page.context.grant_permissions(["clipboard-read", "clipboard-write"])
    page.locator(".page-header").get_by_role("link", name="Create new").click()
    dialog = page.locator("dialog")
    expect(dialog.get_by_role("heading", name="Create new")).to_be_visible()

    dialog.get_by_role("textbox", name="Name", exact=True).fill("Billing portal")
    expect(dialog.get_by_role("radio", name=re.compile(r"^Web"))).to_be_checked()
    redirect_urls = dialog.get_by_role("group", name="Redirect URLs")
    new_url = dialog.get_by_role("textbox", name="Redirect URL", exact=True)
    listed = dialog.get_by_role("list", name="Redirect URLs").locator(".mono")

    for url, expected in [
        ("https://app.example.com/cb", ["https://app.example.com/cb"]),
        ("http://localhost:8080/cb", ["https://app.example.com/cb", "http://localhost:8080/cb"]),
    ]:
        new_url.fill(url)
        redirect_urls.get_by_role("button", name="Add", exact=True).click()
        expect(listed).to_have_text(expected)
        expect(new_url).to_have_value("")

    new_url.fill("http://example.com/cb")
    redirect_urls.get_by_role("button", name="Add", exact=True).click()
    errors = dialog.locator("#id_new_redirect_uri-errors")
    expect(errors).to_contain_text("Use https://")
    expect(new_url).to_have_attribute("aria-invalid", "true")
    expect(new_url).to_have_value("http://example.com/cb")
    expect(listed).to_have_text(["https://app.example.com/cb", "http://localhost:8080/cb"])

    new_url.fill("")
    dialog.get_by_role("button", name="Create", exact=True).click()

    expect(dialog.get_by_role("heading", name="OAuth client created")).to_be_visible()
    client_id_box = dialog.get_by_role("textbox", name="Client ID")
    secret_box = dialog.get_by_role("textbox", name="Client secret")
    expect(client_id_box).to_have_value(re.compile(r"^[0-9a-f]{32}$"))
    expect(secret_box).to_have_value(re.compile(r"^[0-9a-f]{72}$"))
    client_id = client_id_box.input_value()
    plaintext = secret_box.input_value()
    for field in ("created-client-id", "created-client-secret"):
        expect(dialog.locator(f"[data-copy-target={field}]")).to_have_text("Copy to clipboard")

    dialog.locator("[data-copy-target=created-client-id]").click()
    expect(dialog.locator("[data-copy-target=created-client-id]")).to_have_text("Copied")
    assert page.evaluate("navigator.clipboard.readText()") == client_id

    dialog.get_by_role("link", name="Done").click()
    expect(page.locator("dialog")).to_have_count(0)
    expect(client_row(page, "Billing portal")).to_contain_text(client_id)

    client = OAuthClient.objects.get(tenant=acme, client_id=client_id)
    assert client.name == "Billing portal"
    assert client.app_type == OAuthClient.AppType.WEB
    assert client.redirect_uri_list == ["https://app.example.com/cb", "http://localhost:8080/cb"]
    stored = list(ClientSecret.objects.filter(client=client))
    assert len(stored) == 1
    assert stored[0].digest != plaintext
    assert stored[0].digest == secret_digest(plaintext)
    assert stored[0].hint == plaintext[-ClientSecret.HINT_LENGTH :]
    assert not ClientSecret.objects.filter(digest=plaintext).exists()


def test_editing_a_client_renames_it_in_the_table(open_console, make_client):
    client = make_client("Old name")
    page = open_console()

    dialog = open_menu_item(page, "Old name", "Edit")
    expect(dialog.get_by_role("heading", name="Edit: Old name")).to_be_visible()
    name = dialog.get_by_role("textbox", name="Name", exact=True)
    expect(name).to_have_value("Old name")
    name.fill("New name")
    dialog.get_by_role("button", name="Save", exact=True).click()

    expect(page.locator("dialog")).to_have_count(0)
    expect(client_row(page, "New name")).to_contain_text(client.client_id)
    expect(client_row(page, "Old name")).to_have_count(0)
    client.refresh_from_db()
    assert client.name == "New name"


def test_rotating_a_secret_shows_the_new_one_once_and_deleting_the_old_one_keeps_it(
    open_console, make_client
):
    client = make_client("Rotated")
    old_hint = client.secrets.get().hint
    page = open_console()

    dialog = open_menu_item(page, "Rotated", "Manage secrets")
    expect(dialog.get_by_role("heading", name="Manage secrets: Rotated")).to_be_visible()
    secret_rows = dialog.locator("tbody tr")
    expect(secret_rows).to_have_count(1)

    dialog.get_by_role("button", name="Generate a new client secret").click()
    new_secret = dialog.get_by_role("textbox", name="New client secret")
    expect(new_secret).to_have_value(re.compile(r"^[0-9a-f]{72}$"))
    new_hint = new_secret.input_value()[-ClientSecret.HINT_LENGTH :]
    assert new_hint != old_hint
    expect(secret_rows).to_have_count(2)
    expect(secret_rows.locator("code")).to_have_text([f"••••••{old_hint}", f"••••••{new_hint}"])

    secret_rows.first.get_by_role("link", name="Delete").click()
    expect(dialog.get_by_role("heading", name="Delete client secret")).to_be_visible()
    expect(dialog).to_contain_text(old_hint)
    dialog.get_by_role("button", name="Delete", exact=True).click()

    expect(dialog.get_by_role("status")).to_have_text(f"Deleted the secret ending in {old_hint}.")
    expect(dialog.get_by_role("textbox", name="New client secret")).to_have_count(0)
    expect(secret_rows).to_have_count(1)
    expect(secret_rows.locator("code")).to_have_text(f"••••••{new_hint}")
    assert list(client.secrets.values_list("hint", flat=True)) == [new_hint]


def test_the_oauth_configuration_names_the_client_the_token_endpoint_and_pkce(
    open_console, make_client
):
    client = make_client("Configured")
    page = open_console()

    dialog = open_menu_item(page, "Configured", "View OAuth configuration")
    expect(dialog.get_by_role("heading", name="OAuth configuration: Configured")).to_be_visible()
    config = json.loads(dialog.locator("#config-json").text_content())
    assert config["client_id"] == client.client_id
    assert config["issuer"].startswith("http://acme.eu.localhost")
    assert config["token_endpoint"] == config["issuer"] + "/oauth/token"
    assert config["redirect_uris"] == client.redirect_uri_list
    assert config["client_secret"] == "<YOUR_CLIENT_SECRET>"

    authorize_url = dialog.locator("#config-url")
    expect(authorize_url).to_contain_text("/oauth/authorize?")
    expect(authorize_url).to_contain_text(f"client_id={client.client_id}")
    expect(authorize_url).to_contain_text("code_challenge_method=S256")


def test_deleting_two_selected_clients_after_confirmation_removes_both(open_console, make_client):
    alpha, bravo, charlie = (make_client(name) for name in ("Alpha", "Bravo", "Charlie"))
    page = open_console()
    expect(page.locator("#clients-table tbody tr")).to_have_count(3)

    page.get_by_role("checkbox", name="Select Alpha").check()
    page.get_by_role("checkbox", name="Select Charlie").check()
    page.locator("#bulk-form .toolbar").get_by_role("button", name="Delete").click()

    dialog = page.locator("dialog")
    expect(dialog.get_by_role("heading", name="Delete 2 OAuth clients?")).to_be_visible()
    expect(dialog.get_by_role("listitem").locator("strong")).to_have_text(["Alpha", "Charlie"])
    dialog.get_by_role("button", name="Delete", exact=True).click()

    expect(page.locator("dialog")).to_have_count(0)
    expect(page.locator("#clients-table tbody tr .client-name")).to_have_text(["Bravo"])
    for client in (alpha, bravo, charlie):
        client.refresh_from_db()
    assert alpha.deleted_at is not None
    assert charlie.deleted_at is not None
    assert bravo.deleted_at is None


def test_creating_a_client_in_dutch(open_console, acme):
    page = open_console(
        "nl-NL", email_label="E-mail", password_label="Wachtwoord", button="Aanmelden"
    )
    expect(page.locator("html")).to_have_attribute("lang", "nl")
    page.locator(".page-header").get_by_role("link", name="Nieuwe maken").click()
    dialog = page.locator("dialog")
    expect(dialog.get_by_role("heading", name="Nieuwe maken")).to_be_visible()

    dialog.get_by_role("textbox", name="Naam", exact=True).fill("Klantportaal")
    dialog.get_by_role("textbox", name="Omleidings-URL", exact=True).fill("http://example.com/cb")
    dialog.get_by_role("button", name="Toevoegen", exact=True).click()
    expect(dialog.locator("#id_new_redirect_uri-errors")).to_contain_text("https://")
    dialog.get_by_role("textbox", name="Omleidings-URL", exact=True).fill(
        "https://app.example.com/cb"
    )
    dialog.get_by_role("button", name="Toevoegen", exact=True).click()
    expect(dialog.get_by_role("list", name="Omleidings-URL's")).to_contain_text(
        "https://app.example.com/cb"
    )
    dialog.get_by_role("button", name="Maken", exact=True).click()

    expect(dialog.get_by_role("heading", name="OAuth-client gemaakt")).to_be_visible()
    client_id_box = dialog.get_by_role("textbox", name="Client-ID")
    expect(client_id_box).to_have_value(re.compile(r"^[0-9a-f]{32}$"))
    client_id = client_id_box.input_value()
    expect(dialog.get_by_role("button", name="Kopiëren naar klembord")).to_have_count(2)
    dialog.get_by_role("link", name="Gereed").click()
    expect(page.locator("dialog")).to_have_count(0)
    expect(client_row(page, "Klantportaal")).to_contain_text(client_id)
    assert OAuthClient.objects.get(tenant=acme, name="Klantportaal").redirect_uri_list == [
        "https://app.example.com/cb"
    ]


def test_the_actions_menu_opens_with_enter_and_closes_with_escape(open_console, make_client):
    make_client("Keyboard")
    page = open_console()
    menu = page.locator("details.menu")
    summary = page.get_by_label("Actions for Keyboard", exact=True)
    edit = menu.get_by_role("link", name="Edit", exact=True)

    summary.focus()
    page.keyboard.press("Enter")
    expect(menu).to_have_attribute("open", "")
    expect(edit).to_be_visible()

    page.keyboard.press("Escape")
    expect(menu).not_to_have_attribute("open", re.compile(".*"))
    expect(edit).to_be_hidden()
    expect(summary).to_be_focused()

    # Escape from an item inside the open menu closes it too and returns to its button.
    page.keyboard.press("Enter")
    page.keyboard.press("Tab")
    expect(edit).to_be_focused()
    page.keyboard.press("Escape")
    expect(edit).to_be_hidden()
    expect(summary).to_be_focused()
