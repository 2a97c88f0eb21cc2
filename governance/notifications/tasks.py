"""The outbox relay as a Celery task: run after each decision commits and every minute by beat."""

from __future__ import annotations

from celery import shared_task

from governance.notifications.outbox import relay_pending
from governance.retries import RETRY


@shared_task(**RETRY)
def relay_notifications() -> int:
    """Deliver every due outbox notification on its channels; safe to run twice."""
    return relay_pending().sent
