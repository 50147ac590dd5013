"""Failed client authentication at the token, revocation and introspection endpoints.

A client ID is public (it is in every authorization URL) and a secret carries
288 random bits, so locking a client out after failures would protect
nothing and give anyone who knows the ID a switch to turn the client off.
Failures are therefore counted per source address and per client and
address, never per client alone; and a correct credential is accepted
whatever the counts (the validator checks it first: an HMAC, microseconds).
Past a limit only wrong credentials get 429, so a sender of wrong secrets
slows only themself, and clients behind the same address keep working.

Only failures touch the counters: a successful authentication costs no
cache round trip.
"""

from oauthlib.oauth2.rfc6749 import errors

from tenants import ratelimit


class TooManyFailedAuthentications(errors.OAuth2Error):
    """429 with ``Retry-After`` (RFC 6585 §4), in the shape of an RFC 6749 §5.2 error.

    Raised from ``authenticate_client``: oauthlib answers every OAuth2Error
    raised there with its status, body and headers.
    """

    error = "too_many_requests"
    status_code = 429
    description = "Too many failed client authentications. Try again later."

    def __init__(self, retry_after: int, request=None):
        super().__init__(request=request)
        self.retry_after = retry_after

    @property
    def headers(self) -> dict:
        return {"Retry-After": str(self.retry_after)}


def count_failure(client_id: str | None, address: str) -> tuple[int, int | None]:
    """Count a failed authentication from ``address``, for ``client_id`` if it names a client.

    Returns the client and address count in the current window (0 without a
    client, or while the cache is unavailable) and the seconds to wait if a
    count is now past its limit, else None.
    """
    waits = [
        ratelimit.exceeded(
            "client_auth_per_address", ratelimit.hit("client_auth_per_address", address)
        )
    ]
    failures = 0
    if client_id:
        subject = f"{client_id} {address}"
        failures = ratelimit.hit("client_auth_per_client_address", subject)
        waits.append(ratelimit.exceeded("client_auth_per_client_address", failures))
    return failures, max((wait for wait in waits if wait), default=None)
