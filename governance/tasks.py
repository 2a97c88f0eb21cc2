"""The committee's periodic Celery tasks: thin, idempotent, owning only their retry policy.

Each periodic task calls one service with the current time; the services record what they did
under unique keys, so a task delivered twice, redelivered after a worker died mid-task, or sent by
two beat processes does nothing more the second time. Retries cover the database being briefly
unreachable; delivery failures are retried per delivery by the relay itself. The rooms keep
their own tasks: the notification relay (governance/notifications/tasks.py) and the nightly ledger
verification (governance/audit/tasks.py).
"""

from __future__ import annotations

from celery import shared_task
from django.utils import timezone

from governance.api.idempotency import idempotency_keys_purge
from governance.retries import RETRY
from governance.schedule import (
    exit_criteria_enforce,
    kpi_sources_read,
    overdue_signoffs_chase,
    perpetual_pilots_escalate,
    value_reviews_open,
)


@shared_task(**RETRY)
def measure_kpis_from_source() -> int:
    return kpi_sources_read(now=timezone.now())


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
