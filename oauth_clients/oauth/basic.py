"""HTTP Basic client credentials (RFC 6749 §2.3.1, RFC 7617), parsed in one place.

The token, revocation and introspection endpoints, the validator and the
``WWW-Authenticate`` challenge all read the ``Authorization`` header through
these two functions, so they can never disagree about what a client sent.
"""

import base64
import binascii
from urllib.parse import unquote_plus


def is_basic(header: str | None) -> bool:
    """Whether an ``Authorization`` header uses the Basic scheme, well-formed or not.

    Scheme names are case-insensitive (RFC 9110 §11.1): ``basic`` and
    ``BASIC`` are Basic too.
    """
    scheme, _space, _credentials = (header or "").strip().partition(" ")
    return scheme.lower() == "basic"


def decode_basic(header: str | None) -> tuple[str, str] | None:
    """``(client_id, secret)`` from a Basic ``Authorization`` header, or None.

    None when the header is absent, uses another scheme, or is malformed:
    not base64, not UTF-8, or without the colon between the two parts. Each
    part is form-decoded after splitting on the first colon, as RFC 6749
    §2.3.1 asks clients to form-encode them (so ``%3A`` is a colon inside
    the client ID, and ``+`` a space).
    """
    if not is_basic(header):
        return None
    _scheme, _space, credentials = header.strip().partition(" ")
    try:
        decoded = base64.b64decode(credentials.strip(), validate=True).decode("utf-8")
    except (binascii.Error, UnicodeDecodeError):
        return None
    client_id, colon, secret = decoded.partition(":")
    if not colon:
        return None
    return unquote_plus(client_id), unquote_plus(secret)
