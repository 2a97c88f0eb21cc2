"""Single-line text: the fields that end up in subjects, headers and chat titles.

A line break or another control character in a title reaches every message about the initiative:
as an e-mail header it is a header injection (Django refuses it with BadHeaderError), in a chat
card it breaks the layout. Such fields refuse control characters at input, with a message that
names the field; multi-line fields (pain point, rationale) keep their line breaks.
"""

from __future__ import annotations

import re
import unicodedata

from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _

# Every "Other" character (Cc controls, Cf formats such as zero-width and bidirectional overrides,
# Cs, Co, Cn) and the Unicode line and paragraph separators.
BREAKING_CATEGORIES = frozenset({"Cc", "Cf", "Cs", "Co", "Cn", "Zl", "Zp"})


def control_characters(text: str) -> list[str]:
    """The control characters in `text`, each once, as U+XXXX codes, in order of appearance."""
    found = dict.fromkeys(
        f"U+{ord(ch):04X}" for ch in text if unicodedata.category(ch) in BREAKING_CATEGORIES
    )
    return list(found)


def strip_control_characters(text: str) -> str:
    """`text` with each run of control characters (and the spaces around it) made one space."""
    cleaned = "".join(" " if unicodedata.category(ch) in BREAKING_CATEGORIES else ch for ch in text)
    return re.sub(r"\s+", " ", cleaned).strip()


def validate_single_line(value: str) -> None:
    """Refuse line breaks, tabs and other control characters in a one-line field."""
    found = control_characters(value or "")
    if found:
        raise ValidationError(
            # Translators: found lists the characters as Unicode codes, e.g. "U+000A, U+0009".
            _("Must be a single line: remove the line breaks or control characters (%(found)s)."),
            code="control_characters",
            params={"found": ", ".join(found)},
        )
