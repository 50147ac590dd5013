"""The HTTP Basic decoder (oauth_clients/oauth/basic.py): RFC 6749 §2.3.1, RFC 9110 §11.1."""

import base64

import pytest

from oauth_clients.oauth.basic import decode_basic, is_basic


def encoded(raw: bytes) -> str:
    return base64.b64encode(raw).decode()


@pytest.mark.parametrize("scheme", ["Basic", "basic", "BASIC", "bAsIc"])
def test_the_scheme_name_is_case_insensitive(scheme):
    header = f"{scheme} {encoded(b'client:secret')}"
    assert is_basic(header)
    assert decode_basic(header) == ("client", "secret")


def test_the_parts_are_form_decoded_after_splitting_on_the_first_colon():
    # RFC 6749 §2.3.1: a colon in the client ID arrives as %3A, a space as +.
    header = f"Basic {encoded(b'my%3Aclient:se+cret%25:with:colons')}"
    assert decode_basic(header) == ("my:client", "se cret%:with:colons")


def test_extra_spaces_around_the_credentials_are_tolerated():
    assert decode_basic(f"  Basic   {encoded(b'a:b')}  ") == ("a", "b")


def test_empty_parts_are_returned_as_they_are():
    assert decode_basic(f"Basic {encoded(b':')}") == ("", "")
    assert decode_basic(f"Basic {encoded(b'client:')}") == ("client", "")


@pytest.mark.parametrize(
    "header",
    [
        None,
        "",
        "Bearer abc",
        "Digest username=x",
        "Basicabc",
        f"Basic{encoded(b'a:b')}",
    ],
    ids=["absent", "empty", "bearer", "digest", "glued", "no-space"],
)
def test_other_schemes_are_not_basic(header):
    assert not is_basic(header)
    assert decode_basic(header) is None


@pytest.mark.parametrize(
    "header",
    [
        "Basic",
        "Basic ",
        "Basic !!!not-base64!!!",
        "Basic YWJj=",  # bad padding
        "Basic " + encoded(b"no-colon"),
        "Basic " + encoded(b"\xff\xfe:\xff"),  # not UTF-8
    ],
    ids=["no-credentials", "empty", "not-base64", "bad-padding", "no-colon", "not-utf8"],
)
def test_malformed_basic_credentials_decode_to_none(header):
    assert is_basic(header)
    assert decode_basic(header) is None
