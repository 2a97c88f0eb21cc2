"""Relay of the notification outbox by e-mail."""

from __future__ import annotations

from django.conf import settings
from django.core.mail import send_mail
from django.db import transaction
from django.utils import timezone

from governance.models import Notification


def relay_pending() -> int:
    """Send pending notifications, each once.

    Each row is locked (skipping rows another relay holds) and marked sent in the transaction
    that sends it, so two relays never send the same (recipient, event); a failed send rolls
    back only its own row, which stays pending for the retry.
    """
    sent = 0
    while True:
        with transaction.atomic():
            notification = (
                Notification.objects.select_for_update(skip_locked=True)
                .filter(sent_at__isnull=True)
                .select_related("recipient")
                .order_by("id")
                .first()
            )
            if notification is None:
                return sent
            send_mail(
                notification.subject,
                notification.body,
                settings.DEFAULT_FROM_EMAIL,
                [notification.recipient.email],
            )
            notification.sent_at = timezone.now()
            notification.attempts += 1
            notification.save(update_fields=["attempts", "sent_at"])
            sent += 1
