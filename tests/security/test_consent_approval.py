"""The consent page and the tenant-approval gate, attacked over HTTP.

The consent and approval answers are CSRF-protected POSTs of the signed-in
user: a forged one (no session, no or another session's CSRF token, a
cross-site Origin) gets a 403 or the sign-in page, never a code or a record.
A published client is blocked at another tenant until that tenant's admin
approves it, however trusted it is at its owner; a member cannot approve it.
"""

import pytest

from consent.models import ConsentGrant
from oauth_clients.models import AuthorizationCode, ConnectionConfig
from tenants.models import AuditEvent, Membership
from tests.factories import MembershipFactory
from tests.flows import (
    AUTHORIZE,
    CONSENT_HEADING,
    Browser,
    assert_error_page,
    authorize,
    authorize_params,
    client_redirect,
    error_redirect,
    hidden_fields,
    is_approval_page,
    login_redirect,
    pkce_pair,
    redeem,
    users_me,
)
from tests.security.conftest import assert_unchanged, db_state

pytestmark = pytest.mark.django_db(transaction=True)

ALLOW = {"allow": "Authorize"}


def consent_page(agent: Browser, registered, **extra) -> tuple[dict, str]:
    """Open the consent page: its hidden fields (CSRF token included) and the verifier."""
    verifier, challenge = pkce_pair()
    page = authorize(agent, registered, challenge, **extra)
    assert page.status_code == 200, (page.status_code, page.headers.get("Location"))
    assert CONSENT_HEADING in page.text
    fields = hidden_fields(page.text)
    assert fields.get("csrfmiddlewaretoken")
    return fields, verifier


def no_code_and_no_record() -> None:
    assert AuthorizationCode.objects.count() == 0
    assert ConsentGrant.objects.count() == 0


# --- Consent -------------------------------------------------------------------------------------


def test_the_real_consent_form_gives_a_code_and_records_the_grant(
    alice_browser, acme, reports, tenant_a, alice
):
    # The counterpart of the forgeries below.
    fields, verifier = consent_page(alice_browser, reports)
    params = client_redirect(alice_browser.post(AUTHORIZE, {**fields, **ALLOW}), tenant_a)
    assert params["state"] == "xyz"
    assert ConsentGrant.objects.get(user=alice, client=reports.client).scope_list == [
        "user_default"
    ]
    assert redeem(acme, reports, params["code"], verifier).status_code == 200


def test_a_forged_consent_post_without_a_session_gets_no_code(
    alice_browser, browser, reports, tenant_a
):
    fields, _verifier = consent_page(alice_browser, reports)
    before = db_state()
    # The attacker's own browser: no session and no CSRF cookie.
    stranger = browser(tenant_a)
    response = stranger.post(AUTHORIZE, {**fields, **ALLOW})
    assert response.status_code == 403, response.status_code
    assert "Location" not in response.headers
    # With a CSRF cookie and token of its own, but still no session: the sign-in page.
    stranger.get("/login/")
    token = stranger.csrf_cookie()
    response = stranger.post(AUTHORIZE, {**fields, "csrfmiddlewaretoken": token, **ALLOW})
    login_redirect(response)
    assert_unchanged(before)
    no_code_and_no_record()


def test_a_consent_post_without_the_sessions_csrf_token_is_refused(
    alice_browser, bob_browser, reports, tenant_a
):
    fields, _verifier = consent_page(alice_browser, reports)
    bobs_fields, _ = consent_page(bob_browser, reports)
    before = db_state()
    forged = [
        {k: v for k, v in fields.items() if k != "csrfmiddlewaretoken"},  # no token
        {**fields, "csrfmiddlewaretoken": "x" * 64},  # a made-up one
        {**fields, "csrfmiddlewaretoken": bobs_fields["csrfmiddlewaretoken"]},  # another session's
        {**fields, "csrfmiddlewaretoken": bob_browser.csrf_cookie()},
    ]
    for data in forged:
        response = alice_browser.post(AUTHORIZE, {**data, **ALLOW})
        assert response.status_code == 403, response.status_code
        assert "Location" not in response.headers
    # The token in a header instead, but another session's.
    response = alice_browser.post(
        AUTHORIZE,
        {**forged[0], **ALLOW},
        headers={"X-CSRFToken": bobs_fields["csrfmiddlewaretoken"]},
    )
    assert response.status_code == 403
    assert_unchanged(before)
    no_code_and_no_record()


def test_a_cross_site_consent_post_is_refused_even_with_the_right_token(
    alice_browser, reports, tenant_a
):
    # A browser adds Origin to a cross-site POST; Django checks it against the host.
    fields, _verifier = consent_page(alice_browser, reports)
    before = db_state()
    for origin in ["https://evil.test", "http://globex.eu.localhost", "null"]:
        response = alice_browser.post(AUTHORIZE, {**fields, **ALLOW}, headers={"Origin": origin})
        assert response.status_code == 403, (origin, response.status_code)
    assert_unchanged(before)
    no_code_and_no_record()


def test_the_posted_consent_form_cannot_widen_or_weaken_the_request(
    alice_browser, reports, tenant_a
):
    fields, _verifier = consent_page(alice_browser, reports)
    widened = alice_browser.post(
        AUTHORIZE, {**fields, "scope": "user_default admin_classic", **ALLOW}
    )
    error_redirect(widened, tenant_a, "invalid_scope")
    without_pkce = {k: v for k, v in fields.items() if k != "code_challenge"}
    error_redirect(
        alice_browser.post(AUTHORIZE, {**without_pkce, **ALLOW}), tenant_a, "invalid_request"
    )
    plain = alice_browser.post(AUTHORIZE, {**fields, "code_challenge_method": "plain", **ALLOW})
    error_redirect(plain, tenant_a, "invalid_request")
    assert_error_page(alice_browser.post(AUTHORIZE, {**fields, "client_id": "0" * 32, **ALLOW}))
    no_code_and_no_record()


def test_a_prompt_none_request_never_skips_consent(alice_browser, reports, tenant_a):
    _verifier, challenge = pkce_pair()
    response = authorize(alice_browser, reports, challenge, prompt="none")
    error_redirect(response, tenant_a, "consent_required")
    no_code_and_no_record()


# --- The tenant-approval gate --------------------------------------------------------------------


def test_a_trusted_published_client_is_still_blocked_by_the_approval_gate(
    alice_browser, carol_browser, dave_browser, published, tenant_a, tenant_b
):
    # At its owner it is trusted: a code, no page.
    _verifier, challenge = pkce_pair()
    assert "code" in client_redirect(authorize(alice_browser, published, challenge), tenant_a)
    AuthorizationCode.objects.all().delete()
    before = db_state()

    # At globex, the admin sees the approval page: no code, nothing recorded.
    page = authorize(carol_browser, published, challenge)
    assert is_approval_page(page), page.status_code
    assert "Location" not in page.headers
    # A member is sent back with access_denied.
    params = error_redirect(
        authorize(dave_browser, published, challenge), tenant_b, "access_denied"
    )
    assert params["state"] == "xyz"
    # prompt=none shows no page and gets no code either.
    error_redirect(
        authorize(carol_browser, published, challenge, prompt="none"),
        tenant_b,
        "interaction_required",
    )
    error_redirect(
        authorize(dave_browser, published, challenge, prompt="none"), tenant_b, "access_denied"
    )
    # prompt=consent or approval_prompt=auto do not open it either.
    for extra in ({"prompt": "consent"}, {"approval_prompt": "auto"}):
        error_redirect(
            authorize(dave_browser, published, challenge, **extra), tenant_b, "access_denied"
        )
    assert_unchanged(before)
    assert not ConnectionConfig.objects.filter(tenant=tenant_b).exists()


def test_a_member_cannot_approve_for_the_tenant(dave_browser, published, tenant_b):
    before = db_state()
    _verifier, challenge = pkce_pair()
    fields = authorize_params(published, challenge)
    token = dave_browser.csrf_cookie()
    attempts = [
        {**fields, "tenant_approval": "approve"},
        {**fields, "tenant_approval": "approve", **ALLOW},
        {**fields, **ALLOW},  # skipping the gate by posting a consent form
    ]
    for data in attempts:
        response = dave_browser.post(AUTHORIZE, {"csrfmiddlewaretoken": token, **data})
        params = error_redirect(response, tenant_b, "access_denied")
        assert params["state"] == "xyz"
    assert_unchanged(before)
    assert not ConnectionConfig.objects.filter(tenant=tenant_b).exists()
    assert not AuditEvent.objects.filter(action="oauth_client.approved").exists()
    no_code_and_no_record()


def test_the_owner_tenants_admin_is_only_a_member_at_another_tenant(
    browser, alice, published, tenant_b
):
    MembershipFactory(user=alice, tenant=tenant_b, role=Membership.Role.MEMBER)
    at_globex = browser(tenant_b, alice)
    before = db_state()
    _verifier, challenge = pkce_pair()
    error_redirect(authorize(at_globex, published, challenge), tenant_b, "access_denied")
    response = at_globex.post(
        AUTHORIZE,
        {
            "csrfmiddlewaretoken": at_globex.csrf_cookie(),
            **authorize_params(published, challenge),
            "tenant_approval": "approve",
        },
    )
    error_redirect(response, tenant_b, "access_denied")
    assert_unchanged(before)


def test_a_forged_approval_post_is_refused(carol_browser, browser, published, tenant_b):
    page = authorize(carol_browser, published, pkce_pair()[1])
    assert is_approval_page(page)
    fields = hidden_fields(page.text)
    before = db_state()
    # Without the CSRF token, or with a made-up one.
    for token in (None, "y" * 64):
        data = {**fields, "csrfmiddlewaretoken": token, "tenant_approval": "approve"}
        response = carol_browser.post(AUTHORIZE, {k: v for k, v in data.items() if v is not None})
        assert response.status_code == 403
    # Cross-site, with the right token.
    response = carol_browser.post(
        AUTHORIZE, {**fields, "tenant_approval": "approve"}, headers={"Origin": "https://evil.test"}
    )
    assert response.status_code == 403
    # Without a session (the attacker's browser, with a CSRF token of its own).
    stranger = browser(tenant_b)
    stranger.get("/login/")
    response = stranger.post(
        AUTHORIZE,
        {**fields, "csrfmiddlewaretoken": stranger.csrf_cookie(), "tenant_approval": "approve"},
    )
    login_redirect(response)
    # With a redirect URL of the attacker's: the error page.
    response = carol_browser.post(
        AUTHORIZE,
        {**fields, "redirect_uri": "https://evil.test/cb", "tenant_approval": "approve"},
    )
    assert_error_page(response)
    assert_unchanged(before)
    assert not ConnectionConfig.objects.filter(tenant=tenant_b).exists()


def test_after_the_admins_approval_members_still_consent_at_their_tenant(
    carol_browser, dave_browser, browser, published, tenant_b, dave
):
    # The counterpart: the gate opens only through the admin's own approval ...
    page = authorize(carol_browser, published, pkce_pair()[1])
    fields = hidden_fields(page.text)
    consent = carol_browser.post(AUTHORIZE, {**fields, "tenant_approval": "approve"})
    assert consent.status_code == 200 and CONSENT_HEADING in consent.text
    assert ConnectionConfig.objects.get(tenant=tenant_b, client=published.client).approved_at
    # ... and the client is not trusted at globex because it is trusted at acme.
    fields, verifier = consent_page(dave_browser, published)
    params = client_redirect(dave_browser.post(AUTHORIZE, {**fields, **ALLOW}), tenant_b)
    globex = browser(tenant_b)
    token = redeem(globex, published, params["code"], verifier)
    assert token.status_code == 200, token.text
    assert users_me(globex, token.json()["access_token"]).json()["email"] == dave.email
