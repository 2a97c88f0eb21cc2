"""Celery tasks: thin, idempotent, owning only their retry policy."""

from __future__ import annotations

from celery import shared_task

from governance.services.outbox import relay_pending


@shared_task(bind=True, autoretry_for=(OSError,), retry_backoff=True, retry_backoff_max=600, max_retries=8)
def relay_notifications(self) -> int:
    """Send every pending outbox notification by e-mail; safe to run twice."""
    return relay_pending()
