"""``oauth_clients.api.jsonpatch``: RFC 6902 add/remove/replace, as tables. No Django needed."""

import pytest

from oauth_clients.api.jsonpatch import PatchError, apply_patch

DOCUMENT = {"name": "App", "uris": ["a", "b", "c"], "fixed": "x"}
ALLOWED = {"/name", "/uris"}

ACCEPTED = [
    ([{"op": "replace", "path": "/name", "value": "New"}], {"name": "New"}),
    ([{"op": "add", "path": "/name", "value": "New"}], {"name": "New"}),
    ([{"op": "remove", "path": "/name"}], {"name": ""}),
    ([{"op": "remove", "path": "/uris"}], {"uris": []}),
    ([{"op": "replace", "path": "/uris", "value": ["z"]}], {"uris": ["z"]}),
    ([{"op": "replace", "path": "/name", "value": None}], {"name": None}),  # null is a value
    ([{"op": "add", "path": "/uris/0", "value": "n"}], {"uris": ["n", "a", "b", "c"]}),
    ([{"op": "add", "path": "/uris/1", "value": "n"}], {"uris": ["a", "n", "b", "c"]}),
    ([{"op": "add", "path": "/uris/3", "value": "n"}], {"uris": ["a", "b", "c", "n"]}),
    ([{"op": "add", "path": "/uris/-", "value": "n"}], {"uris": ["a", "b", "c", "n"]}),
    ([{"op": "replace", "path": "/uris/2", "value": "n"}], {"uris": ["a", "b", "n"]}),
    ([{"op": "remove", "path": "/uris/0"}], {"uris": ["b", "c"]}),
    ([{"op": "remove", "path": "/uris/2"}], {"uris": ["a", "b"]}),
    (
        [
            {"op": "add", "path": "/uris/-", "value": "d"},
            {"op": "remove", "path": "/uris/0"},
            {"op": "replace", "path": "/name", "value": "Later"},
        ],
        {"name": "Later", "uris": ["b", "c", "d"]},
    ),
    # Members other than op, path and value are ignored (RFC 6902 §4).
    ([{"op": "remove", "path": "/uris/1", "value": "ignored", "x": 1}], {"uris": ["a", "c"]}),
]


@pytest.mark.parametrize(("operations", "changed"), ACCEPTED, ids=repr)
def test_accepted(operations, changed):
    assert apply_patch(DOCUMENT, operations, ALLOWED) == {**DOCUMENT, **changed}


def test_the_given_document_is_not_changed():
    document = {"name": "App", "uris": ["a"]}
    apply_patch(document, [{"op": "add", "path": "/uris/-", "value": "b"}], ALLOWED)
    assert document == {"name": "App", "uris": ["a"]}


# (operations, the member the error names, or "" for none)
REJECTED = [
    # Not a patch.
    ([], ""),
    ({"op": "replace", "path": "/name", "value": "x"}, ""),
    (None, ""),
    ("replace", ""),
    ([None], ""),
    ([["op"]], ""),
    # Not an operation we apply.
    ([{"op": "move", "from": "/name", "path": "/uris"}], ""),
    ([{"op": "copy", "from": "/name", "path": "/uris"}], ""),
    ([{"op": "test", "path": "/name", "value": "App"}], ""),
    ([{"op": "REPLACE", "path": "/name", "value": "x"}], ""),
    ([{"path": "/name", "value": "x"}], ""),
    # Paths.
    ([{"op": "replace", "value": "x"}], ""),
    ([{"op": "replace", "path": None, "value": "x"}], ""),
    ([{"op": "replace", "path": ["/name"], "value": "x"}], ""),
    ([{"op": "replace", "path": "", "value": "x"}], ""),
    ([{"op": "replace", "path": "/", "value": "x"}], ""),
    ([{"op": "replace", "path": "name", "value": "x"}], ""),
    ([{"op": "replace", "path": "/fixed", "value": "y"}], "fixed"),
    ([{"op": "replace", "path": "/Name", "value": "y"}], "Name"),
    ([{"op": "replace", "path": "/name/", "value": "y"}], "name"),
    ([{"op": "replace", "path": "/uris/0/x", "value": "y"}], "uris"),
    ([{"op": "replace", "path": "/uris/", "value": "y"}], "uris"),
    # Values.
    ([{"op": "replace", "path": "/name"}], "name"),
    ([{"op": "add", "path": "/uris/-"}], "uris"),
    # Indexes (RFC 6901 §4: "0", or ASCII digits without a leading zero; "-" only to add).
    ([{"op": "add", "path": "/uris/4", "value": "n"}], "uris"),
    ([{"op": "replace", "path": "/uris/3", "value": "n"}], "uris"),
    ([{"op": "remove", "path": "/uris/3"}], "uris"),
    ([{"op": "replace", "path": "/uris/-", "value": "n"}], "uris"),
    ([{"op": "remove", "path": "/uris/-"}], "uris"),
    ([{"op": "remove", "path": "/uris/-1"}], "uris"),
    ([{"op": "remove", "path": "/uris/01"}], "uris"),
    ([{"op": "remove", "path": "/uris/1.0"}], "uris"),
    ([{"op": "remove", "path": "/uris/ 1"}], "uris"),
    ([{"op": "remove", "path": "/uris/x"}], "uris"),
    ([{"op": "remove", "path": "/uris/²"}], "uris"),  # a digit to str.isdigit, not to int()
    ([{"op": "remove", "path": "/uris/١"}], "uris"),  # ARABIC-INDIC DIGIT ONE
    ([{"op": "remove", "path": "/uris/1234567890"}], "uris"),  # ten digits: out of range
    ([{"op": "remove", "path": "/uris/" + "1" * 5000}], "uris"),
    # An index into a string.
    ([{"op": "add", "path": "/name/0", "value": "x"}], "name"),
    ([{"op": "add", "path": "/name/-", "value": "x"}], "name"),
]


@pytest.mark.parametrize(("operations", "member"), REJECTED, ids=repr)
def test_rejected(operations, member):
    with pytest.raises(PatchError) as raised:
        apply_patch(DOCUMENT, operations, ALLOWED)
    assert raised.value.member == member
    assert raised.value.detail


def test_a_failing_operation_names_its_position():
    operations = [
        {"op": "replace", "path": "/name", "value": "fine"},
        {"op": "remove", "path": "/uris/9"},
    ]
    with pytest.raises(PatchError, match=r"^operation 1: /uris/9 is out of range\.$"):
        apply_patch(DOCUMENT, operations, ALLOWED)


def test_an_index_of_more_than_nine_digits_is_out_of_range_not_a_shape_error():
    with pytest.raises(PatchError, match="out of range"):
        apply_patch(DOCUMENT, [{"op": "remove", "path": "/uris/" + "9" * 10}], ALLOWED)
