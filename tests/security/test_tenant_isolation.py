"""Tenant isolation, attacked over HTTP.

An admin of acme reaches no object of globex through any console or account
URL: another tenant's client id, secret hint or grant id is a 404 for every
method, and the database does not change. A bulk delete deletes only the
tenant's own clients. A code or refresh token works only at the tenant that
issued it. The Host header alone picks the tenant: an unknown host is a 404
(400 outside ALLOWED_HOSTS), X-Forwarded-Host is ignored, and case or port
variants of a tenant's host name give the same canonical issuer.
"""

import base64
import json

import pytest

from consent.models import ConsentGrant
from consent.services import record_consent
from oauth_clients.models import AccessToken, AuthorizationCode, ClientSecret, OAuthClient
from oauth_clients.services import approve_client_for_tenant, publish_client
from tenants.models import Membership
from tests.factories import MembershipFactory, TenantFactory, UserFactory
from tests.flows import (
    ME,
    OFFLINE,
    assert_invalid_token,
    assert_oauth_error,
    authorize_url,
    get_code,
    introspect,
    issue,
    login_redirect,
    pkce_pair,
    query_of,
    redeem,
    refresh,
    users_me,
)
from tests.security.conftest import assert_unchanged, db_state

pytestmark = pytest.mark.django_db(transaction=True)

CONSOLE = "/console/integration/oauth"
DISCOVERY = "/.well-known/openid-configuration"

# Every per-client console URL (oauth_clients/urls.py) with the methods it answers.
PER_CLIENT = {
    "edit": ("{id}/edit/", ("GET", "POST")),
    "secrets": ("{id}/secrets/", ("GET",)),
    "secret_generate": ("{id}/secrets/new/", ("POST",)),
    "secret_delete": ("{id}/secrets/{hint}/delete/", ("GET", "POST")),
    "configuration": ("{id}/configuration/", ("GET",)),
    "publish": ("{id}/publish/", ("GET", "POST")),
    "unpublish": ("{id}/unpublish/", ("GET", "POST")),
    "delete": ("{id}/delete/", ("GET",)),
    "activity": ("{id}/activity/", ("GET",)),
    "external_configuration": ("external/{id}/configuration/", ("GET",)),
    "external_consent_method": ("external/{id}/consent-method/", ("GET", "POST")),
    "external_revoke": ("external/{id}/revoke/", ("GET", "POST")),
}
# What a POST carries: a plausible form, so only the object lookup can refuse it.
POST_DATA = {
    "edit": {
        "name": "Hijacked",
        "redirect_uris": "https://evil.test/cb",
        "allowed_scopes": "user_default",
        "consent_method": "trusted",
        "intent": "save",
    },
    "secret_generate": {"expires_in_days": ""},
    "external_consent_method": {"consent_method": "trusted"},
}


def console_url(name: str, client_id: str, hint: str = "xxxxx") -> str:
    pattern, _methods = PER_CLIENT[name]
    return f"{CONSOLE}/{pattern.format(id=client_id, hint=hint)}"


def call(agent, method: str, url: str, name: str):
    if method == "GET":
        return agent.get(url)
    return agent.post_form(url, POST_DATA.get(name, {}))


@pytest.fixture
def world(tenant_a, tenant_b, alice, bob, carol, web, globex_web):
    """Acme's ``web`` published and approved at globex; globex's own ``globex_web``
    published too; a consent grant of each tenant's users."""
    publish_client(web.client, actor=alice)
    publish_client(globex_web.client, actor=carol)
    approve_client_for_tenant(tenant_b, web.client, actor=carol)
    carol_grant = record_consent(tenant_b, carol, web.client, ["user_default"])
    bob_grant = record_consent(tenant_a, bob, web.client, ["user_default"])
    return {"carol_grant": carol_grant, "bob_grant": bob_grant}


# --- The console ---------------------------------------------------------------------------------


def test_the_console_urls_work_for_the_tenants_own_objects(
    alice_browser, carol_browser, web, world
):
    # The counterpart: the URLs below are right, only the object is foreign there.
    for name in ("edit", "secrets", "configuration", "publish", "unpublish", "delete", "activity"):
        assert alice_browser.get(console_url(name, web.client_id)).status_code == 200, name
    hint = web.secret[-5:]
    assert alice_browser.get(console_url("secret_delete", web.client_id, hint)).status_code == 200
    for name in ("external_configuration", "external_consent_method", "external_revoke"):
        assert carol_browser.get(console_url(name, web.client_id)).status_code == 200, name


def test_another_tenants_client_is_404_at_every_console_url_and_nothing_changes(
    alice_browser, globex_web, web, world
):
    foreign_hint = globex_web.secret[-5:]
    before = db_state()
    problems = {}
    for name, (_pattern, methods) in PER_CLIENT.items():
        url = console_url(name, globex_web.client_id, foreign_hint)
        for method in methods:
            status = call(alice_browser, method, url, name).status_code
            if status != 404:
                problems[f"{method} {name}"] = status
    # Acme's own client with globex's secret hint.
    for method in ("GET", "POST"):
        url = console_url("secret_delete", web.client_id, foreign_hint)
        status = call(alice_browser, method, url, "secret_delete").status_code
        if status != 404:
            problems[f"{method} secret_delete (own client, foreign hint)"] = status
    # External URLs for acme's own client (it is not external at acme).
    for name in ("external_configuration", "external_consent_method", "external_revoke"):
        for method in PER_CLIENT[name][1]:
            status = call(alice_browser, method, console_url(name, web.client_id), name).status_code
            if status != 404:
                problems[f"{method} {name} (own client)"] = status
    assert problems == {}, problems
    assert_unchanged(before)


def test_a_client_approved_elsewhere_is_404_at_the_external_urls(
    browser, tenant_a, tenant_b, alice, carol, web, world
):
    # Globex approved acme's client; a third tenant of the region did not.
    hooli = TenantFactory(slug="hooli", name="Hooli", region=tenant_a.region)
    gavin = UserFactory(email="gavin@hooli.test")
    MembershipFactory(user=gavin, tenant=hooli, role=Membership.Role.ADMIN)
    at_hooli = browser(hooli, gavin)
    before = db_state()
    for name in ("external_configuration", "external_consent_method", "external_revoke"):
        for method in PER_CLIENT[name][1]:
            response = call(at_hooli, method, console_url(name, web.client_id), name)
            assert response.status_code == 404, (method, name, response.status_code)
    assert_unchanged(before)


def test_a_bulk_delete_mixing_own_and_foreign_ids_deletes_only_the_own(
    alice_browser, globex, web, other_web, globex_web, browser, tenant_b, carol
):
    globex_tokens = issue(browser(tenant_b, carol), globex, globex_web, scope=OFFLINE)
    foreign_before = (
        list(OAuthClient.objects.filter(pk=globex_web.client.pk).values()),
        list(ClientSecret.objects.filter(client=globex_web.client).values("pk", "digest")),
    )
    ids = [str(web.client.pk), str(globex_web.client.pk)]
    # The confirmation step names only acme's client.
    confirm = alice_browser.post_form(f"{CONSOLE}/delete/", {"ids": ids})
    assert confirm.status_code == 200
    assert "Web app" in confirm.text and "Globex app" not in confirm.text
    response = alice_browser.post_form(f"{CONSOLE}/delete/", {"ids": ids, "confirm": "yes"})
    assert response.status_code == 302
    web.client.refresh_from_db()
    assert web.client.deleted_at is not None
    assert OAuthClient.objects.get(pk=other_web.client.pk).deleted_at is None
    assert foreign_before == (
        list(OAuthClient.objects.filter(pk=globex_web.client.pk).values()),
        list(ClientSecret.objects.filter(client=globex_web.client).values("pk", "digest")),
    )
    # Globex's client still works, tokens and all.
    assert users_me(globex, globex_tokens["access_token"]).status_code == 200
    assert refresh(globex, globex_web, globex_tokens["refresh_token"]).status_code == 200


def test_a_bulk_delete_of_foreign_ids_only_deletes_nothing(alice_browser, web, globex_web):
    before = db_state()
    for ids in ([str(globex_web.client.pk)], ["999999"], ["-1", "x", ""]):
        response = alice_browser.post_form(f"{CONSOLE}/delete/", {"ids": ids, "confirm": "yes"})
        assert response.status_code == 302
    assert_unchanged(before)


def test_a_session_of_one_tenant_is_nobody_at_another(alice_browser, server, tenant_b, globex_web):
    # The cookie is host-only in a browser; an attacker can still send it anywhere.
    cookie = alice_browser.session.cookies.get("sessionid")
    host = f"{tenant_b.hostname}:{server.port}"
    for path in (
        f"{CONSOLE}/",
        "/console/",
        "/account/apps/",
        f"{CONSOLE}/{globex_web.client_id}/edit/",
    ):
        response = server.raw("GET", path, host, headers={"Cookie": f"sessionid={cookie}"})
        login_redirect(response)


# --- Account apps --------------------------------------------------------------------------------


def test_another_tenants_or_users_grant_is_404_and_stays(alice_browser, world):
    before = db_state()
    for grant in (world["carol_grant"], world["bob_grant"]):
        url = f"/account/apps/{grant.pk}/revoke/"
        assert alice_browser.post_form(url, {}).status_code == 404
        assert alice_browser.get(url).status_code == 405
    assert alice_browser.post_form("/account/apps/999999/revoke/", {}).status_code == 404
    assert_unchanged(before)
    page = alice_browser.get("/account/apps/")
    assert page.status_code == 200
    assert "Web app" not in page.text  # neither Carol's grant nor Bob's is Alice's
    assert ConsentGrant.objects.count() == 2


# --- Codes and refresh tokens stay at their tenant -----------------------------------------------


def test_a_code_issued_at_one_tenant_is_refused_at_another(
    alice_browser, acme, globex, web, globex_web
):
    code, verifier = get_code(alice_browser, web)
    assert_oauth_error(redeem(globex, web, code, verifier), 401, "invalid_client")
    assert_oauth_error(redeem(globex, globex_web, code, verifier), 400, "invalid_grant")
    assert AuthorizationCode.objects.get(code=code).used_at is None
    assert not AccessToken.objects.exists()
    assert redeem(acme, web, code, verifier).status_code == 200


def test_a_published_clients_code_and_refresh_token_stay_at_their_tenant(
    alice_browser, acme, globex, web, world
):
    # Acme's client is a client at globex too (approved there): only the tenant differs.
    code, verifier = get_code(alice_browser, web, scope=OFFLINE)
    assert_oauth_error(redeem(globex, web, code, verifier), 400, "invalid_grant")
    assert AuthorizationCode.objects.get(code=code).used_at is None
    response = redeem(acme, web, code, verifier)
    assert response.status_code == 200
    tokens = response.json()
    before = db_state()
    assert_oauth_error(refresh(globex, web, tokens["refresh_token"]), 400, "invalid_grant")
    assert introspect(globex, web, tokens["access_token"]).json() == {"active": False}
    assert introspect(globex, web, tokens["refresh_token"]).json() == {"active": False}
    assert_invalid_token(users_me(globex, tokens["access_token"]))
    assert_unchanged(before)
    assert refresh(acme, web, tokens["refresh_token"]).status_code == 200


def test_a_refresh_token_issued_at_one_tenant_is_refused_at_another(
    alice_browser, acme, globex, web, globex_web
):
    tokens = issue(alice_browser, acme, web, scope=OFFLINE)
    before = db_state()
    assert_oauth_error(refresh(globex, web, tokens["refresh_token"]), 401, "invalid_client")
    assert_oauth_error(refresh(globex, globex_web, tokens["refresh_token"]), 400, "invalid_grant")
    assert_unchanged(before)
    assert refresh(acme, web, tokens["refresh_token"]).status_code == 200


# --- Hosts ---------------------------------------------------------------------------------------


def test_an_unknown_tenant_or_region_host_is_a_404(server, tenant_a, web):
    port = server.port
    hosts = [
        f"nosuch.eu.localhost:{port}",
        f"acme.us.localhost:{port}",
        f"acme.xx.localhost:{port}",
        f"x.acme.eu.localhost:{port}",
        f"acme-eu.localhost.localhost:{port}",
        f"localhost:{port}",
        f"127.0.0.1:{port}",
        f".eu.localhost:{port}",
    ]
    problems = {}
    for host in hosts:
        for method, path in [
            ("GET", DISCOVERY),
            ("GET", "/login/"),
            ("GET", f"/oauth/authorize?client_id={web.client_id}"),
            ("POST", "/oauth/token"),
            ("GET", f"{CONSOLE}/"),
        ]:
            response = server.raw(method, path, host)
            if response.status_code != 404 or "acme" in response.text.lower():
                problems[f"{host} {method} {path}"] = response.status_code
    assert problems == {}, problems


def test_a_deactivated_tenant_is_a_404(server, tenant_a, alice, alice_browser):
    tenant_a.is_active = False
    tenant_a.save()
    for path in (DISCOVERY, "/login/", "/console/"):
        assert alice_browser.get(path).status_code == 404, path


def test_a_host_outside_allowed_hosts_is_a_400(server, tenant_a):
    port = server.port
    hosts = [
        "evil.test",
        f"evil.test:{port}",
        f"acme.eu.localhost.evil.test:{port}",
        f"acme.eu.localhost@evil.test:{port}",
        f"acme.eu.localhost:{port}@evil.test",
        "127.0.0.2",
        f"acme.eu.localhost:{port}:{port}",
        f"acme.eu.localhost:{port}/evil",
        "[::2]",
    ]
    problems = {}
    for host in hosts:
        response = server.raw("GET", DISCOVERY, host)
        if response.status_code != 400 or "issuer" in response.text:
            problems[host] = response.status_code
    assert problems == {}, problems


def test_x_forwarded_headers_are_ignored(server, tenant_a, tenant_b):
    acme_host = f"{tenant_a.hostname}:{server.port}"
    for headers in [
        {"X-Forwarded-Host": tenant_b.hostname},
        {"X-Forwarded-Host": f"{tenant_b.hostname}:{server.port}"},
        {"X-Forwarded-Host": "evil.test"},
        {"Forwarded": f"host={tenant_b.hostname};proto=https"},
        {"X-Forwarded-Proto": "https", "X-Forwarded-Port": "443"},
        {"X-Original-Host": tenant_b.hostname, "X-Host": tenant_b.hostname},
    ]:
        response = server.raw("GET", DISCOVERY, acme_host, headers=headers)
        assert response.status_code == 200, headers
        assert response.json()["issuer"] == tenant_a.base_url, headers
        assert "globex" not in response.text and "evil" not in response.text
    # Nor does it rescue an unknown or disallowed host.
    nosuch = f"nosuch.eu.localhost:{server.port}"
    forwarded = {"X-Forwarded-Host": acme_host}
    assert server.raw("GET", DISCOVERY, nosuch, headers=forwarded).status_code == 404
    assert server.raw("GET", DISCOVERY, "evil.test", headers=forwarded).status_code == 400


def test_a_token_request_with_x_forwarded_host_still_issues_the_hosts_own_token(
    alice_browser, server, web, tenant_a, tenant_b, globex
):
    code, verifier = get_code(alice_browser, web)
    raw = f"{web.client_id}:{web.secret}".encode()
    response = server.raw(
        "POST",
        "/oauth/token",
        f"{tenant_a.hostname}:{server.port}",
        headers={
            "X-Forwarded-Host": tenant_b.hostname,
            "Authorization": "Basic " + base64.b64encode(raw).decode(),
        },
        data={
            "grant_type": "authorization_code",
            "code": code,
            "redirect_uri": web.redirect_uri,
            "code_verifier": verifier,
        },
    )
    assert response.status_code == 200, response.text
    access = response.json()["access_token"]
    payload = access.split(".")[1]
    claims = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
    assert claims["iss"] == claims["aud"] == tenant_a.base_url
    assert claims["tenant_id"] == str(tenant_a.pk)
    assert_invalid_token(users_me(globex, access))


def test_case_and_port_variants_of_a_host_give_the_same_canonical_issuer(server, tenant_a):
    canonical = tenant_a.base_url
    assert canonical == f"http://acme.eu.localhost:{server.port}"
    variants = [
        f"acme.eu.localhost:{server.port}",
        f"ACME.EU.LOCALHOST:{server.port}",
        f"Acme.Eu.LocalHost:{server.port}",
        "acme.eu.localhost",
        "acme.eu.localhost:1",
        "acme.eu.localhost:80",
        "acme.eu.localhost:443",
        f"acme.eu.localhost.:{server.port}",
        "ACME.EU.LOCALHOST.",
    ]
    for host in variants:
        for path in (DISCOVERY, "/.well-known/oauth-authorization-server"):
            response = server.raw("GET", path, host)
            assert response.status_code == 200, (host, response.status_code)
            document = response.json()
            assert document["issuer"] == canonical, host
            endpoints = [
                value for key, value in document.items() if key.endswith(("endpoint", "uri"))
            ]
            assert endpoints and all(value.startswith(f"{canonical}/") for value in endpoints), host
            assert "ACME" not in response.text and "Acme.Eu" not in response.text


def test_a_token_issued_through_a_host_variant_names_the_canonical_issuer(
    alice_browser, server, acme, web, tenant_a
):
    code, verifier = get_code(alice_browser, web)
    raw = f"{web.client_id}:{web.secret}".encode()
    response = server.raw(
        "POST",
        "/oauth/token",
        "ACME.EU.LOCALHOST.:1",
        headers={"Authorization": "Basic " + base64.b64encode(raw).decode()},
        data={
            "grant_type": "authorization_code",
            "code": code,
            "redirect_uri": web.redirect_uri,
            "code_verifier": verifier,
        },
    )
    assert response.status_code == 200, response.text
    access = response.json()["access_token"]
    payload = access.split(".")[1]
    claims = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
    assert claims["iss"] == tenant_a.base_url
    # And the canonical host accepts it.
    assert acme.get(ME, headers={"Authorization": f"Bearer {access}"}).status_code == 200


def test_the_authorization_response_names_the_canonical_issuer_whatever_the_host_says(
    alice_browser, server, web, tenant_a
):
    cookie = alice_browser.session.cookies.get("sessionid")
    _verifier, challenge = pkce_pair()
    for host in (f"ACME.EU.LOCALHOST:{server.port}", "acme.eu.localhost.:1"):
        response = server.raw(
            "GET",
            authorize_url(web, challenge),
            host,
            headers={"Cookie": f"sessionid={cookie}", "X-Forwarded-Host": "evil.test"},
        )
        assert response.status_code == 302, (host, response.status_code)
        assert query_of(response.headers["Location"])["iss"] == tenant_a.base_url
