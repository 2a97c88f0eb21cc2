"""Run the committee's periodic work once, synchronously: for the embedded default, cron and tests."""

from __future__ import annotations

import argparse
import datetime as dt

from django.conf import settings
from django.core.management.base import BaseCommand
from django.utils import timezone

from governance.audit.services import ledger_verify_and_alert
from governance.notifications.outbox import relay_pending
from governance.schedule import run_periodic_work


def aware_datetime(text: str) -> dt.datetime:
    """Parse --now. A time without a UTC offset is refused: which zone, and which side of a DST
    change, would be a guess."""
    try:
        value = dt.datetime.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not an ISO 8601 date and time.") from None
    if value.tzinfo is None or value.utcoffset() is None:
        raise argparse.ArgumentTypeError(
            f"{text!r} has no UTC offset; give one, e.g. {text}Z or {text}+02:00."
        )
    return value.astimezone(dt.UTC)


class Command(BaseCommand):
    help = (
        "Chase overdue sign-offs, escalate perpetual pilots, enforce exit criteria, open monthly "
        "value reviews, then relay the notification outbox. Safe to run any number of times."
    )

    def add_arguments(self, parser) -> None:
        parser.add_argument(
            "--now",
            type=aware_datetime,
            help="Run as of this moment, an ISO 8601 date and time with its UTC offset (default: now).",
        )
        parser.add_argument(
            "--verify-ledger",
            action="store_true",
            help="Also recompute the decision ledger and alert the chair and auditors if it is broken "
            "(what Celery beat runs nightly; for cron users, once a day).",
        )

    def handle(self, *args, now: dt.datetime | None = None, **options) -> None:
        now = now or timezone.now()
        self.stdout.write(f"Governance tick at {now:%Y-%m-%d %H:%M:%S} UTC")
        for name, count in run_periodic_work(now=now).items():
            self.stdout.write(f"  {name}: {count}")
        # Retry backoff of failed deliveries runs on the real clock, whatever --now says.
        relayed = relay_pending()
        retried = relayed.failed - relayed.dead
        failed = f", {retried} to retry later" if retried else ""
        dead = f", {relayed.dead} dead (see Notification deliveries in the admin)" if relayed.dead else ""
        self.stdout.write(f"  notifications sent: {relayed.sent}{failed}{dead}")
        if options.get("verify_ledger"):
            outcome = ledger_verify_and_alert(
                anchor_path=getattr(settings, "VALUEGATE_LEDGER_ANCHOR_FILE", "") or None
            )
            if outcome.intact and outcome.summary is not None:
                self.stdout.write(f"  ledger: intact, {outcome.summary.count} events")
            else:
                self.stdout.write(f"  ledger: BROKEN, {outcome.problem}; the chair and auditors were alerted")
