"""Text that people read: names and descriptions shown to other people.

A name is shown on consent and approval pages, where it must read as what
it is. Bidirectional controls (U+202E RIGHT-TO-LEFT OVERRIDE and friends)
can make "elgooG" display as "Google", and invisible formatting characters
can make two different names look the same (Unicode TR #36 §2). Joiners
(U+200C, U+200D) stay allowed: scripts and emoji need them.
"""

import unicodedata

from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _

BIDI_CONTROLS = frozenset(
    "\u061c\u200e\u200f\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069"
)
JOINERS = frozenset("\u200c\u200d")


def hidden_characters(value: str, *, allow_newlines: bool = False) -> list[str]:
    """The characters of ``value`` that change how text displays without showing.

    Bidirectional controls, other format characters (category Cf: zero-width
    space, word joiner, byte order mark, soft hyphen, ...) and control
    characters (tab and newline only where ``allow_newlines``).
    """
    allowed = {"\n", "\r", "\t"} if allow_newlines else set()
    found = []
    for char in value:
        if char in JOINERS or char in allowed:
            continue
        if char in BIDI_CONTROLS or unicodedata.category(char) in {"Cf", "Cc"}:
            found.append(char)
    return found


def validate_visible_text(value: str, *, allow_newlines: bool = False) -> None:
    hidden = hidden_characters(value, allow_newlines=allow_newlines)
    if hidden:
        codes = ", ".join(sorted({f"U+{ord(char):04X}" for char in hidden}))
        raise ValidationError(
            _("Remove the invisible or direction-changing characters (%(codes)s)."),
            params={"codes": codes},
            code="hidden_characters",
        )
