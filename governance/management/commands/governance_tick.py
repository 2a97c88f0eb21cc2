"""Run the committee's periodic work once, synchronously: for the embedded default, cron and tests."""

from __future__ import annotations

import argparse
import datetime as dt

from django.conf import settings
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, ngettext

from governance.audit.services import ledger_verify_and_alert
from governance.commands import TranslatedCommand
from governance.notifications.outbox import relay_pending
from governance.schedule import PERIODIC_JOB_LABELS, run_periodic_work


def aware_datetime(text: str) -> dt.datetime:
    """Parse --now. A time without a UTC offset is refused: which zone, and which side of a DST
    change, would be a guess."""
    try:
        value = dt.datetime.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(
            _("%(text)s is not an ISO 8601 date and time.") % {"text": repr(text)}
        ) from None
    if value.tzinfo is None or value.utcoffset() is None:
        raise argparse.ArgumentTypeError(
            # Translators: %(text)s is the time given, quoted; %(time)s the same time, unquoted.
            _("%(text)s has no UTC offset; give one, e.g. %(time)sZ or %(time)s+02:00.")
            % {"text": repr(text), "time": text}
        )
    return value.astimezone(dt.UTC)


class Command(TranslatedCommand):
    help = gettext_lazy(
        "Chase overdue sign-offs, escalate perpetual pilots, enforce exit criteria, open monthly "
        "value reviews, then relay the notification outbox. Safe to run any number of times."
    )

    def add_arguments(self, parser) -> None:
        parser.add_argument(
            "--now",
            type=aware_datetime,
            help=_("Run as of this moment, an ISO 8601 date and time with its UTC offset (default: now)."),
        )
        parser.add_argument(
            "--verify-ledger",
            action="store_true",
            help=_(
                "Also recompute the decision ledger and alert the chair and auditors if it is broken "
                "(what Celery beat runs nightly; for cron users, once a day)."
            ),
        )

    def handle(self, *args, now: dt.datetime | None = None, **options) -> None:
        now = now or timezone.now()
        # Translators: %(now)s is a date and time, YYYY-MM-DD HH:MM:SS.
        self.stdout.write(_("Governance tick at %(now)s UTC") % {"now": f"{now:%Y-%m-%d %H:%M:%S}"})
        for name, count in run_periodic_work(now=now).items():
            # Translators: %(job)s is a periodic job, e.g. "value reviews"; %(count)s how many it did.
            line = _("%(job)s: %(count)s") % {"job": PERIODIC_JOB_LABELS.get(name, name), "count": count}
            self.stdout.write(f"  {line}")
        # Retry backoff of failed deliveries runs on the real clock, whatever --now says.
        relayed = relay_pending()
        retried = relayed.failed - relayed.dead
        parts = [_("notifications sent: %(count)s") % {"count": relayed.sent}]
        if retried:
            parts.append(_("%(count)s to retry later") % {"count": retried})
        if relayed.dead:
            parts.append(
                _("%(count)s dead (see Notification deliveries in the admin)") % {"count": relayed.dead}
            )
        self.stdout.write("  " + ", ".join(parts))
        if options.get("verify_ledger"):
            outcome = ledger_verify_and_alert(
                anchor_path=getattr(settings, "VALUEGATE_LEDGER_ANCHOR_FILE", "") or None
            )
            if outcome.intact and outcome.summary is not None:
                self.stdout.write(
                    "  "
                    + ngettext(
                        "ledger: intact, %(count)s event",
                        "ledger: intact, %(count)s events",
                        outcome.summary.count,
                    )
                    % {"count": outcome.summary.count}
                )
            else:
                self.stdout.write(
                    "  "
                    # Translators: %(problem)s says what is wrong with the ledger.
                    + _("ledger: BROKEN, %(problem)s; the chair and auditors were alerted")
                    % {"problem": outcome.problem}
                )
