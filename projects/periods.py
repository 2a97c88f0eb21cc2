"""The one rule for the date of every dated figure: a measurement's period, a cost's or benefit's
month, an experiment look's day. A figure comes from a day that has happened, and not from before
ValueGate's earliest date."""

from __future__ import annotations

import datetime as dt

from django.utils import timezone

# No AI initiative ValueGate governs has costs, benefits or measurements from before this century,
# yet history of any real initiative can still be back-filled. The bound catches a mistyped year
# (0001, 0025 for 2025, 1026 for 2026) before it lands in the record, where one month in year 1
# would stretch the ROI's month-by-month record over two thousand years of empty months.
EARLIEST_DAY = dt.date(2000, 1, 1)


def _day_text(day: dt.date) -> str:
    return f"{day.year:04d}-{day.month:02d}-{day.day:02d}"  # strftime drops a small year's zeros


def _month_text(day: dt.date) -> str:
    return f"{day.year:04d}-{day.month:02d}"


def check_figure_date(day: dt.date, *, what: str, now: dt.datetime, monthly: bool = False) -> dt.date:
    """`day` if a figure may be dated so, else ValueError naming `what` and the allowed range.

    Allowed: from EARLIEST_DAY to today, `now`'s date where ValueGate keeps its calendar. A monthly
    figure (`monthly`: the first day of its month) may be of the current month, not a later one.
    """
    today = timezone.localdate(now) if timezone.is_aware(now) else now.date()
    if monthly:
        latest, text, unit = today.replace(day=1), _month_text, "the current month"
    else:
        latest, text, unit = today, _day_text, "today"
    allowed = f"allowed: {text(EARLIEST_DAY)} to {text(latest)} ({unit})"
    if day > latest:
        happened = "has not happened yet" if monthly else "is in the future"
        raise ValueError(f"{what} {text(day)} {happened}; {allowed}.")
    if day < EARLIEST_DAY:
        raise ValueError(f"{what} {text(day)} is before {text(EARLIEST_DAY)}; {allowed}.")
    return day
