"""The one rule for the date of every dated figure: a measurement's period, a cost's or benefit's
month, an experiment look's day. A figure comes from a day that has happened, and not from before
ValueGate's earliest date."""

from __future__ import annotations

import datetime as dt

from django.utils import timezone
from django.utils.translation import gettext as _

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
    latest = today.replace(day=1) if monthly else today
    text = _month_text if monthly else _day_text
    dates = {"what": what, "day": text(day), "earliest": text(EARLIEST_DAY), "latest": text(latest)}
    if day > latest:
        if monthly:
            # Translators: what names the figure's date, e.g. "Month"; day, earliest and latest are
            # months written 2025-03.
            message = _(
                "%(what)s %(day)s has not happened yet; allowed: %(earliest)s to %(latest)s "
                "(the current month)."
            )
        else:
            # Translators: what names the figure's date, e.g. "Looked on"; dates are written 2025-03-31.
            message = _("%(what)s %(day)s is in the future; allowed: %(earliest)s to %(latest)s (today).")
        raise ValueError(message % dates)
    if day < EARLIEST_DAY:
        if monthly:
            # Translators: what names the figure's date, e.g. "Month"; the months are written 2025-03.
            message = _(
                "%(what)s %(day)s is before %(earliest)s; allowed: %(earliest)s to %(latest)s "
                "(the current month)."
            )
        else:
            # Translators: what names the figure's date, e.g. "Looked on"; the dates are written
            # 2025-03-31.
            message = _(
                "%(what)s %(day)s is before %(earliest)s; allowed: %(earliest)s to %(latest)s (today)."
            )
        raise ValueError(message % dates)
    return day
