"""Rules for the redirect URLs and allowed origins a client may register.

Registered values are stored exactly as entered, because the authorization
server compares redirect URLs as exact strings (RFC 9700 §4.1.3). These
checks are part of ``services.validate_client_data``, which the console and
the management API run on their input.
"""

import ipaddress
import re
from urllib.parse import urlsplit

from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _

MAX_URL_LENGTH = 2000

# Hosts for which plain http is allowed: the loopback interface (RFC 8252 §7.3).
HTTP_ONLY_LOOPBACK = _(
    "Use https://. Plain http:// is allowed only for localhost, 127.0.0.1 and [::1]."
)
LOOPBACK_HOSTS = frozenset({"localhost", "127.0.0.1", "[::1]"})

# A host name in ASCII (IDNs in their xn-- form): dot-separated labels of
# letters, digits and inner hyphens; an IPv4 address matches too.
HOSTNAME = re.compile(r"^(?!-)[a-z0-9-]{1,63}(?<!-)(?:\.(?!-)[a-z0-9-]{1,63}(?<!-))*\.?$")

# scheme://host[:port]rest, the port optional.
AUTHORITY_PORT = re.compile(
    r"^(?P<head>[A-Za-z][A-Za-z0-9+.-]*://(?:\[[^\]/]*\]|[^/?#:\[]*))(?::\d*)?(?P<tail>.*)$",
    re.DOTALL,
)

# The characters a URI may contain (RFC 3986 §2): anything else is refused, as
# the authorization endpoint (oauthlib) would refuse it later.
URI_CHARACTERS = re.compile(r"^[A-Za-z0-9\-._~:/?#\[\]@!$&'()*+,;=%]*$")

# A native app's private-use scheme in reverse-domain form (RFC 8252 §7.1),
# e.g. com.example.app:/callback.
PRIVATE_USE_SCHEME = re.compile(r"^[a-z][a-z0-9-]*(?:\.[a-z0-9-]+)+$")


def without_port(url: str) -> str:
    """The URL as written, minus the port of its authority (for loopback matching).

    Nothing else is normalised (no case folding, no dropped empty query):
    apart from the port, a loopback redirect URL must match to the letter.
    """
    match = AUTHORITY_PORT.match(url)
    return match.group("head") + match.group("tail") if match else url


def _has_space_or_control(value: str) -> bool:
    return any(ch.isspace() or ord(ch) < 0x20 or ord(ch) == 0x7F for ch in value)


def _netloc_host(netloc: str) -> str:
    """The host part of ``host[:port]`` as written, lowercased (IPv6 keeps its brackets)."""
    if netloc.startswith("["):
        return netloc[: netloc.find("]") + 1].lower()
    return netloc.rsplit(":", 1)[0].lower() if ":" in netloc else netloc.lower()


def is_loopback_http(url: str) -> bool:
    try:
        parts = urlsplit(url)
    except ValueError:
        return False
    if "@" in parts.netloc or "\\" in parts.netloc:
        return False  # userinfo: http://localhost:80@evil.test/ is not a loopback URL
    return parts.scheme == "http" and _netloc_host(parts.netloc) in LOOPBACK_HOSTS


def _split(value: str):
    try:
        return urlsplit(value)
    except ValueError:  # e.g. an unclosed IPv6 bracket
        raise ValidationError(_("This is not a valid URL."), code="invalid") from None


def _check_common(value: str, what) -> None:
    if not value:
        raise ValidationError(_("Enter a URL."), code="required")
    if len(value) > MAX_URL_LENGTH:
        raise ValidationError(
            _("%(what)s is longer than %(max)d characters."),
            code="too_long",
            params={"what": what, "max": MAX_URL_LENGTH},
        )
    if _has_space_or_control(value):
        raise ValidationError(
            _("%(what)s must not contain spaces or control characters."),
            code="whitespace",
            params={"what": what},
        )
    if "*" in value:
        raise ValidationError(_("Wildcards are not allowed."), code="wildcard")
    if not URI_CHARACTERS.match(value):
        raise ValidationError(
            _(
                "%(what)s may only contain the characters of a URI (RFC 3986): encode others "
                "with %% escapes."
            ),
            code="invalid_character",
            params={"what": what},
        )


def _valid_hostname(parts) -> bool:
    if parts.netloc.startswith("["):
        try:
            ipaddress.IPv6Address(parts.hostname)
        except ValueError:
            return False
        return True
    return HOSTNAME.match(parts.hostname) is not None


def _check_host_and_port(parts, what) -> None:
    if not parts.netloc or not parts.hostname:
        raise ValidationError(_("%(what)s needs a host."), code="no_host", params={"what": what})
    if "@" in parts.netloc:
        raise ValidationError(
            _("A user name or password in the URL is not allowed."), code="userinfo"
        )
    if not _valid_hostname(parts):
        raise ValidationError(_("The host is not valid."), code="bad_host")
    try:
        parts.port  # noqa: B018 - raises ValueError for a bad port
    except ValueError:
        raise ValidationError(_("The port is not valid."), code="bad_port") from None


def validate_redirect_uri(value: str, *, allow_private_use_scheme: bool = False) -> None:
    """Raise ``ValidationError`` naming why ``value`` cannot be a redirect URL."""
    what = _("A redirect URL")
    _check_common(value, what)
    if "#" in value:
        raise ValidationError(_("A redirect URL must not contain a fragment (#)."), code="fragment")
    parts = _split(value)
    scheme = parts.scheme
    if not scheme or value[len(scheme) : len(scheme) + 1] != ":":
        raise ValidationError(
            _("Enter an absolute URL that starts with https://."), code="relative"
        )
    if scheme == "https":
        _check_host_and_port(parts, what)
        return
    if scheme == "http":
        _check_host_and_port(parts, what)
        if _netloc_host(parts.netloc) not in LOOPBACK_HOSTS:
            raise ValidationError(
                HTTP_ONLY_LOOPBACK,
                code="http_not_loopback",
            )
        return
    if allow_private_use_scheme and PRIVATE_USE_SCHEME.match(scheme):
        if "@" in parts.netloc:
            raise ValidationError(
                _("A user name or password in the URL is not allowed."), code="userinfo"
            )
        return
    if allow_private_use_scheme:
        message = _(
            "Use https://, http:// for localhost, or a private-use scheme in reverse-domain "
            "form such as com.example.app:/callback."
        )
    else:
        message = HTTP_ONLY_LOOPBACK
    raise ValidationError(message, code="scheme")


def validate_origin(value: str) -> None:
    """Raise ``ValidationError`` unless ``value`` is ``scheme://host[:port]``.

    https, or http for a loopback host, as with redirect URLs.
    """
    what = _("An allowed origin")
    _check_common(value, what)
    parts = _split(value)
    if parts.scheme not in {"https", "http"} or not value.startswith(f"{parts.scheme}://"):
        raise ValidationError(
            _("An origin starts with https:// (or http:// for localhost)."), code="scheme"
        )
    _check_host_and_port(parts, what)
    if parts.path or parts.query or parts.fragment or value.endswith(("?", "#")):
        raise ValidationError(
            _("An origin is only scheme://host[:port], without a path, query or fragment."),
            code="path",
        )
    if parts.scheme == "http" and _netloc_host(parts.netloc) not in LOOPBACK_HOSTS:
        raise ValidationError(
            HTTP_ONLY_LOOPBACK,
            code="http_not_loopback",
        )


def validate_unique(values: list[str]) -> None:
    """Refuse the first repeated value; ``params["index"]`` is where it is repeated."""
    seen = set()
    for index, value in enumerate(values):
        if value in seen:
            raise ValidationError(
                _("%(value)s is on the list twice."),
                code="duplicate",
                params={"value": value, "index": index},
            )
        seen.add(value)
