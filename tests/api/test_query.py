"""``oauth_clients.api.query``: the filter language and the page cursor, as tables."""

import base64
import json

import pytest
from django.db.models import Q

from oauth_clients.api.query import (
    MAX_OFFSET,
    QueryError,
    decode_cursor,
    encode_cursor,
    parse_filter,
)

FILTERS = [
    ('clientName co "report"', Q(name__icontains="report")),
    ('clientName sw "rep"', Q(name__istartswith="rep")),
    ('clientName eq "Reports"', Q(name__iexact="Reports")),
    ('appType eq "spa"', Q(app_type="spa")),
    ('clientId eq "abc"', Q(client_id="abc")),
    ('clientId sw "ab"', Q(client_id__istartswith="ab")),
    ('clientName co ""', Q(name__icontains="")),
    ('  clientName  co  "x"  ', Q(name__icontains="x")),
    (
        'clientName co "report" and appType eq "spa"',
        Q(name__icontains="report") & Q(app_type="spa"),
    ),
    ('clientName co "a" AND appType eq "web"', Q(name__icontains="a") & Q(app_type="web")),
    # "and" inside a quoted value is text.
    ('clientName co "research and dev"', Q(name__icontains="research and dev")),
    (r'clientName co "\"best\""', Q(name__icontains='"best"')),
    (r'clientName co "back\\slash"', Q(name__icontains="back\\slash")),
]


@pytest.mark.parametrize(("expression", "query"), FILTERS, ids=[f[0] for f in FILTERS])
def test_a_filter_reads_as(expression, query):
    assert parse_filter(expression) == query


REFUSED_FILTERS = [
    "report",
    "clientName co report",
    'clientName like "report"',
    'description co "report"',
    'clientName co "report" or appType eq "spa"',
    'clientName co "report" and',
    'and clientName co "report"',
    'clientName co "report" appType eq "spa"',
    "clientName co 'report'",
    'clientName co "unterminated',
    'clientname co "x"',
    'clientName co "a\x00b"',  # PostgreSQL text cannot hold NUL
]


@pytest.mark.parametrize("expression", REFUSED_FILTERS)
def test_a_filter_is_refused(expression):
    with pytest.raises(QueryError):
        parse_filter(expression)


@pytest.mark.parametrize("offset", [0, 1, 20, 999, MAX_OFFSET])
def test_a_cursor_reads_back_as_its_offset(offset):
    cursor = encode_cursor(offset)
    assert "=" not in cursor  # base64url without padding: safe in a query string
    assert decode_cursor(cursor) == offset


def forged(value) -> str:
    return base64.urlsafe_b64encode(json.dumps(value).encode()).decode().rstrip("=")


REFUSED_CURSORS = [
    "",
    "not-a-cursor",
    "!!!",
    "é",
    forged({"o": -1}),
    forged({"o": "3"}),
    forged({"o": 1.5}),
    forged({"o": True}),
    forged({"o": None}),
    forged({"o": MAX_OFFSET + 1}),
    forged({"o": 2**63}),
    forged({"offset": 3}),
    forged([3]),
    forged(None),
]


@pytest.mark.parametrize("cursor", REFUSED_CURSORS)
def test_a_cursor_the_api_did_not_give_out_is_refused(cursor):
    with pytest.raises(QueryError):
        decode_cursor(cursor)
