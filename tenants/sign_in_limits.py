"""Throttling password guessing at sign-in without letting strangers lock owners out.

OWASP, "Slow Down Online Guessing Attacks with Device Cookies"
(https://owasp.org/www-community/Slow_Down_Online_Guessing_Attacks_with_Device_Cookies):
a browser that has signed in to an account carries a *device cookie* for
it, signed by the server, naming the account (a hash of it) and a random
nonce. Only failures are counted, and each attempt against one set of
counters:

- with a valid device cookie for the account (a *trusted* browser): per
  device cookie (``sign_in_per_device``). Past it, only that cookie is
  locked out, so a stolen cookie buys an attacker a few guesses and
  nothing else;
- without one (an *untrusted* browser): per account and address
  (``sign_in_per_account_address``), per address (``sign_in_per_address``)
  and per account for untrusted browsers (``sign_in_untrusted_per_account``).
  That last one is the only limit a stranger can exhaust, and it stops only
  other untrusted browsers of the account: its owner's own browsers go on
  signing in.

While a limit holds, the right password gets the same 429 as a wrong one,
so the lockout is no guessing oracle.
"""

import hashlib
import secrets
from dataclasses import dataclass

from django.conf import settings
from django.http import HttpRequest, HttpResponse
from django.urls import reverse

from tenants import ratelimit
from tenants.models import UserManager

COOKIE_PREFIX = "signin_device_"
# A separate signing namespace: no other signed value can pass for a device cookie.
COOKIE_SALT = "tenants.sign_in_limits.device"
COOKIE_AGE = 365 * 24 * 3600


def _account_digest(request: HttpRequest, account: str) -> str:
    # Hashed: the cookie does not show the email. The tenant is part of it:
    # a cookie is for one account at one tenant host.
    return hashlib.sha256(f"{request.tenant.pk}:{account}".encode()).hexdigest()


def _cookie_name(digest: str) -> str:
    # One cookie per account, so a browser shared by two people trusts both.
    return COOKIE_PREFIX + digest[:16]


@dataclass(frozen=True)
class SignInAttempt:
    """One POST of the sign-in form, and the counters it is charged to."""

    account: str
    address: str
    device: str | None  # the nonce of a valid device cookie for this account

    @classmethod
    def of(cls, request: HttpRequest) -> "SignInAttempt":
        account = UserManager.normalize_email(request.POST.get("username", ""))
        return cls(account, ratelimit.client_address(request), _device_nonce(request, account))

    def counters(self) -> list[tuple[str, str]]:
        if self.device:
            return [("sign_in_per_device", self.device)]
        return [
            ("sign_in_per_account_address", f"{self.account} {self.address}"),
            ("sign_in_per_address", self.address),
            ("sign_in_untrusted_per_account", self.account),
        ]

    def wait(self) -> int | None:
        """Seconds to wait if one of this attempt's limits is used up, else None."""
        for name, subject in self.counters():
            if wait := ratelimit.is_limited(name, subject):
                return wait
        return None

    def failed(self) -> None:
        for name, subject in self.counters():
            ratelimit.hit(name, subject)


def _device_nonce(request: HttpRequest, account: str) -> str | None:
    """The nonce of the browser's device cookie for ``account``, if it has a valid one."""
    if not account:
        return None
    digest = _account_digest(request, account)
    value = request.get_signed_cookie(
        _cookie_name(digest), default=None, salt=COOKIE_SALT, max_age=COOKIE_AGE
    )
    if value is None:
        return None
    cookie_digest, _colon, nonce = value.partition(":")
    return nonce if cookie_digest == digest and nonce else None


def remember_device(request: HttpRequest, response: HttpResponse, account: str) -> None:
    """After a successful sign-in: a fresh device cookie for ``account`` (OWASP: issue one)."""
    digest = _account_digest(request, account)
    response.set_signed_cookie(
        _cookie_name(digest),
        f"{digest}:{secrets.token_urlsafe(16)}",
        salt=COOKIE_SALT,
        max_age=COOKIE_AGE,
        # Sent only to the sign-in page of this host (host-only, like the session).
        path=reverse("tenants:login"),
        secure=settings.SESSION_COOKIE_SECURE,
        httponly=True,
        samesite="Lax",
    )
