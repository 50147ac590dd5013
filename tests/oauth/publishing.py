"""Steps of the authorization flow for a published client at another tenant.

Shared by the publishing tests: the approval page, the consent page and the
redirect back, asserted the way a client would read them.
"""

import base64
import json
import re
from urllib.parse import parse_qs, urlencode, urlsplit

from oauth_clients.models import ConnectionConfig
from tests.conftest import client_for
from tests.oauth.conftest import REDIRECT, Registered, basic, pkce_pair, redeem

AUTHORIZE = "/oauth/authorize"
ME = "/api/v1/users/me"
ERROR_PAGE_HEADING = "This sign-in link does not work"
CONSENT_HEADING = "wants to use your account"
OFFLINE = "user_default offline_access"


# --- Helpers -----------------------------------------------------------------------------


def authorize_url(registered: Registered, challenge: str, **extra) -> str:
    params = {
        "response_type": "code",
        "client_id": registered.client_id,
        "redirect_uri": registered.redirect_uri,
        "scope": "user_default",
        "state": "xyz",
        "code_challenge": challenge,
        "code_challenge_method": "S256",
        **extra,
    }
    return f"{AUTHORIZE}?{urlencode({k: v for k, v in params.items() if v is not None})}"


def hidden_fields(html: str) -> dict[str, str]:
    return dict(re.findall(r'<input type="hidden" name="([^"]+)" value="([^"]*)"', html))


def client_redirect(response, tenant, redirect_uri: str = REDIRECT) -> dict[str, str]:
    """Assert a redirect to ``redirect_uri`` carrying ``iss`` (the tenant); its query."""
    assert response.status_code == 302, response.content[:500]
    location = response["Location"]
    parts = urlsplit(location)
    assert f"{parts.scheme}://{parts.netloc}{parts.path}" == redirect_uri, location
    params = parse_qs(parts.query, keep_blank_values=True)
    assert all(len(values) == 1 for values in params.values()), location
    assert params.get("iss") == [tenant.base_url], location
    return {key: values[0] for key, values in params.items()}


def error_redirect(response, tenant, error: str, redirect_uri: str = REDIRECT) -> dict[str, str]:
    params = client_redirect(response, tenant, redirect_uri)
    assert "code" not in params, params
    assert params.get("error") == error, params
    return params


def assert_error_page(response) -> None:
    """Refused without a redirect: an error page, and the client gets nothing."""
    assert response.status_code == 400, (response.status_code, response.get("Location"))
    assert "Location" not in response
    assert ERROR_PAGE_HEADING in response.content.decode()


def error_text(response) -> str:
    """The error page's message, without the per-response CSRF token around it."""
    html = response.content.decode()
    return re.search(r'<p class="alert alert-error" role="alert">(.*?)</p>', html, re.S).group(1)


def is_approval_page(response) -> bool:
    return response.status_code == 200 and 'name="tenant_approval"' in response.content.decode()


def is_consent_page(response) -> bool:
    return response.status_code == 200 and CONSENT_HEADING in response.content.decode()


def answer_approval(http, page, answer: str = "approve"):
    fields = hidden_fields(page.content.decode())
    return http.post(AUTHORIZE, {**fields, "tenant_approval": answer})


def allow_consent(http, page):
    fields = hidden_fields(page.content.decode())
    return http.post(AUTHORIZE, {**fields, "allow": "Authorize"})


def sign_in_through(http, registered: Registered, tenant, **extra) -> tuple[str, str]:
    """The whole authorization step at ``tenant``: approve and consent if asked.

    Returns (code, verifier).
    """
    verifier, challenge = pkce_pair()
    response = http.get(authorize_url(registered, challenge, **extra))
    if is_approval_page(response):
        response = answer_approval(http, response)
    if is_consent_page(response):
        response = allow_consent(http, response)
    params = client_redirect(response, tenant, registered.redirect_uri)
    assert "code" in params, params
    return params["code"], verifier


def issue(http, registered: Registered, tenant, scope: str = OFFLINE) -> dict:
    code, verifier = sign_in_through(http, registered, tenant, scope=scope)
    response = redeem(client_for(tenant), registered, code, verifier)
    assert response.status_code == 200, response.content
    return response.json()


def refresh(http, registered: Registered, refresh_token: str, **extra):
    return http.post(
        "/oauth/token",
        {"grant_type": "refresh_token", "refresh_token": refresh_token, **extra},
        HTTP_AUTHORIZATION=basic(registered),
    )


def users_me(tenant, access_token: str):
    return client_for(tenant).get(ME, HTTP_AUTHORIZATION=f"Bearer {access_token}")


def payload_of(token: str) -> dict:
    payload = token.split(".")[1]
    return json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))


def oauth_error(response, status: int, error: str) -> dict:
    assert response.status_code == status, response.content
    body = response.json()
    assert body["error"] == error, body
    assert "access_token" not in body
    return body


def config_at(tenant, registered: Registered) -> ConnectionConfig | None:
    return ConnectionConfig.objects.filter(tenant=tenant, client=registered.client).first()
