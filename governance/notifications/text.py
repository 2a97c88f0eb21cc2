"""Text that cannot break a message: one way to make subjects, headers and chat titles.

Every subject or title goes through `one_line` with the limit of the channel it is sent on:
control characters (line breaks, tabs, zero-width and bidirectional marks) become spaces, so no
header can be injected and no card's layout broken, and the length is capped in characters (not
bytes, so Chinese titles are not cut inside a character) at a word boundary, with an ellipsis.
"""

from __future__ import annotations

import unicodedata

from projects.text import BREAKING_CATEGORIES, strip_control_characters

ELLIPSIS = "…"

# Characters each channel shows of a subject or title, and of the message's text. E-mail: RFC 5322
# allows 998 per header line, but clients show ~80 and the outbox column holds 200. Slack: a header
# block holds 150, a section 3,000. DingTalk and WeCom cut long titles in their lists and cap the
# message body (WeCom: 4,096 bytes of markdown, so characters / 3 for Chinese). Feishu/Lark: titles
# are shown to ~100. Teams: Adaptive Card text blocks are not capped, but the card (28 KB) is.
SUBJECT_LIMITS: dict[str, int] = {
    "outbox": 200,
    "email": 150,
    "webhook": 200,
    "slack": 150,
    "teams": 150,
    "dingtalk": 64,
    "wecom": 64,
    "feishu": 100,
}
BODY_LIMITS: dict[str, int] = {
    "email": 20_000,
    "webhook": 20_000,
    "slack": 2_900,
    "teams": 8_000,
    "dingtalk": 4_000,
    "wecom": 1_300,
    "feishu": 8_000,
}


def cap(text: str, limit: int) -> str:
    """`text` cut to at most `limit` characters, at a word boundary when there is one, with an ellipsis."""
    if len(text) <= limit:
        return text
    room = max(limit - len(ELLIPSIS), 0)
    cut = text[:room]
    if " " in cut and not text[room : room + 1].isspace():
        # Back to the last space, unless that throws away most of the room (one very long word).
        boundary = cut.rstrip().rfind(" ")
        if boundary >= room // 2:
            cut = cut[:boundary]
    return cut.rstrip(" ,;:-–—") + ELLIPSIS


def one_line(text: str, *, limit: int) -> str:
    """A subject, header or title: a single line of at most `limit` characters."""
    return cap(strip_control_characters(text or ""), limit)


def subject_for(channel_kind: str, text: str) -> str:
    return one_line(text, limit=SUBJECT_LIMITS.get(channel_kind, SUBJECT_LIMITS["outbox"]))


def body_for(channel_kind: str, text: str) -> str:
    """A message's text: line breaks and indentation kept, other control characters made spaces,
    length capped."""
    lines = [
        "".join(" " if unicodedata.category(ch) in BREAKING_CATEGORIES else ch for ch in line).rstrip()
        for line in (text or "").replace("\r\n", "\n").split("\n")
    ]
    return cap("\n".join(lines).strip(), BODY_LIMITS.get(channel_kind, BODY_LIMITS["email"]))
