"""Relay of the notification outbox by e-mail: each (recipient, event) sent once, none lost."""

from __future__ import annotations

import datetime as dt
import logging
from dataclasses import dataclass

from django.conf import settings
from django.core.mail import EmailMessage
from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from governance.models import Notification

logger = logging.getLogger(__name__)

# A failed send is tried again after 1, 2, 4 … minutes, at most every 6 hours, never given up:
# the committee must not miss a notification because the mail server was down for a day.
RETRY_FIRST = dt.timedelta(minutes=1)
RETRY_MAX = dt.timedelta(hours=6)
# Rows relayed per call, so that one call stays well inside the task's time limit; the periodic
# relay takes the rest.
RELAY_BATCH = 500


@dataclass(frozen=True)
class RelayResult:
    sent: int
    failed: int


def retry_delay(attempts: int) -> dt.timedelta:
    """Exponential backoff after `attempts` failed sends."""
    return min(RETRY_FIRST * 2 ** max(attempts - 1, 0), RETRY_MAX)


def message_id(notification: Notification) -> str:
    """A Message-ID fixed per notification, so a mail system can tell a repeated send from a new one."""
    domain = settings.DEFAULT_FROM_EMAIL.rpartition("@")[2].strip("<> ") or "valuegate"
    return f"<valuegate.notification.{notification.pk}.{notification.created_at:%Y%m%d%H%M%S}@{domain}>"


def relay_pending(*, now: dt.datetime | None = None, limit: int = RELAY_BATCH) -> RelayResult:
    """Send pending notifications whose next attempt is due, each once.

    Each row is locked (skipping rows another relay holds) and marked sent in the transaction
    that sends it: two relays, or one task delivered twice, never send the same (recipient, event).
    A failed send (mail server down, address refused) records the error and the time of the next
    attempt on its own row and moves on, so one bad address does not hold up the rest.
    """
    now = now or timezone.now()
    sent = failed = 0
    while sent + failed < limit:
        with transaction.atomic():
            notification = (
                Notification.objects.select_for_update(skip_locked=True, of=("self",))
                .filter(sent_at__isnull=True)
                .filter(Q(next_attempt_at__isnull=True) | Q(next_attempt_at__lte=now))
                .select_related("recipient")
                .order_by("id")
                .first()
            )
            if notification is None:
                break
            notification.attempts += 1
            email = EmailMessage(
                notification.subject,
                notification.body,
                settings.DEFAULT_FROM_EMAIL,
                [notification.recipient.email],
                headers={"Message-ID": message_id(notification)},
            )
            try:
                email.send()
            except OSError as error:  # smtplib's errors, refused connections, unwritable mail files
                notification.last_error = f"{type(error).__name__}: {error}"[:2000]
                notification.next_attempt_at = now + retry_delay(notification.attempts)
                notification.save(update_fields=["attempts", "last_error", "next_attempt_at"])
                failed += 1
                logger.warning(
                    "Notification %s to %s not sent (attempt %s), next attempt at %s: %s",
                    notification.pk,
                    notification.recipient.email,
                    notification.attempts,
                    notification.next_attempt_at,
                    notification.last_error,
                )
                continue
            notification.sent_at = timezone.now()
            notification.next_attempt_at = None
            notification.last_error = ""
            notification.save(update_fields=["attempts", "sent_at", "next_attempt_at", "last_error"])
            sent += 1
    return RelayResult(sent=sent, failed=failed)
