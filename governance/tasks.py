"""Celery tasks: thin, idempotent, owning only their retry policy.

Each periodic task calls one service with the current time; the services record what they did
under unique keys, so a task delivered twice, redelivered after a worker died mid-task, or sent by
two beat processes does nothing more the second time. Retries cover the database being briefly
unreachable; delivery failures are retried per delivery by the relay itself.
"""

from __future__ import annotations

from typing import TypedDict

from celery import shared_task
from django.db import InterfaceError, OperationalError
from django.utils import timezone

from governance.api.idempotency import idempotency_keys_purge
from governance.services.outbox import relay_pending
from governance.services.periodic import (
    exit_criteria_enforce,
    overdue_signoffs_chase,
    perpetual_pilots_escalate,
    value_reviews_open,
)


class RetryPolicy(TypedDict):
    autoretry_for: tuple[type[Exception], ...]
    retry_backoff: bool
    retry_backoff_max: int
    max_retries: int


# Backoff tops out at 10 minutes, well inside the broker's visibility timeout (config/settings.py):
# a retry waiting for its countdown must not be redelivered as a second copy.
RETRY: RetryPolicy = {
    "autoretry_for": (OperationalError, InterfaceError),
    "retry_backoff": True,
    "retry_backoff_max": 600,
    "max_retries": 8,
}


@shared_task(**RETRY)
def relay_notifications() -> int:
    """Deliver every due outbox notification on its channels; safe to run twice."""
    return relay_pending().sent


@shared_task(**RETRY)
def chase_overdue_signoffs() -> int:
    return overdue_signoffs_chase(now=timezone.now())


@shared_task(**RETRY)
def escalate_perpetual_pilots() -> int:
    return perpetual_pilots_escalate(now=timezone.now())


@shared_task(**RETRY)
def enforce_exit_criteria() -> int:
    return exit_criteria_enforce(now=timezone.now())


@shared_task(**RETRY)
def open_value_reviews() -> int:
    return value_reviews_open(now=timezone.now())


@shared_task(**RETRY)
def purge_idempotency_keys() -> int:
    return idempotency_keys_purge(now=timezone.now())


from governance.tasks_ledger import verify_ledger_nightly  # noqa: E402, F401  (nightly ledger verification)
