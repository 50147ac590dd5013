"""Redirect URLs at the authorization endpoint, attacked over HTTP.

The rule (RFC 6749 §3.1.2, §4.1.2.1; RFC 9700 §4.1.3): a redirect URL must
equal a registered one, character for character, with one tolerance, the port
of a loopback http URL (RFC 8252 §7.3). Until the client and the redirect URL
are validated the endpoint redirects nowhere: a bad request gets a 400 error
page without a Location header, and no code is created.

Lists of lookalikes are grouped by kind; each URL is one request, and every
URL that is not refused is named in the failure.
"""

from urllib.parse import urlencode, urlsplit

import pytest

from oauth_clients.models import AuthorizationCode
from oauth_clients.services import delete_clients, publish_client
from tests.flows import (
    AUTHORIZE,
    ERROR_PAGE_HEADING,
    LOOPBACK_REDIRECT,
    NATIVE_REDIRECT,
    REDIRECT,
    Browser,
    assert_error_page,
    authorize,
    authorize_url,
    client_redirect,
    error_redirect,
    form_token,
    hidden_fields,
    make_client,
    pkce_pair,
)

pytestmark = pytest.mark.django_db(transaction=True)


def refusal_problem(response) -> str | None:
    """None if ``response`` is the error page with no redirect, else what is wrong."""
    if response.status_code != 400:
        return f"status {response.status_code}, Location {response.headers.get('Location')!r}"
    if "Location" in response.headers:
        return f"Location {response.headers['Location']!r}"
    if ERROR_PAGE_HEADING not in response.text:
        return "not the error page"
    return None


def assert_all_refused(agent: Browser, registered, urls, **extra) -> None:
    """Every URL of ``urls`` as the redirect_uri gets the error page, and no code exists."""
    problems = {}
    for url in urls:
        _verifier, challenge = pkce_pair()
        response = authorize(agent, registered.at(url), challenge, **extra)
        problem = refusal_problem(response)
        if problem:
            problems[url] = problem
    assert problems == {}, problems
    assert AuthorizationCode.objects.count() == 0


# --- The registered URL, and nothing else ------------------------------------------------------


def test_the_registered_url_gets_a_code_state_and_iss(alice_browser, web, tenant_a):
    _verifier, challenge = pkce_pair()
    params = client_redirect(authorize(alice_browser, web, challenge), tenant_a)
    assert params["code"] and params["state"] == "xyz"
    assert AuthorizationCode.objects.get(code=params["code"]).redirect_uri == REDIRECT


def test_an_unregistered_url_gets_an_error_page(alice_browser, web):
    assert_all_refused(
        alice_browser,
        web,
        ["https://evil.test/callback", "https://evil.test/", "https://attacker.example/cb"],
    )


LOOKALIKES = {
    "prefix-suffix": [
        "https://app.example.com/callbackx",
        "https://app.example.com/callbac",
        "https://app.example.com/callback.evil",
        "https://app.example.com/callback/",
        "https://app.example.com.evil.test/callback",
        "https://evilapp.example.com/callback",
        "https://xapp.example.com/callback",
        "https://app.example.co/callback",
        "https://app.example.com.evil.test/",
    ],
    "added-path-segment": [
        "https://app.example.com/callback/x",
        "https://app.example.com/x/callback",
        "https://app.example.com//callback",
        "https://app.example.com/callback//",
        "https://app.example.com/callback;x",
        "https://app.example.com/callback/evil.test",
    ],
    "dot-segments": [
        "https://app.example.com/callback/..",
        "https://app.example.com/callback/../callback",
        "https://app.example.com/x/../callback",
        "https://app.example.com/./callback",
        "https://app.example.com/callback/.",
        "https://app.example.com/callback/../../evil",
        "https://app.example.com/callback/%2e%2e/evil",
        "https://app.example.com/callback/..%2fevil",
    ],
    "percent-encoded": [
        "https://app.example.com/%63allback",
        "https://app.example.com/callback%2F",
        "https://app.example.com/callback%2f..%2fevil",
        "https://app%2Eexample.com/callback",
        "https://app.example.com%2Fcallback",
        "https://app.example.com%2F@evil.test/callback",
        "https://app.example.com/callback%20",
        "https://app.example.com/callback%00",
        "https://app.example.com/callback%23",
        "https://app.example.com/callback%3Fx=1",
        "https%3A%2F%2Fapp.example.com%2Fcallback",
    ],
    "userinfo": [
        "https://app.example.com@evil.test/callback",
        "https://evil.test@app.example.com/callback",
        "https://user:pass@app.example.com/callback",
        "https://app.example.com:443@evil.test/callback",
        "https://app.example.com%40evil.test/callback",
        "https://@app.example.com/callback",
    ],
    "backslash": [
        "https://app.example.com\\@evil.test/callback",
        "https://evil.test\\@app.example.com/callback",
        "https://app.example.com\\callback",
        "https://app.example.com\\\\evil.test/callback",
        "https:\\\\app.example.com/callback",
        "https://app.example.com/callback\\",
        "https://app.example.com/callback\\..\\evil",
    ],
    "case": [
        "https://APP.example.com/callback",
        "https://app.Example.com/callback",
        "https://app.example.COM/callback",
        "https://app.example.com/Callback",
        "https://app.example.com/CALLBACK",
        "HTTPS://app.example.com/callback",
        "Https://app.example.com/callback",
    ],
    "trailing-dot": [
        "https://app.example.com./callback",
        "https://app.example.com../callback",
        "https://app.example.com.:443/callback",
    ],
    "scheme-and-port": [
        "http://app.example.com/callback",
        "https://app.example.com:443/callback",
        "https://app.example.com:8443/callback",
        "https://app.example.com:/callback",
        "wss://app.example.com/callback",
        "javascript://app.example.com/callback%0aalert(1)",
        "//app.example.com/callback",
        "/callback",
        "callback",
    ],
    "added-or-changed-query": [
        "https://app.example.com/callback?",
        "https://app.example.com/callback?x=1",
        "https://app.example.com/callback?code=attacker",
        "https://app.example.com/callback?next=https://evil.test/",
        "https://app.example.com/callback?&",
    ],
    "fragment": [
        "https://app.example.com/callback#",
        "https://app.example.com/callback#f",
        "https://app.example.com/callback#@evil.test",
        "https://evil.test#https://app.example.com/callback",
        "https://evil.test/#@app.example.com/callback",
    ],
    "whitespace-and-controls": [
        " https://app.example.com/callback",
        "https://app.example.com/callback ",
        "https://app.example.com/callback\t",
        "https://app.example.com/callback\n",
        "https://app.example.com/call\nback",
        "https://app.example.com/callback\x00",
        "https://app.example.com/callback\r\nLocation: https://evil.test/",
    ],
    "homoglyphs": [
        "https://\u0430pp.example.com/callback",  # Cyrillic a
        "https://app.example.com/c\u0430llback",
        "https://\uff41pp.example.com/callback",  # fullwidth a
        "https://app.example.com/callback\u200b",  # zero-width space
    ],
}


def test_a_lookalike_of_the_registered_url_gets_an_error_page(alice_browser, web):
    """Prefix or suffix, added path segment, dot segments, percent-encoding, userinfo,
    backslash, case, trailing dot, scheme or port, query, fragment, whitespace, homoglyphs."""
    assert_all_refused(alice_browser, web, [url for urls in LOOKALIKES.values() for url in urls])


def test_a_lookalike_gets_an_error_page_for_an_anonymous_prompt_none_request_too(acme, web):
    # prompt=none without a session would answer login_required *at the redirect
    # URL*: it must be validated first, or the endpoint is an open redirector.
    urls = [
        "https://evil.test/callback",
        "https://app.example.com@evil.test/callback",
        "https://app.example.com.evil.test/callback",
        "https://app.example.com/callback/../evil",
        "https://APP.example.com/callback",
    ]
    assert_all_refused(acme, web, urls, prompt="none")


def test_a_lookalike_gets_an_error_page_with_prompt_login_and_the_session_is_kept(
    alice_browser, web, tenant_a
):
    assert_all_refused(alice_browser, web, ["https://evil.test/callback"], prompt="login")
    # Still signed in: a refused link must not end the session either.
    _verifier, challenge = pkce_pair()
    assert "code" in client_redirect(authorize(alice_browser, web, challenge), tenant_a)


def test_without_a_redirect_url_several_registered_urls_are_refused(alice_browser, web):
    _verifier, challenge = pkce_pair()
    assert_error_page(authorize(alice_browser, web.at(None), challenge))
    assert AuthorizationCode.objects.count() == 0


def test_an_anonymous_user_with_a_foreign_redirect_url_is_refused_before_signing_in(
    browser, tenant_a, alice, web
):
    anonymous = browser(tenant_a)
    _verifier, challenge = pkce_pair()
    path = authorize_url(web.at("https://evil.test/callback"), challenge)
    assert_error_page(anonymous.get(path))
    assert AuthorizationCode.objects.count() == 0


# --- Loopback redirect URLs (RFC 8252 §7.3) ---------------------------------------------------


def test_a_loopback_url_may_vary_its_port_only(alice_browser, web, native, tenant_a):
    accepted = [
        (web, "http://localhost:9999/cb"),
        (web, "http://localhost:1/cb"),
        (web, "http://localhost:65535/cb"),
        (web, LOOPBACK_REDIRECT),
        (native, "http://127.0.0.1:54321/cb"),
        (native, NATIVE_REDIRECT),
    ]
    for registered, url in accepted:
        _verifier, challenge = pkce_pair()
        params = client_redirect(
            authorize(alice_browser, registered.at(url), challenge), tenant_a, url
        )
        assert AuthorizationCode.objects.get(code=params["code"]).redirect_uri == url


LOOPBACK_LOOKALIKES = [
    "http://127.0.0.2:8080/cb",
    "http://127.0.0.1:8080/cb",
    "http://[::1]:8080/cb",
    "http://localhost.evil.test/cb",
    "http://localhost.evil.test:8080/cb",
    "http://localhost:80@evil.test/cb",
    "http://localhost:8080@evil.test/cb",
    "http://localhost@evil.test:8080/cb",
    "http://evil.test@localhost:8080/cb",
    "http://localhost:9999\\@evil.test/cb",
    "http://localhost:9999#@evil.test/cb",
    "http://localhost:9999/other",
    "http://localhost:9999/cb/",
    "http://localhost:9999/cbx",
    "http://localhost:9999//cb",
    "http://localhost:9999/cb/../cb",
    "http://localhost:9999/%63b",
    "http://localhost:9999/CB",
    "http://localhost:9999/cb?x=1",
    "http://localhost:9999/cb#f",
    "http://localhost:9999/cb#",
    "http://LOCALHOST:9999/cb",
    "http://localhost.:9999/cb",
    "https://localhost:9999/cb",
    "https://localhost:8080/cb",
    "http://localhost:abc/cb",
    "http://localhost:9999:1/cb",
]


def test_a_loopback_lookalike_gets_an_error_page(alice_browser, web):
    assert_all_refused(alice_browser, web, LOOPBACK_LOOKALIKES)


NATIVE_LOOKALIKES = [
    "http://127.0.0.2:54321/cb",
    "http://localhost:54321/cb",
    "http://127.1:54321/cb",
    "http://2130706433:54321/cb",
    "http://0x7f000001:54321/cb",
    "http://127.000.000.001:54321/cb",
    "http://0.0.0.0:54321/cb",
    "http://[::ffff:127.0.0.1]:54321/cb",
    "http://127.0.0.1.evil.test:54321/cb",
    "http://127.0.0.1:54321@evil.test/cb",
    "http://127.0.0.1:80@evil.test/cb",
    "https://127.0.0.1:54321/cb",
    "http://127.0.0.1:54321/cb/",
]


def test_a_native_apps_loopback_lookalike_gets_an_error_page(alice_browser, native):
    assert_all_refused(alice_browser, native, NATIVE_LOOKALIKES)


def test_a_loopback_url_is_compared_as_written_except_for_its_port(alice_browser, web, native):
    """Only the port may differ (RFC 8252 §7.3): not an added empty query, not the scheme's case.

    The server compares loopback URLs after ``urlsplit(...).geturl()``, which
    drops an empty ``?`` and lowercases the scheme, so these were accepted.
    """
    assert_all_refused(
        alice_browser, web, ["http://localhost:9999/cb?", "HTTP://localhost:9999/cb"]
    )
    assert_all_refused(alice_browser, native, ["http://127.0.0.1:54321/cb?"])


# --- Nothing is redirected before the client and the URL are validated --------------------------


def test_an_unknown_missing_or_malformed_client_gets_an_error_page(alice_browser, web):
    problems = {}
    for client_id in ["0" * 32, "x' OR '1'='1", "", None, web.client_id.upper()]:
        _verifier, challenge = pkce_pair()
        response = authorize(alice_browser, web, challenge, client_id=client_id)
        if problem := refusal_problem(response):
            problems[client_id] = problem
    assert problems == {}, problems
    assert AuthorizationCode.objects.count() == 0


def test_an_unknown_client_gets_an_error_page_with_prompt_none_without_a_session(acme, web):
    for client_id in ["f" * 32, None]:
        _verifier, challenge = pkce_pair()
        assert_error_page(authorize(acme, web, challenge, client_id=client_id, prompt="none"))


def test_a_bad_response_type_with_an_unknown_client_or_url_gets_an_error_page(
    alice_browser, acme, web
):
    _verifier, challenge = pkce_pair()
    evil = web.at("https://evil.test/cb")
    problems = {}
    for response_type in ["token", "id_token", "code token", "", "xyz"]:
        bad = {
            "unknown client": authorize(
                alice_browser, web, challenge, response_type=response_type, client_id="0" * 32
            ),
            "unregistered url": authorize(
                alice_browser, evil, challenge, response_type=response_type
            ),
            "unregistered url, prompt=none": authorize(
                acme, evil, challenge, response_type=response_type, prompt="none"
            ),
        }
        for case, response in bad.items():
            if problem := refusal_problem(response):
                problems[f"{response_type!r}, {case}"] = problem
    assert problems == {}, problems
    assert AuthorizationCode.objects.count() == 0


def test_a_bad_response_type_with_a_valid_client_and_url_is_an_error_for_the_client(
    alice_browser, web, tenant_a
):
    # The counterpart: once client and URL are known good, errors go to the client.
    _verifier, challenge = pkce_pair()
    response = authorize(alice_browser, web, challenge, response_type="token")
    params = client_redirect(response, tenant_a)
    assert params["error"] in {"unsupported_response_type", "invalid_request"}
    assert "code" not in params
    assert params["state"] == "xyz"


def test_prompt_none_without_a_session_sends_login_required_to_the_registered_url_only(
    acme, web, tenant_a
):
    _verifier, challenge = pkce_pair()
    params = error_redirect(
        authorize(acme, web, challenge, prompt="none"), tenant_a, "login_required"
    )
    assert params["state"] == "xyz"


def test_another_tenants_client_gets_an_error_page(alice_browser, globex_web, acme):
    # Same redirect URL as acme's own client: only the tenant differs.
    _verifier, challenge = pkce_pair()
    assert_error_page(authorize(alice_browser, globex_web, challenge))
    assert_error_page(authorize(acme, globex_web, challenge, prompt="none"))
    assert AuthorizationCode.objects.count() == 0


def test_a_deleted_client_gets_an_error_page(alice_browser, web, tenant_a, alice):
    delete_clients(tenant_a, [web.client.pk], actor=alice)
    _verifier, challenge = pkce_pair()
    assert_error_page(authorize(alice_browser, web, challenge))
    assert AuthorizationCode.objects.count() == 0


def test_a_consent_form_post_with_a_swapped_redirect_url_gets_an_error_page(
    alice_browser, tenant_a, alice
):
    reports = make_client(tenant_a, alice, name="Reports", consent_method="required")
    _verifier, challenge = pkce_pair()
    page = authorize(alice_browser, reports, challenge)
    assert page.status_code == 200
    fields = hidden_fields(page.text)
    for evil in ["https://evil.test/callback", "https://app.example.com@evil.test/callback"]:
        response = alice_browser.post(
            AUTHORIZE, {**fields, "redirect_uri": evil, "allow": "Authorize"}
        )
        assert_error_page(response)
    assert AuthorizationCode.objects.count() == 0


# --- The region host's tenant picker ----------------------------------------------------------


@pytest.fixture
def region(server, region_eu) -> Browser:
    from tenants.hosts import origin

    return Browser(origin(region_eu.hostname))


def test_the_region_picker_refuses_an_unknown_client_or_url_without_redirecting(region, web, alice):
    publish_client(web.client, actor=alice)
    _verifier, challenge = pkce_pair()
    cases = [
        authorize_url(web, challenge, client_id="0" * 32),
        authorize_url(web.at("https://evil.test/callback"), challenge),
        authorize_url(web.at("https://app.example.com@evil.test/callback"), challenge),
        authorize_url(web.at("http://localhost:80@evil.test/cb"), challenge),
    ]
    for path in cases:
        for response in (region.get(path), region.post(path, {"hostname": "acme"})):
            assert response.status_code in {400, 403}, (path, response.status_code)
            assert "Location" not in response.headers, path
    # The valid request gets the picker page (the counterpart).
    assert region.get(authorize_url(web, challenge)).status_code == 200


def test_the_region_picker_does_not_know_an_unpublished_client(region, web):
    _verifier, challenge = pkce_pair()
    response = region.get(authorize_url(web, challenge))
    assert response.status_code == 400
    assert "Location" not in response.headers


def test_the_region_picker_sends_only_to_a_tenant_of_the_platform(region, web, alice, tenant_a):
    publish_client(web.client, actor=alice)
    _verifier, challenge = pkce_pair()
    path = authorize_url(web, challenge)
    page = region.get(path)
    token = form_token(page.text)
    for hostname in ["evil.test", "acme.eu.localhost.evil.test", "https://evil.test/", "nosuch"]:
        response = region.post(path, {"csrfmiddlewaretoken": token, "hostname": hostname})
        assert "Location" not in response.headers, (hostname, response.headers.get("Location"))
    response = region.post(path, {"csrfmiddlewaretoken": token, "hostname": tenant_a.hostname})
    assert response.status_code == 302
    location = urlsplit(response.headers["Location"])
    assert f"{location.scheme}://{location.netloc}" == tenant_a.base_url
    assert location.path == AUTHORIZE
    assert location.query == urlencode(
        {
            "response_type": "code",
            "client_id": web.client_id,
            "redirect_uri": REDIRECT,
            "scope": "user_default",
            "state": "xyz",
            "code_challenge": challenge,
            "code_challenge_method": "S256",
        }
    )
