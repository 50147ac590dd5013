"""Chromium through Playwright, against pytest-django's live server.

The browser is Debian's ``chromium`` (no browser downloads here). On a
developer machine without it the browser tests skip and say how to get it;
under CI (``CI=true``) that skip fails the run (they are ``required_in_ci``,
see tests/conftest.py).
"""

import os
import shutil
from urllib.parse import urlsplit

import pytest
from django.core.management import call_command

from tenants.models import Tenant

CHROMIUM_FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking"]

# Playwright's sync API keeps an event loop running in the test thread; the
# ORM calls our fixtures make there are still plain synchronous calls.
os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")


def chromium_path() -> str | None:
    configured = os.environ.get("CHROMIUM_PATH")
    if configured:
        return configured if os.path.exists(configured) else None
    return shutil.which("chromium") or shutil.which("chromium-browser")


@pytest.fixture(scope="session")
def browser():
    executable = chromium_path()
    if executable is None:
        message = (
            "Chromium not found: install Debian's `chromium` package "
            "(or run `.venv/bin/playwright install chromium` and set CHROMIUM_PATH)."
        )
        pytest.skip(message)
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=executable, args=CHROMIUM_FLAGS)
        yield browser
        browser.close()


@pytest.fixture
def tenant_url(live_server):
    """``tenant_url(tenant, path)``: an absolute URL on the tenant's host at the live server."""
    port = urlsplit(live_server.url).port

    def build(tenant, path: str = "/") -> str:
        return f"http://{tenant.hostname}:{port}{path}"

    return build


@pytest.fixture
def new_page(browser):
    """``new_page(locale="en-US")``: a page in a fresh browser context (own cookies)."""
    contexts = []

    def make(locale: str = "en-US"):
        context = browser.new_context(locale=locale)
        context.set_default_timeout(10_000)
        contexts.append(context)
        return context.new_page()

    yield make
    for context in contexts:
        context.close()


@pytest.fixture
def acme():
    """The demo data (``seed_demo``: admin@acme.test and the others); Acme."""
    call_command("seed_demo")
    return Tenant.objects.get(slug="acme")
