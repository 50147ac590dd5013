"""The oauthlib server: only the grants we offer, and the PKCE rules of RFC 9700.

Configured as DOT's ``OIDC_SERVER_CLASS``. The rules are oauthlib custom
validators (its documented extension point), added to both authorization
code grants (plain OAuth and OpenID Connect).
"""

import re

from oauthlib.oauth2.rfc6749 import errors
from oauthlib.openid import Server as OpenIDServer

# RFC 7636 §4.1-4.2: 43 to 128 characters of [A-Z] / [a-z] / [0-9] / "-" / "." / "_" / "~".
PKCE_VALUE = re.compile(r"^[A-Za-z0-9\-._~]{43,128}$")


def answer_in_query(request) -> dict:
    """Every answer, code or error, comes in the query: the only response_mode we offer.

    A request cannot move the code into a fragment or a form post (where the
    client would not look for it, and scripts on the page could).
    """
    request.response_mode = "query"
    return {}


def check_pkce_challenge(request) -> dict:
    """Authorization request: S256 only (RFC 9700 §2.1.1), and a well-formed challenge.

    oauthlib has already refused a missing challenge (PKCE is required) and
    filled in "plain" for a missing method, so a missing method fails here too.
    """
    if request.code_challenge_method != "S256":
        raise errors.InvalidRequestError(
            description="code_challenge_method must be S256.", request=request
        )
    if not PKCE_VALUE.match(request.code_challenge or ""):
        raise errors.InvalidRequestError(
            description="code_challenge must be 43 to 128 characters of A-Z a-z 0-9 - . _ ~",
            request=request,
        )
    return {}


def check_code_verifier_format(request) -> None:
    """Token request: a code_verifier, when sent, must have the RFC 7636 form.

    oauthlib does not check this; an over-long value must be a 400, not a
    database or hashing problem further down.
    """
    verifier = request.code_verifier
    if verifier is not None and not PKCE_VALUE.match(verifier):
        raise errors.InvalidRequestError(
            description="code_verifier must be 43 to 128 characters of A-Z a-z 0-9 - . _ ~",
            request=request,
        )


class Server(OpenIDServer):
    """Authorization code (+PKCE), refresh token and client credentials; nothing else."""

    def __init__(self, request_validator, *args, **kwargs):
        super().__init__(request_validator, *args, **kwargs)
        # No implicit, hybrid, "none" response type, password or device grant.
        for response_type in list(self.response_types):
            if response_type != "code":
                del self.response_types[response_type]
        for grant_type in ("password", "urn:ietf:params:oauth:grant-type:device_code"):
            self.grant_types.pop(grant_type, None)
        for grant in (self.auth_grant, self.openid_connect_auth):
            grant.custom_validators.pre_auth.append(answer_in_query)
            grant.custom_validators.post_auth.append(check_pkce_challenge)
            grant.custom_validators.pre_token.append(check_code_verifier_format)
