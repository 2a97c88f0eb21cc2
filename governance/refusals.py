"""The log of refused authorizations: who tried what, on what, and why it was refused.

Values come from users (usernames, titles, paths), so control characters are escaped before they
reach the log: a username with a newline cannot forge a second log line, nor a bidi override
disguise one.
"""

from __future__ import annotations

import logging
import re

logger = logging.getLogger("valuegate.authorization")

_UNSAFE = re.compile(r"[\x00-\x1f\x7f-\x9f\u2028\u2029\u200e\u200f\u202a-\u202e\u2066-\u2069]")


def escape(value: object) -> str:
    """The text of `value` with every control or bidi character written as an escape."""
    return _UNSAFE.sub(
        lambda m: f"\\x{ord(m.group()):02x}" if ord(m.group()) < 0x100 else f"\\u{ord(m.group()):04x}",
        str(value),
    )


def actor_label(actor) -> str:
    if actor is None or not getattr(actor, "is_authenticated", False):
        return "anonymous"
    return f"{actor.get_username()} (#{actor.pk})"


def log_refusal(*, actor, operation: str, target: object, reason: str) -> None:
    logger.warning(
        "Refused: %s tried %s on %s: %s",
        escape(actor_label(actor)),
        escape(operation),
        escape(target),
        escape(reason),
    )
