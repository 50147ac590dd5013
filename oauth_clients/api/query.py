"""The client listing's query language: a filter expression and page cursors.

The filter is a subset of SCIM's (RFC 7644 §3.4.2.2): ``attribute op "value"``
terms joined by ``and``, read left to right. The cursor is opaque to callers:
an offset, base64url-encoded (RFC 4648 §5) without padding.
"""

import base64
import binascii
import json
import re

from django.db.models import Q

# (attribute, operator) → lookup. eq on a name ignores case, as SCIM compares attributes
# that are not caseExact (RFC 7643 §2.2); a client id or type is compared exactly.
FILTER_LOOKUPS = {
    ("clientName", "eq"): "name__iexact",
    ("clientName", "co"): "name__icontains",
    ("clientName", "sw"): "name__istartswith",
    ("appType", "eq"): "app_type",
    ("appType", "co"): "app_type__icontains",
    ("appType", "sw"): "app_type__istartswith",
    ("clientId", "eq"): "client_id",
    ("clientId", "co"): "client_id__icontains",
    ("clientId", "sw"): "client_id__istartswith",
}
FILTER_TERM = re.compile(
    r'\s*(?P<field>clientName|appType|clientId)\s+(?P<op>eq|co|sw)\s+"(?P<value>(?:[^"\\]|\\.)*)"\s*'
)
FILTER_AND = re.compile(r"and\s+", re.IGNORECASE)
FILTER_HELP = 'use terms like clientName co "text" or appType eq "web", joined by "and".'
# No cursor this API gives out points further (and a forged one must not overflow OFFSET).
MAX_OFFSET = 1_000_000


class QueryError(ValueError):
    """A filter or cursor that is not one this API reads."""

    def __init__(self, detail: str):
        super().__init__(detail)
        self.detail = detail


def parse_filter(expression: str) -> Q:
    """``clientName co "x" and appType eq "web"`` as a ``Q``, or ``QueryError``.

    Terms are read one after the other, so ``and`` inside a quoted value is text.
    A value escapes ``"`` and ``\\`` with a backslash (RFC 7644 uses JSON strings).
    """
    query, position, expression = Q(), 0, expression.strip()
    while True:
        match = FILTER_TERM.match(expression, position)
        if not match:
            raise QueryError(FILTER_HELP)
        field, op, value = match.group("field", "op", "value")
        query &= Q(**{FILTER_LOOKUPS[field, op]: _unescape(value)})
        position = match.end()
        if position == len(expression):
            return query
        joiner = FILTER_AND.match(expression, position)
        if not joiner:
            raise QueryError(FILTER_HELP)
        position = joiner.end()


def _unescape(value: str) -> str:
    value = value.replace('\\"', '"').replace("\\\\", "\\")
    if "\x00" in value:
        # PostgreSQL text cannot hold NUL: the query would fail (DataError), not match nothing.
        raise QueryError("values cannot contain NUL.")
    return value


def encode_cursor(offset: int) -> str:
    return base64.urlsafe_b64encode(json.dumps({"o": offset}).encode()).decode().rstrip("=")


def decode_cursor(cursor: str) -> int:
    """The offset in a cursor from ``encode_cursor``, or ``QueryError``."""
    try:
        padded = cursor + "=" * (-len(cursor) % 4)
        offset = json.loads(base64.urlsafe_b64decode(padded))["o"]
    except (ValueError, KeyError, TypeError, binascii.Error):
        raise QueryError("not a cursor this API gave out.") from None
    # bool is an int to Python, not to JSON.
    if type(offset) is not int or not 0 <= offset <= MAX_OFFSET:
        raise QueryError("not a cursor this API gave out.")
    return offset
