"""The beat schedule and the broker settings fit together."""

from __future__ import annotations

from django.conf import settings

from config.celery import app
from governance import tasks
from governance.notifications.tasks import relay_notifications


def test_every_scheduled_job_names_a_task_a_worker_knows():
    app.loader.import_default_modules()
    unknown = {
        name: entry["task"]
        for name, entry in settings.CELERY_BEAT_SCHEDULE.items()
        if entry["task"] not in app.tasks
    }
    assert unknown == {}


def test_no_message_is_redelivered_while_its_task_runs_or_waits_for_a_retry():
    visibility = settings.CELERY_BROKER_TRANSPORT_OPTIONS["visibility_timeout"]
    assert visibility > settings.CELERY_TASK_TIME_LIMIT
    for task in (
        relay_notifications,
        tasks.chase_overdue_signoffs,
        tasks.escalate_perpetual_pilots,
        tasks.enforce_exit_criteria,
        tasks.open_value_reviews,
    ):
        assert visibility > task.retry_backoff_max, task.name
