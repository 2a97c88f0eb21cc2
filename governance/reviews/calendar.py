"""The periodic jobs' clock: every schedule is computed in UTC from an aware `now`.

A naive datetime is refused rather than guessed: read as local time it would move a schedule by
the UTC offset, and twice a year by an hour more or less.
"""

from __future__ import annotations

import datetime as dt


def as_utc(now: dt.datetime) -> dt.datetime:
    if not isinstance(now, dt.datetime) or now.tzinfo is None or now.utcoffset() is None:
        raise ValueError(f"The periodic jobs need an aware datetime (with its UTC offset), not {now!r}.")
    return now.astimezone(dt.UTC)
