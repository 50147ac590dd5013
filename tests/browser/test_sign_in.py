import pytest
from playwright.sync_api import expect

pytestmark = [
    pytest.mark.browser,
    pytest.mark.required_in_ci,
    pytest.mark.django_db(transaction=True),
]


def sign_in(page, email, password="demo-password", *, email_label, password_label, button):
    page.get_by_label(email_label).fill(email)
    page.get_by_label(password_label).fill(password)
    page.get_by_role("button", name=button).click()


def test_an_admin_signs_in_and_sees_the_console(acme, new_page, tenant_url):
    page = new_page()
    page.goto(tenant_url(acme, "/console/"))
    expect(page).to_have_url(tenant_url(acme, "/login/?next=/console/"))
    sign_in(
        page, "admin@acme.test", email_label="Email", password_label="Password", button="Sign in"
    )
    expect(page).to_have_url(tenant_url(acme, "/console/"))
    expect(page.get_by_role("heading", level=1)).to_have_text("Acme")
    expect(page.get_by_text("Signed in as Ada Admin")).to_be_visible()
    expect(page.get_by_role("navigation").get_by_role("link", name="OAuth")).to_be_visible()


def test_the_console_in_dutch(acme, new_page, tenant_url):
    page = new_page(locale="nl-NL")
    page.goto(tenant_url(acme, "/console/"))
    sign_in(
        page,
        "admin@acme.test",
        email_label="E-mail",
        password_label="Wachtwoord",
        button="Aanmelden",
    )
    expect(page.get_by_role("heading", level=1)).to_have_text("Acme")
    expect(page.get_by_text("Aangemeld als Ada Admin")).to_be_visible()
    expect(page.get_by_role("navigation")).to_contain_text("Integratie")
    expect(page.get_by_role("button", name="Afmelden")).to_be_visible()


def test_a_wrong_password_shows_the_generic_error(acme, new_page, tenant_url):
    page = new_page()
    page.goto(tenant_url(acme, "/login/"))
    sign_in(
        page,
        "admin@acme.test",
        "nope",
        email_label="Email",
        password_label="Password",
        button="Sign in",
    )
    expect(page.get_by_role("alert")).to_have_text("Invalid email or password.")
