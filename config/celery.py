"""The Celery application. With no broker configured, settings make tasks run eagerly."""

from __future__ import annotations

import os

from celery import Celery

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")

app = Celery("valuegate")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()
# The notification relay's room is a package of the governance app, not an installed app of its own.
app.autodiscover_tasks(["governance.notifications"])
