"""The decision ledger's background work (Celery beat: config/settings.py): sequencing what no
after-commit hook sealed, publishing signed checkpoints, and the nightly verification."""

from __future__ import annotations

from celery import shared_task
from django.conf import settings
from django.db import InterfaceError, OperationalError
from django.utils import timezone

from governance.audit.services import ledger_checkpoints_publish, ledger_verify_and_alert
from governance.ledger.sequencer import ledger_events_sequence
from governance.retries import RETRY


@shared_task(**RETRY)
def sequence_ledger_events() -> int:
    """Seal committed events still without a sequence number (a process died after its commit)."""
    return ledger_events_sequence(now=timezone.now())


@shared_task(**RETRY)
def publish_ledger_checkpoint() -> int:
    """Sign and publish a checkpoint to the witnesses when the interval has passed and the tree grew."""
    return ledger_checkpoints_publish(now=timezone.now())


# Reading a large ledger takes minutes, not the few seconds of the other periodic tasks: its own
# time limits, still well inside the broker's visibility timeout (an hour).
@shared_task(
    autoretry_for=(OperationalError, InterfaceError),
    retry_backoff=True,
    retry_backoff_max=600,
    max_retries=3,
    soft_time_limit=1800,
    time_limit=2000,
)
def verify_ledger_nightly() -> str:
    """Rebuild the whole tree against the latest witnessed checkpoints; alert the chair and the
    auditors when it fails. Safe to run twice."""
    outcome = ledger_verify_and_alert(
        anchor_path=getattr(settings, "VALUEGATE_LEDGER_ANCHOR_FILE", "") or None
    )
    if outcome.intact and outcome.summary is not None:
        summary = outcome.summary
        events = "event" if summary.count == 1 else "events"
        checkpoints = "checkpoint" if summary.checkpoints == 1 else "checkpoints"
        return (
            f"Ledger intact: {summary.count} {events}, root {summary.head_hash}, "
            f"{summary.checkpoints} {checkpoints}"
        )
    return f"Ledger verification failed: {outcome.problem}"
