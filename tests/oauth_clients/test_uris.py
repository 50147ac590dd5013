"""The redirect URL and allowed-origin rules, as tables of accepted and rejected examples."""

import pytest
from django.core.exceptions import ValidationError

from oauth_clients.uris import validate_origin, validate_redirect_uri, validate_unique

ACCEPTED_REDIRECTS = [
    "https://app.example.com/callback",
    "https://app.example.com/cb?tenant=acme",  # a query is fine; it must match exactly
    "https://app.example.com:8443/cb",
    "https://xn--bcher-kva.example/cb",
    "http://localhost/cb",
    "http://localhost:8080/cb",
    "http://127.0.0.1:53682/",
    "http://[::1]:9000/cb",
    "HTTPS://App.Example.com/Callback",  # stored exactly as entered
]

REJECTED_REDIRECTS = [
    ("/callback", "relative"),
    ("app.example.com/callback", "relative"),
    ("https://app.example.com/cb#frag", "fragment"),
    ("https://app.example.com/cb#", "fragment"),
    ("https://user:pass@app.example.com/cb", "userinfo"),
    ("https://app.example@evil.test/cb", "userinfo"),
    ("https://*.example.com/cb", "wildcard"),
    ("https://app.example.com/*", "wildcard"),
    ("https://app.example.com/c b", "whitespace"),
    (" https://app.example.com/cb", "whitespace"),
    ("https://app.example.com/cb\n", "whitespace"),
    ("https://app.example.com/\x00cb", "whitespace"),
    ("https://app.example.com/\tcb", "whitespace"),
    ("javascript:alert(1)", "scheme"),
    ("data:text/html,hi", "scheme"),
    ("file:///etc/passwd", "scheme"),
    ("ftp://app.example.com/cb", "scheme"),
    ("com.example.app:/callback", "scheme"),  # private-use schemes are for Native clients only
    ("http://example.com/cb", "http_not_loopback"),
    ("http://127.0.0.2/cb", "http_not_loopback"),
    ("http://localhost.evil.test/cb", "http_not_loopback"),
    ("http://localhost:80@evil.test/cb", "userinfo"),
    ("https:///cb", "no_host"),
    ("https://app.example.com:99999/cb", "bad_port"),
    ("https://[::1/cb", "invalid"),
    ("https://app.example.com/" + "a" * 2000, "too_long"),
    ("", "required"),
]


@pytest.mark.parametrize("uri", ACCEPTED_REDIRECTS)
def test_it_accepts_redirect_url(uri):
    validate_redirect_uri(uri)


@pytest.mark.parametrize("uri,code", REJECTED_REDIRECTS)
def test_it_rejects_redirect_url_with_a_reason(uri, code):
    with pytest.raises(ValidationError) as error:
        validate_redirect_uri(uri)
    assert error.value.code == code
    assert error.value.messages[0]  # a sentence for the form, not just a code


@pytest.mark.parametrize(
    "uri", ["com.example.app:/callback", "com.example.app://callback", "net.acme.reports:/oauth"]
)
def test_native_clients_may_use_a_private_use_scheme(uri):
    validate_redirect_uri(uri, allow_private_use_scheme=True)


@pytest.mark.parametrize(
    "uri,code",
    [
        ("myapp:/callback", "scheme"),  # not reverse-domain form
        ("javascript:alert(1)", "scheme"),
        ("com.example.app:/cb#x", "fragment"),
    ],
)
def test_native_clients_still_cannot_use_other_schemes(uri, code):
    with pytest.raises(ValidationError) as error:
        validate_redirect_uri(uri, allow_private_use_scheme=True)
    assert error.value.code == code


@pytest.mark.parametrize(
    "origin",
    [
        "https://app.example.com",
        "https://app.example.com:8443",
        "http://localhost:3000",
        "http://[::1]:5173",
    ],
)
def test_it_accepts_origin(origin):
    validate_origin(origin)


@pytest.mark.parametrize(
    "origin,code",
    [
        ("https://app.example.com/", "path"),
        ("https://app.example.com/app", "path"),
        ("https://app.example.com?x=1", "path"),
        ("http://app.example.com", "http_not_loopback"),
        ("app.example.com", "scheme"),
        ("ftp://app.example.com", "scheme"),
        ("https://user@app.example.com", "userinfo"),
        ("https://*.example.com", "wildcard"),
    ],
)
def test_it_rejects_origin(origin, code):
    with pytest.raises(ValidationError) as error:
        validate_origin(origin)
    assert error.value.code == code


def test_duplicates_are_rejected():
    validate_unique(["https://a.example/cb", "https://b.example/cb"])
    with pytest.raises(ValidationError) as error:
        validate_unique(["https://a.example/cb", "https://a.example/cb"])
    assert error.value.code == "duplicate"


@pytest.mark.parametrize(
    "uri",
    [
        "https://<script>x</script>/cb",
        'https://ex"ample.com/cb',
        "https://exa%mple.com/",
        "https://a..b/cb",
        "https://-app.example.com/cb",
        "https://app_1.example.com/cb",
        "https://app.example.com\\@evil.test/cb",
        "https://[not-an-ip]/cb",
    ],
)
def test_it_rejects_hosts_that_are_not_host_names(uri):
    with pytest.raises(ValidationError) as error:
        validate_redirect_uri(uri)
    assert error.value.code in {"bad_host", "userinfo", "invalid", "invalid_character"}


@pytest.mark.parametrize("origin", ["https://<b>x", 'https://a"b.com', "https://a_b.example"])
def test_it_rejects_origins_whose_host_is_not_a_host_name(origin):
    with pytest.raises(ValidationError) as error:
        validate_origin(origin)
    assert error.value.code in {"bad_host", "invalid_character"}


@pytest.mark.parametrize(
    "uri",
    [
        "https://app.example.com/cb?x=<y>",
        "https://app.example.com/ü",
        "https://app.example.com/{x}",
    ],
)
def test_it_rejects_characters_a_uri_cannot_hold(uri):
    with pytest.raises(ValidationError) as error:
        validate_redirect_uri(uri)
    assert error.value.code == "invalid_character"
