"""The layering in templates, which import-linter cannot see.

``consent`` → ``oauth_clients`` → ``tenants``: a lower app's templates name
no URL of a higher app (the console home page gets OAuth content through
registered panels, ``tenants.console``).
"""

import re
from pathlib import Path

import pytest

TEMPLATES = Path(__file__).resolve().parent.parent / "templates"
URL_NAME = re.compile(r"""{%\s*url\s+['"]([\w-]+):""")
HIGHER = {
    "tenants": {"oauth_clients", "consent", "oauth2_provider"},
    # The authorization endpoint's names belong to consent, the token-side ones to
    # oauth_clients.oauth; the console links only to its own screens.
    "oauth_clients": {"consent"},
}


@pytest.mark.parametrize("app", sorted(HIGHER))
def test_a_lower_apps_templates_name_no_higher_apps_urls(app):
    offending = [
        f"{template.relative_to(TEMPLATES)}: {namespace}"
        for template in sorted((TEMPLATES / app).rglob("*.html"))
        for namespace in URL_NAME.findall(template.read_text())
        if namespace in HIGHER[app]
    ]
    assert offending == []
