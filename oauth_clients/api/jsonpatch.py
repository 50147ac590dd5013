"""JSON Patch (RFC 6902): ``add``, ``remove`` and ``replace`` on a flat document's members.

Enough of RFC 6902 for documents whose members are strings and lists of
strings: a path (a JSON Pointer, RFC 6901) names a member (``/clientName``)
or one item of a list member (``/redirectUris/0``; ``/redirectUris/-`` is
past the end, for ``add``). Which members may change is the caller's list.
Pure: no Django, no I/O.
"""

import copy
import re

OPERATIONS = ("add", "remove", "replace")
# RFC 6901 §4: an array index is "0" or ASCII digits without a leading zero ("²" and "١" are
# digits to str.isdigit, not here); "-" is the position after the last item.
INDEX = re.compile(r"0|[1-9][0-9]*|-")
# More digits than this are past the end of any list: int() of a 5,000-digit string is slow.
MAX_INDEX_DIGITS = 9


class PatchError(ValueError):
    """An operation that cannot apply; ``member`` is the member it was about, if known."""

    def __init__(self, detail: str, member: str = ""):
        super().__init__(detail)
        self.detail = detail
        self.member = member


def apply_patch(document: dict, operations, allowed: set[str]) -> dict:
    """``document`` with ``operations`` applied in order (RFC 6902 §3).

    ``allowed`` holds the members that may change, as pointers (``{"/clientName"}``).
    The given document is left as it was: a patch that fails changes nothing (§5).
    """
    if not isinstance(operations, list) or not operations:
        raise PatchError("The body must be a non-empty JSON Patch array.")
    document = copy.deepcopy(document)
    for number, operation in enumerate(operations):
        _apply(document, operation, allowed, f"operation {number}")
    return document


def _apply(document: dict, operation, allowed: set[str], where: str) -> None:
    if not isinstance(operation, dict):
        raise PatchError(f"{where}: must be an object.")
    op, path = operation.get("op"), operation.get("path")
    if op not in OPERATIONS:
        raise PatchError(f"{where}: op must be add, remove or replace.")
    if not isinstance(path, str):
        raise PatchError(f"{where}: path must be a string.")
    member, index = _target(path, allowed, where)
    # §4.1, §4.3: add and replace carry a value; null is a value.
    if op != "remove" and "value" not in operation:
        raise PatchError(f"{where}: value is missing.", member)
    if index is None:
        _on_member(document, member, op, operation.get("value"))
    else:
        _on_item(document, member, index, op, operation.get("value"), f"{where}: {path}")


def _target(path: str, allowed: set[str], where: str) -> tuple[str, str | None]:
    """The member and the item index (None for the whole member) that ``path`` points at.

    Anything deeper, or a trailing slash ("/clientName/" points at the member ""
    of a string, RFC 6901 §4), is not a path that may change.
    """
    parts = path.split("/")
    member = parts[1] if len(parts) > 1 else ""
    index = parts[2] if len(parts) == 3 else None
    shaped = parts[0] == "" and (len(parts) == 2 or (index is not None and INDEX.fullmatch(index)))
    if not shaped or "/" + member not in allowed:
        raise PatchError(f"{where}: {path} cannot be changed.", member)
    return member, index


def _on_member(document: dict, member: str, op: str, value) -> None:
    """Removing a member empties it: the document keeps every member it has."""
    if op == "remove":
        document[member] = [] if isinstance(document.get(member), list) else ""
    else:
        document[member] = value


def _on_item(document: dict, member: str, index: str, op: str, value, where: str) -> None:
    items = document.get(member)
    if not isinstance(items, list):
        raise PatchError(f"{where} is not a list.", member)
    if index == "-" and op == "add":
        items.append(value)
        return
    # §4.1: add may insert at len(items); replace and remove need an existing item.
    if index == "-" or len(index) > MAX_INDEX_DIGITS or int(index) >= len(items) + (op == "add"):
        raise PatchError(f"{where} is out of range.", member)
    position = int(index)
    if op == "add":
        items.insert(position, value)
    elif op == "replace":
        items[position] = value
    else:
        del items[position]
